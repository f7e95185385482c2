"""The static view for the book's website: a plotly figure of every run, as HTML.

The runs are stored once as rounded arrays; the page's script (the file
``explorer.js``) draws the figure with the site's plotly.js and swaps a run's
arrays in when a control moves. Without that script (a notebook) the saved
output is a one-line note. plotly is imported only when drawing.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from typing import Any

from .model import (
    MARKERS_UP_TO,
    Panel,
    Result,
    decades,
    fmt,
    image_limits,
    package_js,
    rounded,
    series_colors,
    uses_slider,
)

PLOT_HEIGHT, TOP = 330, 95  # pixels: plot area, title band above it
PICTURES_HEIGHT = 160  # the plot area when every panel is a picture (square)
KEYS = (
    ("&larr;/&rarr;", "left and right arrows"),
    ("&uarr;/&darr;", "up and down arrows"),
)


class StaticExplorer:
    """Every run of a grid as HTML; plotly.js is loaded from the book's site.

    Args:
        grid: parameter name -> values, as :class:`~dlbook.explore.Explorer` has it.
        labels: parameter name -> display name.
        initial: the point drawn first.
        results: the result of every point, the last parameter varying fastest.
        titles: the figure title of every point, in the same order.
    """

    def __init__(
        self,
        grid: dict[str, list],
        labels: dict[str, str],
        initial: dict[str, Any],
        results: list[Result],
        titles: list[str],
    ) -> None:
        self.grid, self.labels, self.initial = grid, labels, initial
        self.results = results
        traces, points, arrays = _table(results)
        self.runs = {
            "names": list(grid),
            "sizes": [len(v) for v in grid.values()],
            "initial": [grid[n].index(initial[n]) for n in grid],
            "titles": titles,
            "points": points,
            "arrays": arrays,
            "keys": self._keys(),
        }
        pictures, images = _pictures(results)
        if images:  # image panels: per point an index into the distinct PNGs
            self.runs.update(pictures=pictures, images=images)
        subtitles = [[p.title for p in r.panels] for r in results]
        if len(set(map(tuple, subtitles))) > 1 and all(all(t) for t in subtitles):
            self.runs["subtitles"] = subtitles  # panel titles that change
        first = self._index(self.runs["initial"])
        self.figure = self._figure(traces, points[first], titles[first])
        self.text = (
            f"Explorer({' x '.join(grid)}: {len(results)} precomputed runs; "
            "interactive on the book's website, live in a running notebook)"
        )
        self.html = _html(_json(self.figure.to_plotly_json()), _json(self.runs))

    def _index(self, positions: list[int]) -> int:
        """A point's index in ``results``, as the page's script counts."""
        index = 0
        for size, k in zip(self.runs["sizes"], positions):
            index = index * size + k
        return index

    def _keys(self) -> tuple[str, str]:
        """What the arrow keys change, shown and spoken: left/right step the
        first slider, up/down the next control (as in ``explorer.js``)."""
        names = sorted(self.grid, key=lambda n: not uses_slider(self.grid[n]))
        labels = [html.escape(self.labels[n]) for n in names]
        shown = ", ".join(f"{k[0]} {label}" for k, label in zip(KEYS, labels))
        raw = [self.labels[n] for n in names]
        spoken = "; ".join(f"{k[1]}: {label}" for k, label in zip(KEYS, raw))
        return shown, spoken

    def _figure(self, traces: list, refs: list, title: str):
        """The plotly figure at the initial point, with its controls."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        panels = self.results[self._index(self.runs["initial"])].panels
        fig = make_subplots(
            1,
            len(panels),
            subplot_titles=[p.title for p in panels],
            horizontal_spacing=0.14,
        )
        colors, arrays = series_colors(self.results), self.runs["arrays"]
        for (i, name), (xi, yi) in zip(traces, refs):
            x, y = (arrays[xi], arrays[yi]) if xi >= 0 else ([], [])
            mode = "lines+markers" if len(x) <= MARKERS_UP_TO else "lines"
            dots = panels[i].markers if i < len(panels) else False
            shown = name not in [t.name for t in fig.data]
            line = dict(name=name, legendgroup=name, showlegend=shown)
            line.update(mode="markers" if dots else mode, marker_size=3 if dots else 5)
            trace = go.Scatter(x=x, y=y, line_color=colors[name], **line)
            fig.add_trace(trace, row=1, col=i + 1)
        for i, panel in enumerate(panels):
            if panel.image is None:
                self._style_axes(fig, i, panel)
            else:
                k = self.runs["pictures"][self._index(self.runs["initial"])][i]
                _image_axes(fig, i, panel, self.runs["images"][k])
        pictures = all(p.image is not None and not p.xlabel for p in panels)
        # pictures alone: a shorter plot area, and no tick labels below them
        area = PICTURES_HEIGHT if pictures else PLOT_HEIGHT
        sliders, menus, notes, bottom = self._controls(30 if pictures else 70)
        for note in notes:
            fig.add_annotation(note)
        fig.update_layout(
            title={"text": title, "x": 0.02, "y": 0.98, "yanchor": "top"},
            height=area + TOP + bottom,
            margin={"t": TOP, "b": bottom, "l": 60, "r": 20},
            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.17},
            sliders=sliders,
            updatemenus=menus,
            plot_bgcolor="white",
            font_size=13,
        )
        fig.layout.template = None  # plotly.js defaults; keeps the page small
        return fig

    def _style_axes(self, fig, i: int, panel: Panel) -> None:
        """Axis titles, and ranges fixed over the whole grid so points compare;
        a log axis spans whole decades, so it always shows numbers."""
        grid = {"gridcolor": "#eee", "zeroline": False, "exponentformat": "power"}
        where = {"row": 1, "col": i + 1}
        x_range = panel.x_range or _range(self._values(i, "x"))
        fig.update_xaxes(title_text=panel.xlabel, range=x_range, **where, **grid)
        y_range = panel.y_range
        if y_range is None and panel.log_y:
            y_values = [v for v in self._values(i, "y") if v > 0]
            y_range = decades(min(y_values), max(y_values)) if y_values else None
        if y_range is not None and panel.log_y:
            y_range = [math.log10(v) for v in y_range]
        elif y_range is None:
            y_range = _range(self._values(i, "y"))
        span = y_range[1] - y_range[0] if panel.log_y and y_range else 0
        fig.update_yaxes(
            title_text=panel.ylabel,
            type="log" if panel.log_y else None,
            range=y_range,
            dtick=(1 if span <= 6 else 2) if span else None,
            **where,
            **grid,
        )

    def _values(self, i: int, axis: str) -> list[float]:
        """Every finite value of panel ``i``'s ``axis`` over the grid."""
        values = []
        for result in self.results:
            if i < len(result.panels):
                p = result.panels[i]
                series = [p.x] if axis == "x" else p.ys.values()
                values += [v for y in series for v in rounded(y) if v is not None]
        return values

    def _controls(self, offset: int) -> tuple[list, list, list, int]:
        """A slider per numeric parameter and a row of buttons (the live view's
        toggle buttons: nothing stays open over the slider) per other one, stacked
        below the plot (``offset`` pixels down, under the axes' labels), with the
        buttons' label beside them. Their method ``skip``
        leaves the switching to the page's script."""
        sliders, menus, notes = [], [], []
        for name, values in self.grid.items():
            label, skip = self.labels[name], {"method": "skip", "args": [None]}
            common = {"name": name, "active": values.index(self.initial[name])}
            common.update(x=0, xanchor="left", y=0, yanchor="top")
            if uses_slider(values):
                steps = [{"label": fmt(v), **skip} for v in values]
                prefix = {"prefix": f"{label}: "}
                sliders.append(
                    {
                        **common,
                        "steps": steps,
                        "currentvalue": prefix,
                        "pad": {"t": offset},
                    }
                )
                offset += 90
            else:
                indent = 12 + 8 * len(label)  # px: room for "label:" to the left
                buttons = [{"label": fmt(v), **skip} for v in values]
                row = {"type": "buttons", "direction": "right", "showactive": True}
                pad = {"t": offset, "l": indent}
                menus.append({**common, **row, "buttons": buttons, "pad": pad})
                notes.append(
                    dict(
                        text=f"{label}:",
                        x=0,
                        xref="paper",
                        xanchor="left",
                        y=0,
                        yref="paper",
                        yanchor="top",
                        yshift=-offset - 6,
                        showarrow=False,
                    )
                )
                offset += 50
        return sliders, menus, notes, offset

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/html": self.html, "text/plain": self.text}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

    def __repr__(self) -> str:
        return self.text


