"""How fast the live explorer answers: slider move -> redrawn figure.

Simulates a reader on ``explore_lr_activation``'s widget: each move sets a
control's value, which runs the widget's callback (train the point unless it
is cached, draw the PNG, put it in the Image widget) before the assignment
returns; that assignment is timed. Also times the static grid's precompute
and the second explorer's. Wall times include whatever else loads the CPU;
CPU times (this process) estimate a quiet machine.

Usage:
    .venv/bin/python scripts/bench_explore.py
"""

from __future__ import annotations

import os
import statistics
import time

import torch

from dlbook.explore import explore_activation_depth, explore_lr_activation


def _moves(lrs: list, activations: list) -> list[tuple[str, object]]:
    """Slider up through every lr, switch activation, slider down, switch back,
    slider up again: new points first, then points already computed."""
    up, down = [("lr", v) for v in lrs[1:]], [("lr", v) for v in lrs[-2::-1]]
    second = activations[1] if len(activations) > 1 else activations[0]
    return [*up, ("activation", second), *down, ("activation", activations[0]), *up]


def measure(threads: int | None = 1, **explorer_kwargs) -> dict[str, float]:
    """Median seconds from a control change to the redrawn figure, and more.

    Args:
        threads: torch threads during the measurement, as a notebook sets
            them (restored afterwards); ``None`` leaves them alone.
        **explorer_kwargs: passed to ``explore_lr_activation``.

    Returns:
        ``median_s`` over all moves, ``median_new_s`` (points trained on the
        move), ``median_cached_s``, ``max_s``, their CPU-time counterparts
        (``*_cpu_s``), ``first_draw_s``, ``moves``, ``precompute_lr_s``,
        ``precompute_depth_s`` and the 1-minute ``load`` average.
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _measure(**explorer_kwargs)
    finally:
        torch.set_num_threads(before)


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _measure(**explorer_kwargs) -> dict[str, float]:
    explorer = explore_lr_activation(**explorer_kwargs)
    first_draw, _ = _timed(lambda: explorer.show("live"))
    images, new, cached = set(), [], []
    for name, value in _moves(explorer.grid["lr"], explorer.grid["activation"]):
        control = explorer.controls[name]
        was_cached = len(explorer.cache)
        times = _timed(lambda c=control, v=value: setattr(c, "value", v))
        (cached if len(explorer.cache) == was_cached else new).append(times)
        images.add(bytes(explorer.widget().children[1].value))
    if len(images) < len(explorer.cache):
        raise RuntimeError("a move did not redraw the figure")
    every = new + cached
    result = {"moves": len(every), "new_points": len(new), "first_draw_s": first_draw}
    for label, runs in (("", every), ("_new", new), ("_cached", cached)):
        if runs:
            result[f"median{label}_s"] = statistics.median(t for t, _ in runs)
            result[f"median{label}_cpu_s"] = statistics.median(c for _, c in runs)
    result["max_s"] = max(t for t, _ in every)
    grid = explore_lr_activation(**explorer_kwargs)
    result["precompute_lr_s"], result["precompute_lr_cpu_s"] = _timed(grid.precompute)
    depth = explore_activation_depth()
    result["precompute_depth_s"], result["precompute_depth_cpu_s"] = _timed(
        depth.precompute
    )
    result["load"] = os.getloadavg()[0]
    return result


if __name__ == "__main__":
    for key, value in measure().items():
        print(
            f"{key:24s} {value:.3f}"
            if isinstance(value, float)
            else f"{key:24s} {value}"
        )
