"""Measure how much the book's printed numbers move, and set their tolerances.

Every notebook is executed again in other numeric settings that any machine can
produce: PyTorch's other CPU kernels (``ATEN_CPU_CAPABILITY``), which stand in for
another CPU, and shifted seeds (``DLBOOK_SEED_SHIFT``), which stand in for another
draw of the noise (a GPU, Apple Silicon). Each text output is compared with the stored
one, number by number (``tests/nbtolerance.py``):

* a number that moves in no run is exact, and is compared exactly;
* a number that moves gets a tolerance of ``--factor`` (4) times its largest
  distance from the stored value over all runs (written to ``tests/tolerances.json``);
  in such a cell, a number that did not move gets 2 units of its last printed digit;
* a cell whose *text* changes with the seed (a random sample) is marked so: under a
  shifted seed it must run, but it is not compared;
* a cell whose text changes on another CPU, and a run that fails (a self-check's
  assertion), are problems: they are listed, and the script exits 1.

The report, ``_build/spread.md``, lists every number that moves with its spread.

Usage::

    make spread                       # every notebook, 8 seeds, then the report
    make spread NB=notebooks/03_mlp.ipynb SEEDS=4
    python scripts/spread.py --report-only   # re-read the runs in _build/variants
    python scripts/spread.py --settings seed=100 notebooks/03_mlp.ipynb  # try one
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from run_env import RUN_ENV  # noqa: E402

from tests.nbtolerance import (  # noqa: E402
    DEFAULT_TOLERANCES,
    NUMBER,
    _context,
    output_fields,
    sanitizer,
    skeleton_hash,
    split_numbers,
)

VARIANTS = ROOT / "_build" / "variants"
#: In a cell whose numbers move, one that did not move in the measured runs may still
#: move on another draw: it gets this many units of its last printed digit.
FLOOR_DIGITS = 2
NOT_COMPARED = {"nbval-ignore-output", "nbval-skip", "skip-execution"}


def other_capability() -> str:
    """A CPU kernel set other than this process's: ``default`` (plain C++), or
    ``avx2`` where the current one already is ``default``."""
    import torch

    current = torch.backends.cpu.get_cpu_capability().lower()
    return "avx2" if current == "default" else "default"


def setting_env(setting: str) -> dict[str, str]:
    """``cpu=default`` / ``seed=3`` / ``base`` as environment variables."""
    if setting == "base":
        return {}
    key, _, value = setting.partition("=")
    if key == "cpu" and value:
        return {"ATEN_CPU_CAPABILITY": value}
    if key == "seed" and value.lstrip("-").isdigit():
        return {"DLBOOK_SEED_SHIFT": value}
    raise SystemExit(
        f"unknown setting {setting!r}: use base, cpu=default|avx2|avx512, or seed=N"
    )


def execute(nb: Path, setting: str) -> tuple[str, str, float, str]:
    """Execute ``nb`` under ``setting`` into _build/variants/<setting>/."""
    out_dir = VARIANTS / setting.replace("=", "-")
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **RUN_ENV, **setting_env(setting)}
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=600",
            "--output-dir",
            str(out_dir),
            str(nb),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - start
    error = "" if proc.returncode == 0 else _last_error(proc.stderr)
    (out_dir / f"{nb.stem}.log").write_text(proc.stderr)
    return nb.stem, setting, elapsed, error


def _last_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    keep = [ln for ln in lines if "Error" in ln or "assert" in ln.lower()]
    return " | ".join((keep or lines)[-4:])[:600]


def last_digit(token: str) -> float:
    """The value of one unit in the last printed digit of a number.

    Example:
        >>> last_digit("0.972"), last_digit("2.6e-08"), last_digit("19")
        (0.001, 1e-09, 1.0)
    """
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return float(f"1e{int(exponent or 0) - decimals}")


def code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def compared(cell: dict) -> bool:
    return not NOT_COMPARED & set(cell.get("metadata", {}).get("tags", []))


def analyse(notebooks: list[Path], settings: list[str], factor: float):
    """Read the variant runs; return (tolerances, report rows, problems, number of
    numbers compared)."""
    tolerances, rows, problems, total = {}, [], [], 0
    sanitize = sanitizer()
    for nb in notebooks:
        stored = code_cells(nb)
        runs = {}
        for setting in settings:
            path = VARIANTS / setting.replace("=", "-") / nb.name
            if path.exists():
                runs[setting] = {c.get("id"): c for c in code_cells(path)}
        entries = {}
        for cell in stored:
            if not compared(cell):
                continue
            ref = output_fields(cell.get("outputs", []), sanitize)
            if not ref:
                continue
            ref_numbers = [n for f in ref for n in split_numbers(f)[1]]
            total += len(ref_numbers)
            ref_skel = [split_numbers(f)[0] for f in ref]
            dev = [0.0] * len(ref_numbers)
            seen = [[v] for v in ref_numbers]
            seed_text = False
            for setting, cells in runs.items():
                other = cells.get(cell.get("id"))
                if other is None or other.get("execution_count") is None:
                    continue  # the run stopped before this cell (reported)
                fields = output_fields(other.get("outputs", []), sanitize)
                if [split_numbers(f)[0] for f in fields] != ref_skel:
                    if setting.startswith("seed="):
                        seed_text = True
                    else:
                        problems.append(
                            f"{nb.stem} cell {cell.get('id')}: text changes under "
                            f"{setting} (not only numbers); make it robust or tag "
                            "the cell nbval-ignore-output"
                        )
                    continue
                numbers = [n for f in fields for n in split_numbers(f)[1]]
                for i, (a, b) in enumerate(zip(ref_numbers, numbers)):
                    dev[i] = max(dev[i], abs(a - b))
                    seen[i].append(b)
            tol = {i: float(f"{factor * d:.3g}") for i, d in enumerate(dev) if d > 0}
            moved = sorted(tol)
            if tol:  # decimals that happened not to move beside ones that did
                tokens = [t for f in ref for t in NUMBER.findall(f)]
                for i, token in enumerate(tokens):
                    if "." in token or "e" in token.lower():  # not a count or label
                        unit = FLOOR_DIGITS * last_digit(token)
                        tol.setdefault(i, float(f"{unit:.3g}"))
            if tol or seed_text:
                entries[cell["id"]] = {
                    "skeleton": skeleton_hash(ref),
                    "tol": {str(i): t for i, t in tol.items()},
                    "seed_text": seed_text,
                }
            for i in moved:
                rows.append(
                    (
                        nb.stem,
                        cell["id"],
                        _line_of(ref, i),
                        ref_numbers[i],
                        min(seen[i]),
                        max(seen[i]),
                        len(seen[i]),
                        tol[i],
                    )
                )
        tolerances[nb.stem] = entries
    return tolerances, rows, problems, total


def _line_of(fields: list[str], index: int) -> str:
    for f in fields:
        n = len(split_numbers(f)[1])
        if index < n:
            return _context(f, index)
        index -= n
    return ""


def write_report(rows, problems, runs_info, path: Path) -> None:
    lines = [
        "# Spread of the book's printed numbers",
        "",
        "Each number that moved in another setting (other CPU kernels, other seeds),",
        "with its stored value, its range over all runs and the tolerance that",
        "`make test` allows. Runs:",
        "",
    ]
    lines += [f"- {info}" for info in runs_info]
    if problems:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in problems]
    lines += [
        "",
        "| chapter | cell | line | stored | min | max | runs | tolerance |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for nb, cell, line, v, lo, hi, n, tol in rows:
        line = line.replace("|", "\\|")
        lines.append(
            f"| {nb[:2]} | {cell[:8]} | `{line}` | {v:g} | {lo:g} | {hi:g} | {n} "
            f"| {tol:g} |"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def write_summary(rows, total: int, path: Path) -> None:
    """What the intro page says about the book's numbers (book/data/spread.json):
    how many move, and how far the accuracies move (max - min over all runs).
    An accuracy here: a number printed with 3 decimals, at least 0.5, on a line
    that says "acc" (the book prints losses with 4 decimals)."""
    accuracies = sorted(
        hi - lo
        for _, _, line, v, lo, hi, _, _ in rows
        if "acc" in line.lower()
        and v >= 0.5
        and f"{v:.3f}" in line
        and f"{v:.4f}" not in line
    )
    summary = {
        "numbers": total,
        "moving": len(rows),
        "accuracy_spread_median": statistics.median(accuracies) if accuracies else 0,
        "accuracy_spread_max": max(accuracies, default=0),
        "accuracies": len(accuracies),
    }
    path.write_text(json.dumps(summary, indent=1) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--seeds", type=int, default=8, help="seed shifts 1..N")
    parser.add_argument("--settings", help="comma-separated, replaces the default")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--factor", type=float, default=4.0)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="report only")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    if args.settings:
        settings = args.settings.split(",")
    else:
        settings = [f"cpu={other_capability()}"]
        settings += [f"seed={k}" for k in range(1, args.seeds + 1)]
    for s in settings:
        setting_env(s)
    failures, runs_info = [], []
    if not args.report_only:
        jobs = [(nb, s) for s in settings for nb in notebooks]
        with ThreadPoolExecutor(args.jobs) as pool:
            for stem, setting, elapsed, error in pool.map(lambda j: execute(*j), jobs):
                status = f"FAILED: {error}" if error else "ok"
                print(f"  {setting:>12} {stem}: {elapsed:.1f} s {status}", flush=True)
                runs_info.append(f"{stem} under {setting}: {elapsed:.1f} s, {status}")
                if error:
                    failures.append(f"{stem} fails under {setting}: {error}")
    tolerances, rows, problems, total = analyse(notebooks, settings, args.factor)
    problems = failures + problems
    write_report(rows, problems, runs_info, ROOT / "_build" / "spread.md")
    for nb, cell, line, v, lo, hi, _, tol in rows:
        print(f"  {nb[:2]} {cell[:8]} {line[:60]:<60} {v:g} [{lo:g}, {hi:g}] ±{tol:g}")
    if not args.no_write and not args.settings:
        merged = (
            json.loads(DEFAULT_TOLERANCES.read_text())
            if DEFAULT_TOLERANCES.exists()
            else {}
        )
        merged.update(tolerances)
        DEFAULT_TOLERANCES.write_text(
            json.dumps(merged, indent=1, sort_keys=True) + "\n"
        )
        print(f"tolerances written to {DEFAULT_TOLERANCES.relative_to(ROOT)}")
        if len(notebooks) == len(list((ROOT / "notebooks").glob("*.ipynb"))):
            write_summary(rows, total, ROOT / "book" / "data" / "spread.json")
    for p in problems:
        print(f"PROBLEM: {p}")
    print(
        f"report: _build/spread.md ({len(rows)} numbers move, {len(problems)} problems)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
