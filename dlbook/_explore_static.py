"""The static view's plotly figure: every run of the grid, controls that switch them.

Private to :mod:`dlbook.explore`. ``ex`` is an :class:`~dlbook.explore.Explorer`;
the runs are stored once as rounded arrays that the page's script (in
``_explore_html``) swaps into the figure; plotly is imported only when drawing.
"""

from __future__ import annotations

import math

from ._explore_result import (
    MARKERS_UP_TO,
    Panel,
    Result,
    fmt,
    rounded,
    series_colors,
    uses_slider,
)

PLOT_HEIGHT, TOP = 330, 95  # pixels: plot area, title band above it


def _results(ex) -> list[Result]:
    """The result of every point, in the order of ``ex.points()``."""
    return [ex.result(**p) for p in ex.points()]


def _table(results: list[Result]) -> tuple[list, list, list]:
    """Traces ``(panel, series)``, per point a pair of array indices per trace
    (``-1`` where the point lacks it), and the distinct rounded arrays."""
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
    return traces, table, [list(a) for a in arrays]


def runs_of(ex) -> tuple[dict, list]:
    """Every point's curves as references into a list of distinct rounded arrays."""
    points, results = ex.points(), _results(ex)
    traces, table, arrays = _table(results)
    runs = {
        "names": list(ex.grid),
        "sizes": [len(v) for v in ex.grid.values()],
        "initial": [ex.grid[n].index(ex.initial[n]) for n in ex.grid],
        "titles": [ex.title(p) for p in points],
        "points": table,
        "arrays": arrays,
    }
    subtitles = [[p.title for p in r.panels] for r in results]
    if len(set(map(tuple, subtitles))) > 1 and all(all(t) for t in subtitles):
        runs["subtitles"] = subtitles  # panel titles that change with the point
    return runs, traces


def _axis_range(ex, i: int, axis: str, log: bool = False, fixed=None):
    if fixed is not None:
        return [math.log10(v) for v in fixed] if log else list(fixed)
    values = []
    for result in _results(ex):
        if i < len(result.panels):
            panel = result.panels[i]
            series = [panel.x] if axis == "x" else panel.ys.values()
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
        if uses_slider(values):
            steps = [{"label": fmt(v), **skip} for v in values]
            prefix = {"prefix": f"{label}: "}
            sliders.append({**common, "steps": steps, "currentvalue": prefix})
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
        runs, traces = runs_of(ex)
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


def _initial_index(runs: dict) -> int:
    """The initial point's index in ``runs["points"]``, as the page's script counts."""
    index = 0
    for size, k in zip(runs["sizes"], runs["initial"]):
        index = index * size + k
    return index


def _add_traces(fig, ex, runs: dict, traces: list) -> None:
    import plotly.graph_objects as go

    colors, arrays = series_colors(_results(ex)), runs["arrays"]
    for (i, name), (xi, yi) in zip(traces, runs["points"][_initial_index(runs)]):
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


def _style_axes(fig, ex, panels: list[Panel]) -> None:
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
