"""Time one training step of an MLP on the CPU and on a CUDA GPU; store as JSON.

Chapter 7 ("when a GPU helps") measures CPU step times live and plots, beside
them, GPU times stored from a real GPU run. This script makes that file. Run it
from the repository root on a machine with an NVIDIA GPU:

    python scripts/gpu_step_times.py            # writes book/data/gpu_step_times.json

then re-execute the chapter (``make execute NB=notebooks/07_faq.ipynb``). The
file records the hardware (GPU and CPU names, CPU threads) and versions, so the
chapter can label what it shows. ``--devices cpu --out /tmp/x.json`` checks the
script itself on a machine without a GPU (the chapter only reads the default
path, which must come from a real GPU run).

The model is the book's MLP (``make_mlp(256, width, 10, depth=2)``); one step
is forward, cross-entropy loss, ``zero_grad``, backward and an SGD step, in
float32. Each time is the median over repeated steps after a warm-up step,
with ``torch.cuda.synchronize()`` around the GPU's asynchronous work.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import time
from pathlib import Path

import torch
from bench import cpu_model  # scripts/bench.py, beside this file
from torch import nn

from dlbook import make_mlp

IN_FEATURES, DEPTH, CLASSES = 256, 2, 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", default="cpu,cuda", help="comma-separated")
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 256, 1024, 4096])
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[16, 128, 1024, 8192]
    )
    parser.add_argument("--min-seconds", type=float, default=0.2, help="per point")
    parser.add_argument(
        "--out", type=Path, default=Path("book/data/gpu_step_times.json")
    )
    return parser.parse_args()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_time(
    width: int, batch_size: int, device: torch.device, min_seconds: float
) -> float:
    """Median seconds of one training step (at least 3 timed steps)."""
    model = make_mlp(IN_FEATURES, width, CLASSES, depth=DEPTH).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    X = torch.randn(batch_size, IN_FEATURES, device=device)
    y = torch.randint(0, CLASSES, (batch_size,), device=device)

    def step() -> None:
        loss = nn.functional.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up: allocations, kernel selection
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (
        time.perf_counter() - start < min_seconds and len(times) < 1000
    ):
        sync(device)
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def hardware() -> dict[str, object]:
    info: dict[str, object] = {
        "cpu": cpu_model(),
        "cpu_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


def main() -> None:
    args = parse_args()
    devices = [torch.device(name) for name in args.devices.split(",")]
    if any(d.type == "cuda" for d in devices) and not torch.cuda.is_available():
        raise SystemExit(
            "no CUDA GPU here: run this on a GPU machine (or --devices cpu)"
        )
    results = []
    for device in devices:
        for width in args.widths:
            for batch_size in args.batch_sizes:
                seconds = step_time(width, batch_size, device, args.min_seconds)
                row = {"device": device.type, "width": width, "batch_size": batch_size}
                results.append({**row, "seconds": seconds})
                print(f"{row}: {seconds * 1e3:.3f} ms", flush=True)
    record = {
        "description": f"seconds per training step of make_mlp({IN_FEATURES}, "
        f"width, {CLASSES}, depth={DEPTH}), float32, SGD",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "torch": torch.__version__,
        "hardware": hardware(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
