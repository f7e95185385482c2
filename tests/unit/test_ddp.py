"""dlbook.ddp_train under torchrun: 2 gloo processes end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dlbook.checkpoint import load, save


@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
def test_two_gloo_processes_end_with_identical_weights(tmp_path: Path) -> None:
    # Small random data in a file: the workers skip loading scikit-learn.
    gen = torch.Generator().manual_seed(0)
    data = {
        "X_train": torch.randn(100, 64, generator=gen),
        "X_val": torch.randn(20, 64),
    }
    data.update(y_train=torch.randint(0, 10, (100,)), y_val=torch.randint(0, 10, (20,)))
    save(data, tmp_path / "data.pt")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node=2", "-m", "dlbook.ddp_train", "--epochs=2"]
    command += [f"--data={tmp_path / 'data.pt'}", f"--out={tmp_path}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    for rank in (0, 1):
        assert f"[rank {rank}] of 2 processes, on cpu, backend gloo" in lines
        assert f"[rank {rank}] epoch 2: 50 examples" in " ".join(lines)
        assert f"[rank {rank}] max weight difference to other ranks: 0.0" in lines
    rank0, rank1 = load(tmp_path / "rank0.pt"), load(tmp_path / "rank1.pt")
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    accuracies = {line.split("] ")[1] for line in lines if "validation" in line}
    assert len(accuracies) == 1  # both ranks report the same validation accuracy


FROZEN = """
import time
from dlbook import ddp_train

real_train = ddp_train.train


def train(args, rank, world, device):
    if rank == 1:
        time.sleep(600)  # frozen: joined the group, then never answers
    return real_train(args, rank, world, device)


ddp_train.train = train
ddp_train.main()
"""


@pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed")
def test_a_frozen_rank_ends_the_run_within_the_timeout(tmp_path: Path) -> None:
    data = {"X_train": torch.randn(8, 64), "X_val": torch.randn(4, 64)}
    data.update(y_train=torch.randint(0, 10, (8,)), y_val=torch.randint(0, 10, (4,)))
    save(data, tmp_path / "data.pt")
    (tmp_path / "frozen.py").write_text(FROZEN)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node=2", str(tmp_path / "frozen.py"), "--timeout=5"]
    command += [f"--data={tmp_path / 'data.pt'}", "--epochs=1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    start = time.monotonic()
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300
    )
    took = time.monotonic() - start
    assert result.returncode != 0
    assert "[rank 0] another rank did not answer within 5 s" in result.stdout
    assert took < 200, took  # not PyTorch's default 30 minutes (rank 1 sleeps 600)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs=-1"], "--epochs must be at least 1, got -1"),
        (["--batch-size=0"], "--batch-size must be at least 1, got 0"),
        (["--lr=nan"], "--lr must be a positive number, got nan"),
        (["--lr=-0.1"], "--lr must be a positive number, got -0.1"),
        (["--timeout=0"], "--timeout must be a positive number, got 0.0"),
    ],
)
def test_invalid_arguments_are_rejected(argv, message, capsys) -> None:
    from dlbook import ddp_train

    with pytest.raises(SystemExit) as info:
        ddp_train.parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
