"""Tests of dlbook.checkpoint: atomic saves, clear load errors, exact resume."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dlbook import checkpoint
from dlbook.checkpoint import (
    CheckpointError,
    load,
    load_checkpoint,
    rng_state,
    save,
    save_checkpoint,
    set_rng_state,
)


def test_save_load_round_trip(tmp_path: Path) -> None:
    obj = {"w": torch.randn(3, 4), "epoch": 7, "names": ["a", "b"]}
    assert save(obj, tmp_path / "x.pt") == tmp_path / "x.pt"
    got = load(tmp_path / "x.pt")
    torch.testing.assert_close(got["w"], obj["w"])
    assert got["epoch"] == 7 and got["names"] == ["a", "b"]
    assert list(tmp_path.iterdir()) == [tmp_path / "x.pt"]  # no temporary left


def test_save_module_and_optimizer_as_state_dicts(tmp_path: Path) -> None:
    model = nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters())
    save(model, tmp_path / "m.pt")
    save(optimizer, tmp_path / "o.pt")
    loaded = nn.Linear(3, 2)
    loaded.load_state_dict(load(tmp_path / "m.pt"))
    torch.testing.assert_close(loaded.weight, model.weight)
    assert set(load(tmp_path / "o.pt")) == {"state", "param_groups"}


def test_save_replaces_previous_file(tmp_path: Path) -> None:
    save({"v": 1}, tmp_path / "c.pt")
    save({"v": 2}, tmp_path / "c.pt")
    assert load(tmp_path / "c.pt") == {"v": 2}


def test_failure_inside_write_keeps_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.pt"
    save({"v": torch.ones(3)}, path)

    def half_then_fail(obj, file) -> None:
        file.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save({"v": torch.zeros(3)}, path)
    monkeypatch.undo()
    torch.testing.assert_close(load(path)["v"], torch.ones(3))
    assert list(tmp_path.iterdir()) == [path]  # the temporary file was removed


CHILD = textwrap.dedent(
    """
    import resource, signal, sys, torch
    from dlbook.checkpoint import save
    # The kernel kills this process (SIGXFSZ) as soon as any file it writes
    # grows past 1 MiB: a crash in the middle of writing, with no clean-up.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
    save({"v": torch.zeros(2**20)}, sys.argv[1])  # 4 MiB of tensor data
    print("save finished")
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX rlimits")
def test_process_killed_midway_keeps_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    save({"v": torch.ones(3)}, path)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True
    )
    assert result.returncode == -signal.SIGXFSZ, result.stderr
    assert "save finished" not in result.stdout
    torch.testing.assert_close(load(path)["v"], torch.ones(3))
    (partial,) = [p for p in tmp_path.iterdir() if p != path]
    assert partial.stat().st_size == 2**20  # cut off exactly at the limit
    with pytest.raises(CheckpointError, match=str(partial.name)):
        load(partial)


def test_load_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothere.pt"):
        load(tmp_path / "nothere.pt")


@pytest.mark.parametrize("cut", [0, 10, 0.5, -10])
def test_load_truncated_file_gives_clear_error(tmp_path: Path, cut: float) -> None:
    save({"w": torch.randn(1000)}, tmp_path / "full.pt")
    data = (tmp_path / "full.pt").read_bytes()
    keep = int(len(data) * cut) if isinstance(cut, float) else cut % len(data)
    (tmp_path / "cut.pt").write_bytes(data[:keep])
    with pytest.raises(CheckpointError, match=r"cannot load '.*cut\.pt'"):
        load(tmp_path / "cut.pt")


