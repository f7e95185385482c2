"""dlbook.explore: the generic core, both display modes, the ready explorers."""

from __future__ import annotations

import base64
import json
import math
import re

import pytest
import torch

from dlbook.explore import (
    Explorer,
    Panel,
    Result,
    explore_activation_depth,
    explore_lr_activation,
    is_build,
)


def toy(calls: list | None = None):
    """compute(a, kind): a line of slope ``a`` (or ``2a`` for kind 'double')."""

    def compute(a: float, kind: str) -> Result:
        if calls is not None:
            calls.append((a, kind))
        slope = a * (2 if kind == "double" else 1)
        panel = Panel([0, 1, 2], {"y": [0, slope, 2 * slope]}, title=f"slope {slope}")
        return Result([panel], {"slope": slope})

    return compute


def static_parts(html: str) -> tuple[dict, dict]:
    """The figure and the runs stored in a static explorer's HTML."""
    parts = {}
    for name in ("figure", "runs"):
        match = re.search(
            rf'<script type="application/json" class="dlbook-explorer-{name}">'
            r"(.*?)</script>",
            html,
            re.S,
        )
        assert match, f"no {name} JSON in the HTML"
        parts[name] = json.loads(match.group(1))
    return parts["figure"], parts["runs"]


# -- the generic core ------------------------------------------------------------
def test_points_are_cached_and_computed_once():
    calls = []
    ex = Explorer(toy(calls), {"a": [1, 2, 3], "kind": ["single", "double"]})
    assert ex.result(a=2, kind="double").metrics == {"slope": 4}
    assert ex.result(a=2, kind="double") is ex.result(a=2, kind="double")
    assert calls == [(2, "double")]
    assert ex.precompute() == 6 and len(calls) == 6
    assert ex.result().metrics == {"slope": 1}  # the initial point: first values


def test_points_order_last_parameter_fastest_and_initial():
    ex = Explorer(toy(), {"a": [1, 2], "kind": ["x", "double"]}, initial={"a": 2})
    assert [tuple(p.values()) for p in ex.points()] == [
        (1, "x"),
        (1, "double"),
        (2, "x"),
        (2, "double"),
    ]
    assert ex.initial == {"a": 2, "kind": "x"}
    assert ex.title(ex.initial) == "a 2, kind x: slope 2"


def test_a_parameter_without_values_is_named():
    with pytest.raises(ValueError, match="parameter 'a' has no values"):
        Explorer(toy(), {"a": [], "kind": ["x"]})


def test_log_panels_need_a_positive_range():
    with pytest.raises(ValueError, match=r"y_range \(0, 1\) is not positive"):
        Panel([1, 2], {"y": [1, 2]}, log_y=True, y_range=(0, 1))


def test_labels_are_escaped_in_the_shown_keys_hint():
    ex = Explorer(toy(), {"a": [1, 2], "kind": ["x"]}, labels={"a": 'a "<b>'})
    shown, spoken = ex.static().runs["keys"]
    assert "a &quot;&lt;b&gt;" in shown and 'a "<b>' in spoken


def test_initial_values_and_modes_outside_the_grid_are_refused():
    ex = Explorer(toy(), {"a": [1], "kind": ["x"]})
    with pytest.raises(ValueError, match=r"initial a=5 is not in the grid: \[1\]"):
        Explorer(toy(), {"a": [1], "kind": ["x"]}, initial={"a": 5})
    with pytest.raises(ValueError, match="mode must be"):
        ex.show("pdf")


def test_panels_must_match():
    with pytest.raises(ValueError, match="series 'y' has 2 values for 3 x values"):
        Panel([0, 1, 2], {"y": [0, 1]})


def test_is_build_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DLBOOK_BUILD", "1")
    assert is_build()
    monkeypatch.setenv("DLBOOK_BUILD", "0")
    assert not is_build()


# -- static mode -----------------------------------------------------------------
def test_static_runs_name_their_arrow_keys_slider_first():
    ex = Explorer(
        toy(), {"kind": ["single", "double"], "a": [0.5, 1.0]}, labels={"a": "A"}
    )
    # The dropdown's parameter comes first in the grid; the slider still gets
    # left/right, the keys a slider answers to. The page's script shows them.
    shown, spoken = ex.static().runs["keys"]
    assert shown == "&larr;/&rarr; A, &uarr;/&darr; kind"
    assert spoken == "left and right arrows: A; up and down arrows: kind"
    one = Explorer(toy(), {"a": [0.5, 1.0], "kind": ["single"]})
    assert one.static().runs["keys"][0] == "&larr;/&rarr; a, &uarr;/&darr; kind"


