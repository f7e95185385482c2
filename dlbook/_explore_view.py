"""How explorers are drawn: live (ipywidgets + matplotlib) and static (plotly HTML).

Private to :mod:`dlbook.explore`.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import math
import numbers
import time
from typing import Any

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
PLOT_HEIGHT, TOP = 330, 95  # pixels: plot area, title band above it
MARKERS_UP_TO = 30  # points per curve; longer curves are drawn as plain lines


def fmt(value: Any) -> str:
    """A short label: numbers with 4 significant digits, anything else as text."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:.4g}"
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def rounded(values) -> list:
    """4 significant digits; NaN, inf and None become None (a gap)."""
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(None)
        else:
            v = float(f"{float(v):.4g}")
            out.append(int(v) if v.is_integer() and abs(v) < 1e15 else v)
    return out


def _colors(results) -> dict[str, str]:
    names = dict.fromkeys(s for r in results for p in r.panels for s in p.ys)
    return {name: COLORS[i % len(COLORS)] for i, name in enumerate(names)}


# -- live: ipywidgets controls, a matplotlib PNG in an Image widget ---------------
class LivePlot:
    """One matplotlib figure redrawn in place (new data, same axes) as a PNG:
    about 5x faster than building a figure per move. No pyplot state."""

    def __init__(self) -> None:
        self.fig, self.shape = None, None

    def _build(self, result) -> None:
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

        n, colors = len(result.panels), _colors([result])
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
            if all(isinstance(v, int) for v in panel.x):
                ax.xaxis.set_major_locator(
                    MaxNLocator(integer=True, steps=[1, 2, 5, 10])
                )
            ax.set(xlabel=panel.xlabel, ylabel=panel.ylabel)
            if panel.log_y:  # plain labels: mathtext would cost a fifth of a redraw
                ax.set_yscale("log")
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(NullFormatter())
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")

    def png(self, result, title: str) -> bytes:
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


def live_widget(ex):
    """Sliders (numbers) and dropdowns (names) that recompute and redraw."""
    import ipywidgets as widgets

    for name, values in ex.grid.items():
        common = dict(
            options=[(fmt(v), v) for v in values],
            value=ex.initial[name],
            description=ex.labels[name],
            style={"description_width": "initial"},
        )
        if all(is_number(v) for v in values):
            control = widgets.SelectionSlider(continuous_update=False, **common)
        else:
            control = widgets.Dropdown(**common)
        ex.controls[name] = control
    status, plot = widgets.HTML(), LivePlot()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

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

    for control in ex.controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(ex.controls.values())), image, status])


# -- static: a plotly figure whose controls switch between stored runs ------------
def _runs(ex) -> tuple[dict, list]:
    """Every point's curves as references into a list of distinct rounded arrays."""
    points = ex.points()
    results = [ex.result(**p) for p in points]
    traces = list(
        dict.fromkeys(
            (i, s) for r in results for i, p in enumerate(r.panels) for s in p.ys
        )
    )
    arrays: dict[tuple, int] = {}
    ref = lambda values: arrays.setdefault(tuple(rounded(values)), len(arrays))
    table = [
        [
            [ref(r.panels[i].x), ref(r.panels[i].ys[s])]
            if i < len(r.panels) and s in r.panels[i].ys
            else [-1, -1]
            for i, s in traces
        ]
        for r in results
    ]
    runs = {
        "names": list(ex.grid),
        "sizes": [len(v) for v in ex.grid.values()],
        "initial": [ex.grid[n].index(ex.initial[n]) for n in ex.grid],
        "titles": [ex.title(p) for p in points],
        "points": table,
        "arrays": [list(a) for a in arrays],
    }
    subtitles = [[p.title for p in r.panels] for r in results]
    if len(set(map(tuple, subtitles))) > 1 and all(all(t) for t in subtitles):
        runs["subtitles"] = subtitles  # panel titles that change with the point
    return runs, traces


def _axis_range(ex, i: int, axis: str, log: bool = False, fixed=None):
    if fixed is not None:
        return [math.log10(v) for v in fixed] if log else list(fixed)
    values = []
    for point in ex.points():
        panels = ex.result(**point).panels
        if i < len(panels):
            series = [panels[i].x] if axis == "x" else panels[i].ys.values()
            values += [v for y in series for v in rounded(y) if v is not None]
    values = [math.log10(v) for v in values if v > 0] if log else values
    if not values:
        return None
    pad = 0.05 * (max(values) - min(values) or 1.0)
    return [min(values) - pad, max(values) + pad]


