// The static explorer on the book's website (see static.py): draws the figure
// once plotly.js is there (loaded once per page from <site>/_static/plotly/,
// found through Sphinx's data-content_root at any page depth) and switches runs
// when a slider or button changes, or an arrow key is pressed on the focused
// figure. Below 600 px wide the panels stack vertically, with the controls above
// them. Elsewhere (a notebook, where this script may not even run) the box keeps
// its one-line note.
(function () {
  // The box this script sits in (the same explorer twice on a page shares an
  // id, so the id is only the fallback).
  var box = (document.currentScript && document.currentScript.parentNode) ||
    document.getElementById("__ID__");
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
      var layout = {}, j = 0;  // image panels: this point's pictures
      (runs.pictures ? runs.pictures[i] : []).forEach(function (k) {
        if (k >= 0) layout["images[" + j++ + "].source"] = runs.images[k];
      });
      var title = runs.titles[i];  // wrapped to the width on a narrow screen
      layout["title.text"] = stacked ? wrap(title, gd.clientWidth / 7.5) : title;
      (runs.subtitles ? runs.subtitles[i] : []).forEach(function (t, k) {
        layout["annotations[" + k + "].text"] = t;
      });
      return Plotly.update(gd, {x: xs, y: ys}, layout);
    }
    function pick(name, index) {
      var k = runs.names.indexOf(name);
      if (k >= 0 && index >= 0 && state[k] !== index) { state[k] = index; show(); }
    }
    // Arrow keys: left/right step the first slider, up/down the next control.
    var keyed = (fig.layout.sliders || []).map(function (c, j) {
      return [c.name, "sliders[" + j + "].active"];
    }).concat((fig.layout.updatemenus || []).map(function (c, j) {
      return [c.name, "updatemenus[" + j + "].active"];
    }));
    var KEYS = {ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowUp: [1, 1],
                ArrowDown: [1, -1]};
    function key(e) {
      var step = KEYS[e.key];
      if (!step || step[0] >= keyed.length) return;
      e.preventDefault();
      var name = keyed[step[0]][0], k = runs.names.indexOf(name);
      var index = state[k] + step[1], moved = {};
      if (index < 0 || index >= runs.sizes[k]) return;
      moved[keyed[step[0]][1]] = index;
      Plotly.relayout(gd, moved).then(function () { pick(name, index); });
    }
    function wrap(text, chars) {
      var lines = [""];
      text.split(" ").forEach(function (word) {
        var last = lines.length - 1, line = lines[last];
        if (line && (line + " " + word).length > chars) lines.push(word);
        else lines[last] = line ? line + " " + word : word;
      });
      return lines.join("<br>");
    }
    // The figure is drawn side by side; fit() stacks it on a narrow screen and
    // back, relaying out only when that changes. Stacked, the panels are shorter
    // and the controls move from below the last panel to above the first, so a
    // phone shows a slider next to what it changes. L is a pristine copy of the
    // layout: Plotly.relayout mutates the one given to newPlot.
    var stacked = false, L = data("figure").layout, gap = 90;
    var area = L.height - L.margin.t - L.margin.b, short = Math.min(area, 250);
    var panels = Object.keys(L).filter(function (a) {
      return /^xaxis\d*$/.test(a);
    }).length;
    var controls = (L.sliders || []).concat(L.updatemenus || []);
    var below = controls.length ? controls[0].pad.t : L.margin.b;  // axis title
    var block = L.margin.b - below + 10;  // px the controls take, stacked
    function fit() {
      var narrow = panels > 1 && gd.clientWidth < 600;
      if (narrow === stacked) return;
      stacked = narrow;
      var h = narrow ? short : area, u = {};
      var tall = narrow ? panels * h + (panels - 1) * gap : area;
      for (var i = 0; i < panels; i++) {
        var n = i ? i + 1 : "", top = 1 - i * (h + gap) / tall;
        u["xaxis" + n + ".domain"] = narrow ? [0, 1] : L["xaxis" + n].domain;
        u["yaxis" + n + ".domain"] = narrow ? [top - h / tall, top] : [0, 1];
        u["annotations[" + i + "].x"] = narrow ? 0.5 : L.annotations[i].x;
        u["annotations[" + i + "].y"] = narrow ? top : 1;
      }
      // Stacked: the controls hang from a line `block` px above the first
      // panel (above its title), in their wide order.
      var lift = narrow ? block + 24 : 0, hang = 1 + lift / tall;
      (L.sliders || []).forEach(function (c, j) {
        u["sliders[" + j + "].y"] = narrow ? hang : c.y;
        u["sliders[" + j + "].pad.t"] = narrow ? c.pad.t - below : c.pad.t;
      });
      // A row of buttons fits a phone without its label (the values name
      // themselves) and at a smaller size.
      (L.updatemenus || []).forEach(function (c, j) {
        u["updatemenus[" + j + "].y"] = narrow ? hang : c.y;
        u["updatemenus[" + j + "].pad.t"] = narrow ? c.pad.t - below : c.pad.t;
        u["updatemenus[" + j + "].pad.l"] = narrow ? 0 : c.pad.l;
        u["updatemenus[" + j + "].font.size"] = narrow ? 11 : 13;
        u["annotations[" + (panels + j) + "].visible"] = !narrow;
      });
      var extra = narrow ? 34 : 0;  // room for a title on three lines
      u["margin.t"] = L.margin.t + extra + lift;
      u["margin.b"] = narrow ? below : L.margin.b;
      u.height = u["margin.t"] + tall + u["margin.b"];
      u["legend.y"] = 1 + ((L.legend.y - 1) * area + lift) / tall;
      gd.style.height = u.height + "px";
      return Plotly.relayout(gd, u).then(show);
    }
    // What only the drawn figure needs: its height, focus, the keys' hint.
    if (note) note.remove();
    gd.style.height = L.height + "px";
    gd.setAttribute("tabindex", "0");
    gd.setAttribute("role", "group");
    gd.setAttribute("aria-label", "Interactive figure. Keys: " + runs.keys[1] + ".");
    if (!matchMedia("(hover: none) and (pointer: coarse)").matches) {
      var hint = document.createElement("p");  // not on a touch screen: no keys
      hint.className = "dlbook-explorer-keys";
      hint.style.cssText = "font-size:0.85em;margin:0";
      hint.innerHTML = "Keyboard: select the figure, then " + runs.keys[0] + ".";
      box.appendChild(hint);
    }
    // The site's theme (light or dark, from the reader's system or the theme
    // switch) colours the figure: paper, text, grid lines and controls.
    var axes = Object.keys(L).filter(function (a) { return /^[xy]axis\d*$/.test(a); });
    function theme() {
      var dark = document.documentElement.getAttribute("data-theme") === "dark";
      var ink = dark ? "#ced6dd" : "#444", paper = dark ? "#14181e" : "white";
      var u = {paper_bgcolor: paper, plot_bgcolor: paper, "font.color": ink};
      axes.forEach(function (a) {
        u[a + ".gridcolor"] = dark ? "#333a44" : "#eee";
        u[a + ".linecolor"] = ink;
      });
      (L.sliders || []).forEach(function (c, j) {
        u["sliders[" + j + "].bgcolor"] = dark ? "#333a44" : "#f8fafc";
        u["sliders[" + j + "].activebgcolor"] = dark ? "#5a6270" : "#dbdde0";
        u["sliders[" + j + "].bordercolor"] = dark ? "#5a6270" : "#bec8d9";
      });
      (L.updatemenus || []).forEach(function (c, j) {
        // plotly.js draws the active button near-white whatever the theme: the
        // others get a mid grey and every label dark ink, readable on both.
        u["updatemenus[" + j + "].bgcolor"] = dark ? "#9aa4b1" : "#f8fafc";
        u["updatemenus[" + j + "].bordercolor"] = dark ? "#5a6270" : "#bec8d9";
        u["updatemenus[" + j + "].font.color"] = "#222";
      });
      box.setAttribute("data-theme", dark ? "dark" : "light");
      return Plotly.relayout(gd, u);
    }
    Plotly.newPlot(gd, fig.data, fig.layout, {responsive: true, displayModeBar: false})
      .then(theme)
      .then(fit)
      .then(function () {
        gd.on("plotly_sliderchange", function (e) {
          pick(e.slider.name, e.slider.steps.indexOf(e.step));
        });
        gd.on("plotly_buttonclicked", function (e) { pick(e.menu.name, e.active); });
        gd.addEventListener("keydown", key);
        window.addEventListener("resize", fit);
        new MutationObserver(theme).observe(document.documentElement,
          {attributes: true, attributeFilter: ["data-theme"]});
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
})();