def test_saved_static_output_is_a_note_without_dead_space_or_website_hints():
    html = Explorer(toy(), {"a": [1, 2], "kind": ["x"]}).static().html
    plot = re.search(r'<div class="dlbook-explorer-plot"[^>]*>(.*?)</div>', html)
    assert "height" not in plot.group(0) and "tabindex" not in plot.group(0)
    assert plot.group(1).count("<p") == 1 and "running notebook" in plot.group(1)
    assert "Keyboard:" not in html.split("<script>")[0]


def test_log_axes_span_whole_decades_so_they_show_numbers():
    def norms(a):
        return Result([Panel([1, 2], {"g": [0.3 * a, 0.5 * a]}, log_y=True)])

    ex = Explorer(norms, {"a": [1, 1.5]})
    figure, _ = static_parts(ex.static().html)
    assert figure["layout"]["yaxis"]["range"] == [-1, 0]  # 0.1 to 1
    live = ex.widget()
    assert live.plot.axes[0].get_ylim() == pytest.approx((0.1, 1.0))
    labels = [t.get_text() for t in live.plot.axes[0].get_yticklabels()]
    assert "0.1" in labels and "1" in labels


def test_scatter_panels_draw_points_only_on_fixed_axes():
    def cloud(spread):  # two series with their own x: each None at the other's
        xs = [-spread, 0.0, spread]
        panel = Panel(
            xs + [0.0],
            {"samples": [spread, 0.0, -spread, None], "centre": [None] * 3 + [0]},
            x_range=(-3, 3),
            y_range=(-3, 3),
            markers=True,
        )
        return Result([panel, Panel([1, 2], {"loss": [1.0, spread]})])

    ex = Explorer(cloud, {"spread": [1.0, 2.0]})
    figure, _ = static_parts(ex.static().html)
    modes = [trace["mode"] for trace in figure["data"]]
    assert modes == ["markers", "markers", "lines+markers"]
    assert figure["layout"]["xaxis"]["range"] == [-3, 3]
    assert figure["layout"]["xaxis2"]["range"] != [-3, 3]  # the grid's own range
    live = ex.widget()
    scatter, curve = live.plot.axes
    assert scatter.get_xlim() == (-3, 3) and scatter.get_ylim() == (-3, 3)
    assert [line.get_linestyle() for line in scatter.get_lines()] == ["None"] * 2
    assert curve.get_lines()[0].get_linestyle() == "-"


def test_image_panels_in_both_views():
    def filtered(kernel, digit):  # a picture, its filter, and a curve
        image = [[digit * (c == digit) for c in range(4)] for r in range(3)]
        return Result(
            [
                Panel([], {}, image=image, title="input"),
                Panel([], {}, image=[[kernel, -kernel]], cmap="RdBu_r"),
                Panel([0, 1], {"row sum": [digit, kernel]}),
            ]
        )

    ex = Explorer(filtered, {"kernel": [1.0, 2.0], "digit": [1.0, 3.0]})
    figure, runs = static_parts(ex.static().html)
    images = figure["layout"]["images"]
    assert [im["xref"] for im in images] == ["x", "x2"]
    assert all(im["source"].startswith("data:image/png;base64,") for im in images)
    assert figure["layout"]["yaxis"]["range"] == [0, 3]  # one unit per value
    assert figure["layout"]["yaxis"]["scaleanchor"] == "x"  # square pixels
    # per point, the image panels' PNGs and -1 for the panel of curves
    assert [p[2] for p in runs["pictures"]] == [-1] * 4
    assert len({p[0] for p in runs["pictures"]}) == 2  # the input follows digit
    # each picture spans its own range (v_range fixes one): kernel 1 and 2 alike
    assert len({p[1] for p in runs["pictures"]}) == 1
    assert images[0]["source"] == runs["images"][runs["pictures"][0][0]]
    live = ex.widget()
    picture = live.plot.axes[0].get_images()[0]
    assert picture.get_array().shape == (3, 4)
    live.controls["digit"].value = 3.0
    assert picture.get_array().max() == 3 and picture.get_clim() == (0, 3)
    assert live.plot.axes[1].get_images()[0].get_clim() == (-1, 1)  # centred


