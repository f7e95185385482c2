"""The static view as HTML: the figure and its runs as JSON, and the page's script.

Private to :mod:`dlbook.explore`. plotly.js itself is not embedded: the script
loads it from the book's website once per page.
"""

from __future__ import annotations

import hashlib
import json

from ._explore_static import runs_of, static_figure


class StaticExplorer:
    """The precomputed grid as HTML; plotly.js is loaded from the book's site."""

    def __init__(self, ex) -> None:
        runs, traces = runs_of(ex)
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