def test_load_corrupt_bytes_detected_by_checksum(tmp_path: Path) -> None:
    save({"w": torch.randn(1000)}, tmp_path / "c.pt")
    data = bytearray((tmp_path / "c.pt").read_bytes())
    start = data.index(b"data/0") + 200  # inside the tensor's bytes
    data[start : start + 16] = bytes(16)
    (tmp_path / "c.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load(tmp_path / "c.pt")


def test_load_unfinished_torch_save_gives_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    torch.save({"w": torch.ones(3)}, path)
    with pytest.raises(Exception, match="pickle"):  # plain torch.save fails midway
        torch.save({"w": torch.ones(3), "f": lambda: 0}, path)
    with pytest.raises(CheckpointError, match="did not finish"):
        load(path)


def test_load_without_verify_skips_checksums(tmp_path: Path) -> None:
    save({"w": torch.ones(3)}, tmp_path / "c.pt")
    assert load(tmp_path / "c.pt", verify=False)["w"].sum().item() == 3.0


def test_load_weights_only_refuses_code(tmp_path: Path) -> None:
    torch.save({"f": print}, tmp_path / "code.pt")
    with pytest.raises(Exception, match="Weights only load failed"):
        load(tmp_path / "code.pt")
    assert load(tmp_path / "code.pt", weights_only=False) == {"f": print}


def test_load_map_location(tmp_path: Path) -> None:
    save({"w": torch.ones(2)}, tmp_path / "c.pt")
    assert load(tmp_path / "c.pt", map_location="meta")["w"].device.type == "meta"


def test_rng_state_round_trip_through_a_file(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(5)
    save(rng_state(gen), tmp_path / "rng.pt")
    expected = (
        random.random(),
        np.random.rand(),
        torch.rand(1),
        torch.rand(1, generator=gen),
    )
    set_rng_state(load(tmp_path / "rng.pt"), gen)
    again = (
        random.random(),
        np.random.rand(),
        torch.rand(1),
        torch.rand(1, generator=gen),
    )
    assert expected == again


def test_rng_state_covers_apple_mps_generator(tmp_path: Path, monkeypatch) -> None:
    # On a Mac, dropout on the GPU draws from MPS's own generator: a resumed run
    # is exact only if that state is saved and restored too.
    mps_state = {"now": torch.tensor([7, 7, 7], dtype=torch.uint8)}
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.mps, "get_rng_state", lambda *a: mps_state["now"].clone())
    monkeypatch.setattr(
        torch.mps, "set_rng_state", lambda new, *a: mps_state.update(now=new)
    )
    save(rng_state(), tmp_path / "rng.pt")
    mps_state["now"] = torch.tensor([1, 2, 3], dtype=torch.uint8)  # draws moved it on
    set_rng_state(load(tmp_path / "rng.pt"))
    assert mps_state["now"].tolist() == [7, 7, 7]


def test_rng_state_without_mps_entry_still_loads() -> None:
    # Checkpoints written before the MPS state was saved have no "mps" key.
    state = rng_state()
    del state["mps"]
    a = torch.rand(1)
    set_rng_state(state)
    assert torch.equal(torch.rand(1), a)


def test_set_rng_state_without_saved_generator() -> None:
    with pytest.raises(KeyError, match="generator"):
        set_rng_state(rng_state(), torch.Generator())


def _train(model, optimizer, gen, epochs: range, X, y) -> None:
    for _ in epochs:
        for idx in torch.randperm(len(X), generator=gen).split(8):
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return model, optimizer, torch.Generator().manual_seed(seed)


def test_resume_matches_uninterrupted_training(tmp_path: Path) -> None:
    X, y = torch.randn(40, 4), torch.randint(0, 3, (40,))
    model, optimizer, gen = _setup()
    _train(model, optimizer, gen, range(4), X, y)

    first, opt1, gen1 = _setup()
    _train(first, opt1, gen1, range(2), X, y)
    save_checkpoint(tmp_path / "c.pt", first, opt1, epoch=2, generator=gen1)
    torch.manual_seed(123)  # the "new process" draws other random numbers

    resumed, opt2, gen2 = _setup(seed=99)
    start = load_checkpoint(tmp_path / "c.pt", resumed, opt2, generator=gen2)["epoch"]
    _train(resumed, opt2, gen2, range(start, 4), X, y)
    for a, b in zip(model.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_save_checkpoint_extra_and_file_mode(tmp_path: Path) -> None:
    model, optimizer, _ = _setup()
    path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1, history=[0.5])
    assert load(path)["history"] == [0.5]
    (tmp_path / "plain").write_bytes(b"")  # same permissions as open() gives
    assert path.stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_save_checkpoint_refuses_reserved_names(tmp_path: Path) -> None:
    model, optimizer, _ = _setup()
    with pytest.raises(ValueError, match=r"\['rng'\] are names the checkpoint uses"):
        save_checkpoint(tmp_path / "c.pt", model, optimizer, 1, rng=[1])
    assert not list(tmp_path.iterdir())


def test_load_checkpoint_names_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    model, _, _ = _setup()
    path = save(model, tmp_path / "weights.pt")  # a state_dict, not a checkpoint
    with pytest.raises(
        CheckpointError, match=r"weights\.pt.* is not a save_checkpoint file"
    ):
        load_checkpoint(path, model)


def test_load_checkpoint_checks_model_and_optimizer_before_changing_either(
    tmp_path: Path,
) -> None:
    model, optimizer, _ = _setup()
    path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1)
    wider = nn.Sequential(
        nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3)
    )
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(16, 4\) in the file"):
        load_checkpoint(path, wider)

    other, _, _ = _setup(seed=1)
    before = [p.clone() for p in other.parameters()]
    two_groups = torch.optim.Adam(
        [{"params": other[0].parameters()}, {"params": other[3].parameters()}]
    )
    with pytest.raises(ValueError, match=r"sizes \[4\], this optimizer \[2, 2\]"):
        load_checkpoint(path, other, two_groups)
    for p, q in zip(other.parameters(), before):
        assert torch.equal(p, q)  # the model was not half-restored


def test_rng_state_from_more_gpus_restores_on_fewer(monkeypatch) -> None:
    # A checkpoint from a 2-GPU machine, resumed on a 1-GPU machine.
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.extend)
    state = {**rng_state(), "cuda": [torch.ones(3, dtype=torch.uint8)] * 2}
    set_rng_state(state)
    assert len(restored) == 1


def test_save_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    target = save({"epoch": 1}, tmp_path / "real.pt")
    link = tmp_path / "latest.pt"
    link.symlink_to(target)
    save({"epoch": 2}, link)
    assert link.is_symlink() and load(target)["epoch"] == 2


def test_save_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="the folder '.*nowhere' does not"):
        save({"epoch": 1}, tmp_path / "nowhere" / "c.pt")