def test_image_panels_refuse_ragged_pictures_and_curves():
    with pytest.raises(ValueError, match=r"rows of lengths \[1, 2\]"):
        Panel([], {}, image=[[1, 2], [3]])
    with pytest.raises(ValueError, match="has no curves"):
        Panel([0], {"y": [1]}, image=[[1]])


def test_static_html_switches_between_different_stored_runs():
    ex = Explorer(
        toy(), {"a": [0.5, 1.0, 3.0], "kind": ["single", "double"]}, labels={"a": "A"}
    )
    html = ex.static().html
    assert 'class="dlbook-explorer"' in html and "_static/plotly/plotly.min.js" in html
    assert len(html) < 20_000, "plotly.js itself must not be embedded"
    figure, runs = static_parts(html)
    slider, menu = figure["layout"]["sliders"][0], figure["layout"]["updatemenus"][0]
    assert [s["label"] for s in slider["steps"]] == ["0.5", "1", "3"]
    assert slider["currentvalue"]["prefix"] == "A: " and slider["name"] == "a"
    assert [b["label"] for b in menu["buttons"]] == ["single", "double"]
    assert menu["type"] == "buttons"  # a row, like the live view: nothing stays open
    labels = [a["text"] for a in figure["layout"]["annotations"]]
    assert "kind:" in labels  # the row's label beside it
    # One stored run per point, in the order the page's script indexes them.
    assert runs["sizes"] == [3, 2] and len(runs["points"]) == 6
    assert runs["titles"] == [ex.title(p) for p in ex.points()]
    ys = [tuple(runs["arrays"][yi]) for ((_, yi),) in runs["points"]]
    assert ys[0] == (0, 0.5, 1) and ys[5] == (0, 6, 12)
    assert len(set(ys)) == 5  # only a=0.5 double and a=1 single coincide
    # The panel title changes with the point, so it is stored too.
    assert runs["subtitles"][5] == ["slope 6.0"]
    # The figure starts at the initial point and carries no plotly template.
    assert figure["data"][0]["y"] == [0, 0.5, 1]
    assert "template" not in figure["layout"]


def test_static_html_is_reproducible_and_rounded():
    def noisy(a):
        return Result([Panel([1, 2], {"y": [a / 3, math.nan]})])

    html = Explorer(noisy, {"a": [1, 2]}).static().html
    assert html == Explorer(noisy, {"a": [1, 2]}).static().html
    _, runs = static_parts(html)
    assert [0.3333, None] in runs["arrays"]