def _table(results: list[Result]) -> tuple[list, list, list]:
    """Traces ``(panel, series)``, per point a pair of array indices per trace
    (``-1`` where the point lacks it), and the distinct rounded arrays."""
    pairs = ((i, s) for r in results for i, p in enumerate(r.panels) for s in p.ys)
    traces = list(dict.fromkeys(pairs))
    arrays: dict[tuple, int] = {}
    ref = lambda values: arrays.setdefault(tuple(rounded(values)), len(arrays))
    points = [
        [
            [ref(r.panels[i].x), ref(r.panels[i].ys[s])]
            if i < len(r.panels) and s in r.panels[i].ys
            else [-1, -1]
            for i, s in traces
        ]
        for r in results
    ]
    return traces, points, [list(a) for a in arrays]


def _pictures(results: list[Result]) -> tuple[list, list]:
    """Per point, for each panel, an index into the distinct PNG data URIs of
    the image panels (``-1`` for a panel of curves); and those URIs."""
    uris: dict[str, int] = {}
    pictures = [
        [
            uris.setdefault(_png_uri(p), len(uris)) if p.image is not None else -1
            for p in r.panels
        ]
        for r in results
    ]
    return (pictures, list(uris)) if uris else ([], [])


def _png_uri(panel: Panel, min_side: int = 96) -> str:
    """The panel's image through its colormap, enlarged by whole pixels (sharp
    squares in any browser), as a ``data:image/png`` URI."""
    import base64
    import io

    import matplotlib
    import numpy as np
    from PIL import Image

    values = np.asarray(panel.image, dtype=float)
    low, high = image_limits(panel)
    scaled = np.clip((values - low) / (high - low), 0.0, 1.0)
    rgba = matplotlib.colormaps[panel.cmap](scaled, bytes=True)
    k = max(1, -(-min_side // max(values.shape)))  # pixels per value
    rgba = rgba.repeat(k, axis=0).repeat(k, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _image_axes(fig, i: int, panel: Panel, uri: str) -> None:
    """An image panel: its picture stretched over axes of one unit per value,
    square pixels, no ticks or grid."""
    rows, cols = len(panel.image), len(panel.image[0])
    n = i + 1 if i else ""
    bare = {"showgrid": False, "zeroline": False, "showticklabels": False}
    where = {"row": 1, "col": i + 1}
    fig.update_xaxes(
        title_text=panel.xlabel, range=[0, cols], constrain="domain", **where, **bare
    )
    fig.update_yaxes(
        title_text=panel.ylabel,
        range=[0, rows],
        scaleanchor=f"x{n}",
        constrain="domain",
        **where,
        **bare,
    )
    fig.add_layout_image(
        source=uri,
        xref=f"x{n}",
        yref=f"y{n}",
        x=0,
        y=rows,
        sizex=cols,
        sizey=rows,
        xanchor="left",
        yanchor="top",
        sizing="stretch",
        layer="above",
    )


def _range(values: list[float]) -> list[float] | None:
    if not values:
        return None
    pad = 0.05 * (max(values) - min(values) or 1.0)
    return [min(values) - pad, max(values) + pad]


def _json(obj) -> str:
    from plotly.utils import PlotlyJSONEncoder

    text = json.dumps(obj, cls=PlotlyJSONEncoder, separators=(",", ":"))
    return text.replace("</", "<\\/")  # cannot close the <script> element


def _html(figure_json: str, runs_json: str) -> str:
    digest = hashlib.sha1((figure_json + runs_json).encode()).hexdigest()[:12]
    uid = f"dlbook-explorer-{digest}"  # the script finds its own box, not by id
    script = package_js("explorer.js").replace("__ID__", uid)
    return (
        f'<div class="dlbook-explorer" id="{uid}">\n'
        '<div class="dlbook-explorer-plot" style="width:100%">'
        '<p class="dlbook-explorer-note" style="margin:0">Interactive figure: it '
        "moves on the book's website; in a running notebook this cell shows live "
        "sliders.</p></div>\n"
        f'<script type="application/json" class="dlbook-explorer-figure">'
        f"{figure_json}</script>\n"
        f'<script type="application/json" class="dlbook-explorer-runs">{runs_json}'
        f"</script>\n<script>{script}</script>\n</div>"
    )