def _controls(ex) -> tuple[list, list, int]:
    """A slider per numeric parameter, a dropdown per other one, stacked below
    the plot; their method ``skip`` leaves the switching to the page's script."""
    sliders, menus, offset = [], [], 70
    for name, values in ex.grid.items():
        label, skip = ex.labels[name], {"method": "skip", "args": [None]}
        common = {
            "name": name,
            "active": values.index(ex.initial[name]),
            "x": 0,
            "xanchor": "left",
            "y": 0,
            "yanchor": "top",
            "pad": {"t": offset},
        }
        if all(is_number(v) for v in values):
            steps = [{"label": fmt(v), **skip} for v in values]
            sliders.append(
                {**common, "steps": steps, "currentvalue": {"prefix": f"{label}: "}}
            )
            offset += 90
        else:
            buttons = [{"label": f"{label}: {fmt(v)}", **skip} for v in values]
            menus.append({**common, "buttons": buttons, "direction": "up"})
            offset += 50
    return sliders, menus, offset


def static_figure(ex, runs: dict | None = None, traces: list | None = None):
    """The plotly figure of the grid, drawn at the initial point."""
    from plotly.subplots import make_subplots

    if runs is None:
        runs, traces = _runs(ex)
    panels = ex.result(**ex.initial).panels
    titles = [p.title for p in panels]
    fig = make_subplots(1, len(panels), subplot_titles=titles, horizontal_spacing=0.14)
    _add_traces(fig, ex, runs, traces)
    _style_axes(fig, ex, panels)
    sliders, menus, bottom = _controls(ex)
    fig.update_layout(
        title={"text": ex.title(ex.initial), "x": 0.02, "y": 0.98, "yanchor": "top"},
        height=PLOT_HEIGHT + TOP + bottom,
        margin={"t": TOP, "b": bottom, "l": 60, "r": 20},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.17},
        sliders=sliders,
        updatemenus=menus,
        plot_bgcolor="white",
        font_size=13,
    )
    fig.layout.template = None  # plotly.js defaults; keeps the page small
    return fig


def _add_traces(fig, ex, runs: dict, traces: list) -> None:
    import plotly.graph_objects as go

    colors = _colors(ex.result(**p) for p in ex.points())
    index, arrays = 0, runs["arrays"]
    for size, k in zip(runs["sizes"], runs["initial"]):
        index = index * size + k  # the initial point, as the page's script counts
    for (i, name), (xi, yi) in zip(traces, runs["points"][index]):
        x, y = (arrays[xi], arrays[yi]) if xi >= 0 else ([], [])
        trace = go.Scatter(
            x=x,
            y=y,
            name=name,
            legendgroup=name,
            showlegend=name not in [t.name for t in fig.data],
            mode="lines+markers" if len(x) <= MARKERS_UP_TO else "lines",
            marker_size=5,
            line_color=colors[name],
        )
        fig.add_trace(trace, row=1, col=i + 1)


def _style_axes(fig, ex, panels: list) -> None:
    """Axis titles, and ranges fixed over the whole grid so points compare."""
    grid = {"gridcolor": "#eee", "zeroline": False, "exponentformat": "power"}
    for i, p in enumerate(panels):
        where = {"row": 1, "col": i + 1}
        x_range = _axis_range(ex, i, "x")
        fig.update_xaxes(title_text=p.xlabel, range=x_range, **where, **grid)
        y_range = _axis_range(ex, i, "y", p.log_y, p.y_range)
        decades = y_range[1] - y_range[0] if p.log_y and y_range else 0
        fig.update_yaxes(
            title_text=p.ylabel,
            type="log" if p.log_y else None,
            range=y_range,
            dtick=(1 if decades <= 6 else 2) if decades else None,
            **where,
            **grid,
        )


