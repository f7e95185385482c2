"""The live view of an explorer: ipywidgets controls, a matplotlib PNG in an Image.

Private to :mod:`dlbook.explore`. ``ex`` is an :class:`~dlbook.explore.Explorer`;
matplotlib and ipywidgets are imported only when a widget is built.
"""

from __future__ import annotations

import html
import io
import math
import time
from collections.abc import Callable

from ._explore_result import (
    MARKERS_UP_TO,
    Panel,
    Result,
    fmt,
    series_colors,
    uses_slider,
)


def _style_axis(ax, panel: Panel) -> None:
    """Labels, integer ticks for integer x, plain log labels, grid and legend."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    if all(isinstance(v, int) for v in panel.x):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set(xlabel=panel.xlabel, ylabel=panel.ylabel)
    if panel.log_y:  # plain labels: mathtext would cost a fifth of a redraw
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


class LivePlot:
    """One matplotlib figure redrawn in place (new data, same axes) as a PNG:
    about 5x faster than building a figure per move. No pyplot state."""

    def __init__(self) -> None:
        self.fig, self.shape = None, None

    def _build(self, result: Result) -> None:
        from matplotlib.figure import Figure

        n, colors = len(result.panels), series_colors([result])
        self.fig = Figure(figsize=(4.6 * n, 3.6), dpi=100)
        self.fig.subplots_adjust(
            left=0.8 / (4.6 * n), right=0.98, bottom=0.15, top=0.8, wspace=0.3
        )
        self.axes = self.fig.subplots(1, n, squeeze=False)[0]
        self.lines = []
        for ax, panel in zip(self.axes, result.panels):
            style = ".-" if len(panel.x) <= MARKERS_UP_TO else "-"
            self.lines.append(
                [ax.plot([], [], style, label=k, color=colors[k])[0] for k in panel.ys]
            )
            _style_axis(ax, panel)

    def png(self, result: Result, title: str) -> bytes:
        shape = [(tuple(p.ys), p.log_y) for p in result.panels]
        if shape != self.shape:
            self._build(result)
            self.shape = shape
        for ax, panel, lines in zip(self.axes, result.panels, self.lines):
            for line, y in zip(lines, panel.ys.values()):
                line.set_data(panel.x, [math.nan if v is None else v for v in y])
            ax.set_title(panel.title)
            ax.relim()
            ax.autoscale_view(scaley=panel.y_range is None)
            if panel.y_range:
                ax.set_ylim(*panel.y_range)
        self.fig.suptitle(title)
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


def _control(widgets, ex, name: str):
    """A slider for a numeric parameter, a dropdown for any other one."""
    values = ex.grid[name]
    common = dict(
        options=[(fmt(v), v) for v in values],
        value=ex.initial[name],
        description=ex.labels[name],
        style={"description_width": "initial"},
    )
    if uses_slider(values):
        return widgets.SelectionSlider(continuous_update=False, **common)
    return widgets.Dropdown(**common)


def _redrawer(ex, image, status) -> Callable:
    """The callback that computes the controls' point (unless cached) and draws."""
    plot = LivePlot()

    def redraw(change=None) -> None:
        point = {name: c.value for name, c in ex.controls.items()}
        cached = tuple(point.values()) in ex.cache
        status.value = "" if cached else "computing..."
        start = time.perf_counter()
        try:
            image.value = plot.png(ex.result(**point), ex.title(point))
        except Exception as exc:
            status.value = f"<b>error</b>: {html.escape(repr(exc))}"
            raise
        took = time.perf_counter() - start
        status.value = f"{'cached' if cached else 'computed'}, drawn in {took:.2f} s"

    return redraw


def live_widget(ex):
    """Sliders (numbers) and dropdowns (names) that recompute and redraw."""
    import ipywidgets as widgets

    for name in ex.grid:
        ex.controls[name] = _control(widgets, ex, name)
    status = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    redraw = _redrawer(ex, image, status)
    for control in ex.controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(ex.controls.values())), image, status])
