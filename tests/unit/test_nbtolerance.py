"""The comparison that lets nbval pass on any CPU and still catch regressions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.nbtolerance import (
    cell_verdict,
    compare_fields,
    load_tolerances,
    output_fields,
    sanitizer,
    skeleton_hash,
    split_numbers,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "skeleton", "numbers"),
    [
        ("loss 0.2346", "loss #", [0.2346]),
        ("ratio 1.1e-06 and -3e-11", "ratio # and #", [1.1e-6, -3e-11]),
        ("epoch   19/20", "epoch #/#", [19.0, 20.0]),
        ("torch.Size([64, 10])", "torch.Size([#, #])", [64.0, 10.0]),
        ("float32", "float#", [32.0]),
        ("no numbers", "no numbers", []),
    ],
)
def test_split_numbers(text, skeleton, numbers):
    assert split_numbers(text) == (skeleton, numbers)


def test_numbers_without_a_tolerance_are_compared_exactly():
    assert compare_fields(["shape (64, 10)"], ["shape (64, 10)"]) == []
    [problem] = compare_fields(["shape (64, 10)"], ["shape (64, 11)"])
    assert "number 1" in problem and "compared exactly" in problem


def test_a_number_may_move_within_its_tolerance_only():
    tol = {1: 0.02}
    stored = ["epoch 20: val accuracy 0.970"]
    assert compare_fields(stored, ["epoch 20: val accuracy 0.955"], tol) == []
    [problem] = compare_fields(stored, ["epoch 20: val accuracy 0.920"], tol)
    assert "stored 0.97, now 0.92" in problem and "tolerance 0.02" in problem
    assert '"epoch 20: val accuracy 0.970"' in problem  # the line, for the reader
    # the other number (the epoch) has no tolerance: it must not move
    assert compare_fields(stored, ["epoch 21: val accuracy 0.970"], tol)


def test_text_around_the_numbers_must_not_change():
    [problem] = compare_fields(
        ["ReLU ends lower: 0.30 vs 1.58"], ["LeakyReLU ends lower: 0.67 vs 1.14"]
    )
    assert "text differs beyond its numbers" in problem
    assert "stored: ReLU ends lower" in problem and "now:    LeakyReLU" in problem
    assert compare_fields(["a", "b"], ["a"]) == ["2 text outputs stored, 1 now"]


def test_numbers_are_counted_across_a_cells_outputs():
    stored, now = ["loss 0.50\n", "acc 0.90"], ["loss 0.50\n", "acc 0.93"]
    assert compare_fields(stored, now, {1: 0.05}) == []
    assert compare_fields(stored, now, {0: 0.05})  # the tolerance is for the loss


def test_stale_tolerances_are_named():
    entry = {"skeleton": "0" * 12, "tol": {"0": 1.0}, "seed_text": False}
    problems = cell_verdict(entry, ["acc 0.9"], ["acc 0.8"])
    assert "stale" in problems[0] and "make spread" in problems[0]
    entry["skeleton"] = skeleton_hash(["acc 0.9"])
    assert cell_verdict(entry, ["acc 0.9"], ["acc 0.8"]) == []


def test_random_samples_are_only_run_under_a_shifted_seed(monkeypatch):
    ref, test = ["sampled: anna, bob"], ["sampled: carla"]
    entry = {"skeleton": skeleton_hash(ref), "tol": {}, "seed_text": True}
    monkeypatch.delenv("DLBOOK_SEED_SHIFT", raising=False)
    assert cell_verdict(entry, ref, test), "on the stored seed the text must match"
    monkeypatch.setenv("DLBOOK_SEED_SHIFT", "100")
    assert cell_verdict(entry, ref, test) == []


def test_output_fields_follow_nbval():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["a 1\n", "b 2\n"]},
        {
            "output_type": "execute_result",
            "data": {"text/plain": "3", "image/png": "iVBOR", "text/html": "<b>4</b>"},
        },
    ]
    assert output_fields(outputs) == ["a 1\nb 2\n", "<b>4</b>", "3"]
    # a kernel under load may split one stream's text across several outputs
    split = [
        {"output_type": "stream", "name": "stdout", "text": "epoch 1\n"},
        {"output_type": "stream", "name": "stdout", "text": "epoch 2\n"},
        {"output_type": "stream", "name": "stderr", "text": "warning\n"},
        {"output_type": "stream", "name": "stdout", "text": "done\n"},
    ]
    assert output_fields(split) == ["epoch 1\nepoch 2\ndone\n", "warning\n"]


def test_the_books_tolerances_match_its_stored_outputs():
    """make execute changed a cell's text without make spread: its tolerances no
    longer describe it (a stale entry would silently compare exactly)."""
    stale, sanitize = [], sanitizer()
    for notebook, cells in load_tolerances().items():
        path = ROOT / "notebooks" / f"{notebook}.ipynb"
        assert path.exists(), f"tolerances for a notebook that is gone: {notebook}"
        stored = {c.get("id"): c for c in json.loads(path.read_text())["cells"]}
        for cell_id, entry in cells.items():
            cell = stored.get(cell_id)
            fields = output_fields(cell.get("outputs", []), sanitize) if cell else None
            if cell is None or entry["skeleton"] != skeleton_hash(fields):
                stale.append(f"{notebook} cell {cell_id}")
    assert not stale, f"run make spread; stale tolerances: {stale}"


# -- end to end: nbval with the plugin on a notebook that trains a model ------------

TRAIN = """\
import os, torch
from torch import nn
from dlbook import load_digits_split, make_mlp, set_seed
torch.set_num_threads(1)
set_seed(0)
data = load_digits_split()
model = make_mlp(64, int(os.environ.get("WIDTH", "64")), 10)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(60):
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(data.X_train), data.y_train).backward()
    optimizer.step()
