"""The book's benchmark: what it costs to run, and the budgets it keeps.

Measures on this machine and writes ``_build/bench.md`` (printed too) and
``book/data/bench.json`` (read by the book's intro page for its chapter map):

1. each notebook's execution time on the CPU, median of ``--runs`` runs, and the
   whole book's total (budgets: no chapter over 30 s, the book at most 120 s);
2. ``dlbook.fit`` against a bare hand-written loop doing the same work: median
   time ratio over pairs run alternately (target at most 1.05);
3. the live explorer's median response to a slider move (target 0.5 s);
4. the site's build time from stored outputs, and each page's weight.

Usage: ``make bench`` (or ``.venv/bin/python scripts/bench.py --runs 1``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from run_env import RUN_ENV  # noqa: E402  (scripts/run.env, as make uses it)

CHAPTER_BUDGET_S, BOOK_BUDGET_S = 30.0, 120.0


def execute_notebook(path: Path) -> tuple[float, list[tuple[float, int]]]:
    """Run one notebook like ``make execute`` (outputs discarded); return its
    wall time and the per-cell times (seconds, cell index), slowest first."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    total = time.perf_counter() - start
    cells = []
    for i, cell in enumerate(nb.cells):
        timing = cell.metadata.get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            t0 = _iso(timing["iopub.execute_input"])
            cells.append((_iso(timing["shell.execute_reply"]) - t0, i))
    return total, sorted(cells, reverse=True)


