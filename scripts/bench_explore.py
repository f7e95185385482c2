"""How fast the live explorers answer: control move -> redrawn figure, and where
the time goes.

Simulates a reader on both ready explorers' widgets (``explore_lr_activation``
and ``explore_activation_depth``): each move sets a control's value, which runs
the widget's callback (compute the point unless it is cached, draw the PNG, put
it in the Image widget) before the assignment returns; that assignment is
timed, and so is the explorer's ``compute`` inside it, so that each move splits
into computing (training) and drawing. Also times the static grids' precompute.
Wall times include whatever else loads the CPU; CPU times (this process)
estimate a quiet machine.

Usage:
    .venv/bin/python scripts/bench_explore.py
"""

from __future__ import annotations

import os
import statistics
import time

import torch

from dlbook.explore import explore_activation_depth, explore_lr_activation


def _moves(grid: dict[str, list]) -> list[tuple[str, object]]:
    """The slider (numbers) up through every value, the other control to its
    second value, the slider down, the other control back, the slider up again:
    new points first, then points already computed."""
    slider = next(n for n, v in grid.items() if not isinstance(v[0], str))
    other = next(n for n in grid if n != slider)
    values, choices = grid[slider], grid[other]
    up, down = [(slider, v) for v in values[1:]], [(slider, v) for v in values[-2::-1]]
    second = choices[1] if len(choices) > 1 else choices[0]
    return [*up, (other, second), *down, (other, choices[0]), *up]


def measure(threads: int | None = 1, **explorer_kwargs) -> dict[str, float]:
    """Median seconds from a control change to the redrawn figure, and more.

    Args:
        threads: torch threads during the measurement, as a notebook sets
            them (restored afterwards); ``None`` leaves them alone.
        **explorer_kwargs: passed to ``explore_lr_activation``.

    Returns:
        For the lr explorer: ``median_s`` over all moves, ``median_new_s``
        (points computed on the move), ``median_cached_s``, ``max_s``, their
        CPU-time counterparts (``*_cpu_s``), the compute and draw parts of new
        moves (``median_new_compute_s``, ``median_new_draw_s``),
        ``first_draw_s``, ``moves``; the same keys prefixed ``depth_`` for the
        depth explorer; ``precompute_lr_s``, ``precompute_depth_s`` and the
        1-minute ``load`` average.
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        result = _measure(explore_lr_activation(**explorer_kwargs))
        depth = _measure(explore_activation_depth())
        result.update({f"depth_{k}": v for k, v in depth.items()})
        grid = explore_lr_activation(**explorer_kwargs)
        result["precompute_lr_s"], result["precompute_lr_cpu_s"] = _timed(
            grid.precompute
        )
        depth = explore_activation_depth()
        result["precompute_depth_s"], result["precompute_depth_cpu_s"] = _timed(
            depth.precompute
        )
        result["load"] = os.getloadavg()[0]
        return result
    finally:
        torch.set_num_threads(before)


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _measure(explorer) -> dict[str, float]:
    computing = []  # seconds in compute during the current move
    compute = explorer.compute

    def timed_compute(**point):
        start = time.perf_counter()
        try:
            return compute(**point)
        finally:
            computing.append(time.perf_counter() - start)

    explorer.compute = timed_compute
    first_draw, _ = _timed(lambda: explorer.show("live"))
    live, images, new, cached = explorer.widget(), set(), [], []
    for name, value in _moves(explorer.grid):
        control, was_cached = live.controls[name], len(explorer.cache)
        computing.clear()
        wall, cpu = _timed(lambda c=control, v=value: setattr(c, "value", v))
        move = (wall, cpu, sum(computing))
        (cached if len(explorer.cache) == was_cached else new).append(move)
        images.add(live.png)
    if len(images) < len(explorer.cache):
        raise RuntimeError("a move did not redraw the figure")
    every = new + cached
    result = {"moves": len(every), "new_points": len(new), "first_draw_s": first_draw}
    for label, runs in (("", every), ("_new", new), ("_cached", cached)):
        if runs:
            result[f"median{label}_s"] = statistics.median(t for t, _, _ in runs)
            result[f"median{label}_cpu_s"] = statistics.median(c for _, c, _ in runs)
    if new:
        result["median_new_compute_s"] = statistics.median(k for _, _, k in new)
        result["median_new_draw_s"] = statistics.median(t - k for t, _, k in new)
    result["max_s"] = max(t for t, _, _ in every)
    return result


if __name__ == "__main__":
    for key, value in measure().items():
        print(
            f"{key:28s} {value:.3f}"
            if isinstance(value, float)
            else f"{key:28s} {value}"
        )