with torch.no_grad():
    acc = (model(data.X_val).argmax(1) == data.y_val).float().mean().item()
print(f"parameters: {sum(p.numel() for p in model.parameters())}")
print(f"validation accuracy: {acc:.3f}")
"""


@pytest.fixture(scope="module")
def trained_notebook(tmp_path_factory):
    """A one-cell notebook executed and stored like a chapter, and a tolerance
    file that gives its accuracy 0.02 (the size make spread measures for the
    book's main accuracies) and leaves the parameter count exact."""
    folder = tmp_path_factory.mktemp("nb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(TRAIN)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = folder / "chapter.ipynb"
    nbformat.write(nb, path)
    cell = nb.cells[0]
    fields = output_fields(cell.outputs)
    assert "validation accuracy: 0.9" in fields[0]
    tolerances = {
        "chapter": {
            cell.id: {
                "skeleton": skeleton_hash(fields),
                "tol": {"1": 0.02},
                "seed_text": False,
            }
        }
    }
    (folder / "tol.json").write_text(json.dumps(tolerances))
    return folder


def run_nbval(folder: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.nbtolerance", "--nbval"]
        + ["--nbval-tolerances", str(folder / "tol.json"), "chapter.ipynb"]
        + ["-p", "no:cacheprovider", "--rootdir", str(folder)],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
    )


def test_nbval_passes_on_another_cpu_kernel(trained_notebook):
    other = run_nbval(trained_notebook, ATEN_CPU_CAPABILITY="default")
    assert other.returncode == 0, other.stdout[-2000:]


def test_nbval_fails_when_the_model_is_quietly_made_smaller(trained_notebook):
    # width 64 -> 3: the accuracy drops far more than 0.05, and the parameter
    # count, which has no tolerance, changes too
    smaller = run_nbval(trained_notebook, WIDTH="3")
    assert smaller.returncode == 1, smaller.stdout[-2000:]
    assert "validation accuracy" in smaller.stdout
    assert "> tolerance 0.02" in smaller.stdout
    assert "compared exactly" in smaller.stdout  # the parameter count
