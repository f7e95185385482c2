"""Compare a notebook's stored outputs with fresh ones, numbers within tolerances.

Strict nbval compares outputs as text, which holds only on the machine that made
them: another CPU, BLAS kernel or GPU changes the last bits of a float32 sum, and
training magnifies them. This module keeps nbval's exact comparison and adds one
rule. When a cell's text differs, it is split into a *skeleton* (the text with every
number replaced by ``#``) and its numbers. The skeletons must still be equal, and
each number must be within the tolerance measured for it by ``scripts/spread.py``
(``make spread``), which runs every notebook on other CPU kernels and other seeds.
A number that moved in none of those runs has no tolerance and must be equal.

Tolerances live in ``tests/tolerances.json``::

    {"02_activations_and_losses": {"<cell id>": {
        "skeleton": "<hash of the stored skeleton>",
        "tol": {"<number index>": 0.012, ...},
        "seed_text": false}}}

``seed_text`` is true when the cell's text (not only its numbers) changes with the
seed, such as sampled names: under ``DLBOOK_SEED_SHIFT`` such a cell must run but is
not compared. The plugin is loaded with ``-p tests.nbtolerance`` next to ``--nbval``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_SPACES = re.compile(r"[ \t]+")
DEFAULT_TOLERANCES = Path(__file__).with_name("tolerances.json")
SANITIZE_FILE = Path(__file__).with_name("sanitize.cfg")
#: Output fields never compared (nbval's own list, plus images).
SKIPPED = {
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
}


def split_numbers(text: str) -> tuple[str, list[float]]:
    """Split text into its skeleton (numbers as ``#``, runs of spaces as one) and
    its numbers.

    Example:
        >>> split_numbers("epoch  9: loss 0.2346, acc 0.941")
        ('epoch #: loss #, acc #', [9.0, 0.2346, 0.941])
    """
    numbers = [float(m) for m in NUMBER.findall(text)]
    return _SPACES.sub(" ", NUMBER.sub("#", text)), numbers


def output_fields(outputs: Iterable[Mapping], sanitize=lambda s: s) -> list[str]:
    """The texts nbval compares, in output order: each stream's text (all of a
    stream's parts joined where it first appears, as nbval does), and each string
    ``data`` field (``text/plain``, ``text/html``...) except images and widget ids."""
    fields, streams = [], {}
    for out in outputs:
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            name = out.get("name")
            if name in streams:  # a kernel may split a stream across messages:
                fields[streams[name]] += sanitize(text)  # nbval joins them
            else:
                streams[name] = len(fields)
                fields.append(sanitize(text))
            continue
        for key in sorted(out.get("data", {})):
            value = out["data"][key]
            if key in SKIPPED:
                continue
            if isinstance(value, list):
                value = "".join(value)
            if isinstance(value, str):
                fields.append(sanitize(value))
    return fields


def sanitizer(config: Path = SANITIZE_FILE):
    """The sanitize file (timings, addresses, paths) applied as nbval applies it."""
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(config.read_text())

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    return sanitize


def skeleton_hash(fields: list[str]) -> str:
    """A short hash of the fields' skeletons: tolerances are only valid for it."""
    text = "\x00".join(split_numbers(f)[0] for f in fields)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def compare_fields(
    ref: list[str], test: list[str], tol: Mapping[int, float] | None = None
) -> list[str]:
    """Problems found comparing stored fields ``ref`` with fresh ones ``test``.

    Skeletons must be equal; number ``i`` (counted across all fields) may differ
    by at most ``tol[i]`` (0 when absent). An empty list means they agree.

    Example:
        >>> compare_fields(["acc 0.941"], ["acc 0.911"], {0: 0.05})
        []
        >>> compare_fields(["acc 0.941"], ["acc 0.871"], {0: 0.05})[0].split(": ")[1]
        'stored 0.941, now 0.871, |diff| 0.07 > tolerance 0.05'
    """
    tol = tol or {}
    if len(ref) != len(test):
        return [f"{len(ref)} text outputs stored, {len(test)} now"]
    problems, index = [], 0
    for r, t in zip(ref, test):
        (r_skel, r_num), (t_skel, t_num) = split_numbers(r), split_numbers(t)
        if r_skel != t_skel:
            problems.append(f"text differs beyond its numbers:\n{_diff_line(r, t)}")
            index += len(r_num)
            continue
        for k, (a, b) in enumerate(zip(r_num, t_num)):
            limit = tol.get(index, 0.0)
            if abs(a - b) > limit * (1 + 1e-9):
                where = _context(r, k)
                problems.append(
                    f'number {index} (in "{where}"): stored {a:g}, now {b:g}, '
                    f"|diff| {abs(a - b):.3g}"
                    + (f" > tolerance {limit:g}" if limit else " (compared exactly)")
                )
            index += 1
    return problems


def _context(text: str, k: int) -> str:
    """The line of ``text`` that holds its k-th number (counted from 0)."""
    matches = list(NUMBER.finditer(text))
    if not matches:
        return text[:60]
    m = matches[min(k, len(matches) - 1)]
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    line = text[start : end if end != -1 else len(text)].strip()
    return line if len(line) <= 80 else line[:77] + "..."


def _diff_line(ref: str, test: str) -> str:
    for r, t in zip(ref.splitlines(), test.splitlines()):
        if split_numbers(r)[0] != split_numbers(t)[0]:
            return f"  stored: {r.strip()[:100]}\n  now:    {t.strip()[:100]}"
    return f"  stored {len(ref.splitlines())} lines, now {len(test.splitlines())}"


def load_tolerances(path: Path = DEFAULT_TOLERANCES) -> dict:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def seed_shifted() -> bool:
    """Whether this run draws other seeds (dlbook's own reading of the variable)."""
    from dlbook.seed import shifted

    return shifted(0) != 0


def cell_verdict(entry: Mapping | None, ref: list[str], test: list[str]) -> list[str]:
    """Compare one cell's fields with its tolerance entry; [] when they agree."""
    if entry is not None and entry.get("skeleton") != skeleton_hash(ref):
        entry = None  # stale: the stored output changed since make spread
        stale = ["its tolerances are stale (the stored text changed): run make spread"]
    else:
        stale = []
    if entry is not None and entry.get("seed_text") and seed_shifted():
        return []  # its text is a random sample: under another seed it must only run
    tol = {int(k): v for k, v in (entry or {}).get("tol", {}).items()}
    problems = compare_fields(ref, test, tol)
    return stale + problems if problems else []


# -- the pytest plugin: nbval's cell, with the tolerant comparison -----------------


def pytest_addoption(parser):
    parser.addoption(
        "--nbval-tolerances",
        default=str(DEFAULT_TOLERANCES),
        help="JSON file of measured number tolerances (scripts/spread.py)",
    )


def pytest_configure(config):
    import nbval.plugin

    cell_class = nbval.plugin.IPyNbCell
    if getattr(cell_class.compare_outputs, "tolerant", False):
        return
    tolerances = load_tolerances(Path(config.getoption("--nbval-tolerances")))
    exact_compare = cell_class.compare_outputs

    # nbval has no hook for its comparison, and its cell class calls itself by its
    # module-level name (super(IPyNbCell, self)), so a subclass cannot replace it:
    # the method is wrapped instead. nbval is pinned in requirements.txt.
    def compare_outputs(self, test, ref, skip_compare=None):
        if exact_compare(self, test, ref, skip_compare):
            return True
        notebook = Path(str(self.parent.fspath)).stem
        entry = tolerances.get(notebook, {}).get(self.cell.get("id"))
        problems = cell_verdict(
            entry,
            output_fields(ref, self.sanitize),
            output_fields(test, self.sanitize),
        )
        if not problems:
            return True
        mode = "seed" if seed_shifted() else "machine"
        self.comparison_traceback = [
            f"Compared with the tolerances measured by make spread ({mode} mode):",
            *problems,
            "If this output legitimately depends on floating-point details or on "
            "the seed, measure its spread: make spread NB=notebooks/"
            f"{notebook}.ipynb",
        ]
        return False

    compare_outputs.tolerant = True
    cell_class.compare_outputs = compare_outputs
