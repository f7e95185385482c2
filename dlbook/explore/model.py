"""The explorer model: a parameter grid, a compute function, a cache of results.

``compute(**point)`` returns a :class:`Result` of :class:`Panel` s; the views
(:mod:`.live`, :mod:`.static`) only read results.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

MARKERS_UP_TO = 30  # points per curve; longer curves are drawn as plain lines
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


@dataclass
class Panel:
    """One subplot of a result: x values and one or more named y series.

    ``None`` or NaN in a series leaves a gap (e.g. after a run diverged), so
    series with other x values can share a panel: each is ``None`` at the
    others' x. ``y_range`` (data units, also on a log axis) and ``x_range`` fix
    the axes so that every point of the grid is drawn on the same scale; without
    them the static figure uses the range of the whole grid and the live one
    autoscales. ``markers=True`` draws points only (a scatter of samples).

    ``image`` (rows of numbers, the first row at the top) makes the panel a
    picture instead: ``x`` and ``ys`` stay empty, ``cmap`` is a matplotlib
    colormap name and ``v_range`` the values at its two ends (default: the
    image's own range; a diverging map is centred on 0).

    Shape: ``x`` and every series in ``ys`` have the same length.

    Example:
        >>> Panel([1, 2], {"loss": [0.5, None]}, xlabel="epoch").ys
        {'loss': [0.5, None]}
    """

    x: Sequence[float]
    ys: dict[str, Sequence[float | None]]
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    log_y: bool = False
    y_range: tuple[float, float] | None = None
    x_range: tuple[float, float] | None = None
    markers: bool = False
    image: Sequence[Sequence[float]] | None = None
    cmap: str = "gray_r"
    v_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.log_y and self.y_range is not None and min(self.y_range) <= 0:
            raise ValueError(
                f"y_range {self.y_range} is not positive, so it cannot be shown on a "
                "log axis (log_y=True): give a range above 0, or log_y=False"
            )
        if self.image is not None:
            widths = {len(row) for row in self.image}
            if not self.image or len(widths) != 1 or 0 in widths:
                raise ValueError(
                    f"image has rows of lengths {sorted(widths)}: give a non-empty "
                    "rectangle of numbers, one list per row"
                )
            if len(self.x) or self.ys:
                raise ValueError("an image panel has no curves: leave x and ys empty")
        for name, y in self.ys.items():
            if len(y) != len(self.x):
                raise ValueError(
                    f"series {name!r} has {len(y)} values for {len(self.x)} x values"
                )


@dataclass
class Result:
    """What ``compute(**point)`` returns: panels of curves, final metrics, a title.

    The title should state the finding for this point; by default the explorer
    shows the point and its metrics.
    """

    panels: list[Panel]
    metrics: dict[str, float] = field(default_factory=dict)
    title: str = ""


def image_limits(panel: Panel) -> tuple[float, float]:
    """The values at the two ends of an image panel's colormap."""
    if panel.v_range is not None:
        return panel.v_range
    values = [v for row in panel.image for v in row]
    low, high = min(values), max(values)
    if panel.cmap in DIVERGING:  # 0 in the middle: signs read as colours
        high = max(abs(low), abs(high)) or 1.0
        return -high, high
    return (low, high) if high > low else (low - 1, low + 1)


DIVERGING = {"RdBu", "RdBu_r", "coolwarm", "bwr", "seismic", "PiYG", "PRGn"}


def is_build() -> bool:
    """True while the book is executed for the website (``DLBOOK_BUILD=1``)."""
    return os.environ.get("DLBOOK_BUILD", "").lower() in ("1", "true", "yes")


def is_number(value: Any) -> bool:
    """True for real numbers, False for bools and anything else.

    Example:
        >>> is_number(0.5), is_number(True), is_number("relu")
        (True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def uses_slider(values: Sequence) -> bool:
    """Whether a parameter's control is a slider (all numbers) or buttons; the
    live and the static view decide alike.

    Example:
        >>> uses_slider([0.1, 1]), uses_slider(["relu", "tanh"])
        (True, False)
    """
    return all(is_number(v) for v in values)


def fmt(value: Any) -> str:
    """A short label: numbers with 4 significant digits, anything else as text.

    Example:
        >>> fmt(0.123456), fmt(3.0), fmt("tanh")
        ('0.1235', '3', 'tanh')
    """
    return f"{value:.4g}" if is_number(value) else str(value)


def rounded(values: Iterable[float | None]) -> list:
    """4 significant digits; NaN, inf and None become None (a gap).

    Example:
        >>> rounded([1 / 3, 2.0, float("nan"), None])
        [0.3333, 2, None, None]
    """
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(None)
        else:
            v = float(f"{float(v):.4g}")
            out.append(int(v) if v.is_integer() and abs(v) < 1e15 else v)
    return out


def series_colors(results: Iterable[Result]) -> dict[str, str]:
    """One color per series name, in order of first appearance over ``results``."""
    names = dict.fromkeys(s for r in results for p in r.panels for s in p.ys)
    return {name: COLORS[i % len(COLORS)] for i, name in enumerate(names)}


@functools.cache
def package_js(name: str) -> str:
    """The JavaScript file ``name`` shipped in this package (read once)."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def decades(low: float, high: float) -> tuple[float, float]:
    """The whole powers of ten around ``[low, high]`` (both > 0): a log axis
    with these limits always shows at least two labelled ticks.

    Example:
        >>> decades(0.03, 0.05), decades(2, 10)
        ((0.01, 0.1), (1.0, 10.0))
    """
    return 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high))


