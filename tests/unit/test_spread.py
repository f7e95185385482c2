"""make spread: tolerances from runs on other CPU kernels and seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import spread  # noqa: E402


def notebook(path: Path, texts: dict[str, str], tags: dict | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    for cell_id, text in texts.items():
        cell = nbformat.v4.new_code_cell("...", id=cell_id, execution_count=1)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cell.metadata["tags"] = (tags or {}).get(cell_id, [])
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setattr(spread, "VARIANTS", tmp_path / "variants")
    stored = tmp_path / "ch.ipynb"
    notebook(
        stored,
        {
            "acc": "val accuracy 0.950\n",
            "shape": "shape (64, 10)\n",
            "name": "bob\n",
            "time": "took 3.2 s\n",
        },
        tags={"time": ["nbval-ignore-output"]},
    )
    notebook(
        tmp_path / "variants/cpu-default/ch.ipynb",
        {
            "acc": "val accuracy 0.948\n",
            "shape": "shape (64, 10)\n",
            "name": "bob\n",
            "time": "took 9.9 s\n",
        },
    )
    notebook(
        tmp_path / "variants/seed-1/ch.ipynb",
        {
            "acc": "val accuracy 0.940\n",
            "shape": "shape (64, 10)\n",
            "name": "al\n",
            "time": "took 1.0 s\n",
        },
    )
    return stored


def test_tolerance_is_three_times_the_largest_move(runs):
    tolerances, rows, problems, total = spread.analyse(
        [runs], ["cpu=default", "seed=1"], factor=3.0
    )
    cells = tolerances["ch"]
    assert cells["acc"]["tol"] == {"0": pytest.approx(0.03)}
    assert "shape" not in cells  # moved in no run: compared exactly
    assert cells["name"]["seed_text"] and cells["name"]["tol"] == {}
    assert "time" not in cells  # not compared at all
    assert problems == [] and total == 3  # 0.950, 64 and 10; not the ignored time


def test_text_that_changes_on_another_cpu_is_a_problem(runs, tmp_path):
    notebook(
        tmp_path / "variants/cpu-default/ch.ipynb",
        {"acc": "val accuracy 0.948\n", "shape": "shape (64, 10)\n", "name": "al\n"},
    )
    _, _, problems, _ = spread.analyse([runs], ["cpu=default", "seed=1"], 3.0)
    assert (
        len(problems) == 1
        and "cell name: text changes under cpu=default" in problems[0]
    )


def test_settings_are_checked():
    assert spread.setting_env("cpu=avx2") == {"ATEN_CPU_CAPABILITY": "avx2"}
    assert spread.setting_env("seed=3") == {"DLBOOK_SEED_SHIFT": "3"}
    with pytest.raises(SystemExit, match="unknown setting 'gpu'"):
        spread.setting_env("gpu")


def test_decimals_beside_moving_numbers_get_two_units_of_their_last_digit(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(spread, "VARIANTS", tmp_path / "variants")
    stored = tmp_path / "ch.ipynb"
    notebook(stored, {"c": "epoch 3: loss 0.2500, acc 0.972, spread 2.6e-08\n"})
    notebook(
        tmp_path / "variants/seed-1/ch.ipynb",
        {"c": "epoch 3: loss 0.2700, acc 0.972, spread 2.6e-08\n"},
    )
    tolerances, rows, _, _ = spread.analyse([stored], ["seed=1"], factor=4.0)
    tol = tolerances["ch"]["c"]["tol"]
    assert tol["1"] == pytest.approx(0.08)  # the loss moved: 4 x 0.02
    assert tol["2"] == pytest.approx(0.002) and tol["3"] == pytest.approx(2e-9)
    assert "0" not in tol  # the epoch is a count: it must not move
    assert len(rows) == 1  # only the loss is reported as moving