def _iso(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@contextlib.contextmanager
def environment(**values: str):
    """Set environment variables for the kernels started inside, then restore."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def bench_notebooks(runs: int) -> dict:
    with environment(**RUN_ENV):
        return _bench_notebooks(runs)


def _bench_notebooks(runs: int) -> dict:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    times: dict[str, list[float]] = {nb.stem: [] for nb in notebooks}
    slowest: dict[str, list] = {}
    for r in range(runs):
        for nb in notebooks:  # round-robin, so load drifts hit every chapter alike
            total, cells = execute_notebook(nb)
            times[nb.stem].append(total)
            slowest[nb.stem] = cells[:3]
            print(f"  run {r + 1}/{runs} {nb.stem}: {total:.1f} s", flush=True)
    return {
        stem: {
            "median_s": statistics.median(t),
            "runs_s": t,
            "slowest_cells": [[round(s, 2), i] for s, i in slowest[stem]],
        }
        for stem, t in times.items()
    }


def bench_fit_overhead(pairs: int) -> dict:
    import torch
    from torch import nn

    from dlbook import (
        accuracy,
        evaluate,
        fit,
        load_digits_split,
        make_loaders,
        make_mlp,
        set_seed,
    )

    torch.set_num_threads(1)
    data = load_digits_split()
    num_epochs, loss_fn = 10, nn.CrossEntropyLoss()

    def setup():
        set_seed(0)
        train_loader, val_loader = make_loaders(
            (data.X_train, data.y_train), (data.X_val, data.y_val), batch_size=64
        )
        model = make_mlp(64, 128, 10, depth=2)
        return model, train_loader, val_loader, torch.optim.Adam(model.parameters())

    def with_fit():
        model, train_loader, val_loader, opt = setup()
        fit(
            model,
            train_loader,
            val_loader,
            loss_fn,
            opt,
            num_epochs,
            device="cpu",
            progress=False,
        )

    def bare():  # the same work written inline: train, track loss and accuracy, eval
        model, train_loader, val_loader, opt = setup()
        for _ in range(num_epochs):
            model.train()
            total = correct = 0.0
            for X, y in train_loader:
                y_hat = model(X)
                loss = loss_fn(y_hat, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(y)
                correct += accuracy(y_hat.detach(), y) * len(y)
            evaluate(model, val_loader, loss_fn, device="cpu")

    ratios = []
    for i in range(pairs):
        order = (with_fit, bare) if i % 2 == 0 else (bare, with_fit)
        t = {}
        for fn in order:
            start = time.perf_counter()
            fn()
            t[fn.__name__] = time.perf_counter() - start
        ratios.append(t["with_fit"] / t["bare"])
    return {
        "pairs": pairs,
        "median_ratio": statistics.median(ratios),
        "ratios": ratios,
        "target": 1.05,
    }


def bench_explorer() -> dict:
    from bench_explore import measure

    os.environ.pop("DLBOOK_BUILD", None)  # the live widget, as a reader moves it
    return measure()


def bench_site(runs: int) -> dict:
    jb = ROOT / ".venv" / "bin" / "jupyter-book"
    times = []
    for _ in range(runs):
        shutil.rmtree(ROOT / "_build" / "html", ignore_errors=True)
        shutil.rmtree(ROOT / "_build" / ".doctrees", ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(
            [str(jb), "build", ".", "-W", "-n", "--keep-going", "-q"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return {
        "median_build_s": statistics.median(times),
        "runs_s": times,
        "pages": page_weights(ROOT / "_build" / "html"),
    }


def page_weights(site: Path) -> dict[str, int]:
    """Bytes of each page: its HTML plus the images and iframes it embeds from
    the site's own _images folder (shared theme assets not counted)."""
    weights = {}
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.parts or page.name in ("genindex.html", "search.html"):
            continue
        html = page.read_text(encoding="utf-8")
        size = len(html.encode())
        for ref in set(re.findall(r'src="([^"]*_images/[^"]+)"', html)):
            target = (page.parent / ref).resolve()
            size += target.stat().st_size if target.exists() else 0
        weights[str(page.relative_to(site))] = size
    return weights


def report(results: dict) -> str:
    lines = [
        f"# Benchmark ({results['machine']})",
        "",
        "## Notebook execution on the CPU (median of runs)",
        "",
        "| notebook | median s | budget | slowest cells (s, cell #) |",
        "| --- | ---: | --- | --- |",
    ]
    total = 0.0
    for stem, r in results.get("notebooks", {}).items():
        total += r["median_s"]
        ok = (
            "ok"
            if r["median_s"] <= CHAPTER_BUDGET_S
            else f"**over {CHAPTER_BUDGET_S:.0f} s**"
        )
        cells = ", ".join(f"{s} (#{i})" for s, i in r["slowest_cells"])
        lines.append(f"| {stem} | {r['median_s']:.1f} | {ok} | {cells} |")
    if results.get("notebooks"):
        ok = "ok" if total <= BOOK_BUDGET_S else f"**over {BOOK_BUDGET_S:.0f} s**"
        lines.append(f"| **whole book** | **{total:.1f}** | {ok} | |")
    if "fit" in results:
        f = results["fit"]
        lines += [
            "",
            "## dlbook.fit vs a bare loop",
            "",
            f"median time ratio fit/bare over {f['pairs']} alternating pairs: "
            f"**{f['median_ratio']:.3f}** (target <= {f['target']})",
        ]
    if "explorer" in results:
        e = results["explorer"]
        lines += [
            "",
            "## Live explorer",
            "",
            f"median slider move to redrawn figure: **{e['median_s']:.3f} s** "
            f"(new points {e['median_new_s']:.3f} s, cached "
            f"{e['median_cached_s']:.3f} s, max {e['max_s']:.3f} s; target 0.5 s)",
        ]
    if "site" in results:
        s = results["site"]
        lines += [
            "",
            "## Site",
            "",
            f"build from stored outputs: median **{s['median_build_s']:.1f} s**",
            "",
            "| page | bytes |",
            "| --- | ---: |",
        ]
        lines += [f"| {p} | {b:,} |" for p, b in s["pages"].items()]
    return "\n".join(lines) + "\n"


def cpu_model() -> str:
    """The CPU's name (times differ by half between two 2-core machines), or
    the architecture where the system does not say."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per notebook")
    parser.add_argument("--pairs", type=int, default=9, help="fit/bare pairs")
    parser.add_argument(
        "--only", nargs="*", default=["notebooks", "fit", "explorer", "site"]
    )
    args = parser.parse_args()
    results = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    }
    steps = {
        "notebooks": lambda: bench_notebooks(args.runs),
        "fit": lambda: bench_fit_overhead(args.pairs),
        "explorer": bench_explorer,
        "site": lambda: bench_site(args.runs),
    }
    for name in args.only:
        print(f"measuring {name} ...", flush=True)
        results[name] = steps[name]()
        write(results)  # keep what was measured even if a later step fails


def write(results: dict) -> None:
    text = report(results)
    (ROOT / "_build").mkdir(exist_ok=True)
    (ROOT / "_build" / "bench.md").write_text(text)
    if "notebooks" in results:
        out = ROOT / "book" / "data" / "bench.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "machine": results["machine"],
                    "notebooks": {
                        k: round(v["median_s"], 1)
                        for k, v in results["notebooks"].items()
                    },
                },
                indent=1,
            )
            + "\n"
        )
    print(text)


if __name__ == "__main__":
    main()
