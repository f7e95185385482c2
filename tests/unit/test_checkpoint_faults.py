"""Faults while saving (kills, a full disk) and mistakes while loading checkpoints."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from dlbook import checkpoint
from dlbook.checkpoint import load, load_checkpoint, save, save_checkpoint

KILLER = textwrap.dedent(
    """
    import os, random, signal, sys, time, torch
    from pathlib import Path
    from dlbook.checkpoint import save
    path, kills = Path(sys.argv[1]), int(sys.argv[2])
    big = {"v": torch.zeros(2**20)}  # 4 MiB: each save takes a while
    left = most = 0  # kills that left a file; most files at once
    for i in range(kills):
        pid = os.fork()  # torch is imported once; each writer is a fresh process
        if pid == 0:
            while True:
                save(big, path)
        deadline = time.monotonic() + 30
        while not any(f".{pid}." in p.name for p in path.parent.iterdir()):
            if time.monotonic() > deadline:
                sys.exit("the writer never started a save")
            time.sleep(0.0005)
        time.sleep(random.random() * 0.005)  # somewhere inside the write
        os.kill(pid, signal.SIGTERM if i == kills - 1 else signal.SIGKILL)
        os.waitpid(pid, 0)  # reaped: the process is gone, as after a real kill
        temporary = [p for p in path.parent.iterdir() if p != path]
        left += any(f".{pid}." in p.name for p in temporary)
        most = max(most, len(temporary))
    print(left, most)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_killed_saves_leave_nothing_after_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    save({"v": torch.ones(3)}, path)
    kills = 30  # the last with SIGTERM
    result = subprocess.run(
        [sys.executable, "-c", KILLER, str(path), str(kills)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    left, most = map(int, result.stdout.split())
    print(f"{left} of {kills} kills left a temporary file; at most {most} at once")
    assert left >= 1, "no save was killed midway: the test proves nothing"
    assert most == 1  # each new writer removed its dead predecessor's file
    assert load(path)["v"].shape in (torch.Size([3]), torch.Size([2**20]))
    save({"v": torch.full((3,), 2.0)}, path)
    assert list(tmp_path.iterdir()) == [path]  # every leftover was removed
    torch.testing.assert_close(load(path)["v"], torch.full((3,), 2.0))


def test_save_keeps_temporary_files_of_live_writers(tmp_path: Path) -> None:
    path = save({"v": 1}, tmp_path / "c.pt")
    live = tmp_path / f".c.pt.{os.getpid()}.0123abcd.tmp"  # e.g. another thread
    other_name = tmp_path / ".d.pt.1.0123abcd.tmp"  # a save to another path
    for p in (live, other_name):
        p.write_bytes(b"partial")
    save({"v": 2}, path)
    assert sorted(tmp_path.iterdir()) == sorted([path, live, other_name])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_is_named_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save({"v": torch.ones(3)}, tmp_path / "c.pt")
    real_open = os.open

    def open_on_full_disk(file, flags, mode=0o777):
        if str(file).endswith(".tmp"):  # the temporary file lands on a full disk
            return real_open("/dev/full", os.O_WRONLY)
        return real_open(file, flags, mode)

    monkeypatch.setattr(checkpoint.os, "open", open_on_full_disk)
    with pytest.raises(OSError, match="the disk is full") as info:
        save({"v": torch.zeros(2**16)}, path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert "was not written and any previous file there is unchanged" in str(info.value)
    torch.testing.assert_close(load(path)["v"], torch.ones(3))
    assert list(tmp_path.iterdir()) == [path]


def test_other_write_errors_are_not_called_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(obj, file) -> None:
        raise OSError(errno.EIO, "input/output error")

    monkeypatch.setattr(checkpoint.torch, "save", fail)
    with pytest.raises(OSError, match="input/output error"):
        save({"v": 1}, tmp_path / "c.pt")


def _setup(optimizer=torch.optim.Adam):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    return model, optimizer(model.parameters(), lr=0.01)


def _unchanged(model: nn.Module):
    """A check that ``model``'s weights and the global RNG are as now."""
    weights = [p.clone() for p in model.parameters()]
    rng = torch.get_rng_state()

    def check() -> None:
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), weights))
        assert torch.equal(torch.get_rng_state(), rng)

    return check


def test_save_checkpoint_with_model_and_optimizer_swapped(tmp_path: Path) -> None:
    model, optimizer = _setup()
    path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1)
    with pytest.raises(TypeError, match="model and optimizer are swapped"):
        save_checkpoint(path, optimizer, model, 2)
    with pytest.raises(TypeError, match="model and optimizer are swapped"):
        load_checkpoint(path, optimizer, model)
    assert load(path)["epoch"] == 1  # the good checkpoint was kept


def test_load_checkpoint_missing_generator_state_changes_nothing(
    tmp_path: Path,
) -> None:
    model, optimizer = _setup()
    path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1)  # no generator
    fresh, fresh_opt = _setup()
    torch.manual_seed(5)  # another global RNG state than the file's
    check = _unchanged(fresh)
    with pytest.raises(ValueError, match="holds no generator state.*generator="):
        load_checkpoint(path, fresh, fresh_opt, generator=torch.Generator())
    check()


@pytest.mark.parametrize(
    ("saved", "loading", "lacking"),
    [
        (torch.optim.SGD, torch.optim.Adam, "'betas'"),
        (torch.optim.Adam, torch.optim.SGD, "'momentum'"),
    ],
)
def test_load_checkpoint_refuses_another_optimizer_class(
    tmp_path: Path, saved, loading, lacking: str
) -> None:
    model, optimizer = _setup(saved)
    path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1)
    fresh, fresh_opt = _setup(loading)
    check = _unchanged(fresh)
    with pytest.raises(ValueError, match=f"another kind of optimizer.*{lacking}"):
        load_checkpoint(path, fresh, fresh_opt)
    check()
    assert fresh_opt.param_groups[0]["lr"] == 0.01  # not overwritten


def test_load_checkpoint_same_optimizer_class_loads(tmp_path: Path) -> None:
    for kind in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW):
        model, optimizer = _setup(kind)
        path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1)
        load_checkpoint(path, *_setup(kind))


def test_load_checkpoint_warns_when_the_stored_generator_is_not_asked_for(
    tmp_path: Path,
) -> None:
    model, optimizer = _setup()
    gen = torch.Generator().manual_seed(0)
    path = save_checkpoint(tmp_path / "c.pt", model, optimizer, 1, generator=gen)
    with pytest.warns(UserWarning, match="generator=train_loader.generator") as got:
        load_checkpoint(path, *_setup())
    assert got[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(path, _setup()[0])  # the model alone: nothing to resume
        load_checkpoint(path, *_setup(), generator=torch.Generator())


def test_a_value_load_would_refuse_keeps_the_previous_checkpoint(tmp_path) -> None:
    """A NumPy number in the extras saves with torch.save but fails
    torch.load(weights_only=True): the save refuses it before the rename."""
    import numpy as np

    path = tmp_path / "ckpt.pt"
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    save_checkpoint(path, model, optimizer, epoch=1)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"not written.*float\(x\).*numpy"):
        save_checkpoint(path, model, optimizer, epoch=2, best=np.float32(0.9))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temp file left
    assert load_checkpoint(path, torch.nn.Linear(2, 1))["epoch"] == 1
