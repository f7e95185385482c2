"""Explorers: sliders that re-run a small experiment, live or on the static site.

In a kernel an explorer is an ``ipywidgets`` control: moving a slider computes the
chosen point of a parameter grid (once; results are cached) and redraws. When the
book is built (``DLBOOK_BUILD=1``, set by ``make execute`` and nbval) the same call
precomputes the whole grid and displays a plotly figure whose sliders and dropdowns
switch between the stored runs in the browser, with no kernel.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from . import _explore_view as view
from .models import get_activation, make_mlp
from .train import fit

__all__ = [
    "Explorer",
    "Panel",
    "Result",
    "explore_activation_depth",
    "explore_lr_activation",
    "is_build",
]


@dataclass
class Panel:
    """One subplot of a result: x values and one or more named y series.

    ``None`` or NaN in a series leaves a gap (e.g. after a run diverged).
    ``y_range`` (data units, also on a log axis) fixes the axis so that every
    point of the grid is drawn on the same scale; without it the static figure
    uses the range of the whole grid and the live one autoscales.

    Shape: ``x`` and every series in ``ys`` have the same length.
    """

    x: Sequence[float]
    ys: dict[str, Sequence[float | None]]
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    log_y: bool = False
    y_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        for name, y in self.ys.items():
            if len(y) != len(self.x):
                raise ValueError(
                    f"series {name!r} has {len(y)} values for {len(self.x)} x values"
                )


@dataclass
class Result:
    """What ``compute(**point)`` returns: panels of curves, final metrics, a title.

    The title should state the finding for this point; by default the explorer
    shows the point and its metrics.
    """

    panels: list[Panel]
    metrics: dict[str, float] = field(default_factory=dict)
    title: str = ""


def is_build() -> bool:
    """True while the book is executed for the website (``DLBOOK_BUILD=1``)."""
    return os.environ.get("DLBOOK_BUILD", "").lower() in ("1", "true", "yes")


def _check_grid(compute: Callable, grid: dict[str, Sequence]) -> dict[str, list]:
    if not isinstance(grid, dict) or not grid:
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
        self._check_names(labels or {})
        self.labels = {name: (labels or {}).get(name, name) for name in self.grid}
        self.initial = {name: values[0] for name, values in self.grid.items()}
        self._check_names(initial or {})
        for name, value in (initial or {}).items():
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
        where = ", ".join(f"{self.labels[k]} {view.fmt(v)}" for k, v in point.items())
        metrics = ", ".join(f"{k} {view.fmt(v)}" for k, v in result.metrics.items())
        return f"{where}: {metrics}" if metrics else where

    def figure(self):
        """The static plotly figure of the whole grid (precomputes it)."""
        self.precompute()
        return view.static_figure(self)

    def static(self) -> view.StaticExplorer:
        """The precomputed grid as HTML for the website (plotly.js served by it)."""
        self.precompute()
        return view.StaticExplorer(self)

    def widget(self):
        """The live ``ipywidgets`` UI (built once; its controls are ``.controls``)."""
        if self._widget is None:
            self._widget = view.live_widget(self)
        return self._widget

    def show(self, mode: str | None = None):
        """``"static"`` figure, ``"live"`` widget, or (default) by :func:`is_build`."""
        if mode not in (None, "static", "live"):
            raise ValueError(f"mode must be 'static', 'live' or None, got {mode!r}")
        static = is_build() if mode is None else mode == "static"
        return self.static() if static else self.widget()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.show()._repr_mimebundle_(include=include, exclude=exclude)

    def __repr__(self) -> str:
        size = len(self.points())
        names = " x ".join(self.grid)
        return f"Explorer({names}: {size} points, {len(self.cache)} computed)"


# -- ready explorers for the chapters ---------------------------------------------
@functools.lru_cache(maxsize=1)
def _digits():
    from .data import load_digits_split

    return load_digits_split()


def _check_positive(name: str, values: Sequence, integer: bool = False) -> None:
    kind = "a positive int" if integer else "a positive number"
    for v in values:
        if not (view.is_number(v) and (isinstance(v, int) or not integer) and v > 0):
            raise ValueError(f"{name} must be {kind}, got {v!r}")


class _Batches:
    """Shuffled mini-batches of ``(X, y)``, reshuffled on every pass."""

    def __init__(self, X, y, batch_size: int, seed: int) -> None:
        self.X, self.y, self.batch_size = X, y, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.generator)
        for batch in order.split(self.batch_size):
            yield self.X[batch], self.y[batch]


def _fresh_mlp(seed: int, **kwargs) -> nn.Sequential:
    with torch.random.fork_rng(devices=[]):  # the caller's random stream is kept
        torch.manual_seed(seed)
        return make_mlp(64, out_features=10, **kwargs)


def _train_digits(lr, activation, num_epochs, hidden, batch_size, seed) -> Result:
    data, history = _digits(), {}
    model = _fresh_mlp(seed, hidden=hidden, activation=activation)
    batches = _Batches(data.X_train, data.y_train, batch_size, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    log = lambda epoch, h: history.update(h)  # keeps the epochs done if it diverges
    title = f"learning rate {lr:g}, {activation}: "
    try:
        fit(
            model,
            batches,
            [(data.X_val, data.y_val)],
            nn.CrossEntropyLoss(),
            optimizer,
            num_epochs,
            device="cpu",
            progress=False,
            on_epoch_end=log,
        )
        title += f"validation accuracy {history['val_metric'][-1]:.3f} after "
        title += f"{num_epochs} epochs"
    except FloatingPointError:
        title += f"training diverged in epoch {len(history.get('train_loss', [])) + 1}"
    pad = lambda key: (history.get(key, []) + [None] * num_epochs)[:num_epochs]
    epochs = list(range(1, num_epochs + 1))
    loss = Panel(
        epochs,
        {"train": pad("train_loss"), "validation": pad("val_loss")},
        title="loss",
        xlabel="epoch",
        ylabel="cross-entropy (log scale)",
        log_y=True,
        y_range=(1e-3, 100.0),
    )
    accuracy = Panel(
        epochs,
        {"train": pad("train_metric"), "validation": pad("val_metric")},
        title="accuracy",
        xlabel="epoch",
        ylabel="accuracy",
        y_range=(0.0, 1.02),
    )
    final = pad("val_metric")[-1]
    return Result([loss, accuracy], {"val_accuracy": final or 0.0}, title)


def explore_lr_activation(
    lrs: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    activations: Sequence[str] = ("relu", "tanh", "sigmoid"),
    num_epochs: int = 20,
    hidden: int = 32,
    batch_size: int = 128,
    seed: int = 0,
) -> Explorer:
    """Learning rate (slider) x activation (dropdown) for the digits MLP.

    Each point trains ``make_mlp(64, hidden, 10, activation=...)`` with plain
    SGD on the digits data (``load_digits_split``) with ``fit``, on the CPU,
    and shows training and validation loss and accuracy per epoch. A run
    whose loss overflows stops and says in which epoch it diverged. Every run
    starts from the same seeded weights; the caller's random state is kept.

    Example:
        >>> ex = explore_lr_activation(lrs=[0.5], activations=["tanh"], num_epochs=2)
        >>> ex.result().title
        'learning rate 0.5, tanh: validation accuracy ... after 2 epochs'
    """
    _check_positive("learning rate", lrs)
    _check_positive("num_epochs", [num_epochs], integer=True)
    for activation in activations:
        get_activation(activation)  # ValueError naming the valid ones

    def compute(lr: float, activation: str) -> Result:
        return _train_digits(lr, activation, num_epochs, hidden, batch_size, seed)

    grid = {"lr": list(lrs), "activation": list(activations)}
    return _ready(Explorer(compute, grid, labels={"lr": "learning rate"}))


def _activation_panel(activation: str) -> Panel:
    x = torch.linspace(-4, 4, 81, requires_grad=True)
    y = get_activation(activation)(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    return Panel(
        x.tolist(),
        {"f(x)": y.tolist(), "f'(x)": dy.tolist()},
        title=f"{activation} and its derivative",
        xlabel="input x",
        ylabel="output",
        y_range=(-1.5, 4.5),
    )


def _gradient_norms(activation: str, depth: int, width: int, seed: int) -> list:
    data = _digits()
    model = _fresh_mlp(seed, hidden=width, depth=depth, activation=activation)
    loss = nn.functional.cross_entropy(model(data.X_train[:512]), data.y_train[:512])
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    return [g.norm().item() for g in torch.autograd.grad(loss, weights)]


def explore_activation_depth(
    activations: Sequence[str] = ("sigmoid", "tanh", "relu", "gelu"),
    depths: Sequence[int] = (1, 2, 4, 8, 16),
    width: int = 32,
    seed: int = 0,
) -> Explorer:
    """Activation (dropdown) x depth (slider): the function, its derivative and
    the gradient reaching each layer of a fresh deep MLP.

    Left: ``f(x)`` and ``f'(x)`` (by autograd) on ``[-4, 4]``. Right: the norm
    of the cross-entropy loss's gradient with respect to each ``Linear``
    layer's weight, at initialisation, for 512 digits, on a log scale: with
    sigmoid the first layers get orders of magnitude less than the last.

    Example:
        >>> ex = explore_activation_depth(activations=["sigmoid"], depths=[8])
        >>> ex.result().title
        "sigmoid, 8 hidden layers: the first layer's gradient is ... × the last layer's"
    """
    for activation in activations:
        get_activation(activation)  # ValueError naming the valid ones
    _check_positive("depth", depths, integer=True)

    def compute(activation: str, depth: int) -> Result:
        norms = _gradient_norms(activation, depth, width, seed)
        ratio = norms[0] / norms[-1]
        return Result(
            panels=[
                _activation_panel(activation),
                Panel(
                    list(range(1, depth + 2)),
                    {"gradient norm": norms},
                    title="gradient per layer at initialisation",
                    xlabel="layer (1 = next to the input)",
                    ylabel="norm (log scale)",
                    log_y=True,
                ),
            ],
            metrics={"first_to_last": ratio},
            title=(
                f"{activation}, {depth} hidden layer{'s' * (depth > 1)}: the "
                f"first layer's gradient is {ratio:.2g} × the last layer's"
            ),
        )

    grid = {"activation": list(activations), "depth": list(depths)}
    return _ready(Explorer(compute, grid))


def _ready(explorer: Explorer) -> Explorer:
    if is_build():  # compute now, so an error fails the cell, not only its display
        explorer.precompute()
    return explorer
