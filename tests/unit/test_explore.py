"""dlbook.explore: the generic core, both display modes, the ready explorers."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    "grid, message",
    [
        ({}, "the grid is empty"),
        ({"a": [], "kind": ["x"]}, "parameter 'a' has no values"),
        ({"a": [1, 1], "kind": ["x"]}, "parameter 'a' repeats values"),
        ({"a": [1], "colour": ["red"]}, "unknown parameter 'colour'; compute accepts"),
    ],
)
def test_bad_grids_are_refused(grid, message):
    with pytest.raises(ValueError, match=message):
        Explorer(toy(), grid)


def test_a_grid_that_is_not_a_dict_or_has_unhashable_values_is_named():
    with pytest.raises(TypeError, match="the grid must be a dict.*got list"):
        Explorer(toy(), [("a", [1])])
    with pytest.raises(ValueError, match=r"parameter 'a' has the value \[1, 2\]"):
        Explorer(toy(), {"a": [[1, 2]], "kind": ["x"]})


def test_log_panels_need_a_positive_range():
    with pytest.raises(ValueError, match=r"y_range \(0, 1\) is not positive"):
        Panel([1, 2], {"y": [1, 2]}, log_y=True, y_range=(0, 1))


def test_labels_are_escaped_in_the_static_html():
    ex = Explorer(toy(), {"a": [1, 2], "kind": ["x"]}, labels={"a": 'a "<b>'})
    html = ex.static().html
    assert 'a "<b>' not in html and "a &quot;&lt;b&gt;" in html


def test_unknown_names_elsewhere_are_refused():
    ex = Explorer(toy(), {"a": [1], "kind": ["x"]})
    with pytest.raises(ValueError, match="unknown parameter 'b'; the grid has: a"):
        ex.result(b=1)
    with pytest.raises(ValueError, match="unknown parameter 'b'"):
        Explorer(toy(), {"a": [1], "kind": ["x"]}, labels={"b": "B"})
    with pytest.raises(ValueError, match=r"initial a=5 is not in the grid: \[1\]"):
        Explorer(toy(), {"a": [1], "kind": ["x"]}, initial={"a": 5})
    with pytest.raises(ValueError, match="mode must be"):
        ex.show("pdf")


def test_compute_must_return_a_result_and_panels_must_match():
    ex = Explorer(lambda a: {"a": a}, {"a": [1]})
    with pytest.raises(TypeError, match="compute must return a Result, got dict"):
        ex.result()
    with pytest.raises(ValueError, match="series 'y' has 2 values for 3 x values"):
        Panel([0, 1, 2], {"y": [0, 1]})


def test_is_build_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DLBOOK_BUILD", "1")
    assert is_build()
    monkeypatch.setenv("DLBOOK_BUILD", "0")
    assert not is_build()


# -- static mode -----------------------------------------------------------------
def test_static_html_names_its_arrow_keys_slider_first():
    ex = Explorer(
        toy(), {"kind": ["single", "double"], "a": [0.5, 1.0]}, labels={"a": "A"}
    )
    html = ex.static()._repr_html_()
    # The dropdown's parameter comes first in the grid; the slider still gets
    # left/right, the keys a slider answers to.
    assert (
        "Keyboard: select the figure, then &larr;/&rarr; A, &uarr;/&darr; kind." in html
    )
    assert 'tabindex="0"' in html
    assert 'aria-label="Interactive figure. Keys: left and right arrows: A; ' in html
    one = Explorer(toy(), {"a": [0.5, 1.0], "kind": ["single"]})
    assert "then &larr;/&rarr; a, &uarr;/&darr; kind." in one.static()._repr_html_()


def test_static_html_switches_between_different_stored_runs():
    ex = Explorer(
        toy(), {"a": [0.5, 1.0, 3.0], "kind": ["single", "double"]}, labels={"a": "A"}
    )
    html = ex.static()._repr_html_()
    assert 'class="dlbook-explorer"' in html and "_static/plotly/plotly.min.js" in html
    assert len(html) < 20_000, "plotly.js itself must not be embedded"
    figure, runs = static_parts(html)
    slider, menu = figure["layout"]["sliders"][0], figure["layout"]["updatemenus"][0]
    assert [s["label"] for s in slider["steps"]] == ["0.5", "1", "3"]
    assert slider["currentvalue"]["prefix"] == "A: " and slider["name"] == "a"
    assert [b["label"] for b in menu["buttons"]] == ["kind: single", "kind: double"]
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
    bundle = ex._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/plain"].startswith("Explorer(a x kind: 2 precomputed runs")
    monkeypatch.delenv("DLBOOK_BUILD")
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()


# -- live mode -------------------------------------------------------------------
def png(ex) -> bytes:
    value = bytes(ex.widget().children[1].value)
    assert value.startswith(b"\x89PNG")
    return value


def test_live_widget_recomputes_new_points_and_reuses_cached_ones():
    import ipywidgets as widgets

    calls = []
    ex = Explorer(toy(calls), {"a": [1, 2, 3], "kind": ["single", "double"]})
    box = ex.show("live")
    assert isinstance(ex.controls["a"], widgets.SelectionSlider)
    assert isinstance(ex.controls["kind"], widgets.Dropdown)
    first = png(ex)
    ex.controls["a"].value = 3
    assert calls == [(1, "single"), (3, "single")] and png(ex) != first
    ex.controls["kind"].value = "double"
    assert calls[-1] == (3, "double")
    ex.controls["kind"].value = "single"
    ex.controls["a"].value = 1
    assert len(calls) == 3 and png(ex) == first
    assert box.children[2].value.startswith("cached")
    assert ex.widget() is box


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
    controls, _image, status = ex.widget().children
    assert status.value.startswith("computed")
    with pytest.raises(RuntimeError, match="boom"):
        controls.children[0].value = 2  # the reader moves the slider
    assert status.value == "<b>error</b>: RuntimeError(&#x27;boom &lt;at 2&gt;&#x27;)"


# -- the ready explorers ---------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lrs": [0.1, 0.0]}, "learning rate must be a positive number, got 0.0"),
        ({"lrs": [-1]}, "learning rate must be a positive number, got -1"),
        ({"lrs": ["fast"]}, "learning rate must be a positive number, got 'fast'"),
        ({"lrs": []}, "parameter 'lr' has no values"),
        ({"activations": ["relu6"]}, "unknown activation 'relu6'; choose one of"),
        ({"num_epochs": 0}, "num_epochs must be a positive int, got 0"),
        ({"batch_size": 0}, "batch_size must be a positive int, got 0"),
        ({"hidden": True}, "hidden must be a positive int, got True"),
    ],
)
def test_lr_explorer_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explore_lr_activation(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depths": [0]}, "depth must be a positive int, got 0"),
        ({"depths": [2.5]}, "depth must be a positive int, got 2.5"),
        ({"activations": []}, "parameter 'activation' has no values"),
        ({"activations": ["swish"]}, "unknown activation 'swish'"),
        ({"width": 0}, "width must be a positive int, got 0"),
    ],
)
def test_depth_explorer_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explore_activation_depth(**kwargs)


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


def test_live_display_works_with_ipywidgets_7(monkeypatch):
    # ipywidgets 7, which Colab ships, gives widgets no _repr_mimebundle_.
    class OldWidget:
        _model_id = "abc123"

        def __repr__(self):
            return "VBox(...)"

    ex = Explorer(toy(), {"a": [1], "kind": ["x"]})
    monkeypatch.setattr(ex, "show", lambda mode=None: OldWidget())
    bundle = ex._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == "abc123"
    assert bundle["text/plain"] == "VBox(...)"