class Explorer:
    """A parameter grid, a function computing one point of it, and a cache.

    Args:
        compute: ``compute(**point)`` returns a :class:`Result`; ``point`` maps
            each grid parameter to one value.
        grid: parameter name -> the values its slider (numbers) or buttons
            (anything else) offer, in order.
        labels: display names of parameters (default: the names).
        initial: the point shown first (default: each parameter's first value).

    Displayed as the last line of a cell it is the live widget, or the static
    figure of the precomputed grid when :func:`is_build` is true.

    Example:
        >>> def square(a, name):
        ...     return Result([Panel([0, 1, 2], {name: [0, a, 4 * a]})])
        >>> ex = Explorer(square, {"a": [1, 2], "name": ["sq"]})
        >>> ex.result(a=2).panels[0].ys
        {'sq': [0, 2, 8]}
        >>> ex.precompute(), ex
        (2, Explorer(a x name: 2 points, 2 computed))
    """

    def __init__(
        self,
        compute: Callable[..., Result],
        grid: dict[str, Sequence],
        *,
        labels: dict[str, str] | None = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        self.compute = compute
        self.grid = {name: list(values) for name, values in grid.items()}
        for name, values in self.grid.items():
            if not values:
                raise ValueError(f"parameter {name!r} has no values in the grid")
        self.labels = {name: (labels or {}).get(name, name) for name in self.grid}
        self.initial = {name: values[0] for name, values in self.grid.items()}
        for name, value in (initial or {}).items():
            if value not in self.grid.get(name, [value]):
                raise ValueError(
                    f"initial {name}={value!r} is not in the grid: {self.grid[name]}"
                )
        self.initial.update(initial or {})
        self.cache: dict[tuple, Result] = {}
        self.live = None  # the live view, built on first display

    def result(self, **point: Any) -> Result:
        """The result at ``point`` (missing parameters take their initial value),
        computed once and then read from the cache."""
        point = {**self.initial, **point}
        key = tuple(point[name] for name in self.grid)
        if key not in self.cache:
            self.cache[key] = self.compute(**point)
        return self.cache[key]

    def points(self) -> list[dict[str, Any]]:
        """Every point of the grid, the last parameter varying fastest."""
        names, values = list(self.grid), self.grid.values()
        return [dict(zip(names, combo)) for combo in itertools.product(*values)]

    def precompute(self) -> int:
        """Compute every point of the grid not cached yet; return the grid size."""
        points = self.points()
        for point in points:
            self.result(**point)
        return len(points)

    def title(self, point: dict[str, Any]) -> str:
        """The figure title at ``point``: the result's own, or point and metrics."""
        result = self.result(**point)
        if result.title:
            return result.title
        where = ", ".join(f"{self.labels[k]} {fmt(v)}" for k, v in point.items())
        metrics = ", ".join(f"{k} {fmt(v)}" for k, v in result.metrics.items())
        return f"{where}: {metrics}" if metrics else where

    def static(self):
        """The precomputed grid as HTML for the website (plotly.js served by it)."""
        from .static import StaticExplorer

        points = self.points()
        results = [self.result(**p) for p in points]
        titles = [self.title(p) for p in points]
        return StaticExplorer(self.grid, self.labels, self.initial, results, titles)

    def widget(self):
        """The live view (built once): ``.controls``, ``.redraw()``, ``.png``."""
        from .live import LiveExplorer

        if self.live is None:
            self.live = LiveExplorer(self)
        return self.live

    def show(self, mode: str | None = None):
        """``"static"`` figure, ``"live"`` widget, or (default) by :func:`is_build`."""
        if mode not in (None, "static", "live"):
            raise ValueError(f"mode must be 'static', 'live' or None, got {mode!r}")
        static = is_build() if mode is None else mode == "static"
        return self.static() if static else self.widget()

    def _ipython_display_(self) -> None:
        self.show()._ipython_display_()

    def __repr__(self) -> str:
        size = math.prod(len(v) for v in self.grid.values())
        names = " x ".join(self.grid)
        return f"Explorer({names}: {size} points, {len(self.cache)} computed)"