def test_display_follows_the_build_variable(monkeypatch):
    ex = Explorer(toy(), {"a": [1, 2], "kind": ["x"]})
    monkeypatch.setenv("DLBOOK_BUILD", "1")
    bundle = ex.show()._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/plain"].startswith("Explorer(a x kind: 2 precomputed runs")
    monkeypatch.delenv("DLBOOK_BUILD")
    assert ex.show() is ex.widget()


# -- live mode -------------------------------------------------------------------
def png(ex) -> bytes:
    value = ex.widget().png
    assert value.startswith(b"\x89PNG")
    return value


def test_live_widget_recomputes_new_points_and_reuses_cached_ones():
    import ipywidgets as widgets

    calls = []
    ex = Explorer(toy(calls), {"a": [1, 2, 3], "kind": ["single", "double"]})
    live = ex.show("live")
    controls = live.controls
    assert isinstance(controls["a"], widgets.SelectionSlider)
    assert isinstance(controls["kind"], widgets.ToggleButtons)  # not a dropdown
    first = png(ex)
    controls["a"].value = 3
    assert calls == [(1, "single"), (3, "single")] and png(ex) != first
    controls["kind"].value = "double"
    assert calls[-1] == (3, "double")
    controls["kind"].value = "single"
    controls["a"].value = 1
    assert len(calls) == 3 and png(ex) == first
    assert live.box.children[2].value.startswith("cached")
    assert ex.widget() is live


def test_live_display_is_the_widget_then_a_fallback_with_the_first_figure():
    ex = Explorer(toy(), {"a": [1, 2], "kind": ["x"]})
    live = ex.widget()
    live.controls["a"].value = 2
    html = live.fallback()["text/html"]
    first = html.split("base64,")[1].split('"')[0]
    assert base64.b64decode(first) == live.first != live.png
    assert 'style="display:none' in html  # shown only if the widget is gone
    assert "Error displaying widget" in html and "stopPropagation" in html


def test_live_widget_shows_errors():
    def fails(a):
        raise RuntimeError("boom")

    ex = Explorer(fails, {"a": [1, 2]})
    with pytest.raises(RuntimeError, match="boom"):
        ex.widget()


def test_live_widget_reports_a_failing_move_in_its_status_line():
    def fails_at_2(a):
        if a == 2:
            raise RuntimeError("boom <at 2>")
        return Result([Panel([0, 1], {"y": [0, a]})])

    ex = Explorer(fails_at_2, {"a": [1, 2]})
    controls, _image, status = ex.widget().box.children
    assert status.value.startswith("computed")
    with pytest.raises(RuntimeError, match="boom"):
        controls.children[0].value = 2  # the reader moves the slider
    assert status.value == "<b>error</b>: RuntimeError(&#x27;boom &lt;at 2&gt;&#x27;)"


# -- the ready explorers ---------------------------------------------------------
@pytest.mark.parametrize(
    "explore, kwargs, message",
    [
        (explore_lr_activation, {"lrs": []}, "parameter 'lr' has no values"),
        (explore_lr_activation, {"activations": ["relu6"]}, "unknown activation"),
        (explore_activation_depth, {"activations": ["swish"]}, "'swish'; choose"),
        (explore_activation_depth, {"depths": []}, "parameter 'depth' has no"),
    ],
)
def test_ready_explorers_name_bad_input_before_computing(explore, kwargs, message):
    with pytest.raises(ValueError, match=message):
        explore(**kwargs)


def test_ready_explorers_leave_other_checks_to_the_model():
    with pytest.raises(ValueError, match="hidden must be a positive int, got 0"):
        explore_lr_activation(hidden=0, lrs=[0.1], activations=["relu"]).result()


def test_lr_explorer_trains_reproducibly_without_touching_global_rng():
    state = torch.random.get_rng_state()
    ex = explore_lr_activation(lrs=[0.3], activations=["tanh"], num_epochs=3)
    result = ex.result()
    assert torch.equal(torch.random.get_rng_state(), state)
    loss, accuracy = result.panels
    assert loss.x == [1, 2, 3] and set(loss.ys) == {"train", "validation"}
    assert loss.ys["train"][-1] < loss.ys["train"][0]
    assert 0.8 < result.metrics["val_accuracy"] <= 1.0
    again = explore_lr_activation(lrs=[0.3], activations=["tanh"], num_epochs=3)
    assert again.result().panels[0].ys == loss.ys


def test_lr_explorer_reports_divergence_and_leaves_gaps():
    ex = explore_lr_activation(lrs=[1000.0], activations=["relu"], num_epochs=4)
    result = ex.result()
    assert "training diverged in epoch" in result.title
    assert result.panels[0].ys["train"][-1] is None
    html = ex.static().html  # the gaps survive rendering
    assert "diverged" in html


def test_lr_explorer_precomputes_the_grid_side_by_side_as_each_point_alone(
    monkeypatch,
):
    kwargs = {"lrs": [0.3, 1000.0], "activations": ["relu", "tanh"], "num_epochs": 3}
    monkeypatch.setenv("DLBOOK_BUILD", "1")
    built = explore_lr_activation(**kwargs)  # the whole grid, trained at once
    assert len(built.cache) == 4
    monkeypatch.setenv("DLBOOK_BUILD", "0")
    for point in built.points():  # each point trained alone, as live
        alone = explore_lr_activation(**kwargs).result(**point)
        together = built.result(**point)
        assert together.title == alone.title
        assert [p.ys for p in together.panels] == [p.ys for p in alone.panels]
    diverged = built.result(lr=1000.0, activation="relu").title
    assert "diverged" in diverged  # and did not disturb the runs beside it
    assert "validation accuracy" in built.result(lr=0.3, activation="relu").title


def test_depth_explorer_derivative_and_vanishing_gradients():
    ex = explore_activation_depth(activations=["sigmoid", "relu"], depths=[2, 12])
    curve, grads = ex.result(activation="sigmoid", depth=12).panels
    x = torch.tensor(curve.x)
    s = torch.sigmoid(x)
    torch.testing.assert_close(torch.tensor(curve.ys["f'(x)"]), s * (1 - s))
    norms = grads.ys["gradient norm"]
    assert grads.x == list(range(1, 14)) and grads.log_y
    assert norms[0] < 1e-6 * norms[-1]  # sigmoid: vanishing towards the input
    shallow = ex.result(activation="relu", depth=2).metrics["first_to_last"]
    assert 0.1 < shallow < 10
    title = ex.title({"activation": "sigmoid", "depth": 12})
    assert "12 hidden layers" in title and "× the output layer's" in title
