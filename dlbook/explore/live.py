"""The live view: ipywidgets controls above the figure, a matplotlib PNG.

Controls, figure (an ``Image`` widget) and status line are one widget box. A
second, plain output follows it: the first figure, hidden, and the script of
``live.js``, which keeps keys typed on the controls from JupyterLab's notebook
shortcuts and, in a notebook reopened without the kernel that made the widget,
turns the "Error displaying widget" line into a note and shows that figure.
(JupyterLab drops ``display_id`` updates once a cell has finished, so the
figure itself cannot be a plain output that stays current.)
"""

from __future__ import annotations

import base64
import html
import io
import math
import time

from .model import (
    MARKERS_UP_TO,
    Explorer,
    Panel,
    Result,
    decades,
    fmt,
    image_limits,
    series_colors,
    uses_slider,
)


class LivePlot:
    """One matplotlib figure redrawn in place (new data, same axes) as a PNG:
    about 5x faster than building a figure per move. No pyplot state."""

    def __init__(self) -> None:
        self.fig, self.shape = None, None

    def _build(self, result: Result) -> None:
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

        n, colors = len(result.panels), series_colors([result])
        self.fig = Figure(figsize=(4.6 * n, 3.6), dpi=100)
        self.fig.subplots_adjust(
            left=0.8 / (4.6 * n), right=0.98, bottom=0.15, top=0.8, wspace=0.3
        )
        self.axes = self.fig.subplots(1, n, squeeze=False)[0]
        self.lines = []
        for ax, p in zip(self.axes, result.panels):
            if p.image is not None:  # a picture: redrawn with set_data
                low, high = image_limits(p)
                shown = ax.imshow(p.image, cmap=p.cmap, vmin=low, vmax=high)
                self.lines.append(shown)
                ax.set(xticks=[], yticks=[], xlabel=p.xlabel, ylabel=p.ylabel)
                continue
            style = ".-" if len(p.x) <= MARKERS_UP_TO else "-"
            style, size = (".", 3) if p.markers else (style, 6)
            lines = [
                ax.plot([], [], style, label=k, color=colors[k], markersize=size)[0]
                for k in p.ys
            ]
            self.lines.append(lines)
            if all(isinstance(v, int) for v in p.x):
                ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5]))
            ax.set(xlabel=p.xlabel, ylabel=p.ylabel)
            if p.log_y:  # plain labels: mathtext would cost a fifth of a redraw
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(NullFormatter())
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")

    def png(self, result: Result, title: str) -> bytes:
        shape = [
            (tuple(p.ys), p.log_y, p.markers, p.cmap, _size(p.image))
            for p in result.panels
        ]
        if shape != self.shape:
            self._build(result)
            self.shape = shape
        for ax, panel, lines in zip(self.axes, result.panels, self.lines):
            if panel.image is not None:
                lines.set_data(panel.image)
                lines.set_clim(*image_limits(panel))
                ax.set_title(panel.title)
                continue
            for line, y in zip(lines, panel.ys.values()):
                line.set_data(panel.x, [math.nan if v is None else v for v in y])
            ax.set_title(panel.title)
            ax.relim()
            ax.autoscale_view()
            ax.set_ylim(*(panel.y_range or _y_limits(ax, panel)))
            if panel.x_range is not None:
                ax.set_xlim(*panel.x_range)
        self.fig.suptitle(title)
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


def _size(image) -> tuple[int, int] | None:
    return None if image is None else (len(image), len(image[0]))


def _y_limits(ax, panel: Panel) -> tuple[float, float]:
    """Autoscaled limits; on a log axis widened to whole decades, so that the
    axis always has numbers (a range within one decade has no major tick)."""
    low, high = ax.get_ylim()
    return decades(low, high) if panel.log_y else (low, high)


class LiveExplorer:
    """Sliders (numbers) and toggle buttons (names) that recompute and redraw.

    ``controls`` maps each parameter to its widget, ``image`` shows the figure
    (``png``). Displayed, it is the widget and then a plain output: the script
    of ``live.js`` and the first figure, which it shows if the widget is gone.
    """

    def __init__(self, ex: Explorer) -> None:
        import ipywidgets as widgets

        self.ex, self.plot = ex, LivePlot()
        self.controls = {name: _control(widgets, ex, name) for name in ex.grid}
        self.image = widgets.Image(format="png", layout={"max_width": "100%"})
        self.status = widgets.HTML()
        controls = widgets.HBox(list(self.controls.values()))
        self.box = widgets.VBox([controls, self.image, self.status])
        for control in self.controls.values():
            control.observe(self.redraw, names="value")
        self.redraw()
        self.first = self.png
        self.first_title = ex.title(ex.initial)

    @property
    def png(self) -> bytes:
        return bytes(self.image.value)

    def redraw(self, change=None) -> None:
        """Compute the controls' point (unless cached) and draw it."""
        point = {name: control.value for name, control in self.controls.items()}
        cached = tuple(point.values()) in self.ex.cache
        self.status.value = "" if cached else "computing..."
        start = time.perf_counter()
        try:
            self.image.value = self.plot.png(
                self.ex.result(**point), self.ex.title(point)
            )
        except Exception as exc:
            self.status.value = f"<b>error</b>: {html.escape(repr(exc))}"
            raise
        took = time.perf_counter() - start
        word = "cached" if cached else "computed"
        self.status.value = f"{word}, drawn in {took:.2f} s"

    def fallback(self) -> dict[str, str]:
        """The plain output after the widget: the first figure, hidden while
        the widget is there, and the script of ``live.js``."""
        from .model import package_js

        data = base64.b64encode(self.first).decode()
        return {
            "text/html": f'<img class="dlbook-explorer-first" style="display:none;'
            f'max-width:100%" src="data:image/png;base64,{data}" '
            f'alt="{html.escape(self.first_title)}">'
            f"<script>{package_js('live.js')}</script>",
            "text/plain": "",
        }

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)
        display(self.fallback(), raw=True)


def _control(widgets, ex: Explorer, name: str):
    """A slider for a numeric parameter, toggle buttons for any other one:
    a dropdown would take the arrow keys that JupyterLab also uses."""
    values = ex.grid[name]
    common = dict(
        options=[(fmt(v), v) for v in values],
        value=ex.initial[name],
        description=ex.labels[name],
        style={"description_width": "initial"},
    )
    if uses_slider(values):
        return widgets.SelectionSlider(continuous_update=False, **common)
    return widgets.ToggleButtons(**common)