class StaticExplorer:
    """The precomputed grid as HTML; plotly.js is loaded from the book's site."""

    def __init__(self, ex) -> None:
        runs, traces = _runs(ex)
        self.figure = static_figure(ex, runs, traces)
        self.text = (
            f"Explorer({' x '.join(ex.grid)}: {len(runs['points'])} precomputed "
            "runs; interactive on the book's website, live in a running notebook)"
        )
        self.html = _html(self.figure, runs)

    def _repr_html_(self) -> str:
        return self.html

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html, "text/plain": self.text}

    def __repr__(self) -> str:
        return self.text


def _json(obj) -> str:
    from plotly.utils import PlotlyJSONEncoder

    text = json.dumps(obj, cls=PlotlyJSONEncoder, separators=(",", ":"))
    return text.replace("</", "<\\/")  # cannot close the <script> element


def _html(figure, runs: dict) -> str:
    fig_json = _json(figure.to_plotly_json())
    runs_json = _json(runs)
    uid = (
        "dlbook-explorer-"
        + hashlib.sha1((fig_json + runs_json).encode()).hexdigest()[:12]
    )
    height = figure.layout.height
    return (
        f'<div class="dlbook-explorer" id="{uid}">\n'
        f'<div class="dlbook-explorer-plot" style="width:100%;height:{height}px">'
        '<p class="dlbook-explorer-note">Interactive figure: it needs JavaScript and '
        "the plotly.js that the book's website serves. In a running notebook the "
        "same cell shows live sliders.</p></div>\n"
        f'<script type="application/json" class="dlbook-explorer-figure">{fig_json}'
        "</script>\n"
        f'<script type="application/json" class="dlbook-explorer-runs">{runs_json}'
        "</script>\n"
        f"<script>{JS.replace('__ID__', uid)}</script>\n</div>"
    )


# Draws the figure once plotly.js is there (loaded once per page from
# <site>/_static/plotly/, found through Sphinx's data-content_root at any page
# depth) and switches runs when a slider or dropdown changes.
JS = """(function () {
  var box = document.getElementById("__ID__");
  if (!box || box.getAttribute("data-drawn")) return;
  var note = box.querySelector(".dlbook-explorer-note");
  function data(name) {
    return JSON.parse(box.querySelector("script.dlbook-explorer-" + name).textContent);
  }
  function draw() {
    var fig = data("figure"), runs = data("runs"), state = runs.initial.slice();
    var gd = box.querySelector(".dlbook-explorer-plot");
    function show() {
      var i = 0, xs = [], ys = [];
      runs.sizes.forEach(function (n, k) { i = i * n + state[k]; });
      runs.points[i].forEach(function (t) {
        xs.push(t[0] < 0 ? [] : runs.arrays[t[0]]);
        ys.push(t[1] < 0 ? [] : runs.arrays[t[1]]);
      });
      box.setAttribute("data-point", i);
      var layout = {"title.text": runs.titles[i]};
      (runs.subtitles ? runs.subtitles[i] : []).forEach(function (t, k) {
        layout["annotations[" + k + "].text"] = t;
      });
      return Plotly.update(gd, {x: xs, y: ys}, layout);
    }
    function pick(name, index) {
      var k = runs.names.indexOf(name);
      if (k >= 0 && index >= 0 && state[k] !== index) { state[k] = index; show(); }
    }
    if (note) note.remove();
    Plotly.newPlot(gd, fig.data, fig.layout, {responsive: true, displayModeBar: false})
      .then(function () {
        gd.on("plotly_sliderchange", function (e) {
          pick(e.slider.name, e.slider.steps.indexOf(e.step));
        });
        gd.on("plotly_buttonclicked", function (e) { pick(e.menu.name, e.active); });
        box.setAttribute("data-drawn", "1");
      });
  }
  if (window.Plotly) return draw();
  if (window.dlbookPlotlyQueue) return window.dlbookPlotlyQueue.push(draw);
  var root = document.documentElement.getAttribute("data-content_root");
  if (root === null) return;  // not on the book's website: keep the note
  var queue = window.dlbookPlotlyQueue = [draw];
  var script = document.createElement("script"), define = window.define;
  window.define = undefined;  // plotly.js must not register as an AMD module
  script.src = root + "_static/plotly/plotly.min.js";
  script.onload = function () {
    window.define = define;
    window.dlbookPlotlyQueue = null;
    queue.forEach(function (f) { f(); });
  };
  script.onerror = function () {
    window.define = define;
    if (note) note.textContent = "Could not load " + script.src;
  };
  document.head.appendChild(script);
})();"""
