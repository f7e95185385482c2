"""The explorer core: a parameter grid, a compute function, a cache, two views.

Private to :mod:`dlbook.explore`, which re-exports :class:`Explorer` and
:func:`is_build`.
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Callable, Sequence
from typing import Any

from ._explore_html import StaticExplorer
from ._explore_live import live_widget
from ._explore_result import Result, fmt
from ._explore_static import static_figure


def is_build() -> bool:
    """True while the book is executed for the website (``DLBOOK_BUILD=1``)."""
    return os.environ.get("DLBOOK_BUILD", "").lower() in ("1", "true", "yes")


def _check_grid(compute: Callable, grid: dict[str, Sequence]) -> dict[str, list]:
    if not isinstance(grid, dict):
        raise TypeError(
            "the grid must be a dict mapping each parameter to its values, e.g. "
            f"{{'lr': [0.01, 0.1]}}; got {type(grid).__name__}"
        )
    if not grid:
        raise ValueError("the grid is empty; give at least one parameter and values")
    params = inspect.signature(compute).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    checked = {}
    for name, values in grid.items():
        if not takes_any and name not in params:
            raise ValueError(
                f"unknown parameter {name!r}; compute accepts: {', '.join(params)}"
            )
        values = list(values) if not isinstance(values, str) else [values]
        if not values:
            raise ValueError(f"parameter {name!r} has no values in the grid")
        for value in values:
            try:
                hash(value)
            except TypeError:
                raise ValueError(
                    f"parameter {name!r} has the value {value!r}, which cannot be a "
                    "grid point: use numbers, strings or tuples"
                ) from None
        if len(set(values)) != len(values):
            raise ValueError(f"parameter {name!r} repeats values: {values}")
        checked[name] = values
    return checked


class Explorer:
    """A parameter grid, a function computing one point of it, and a cache.

    Args:
        compute: ``compute(**point)`` returns a :class:`Result`; ``point`` maps
            each grid parameter to one value.
        grid: parameter name -> the values its slider (numbers) or dropdown
            (anything else) offers, in order.
        labels: display names of parameters (default: the names).
        initial: the point shown first (default: each parameter's first value).

    Displayed as the last line of a cell it is the live widget, or the static
    figure of the precomputed grid when :func:`is_build` is true.

    Example:
        >>> from dlbook.explore import Explorer, Panel, Result
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
        self.grid = _check_grid(compute, grid)
        labels, initial = labels or {}, initial or {}
        self._check_names(labels)
        self._check_names(initial)
        self.labels = {name: labels.get(name, name) for name in self.grid}
        self.initial = {name: values[0] for name, values in self.grid.items()}
        for name, value in initial.items():
            if value not in self.grid[name]:
                raise ValueError(
                    f"initial {name}={value!r} is not in the grid: {self.grid[name]}"
                )
            self.initial[name] = value
        self.cache: dict[tuple, Result] = {}
        self.controls: dict[str, Any] = {}
        self._widget = None

    def _check_names(self, point: dict[str, Any]) -> None:
        for name in point:
            if name not in self.grid:
                raise ValueError(
                    f"unknown parameter {name!r}; the grid has: {', '.join(self.grid)}"
                )

    def result(self, **point: Any) -> Result:
        """The result at ``point`` (missing parameters take their initial value),
        computed once and then read from the cache."""
        self._check_names(point)
        point = {**self.initial, **point}
        key = tuple(point[name] for name in self.grid)
        if key not in self.cache:
            result = self.compute(**point)
            if not isinstance(result, Result):
                raise TypeError(
                    f"compute must return a Result, got {type(result).__name__}"
                )
            self.cache[key] = result
        return self.cache[key]

    def points(self) -> list[dict[str, Any]]:
        """Every point of the grid, the last parameter varying fastest."""
        names = list(self.grid)
        return [
            dict(zip(names, combo)) for combo in itertools.product(*self.grid.values())
        ]

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

    def figure(self):
        """The static plotly figure of the whole grid (precomputes it)."""
        self.precompute()
        return static_figure(self)

    def static(self) -> StaticExplorer:
        """The precomputed grid as HTML for the website (plotly.js served by it)."""
        self.precompute()
        return StaticExplorer(self)

    def widget(self):
        """The live ``ipywidgets`` UI (built once; its controls are ``.controls``)."""
        if self._widget is None:
            self._widget = live_widget(self)
        return self._widget

    def show(self, mode: str | None = None):
        """``"static"`` figure, ``"live"`` widget, or (default) by :func:`is_build`."""
        if mode not in (None, "static", "live"):
            raise ValueError(f"mode must be 'static', 'live' or None, got {mode!r}")
        static = is_build() if mode is None else mode == "static"
        return self.static() if static else self.widget()

    def _repr_mimebundle_(self, include=None, exclude=None):
        shown = self.show()
        if hasattr(shown, "_repr_mimebundle_"):
            return shown._repr_mimebundle_(include=include, exclude=exclude)
        # ipywidgets 7 (the version Colab ships) has no _repr_mimebundle_; this is
        # the bundle its widgets display themselves with.
        view = {"version_major": 2, "version_minor": 0, "model_id": shown._model_id}
        return {
            "text/plain": repr(shown),
            "application/vnd.jupyter.widget-view+json": view,
        }

    def __repr__(self) -> str:
        size = len(self.points())
        names = " x ".join(self.grid)
        return f"Explorer({names}: {size} points, {len(self.cache)} computed)"
