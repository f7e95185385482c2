"""Train the chapter-3 digits MLP on several processes with DistributedDataParallel.

Each process ("rank") holds a full copy of the model and trains on its own share
of every epoch's examples (``DistributedSampler``). After each ``backward()``,
DDP averages the gradients of all ranks (an all-reduce), so every rank takes the
same optimizer step and the copies stay identical.

Run it with ``torchrun``, which starts the processes and tells each its rank:

    # one machine, 2 CPU processes (gloo backend): runs anywhere
    torchrun --standalone --nproc_per_node=2 -m dlbook.ddp_train --out /tmp/ddp
    # one machine with 4 GPUs (nccl backend, one process per GPU)
    torchrun --standalone --nproc_per_node=4 -m dlbook.ddp_train
    # 2 machines with 8 GPUs each: run this on both, with the first's address
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d \
        --rdzv-endpoint=HOST0:29500 --rdzv-id=digits -m dlbook.ddp_train

It lives in the ``dlbook`` package, so it runs wherever ``dlbook`` is installed
(Colab too); ``-m`` tells ``torchrun`` to run a module rather than a file.
``python -m torch.distributed.run`` is the same launcher as ``torchrun``.
Every rank prints lines starting ``[rank R]``; with ``--out DIR`` each also
saves its final weights to ``DIR/rank{R}.pt``; ``--data FILE`` reads the
tensors from a file (saved with ``dlbook.checkpoint.save``) instead of having
every process load the digits with scikit-learn. A rank that waits longer
than ``--timeout`` seconds for the others (one is stuck or crashed) ends the
run with an error, instead of waiting for PyTorch's default 30 minutes.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from dlbook import accuracy, load_digits_split
from dlbook.checkpoint import load, save


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for each rank's weights")
    parser.add_argument(
        "--data",
        type=Path,
        help="a file holding X_train, y_train, X_val, y_val (default: load the "
        "digits with scikit-learn in every process)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds a rank waits for the others before the run fails",
    )
    args = parser.parse_args(argv)
    _check_args(parser, args)
    return args


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with a usage error (status 2) for values that cannot train."""
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} must be at least 1, got {getattr(args, name)}")
    for name in ("lr", "timeout"):
        if not (math.isfinite(getattr(args, name)) and getattr(args, name) > 0):
            parser.error(
                f"--{name} must be a positive number, got {getattr(args, name)}"
            )
    if args.seed < 0:
        parser.error(f"--seed must be at least 0, got {args.seed}")


def setup(timeout: float) -> tuple[int, int, torch.device]:
    """Join the process group: NCCL on CUDA GPUs, gloo on CPUs.

    A collective operation (e.g. DDP's gradient all-reduce) that waits more
    than ``timeout`` seconds for another rank fails with an error.
    """
    if "RANK" not in os.environ:
        raise SystemExit("launch me with torchrun (see the docstring at the top)")
    local_rank = int(os.environ["LOCAL_RANK"])
    # One GPU per process, or every process on the CPU (all ranks must agree).
    if torch.cuda.device_count() >= int(os.environ["LOCAL_WORLD_SIZE"]):
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
    return dist.get_rank(), dist.get_world_size(), device


def log(rank: int, message: str) -> None:
    """Print one line in a single write, so lines of different ranks never mix."""
    sys.stdout.write(f"[rank {rank}] {message}\n")
    sys.stdout.flush()


def make_model() -> nn.Module:
    """Chapter 3's ``MyNet(64)``: 64 -> 20 -> 30 -> 10 with ReLU, as a Sequential."""
    return nn.Sequential(
        nn.Linear(64, 20), nn.ReLU(), nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 10)
    )


def train(args: argparse.Namespace, rank: int, world: int, device) -> nn.Module:
    torch.manual_seed(args.seed)  # same initial weights everywhere (DDP broadcasts too)
    torch.set_num_threads(1)
    data = load(args.data) if args.data else vars(load_digits_split())
    train_set = TensorDataset(data["X_train"], data["y_train"])
    sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    model = DistributedDataParallel(make_model().to(device))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, agreed by all ranks
        total, count = 0.0, 0
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()  # DDP all-reduces (averages) gradients here
            optimizer.step()
            total, count = total + loss.item() * len(y), count + len(y)
        log(rank, f"epoch {epoch + 1}: {count} examples, loss {total / count:.4f}")
    model.eval()
    with torch.no_grad():
        X_val, y_val = data["X_val"].to(device), data["y_val"].to(device)
        val_acc = accuracy(model(X_val), y_val)
    log(rank, f"validation accuracy {val_acc:.3f}")
    return model.module


def compare_weights(model: nn.Module, world: int) -> float:
    """Largest difference between this rank's weights and any other rank's."""
    flat = nn.utils.parameters_to_vector(model.parameters()).detach()
    everyone = [torch.empty_like(flat) for _ in range(world)]
    dist.all_gather(everyone, flat)
    return max((other - flat).abs().max().item() for other in everyone)


def main() -> None:
    args = parse_args()
    rank, world, device = setup(args.timeout)
    log(rank, f"of {world} processes, on {device}, backend {dist.get_backend()}")
    try:
        model = train(args, rank, world, device)
        difference = compare_weights(model, world)
    except RuntimeError as error:  # gloo and NCCL report a timeout as one
        if "timed out" in str(error).lower() or "timeout" in str(error).lower():
            log(
                rank,
                f"another rank did not answer within {args.timeout:g} s (stuck "
                "or crashed): stopping. Raise --timeout if it was only slow",
            )
        raise
    log(rank, f"max weight difference to other ranks: {difference}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        save(model.cpu(), args.out / f"rank{rank}.pt")
    dist.barrier()  # leave together: a rank that tears down while its peer still
    dist.destroy_process_group()  # talks to it can abort the peer (gloo, SIGABRT)


if __name__ == "__main__":
    main()
