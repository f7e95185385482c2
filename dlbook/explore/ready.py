"""The chapters' ready explorers: learning rate x activation (chapter 3) and
activation x depth (chapter 2), on the digits data.

Both start every run from the same seeded weights and keep the caller's random
state; while the book is built they precompute their grid, so that an error
fails the cell rather than only its display.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from ..measure import function_and_slope, layer_grad_norms
from ..models import get_activation, make_mlp
from ..train import fit
from .model import Explorer, Panel, Result, is_build


@functools.lru_cache(maxsize=1)
def _digits():
    """The digits split, loaded once per process."""
    from ..data import load_digits_split

    return load_digits_split()


def _fresh_mlp(seed: int, hidden: int, **kwargs) -> nn.Sequential:
    """A digits MLP (64 inputs, 10 classes) with weights seeded by ``seed``."""
    with torch.random.fork_rng(devices=[]):  # the caller's random stream is kept
        torch.manual_seed(seed)
        return make_mlp(64, hidden, 10, **kwargs)


def _ready(compute, grid: dict, **kwargs) -> Explorer:
    for activation in grid["activation"]:
        get_activation(activation)  # ValueError naming the valid ones
    explorer = Explorer(compute, grid, **kwargs)
    if is_build():
        explorer.precompute()
    return explorer


class _Batches:
    """Shuffled mini-batches of ``(X, y)``, reshuffled on every pass.

    ``make_loaders`` would do, but a ``DataLoader`` over a ``TensorDataset``
    collates example by example: 158 ms per 20 epochs of digits against 6 ms
    here, too much of the 0.5 s a slider move may take.
    """

    def __init__(self, X, y, batch_size: int, seed: int) -> None:
        self.X, self.y, self.batch_size = X, y, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        order = torch.randperm(len(self.y), generator=self.generator)
        for batch in order.split(self.batch_size):
            yield self.X[batch], self.y[batch]


def _train_digits(lr, activation, num_epochs, hidden, batch_size, seed) -> Result:
    """One point: SGD with ``fit``; loss and accuracy curves, titled by the
    outcome; a run that diverges keeps the epochs it finished."""
    data, history = _digits(), {}
    model = _fresh_mlp(seed, hidden, activation=activation)
    batches = _Batches(data.X_train, data.y_train, batch_size, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    title = f"learning rate {lr:g}, {activation}: "
    try:
        fit(
            model, batches, [(data.X_val, data.y_val)], nn.CrossEntropyLoss(),
            optimizer, num_epochs, device="cpu", progress=False,
            on_epoch_end=lambda epoch, h: history.update(h),
        )  # fmt: skip
        title += f"validation accuracy {history['val_metric'][-1]:.3f} after "
        title += f"{num_epochs} epochs"
    except FloatingPointError:
        done = len(history.get("train_loss", []))
        title += f"training diverged in epoch {done + 1}"
    epochs = list(range(1, num_epochs + 1))

    def curves(metric: str, **labels) -> Panel:
        pad = lambda key: (history.get(key, []) + [None] * num_epochs)[:num_epochs]
        ys = {"train": pad(f"train_{metric}"), "validation": pad(f"val_{metric}")}
        return Panel(epochs, ys, xlabel="epoch", **labels)

    loss = curves(
        "loss", title="loss", ylabel="cross-entropy (log scale)", log_y=True,
        # high enough for a diverging run's losses (lr 3 with ReLU passes 1e4)
        y_range=(1e-3, 1e6),
    )  # fmt: skip
    accuracy = curves("metric", title="accuracy", ylabel="accuracy", y_range=(0, 1.02))
    final = accuracy.ys["validation"][-1] or 0.0
    return Result([loss, accuracy], {"val_accuracy": final}, title)


def explore_lr_activation(
    lrs: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    activations: Sequence[str] = ("relu", "tanh", "sigmoid"),
    num_epochs: int = 20,
    hidden: int = 32,
    batch_size: int = 128,
    seed: int = 0,
) -> Explorer:
    """Learning rate (slider) x activation (buttons) for the digits MLP.

    Each point trains ``make_mlp(64, hidden, 10, activation=...)`` with plain
    SGD on the digits data (``load_digits_split``) with ``fit``, on the CPU,
    and shows training and validation loss and accuracy per epoch. A run
    whose loss overflows stops and says in which epoch it diverged.

    Example:
        >>> ex = explore_lr_activation(lrs=[0.5], activations=["tanh"], num_epochs=2)
        >>> ex.result().title
        'learning rate 0.5, tanh: validation accuracy ... after 2 epochs'
    """

    def compute(lr: float, activation: str) -> Result:
        return _train_digits(lr, activation, num_epochs, hidden, batch_size, seed)

    grid = {"lr": list(lrs), "activation": list(activations)}
    return _ready(compute, grid, labels={"lr": "learning rate"})


def _depth_result(activation: str, depth: int, width: int, seed: int) -> Result:
    """One point: the activation and its slope, and each layer's gradient norm."""
    x = torch.linspace(-4, 4, 81)
    y, slope = function_and_slope(activation, x)
    curve = Panel(
        x.tolist(), {"f(x)": y.tolist(), "f'(x)": slope.tolist()},
        title=f"{activation} and its derivative", xlabel="input x",
        ylabel="output", y_range=(-1.5, 4.5),
    )  # fmt: skip
    data = _digits()
    model = _fresh_mlp(seed, width, depth=depth, activation=activation)
    norms = layer_grad_norms(model, data.X_train[:512], data.y_train[:512])
    gradients = Panel(
        list(range(1, depth + 2)), {"gradient norm": norms},
        title="gradient per layer at initialisation",
        xlabel="layer (1 = input side)", ylabel="norm (log scale)", log_y=True,
    )  # fmt: skip
    ratio = norms[0] / norms[-1]
    title = (
        f"{activation}, {depth} hidden layer{'s' * (depth > 1)}: layer 1's "
        f"gradient is {ratio:.2g} × the output layer's"
    )
    return Result([curve, gradients], {"first_to_last": ratio}, title)


def explore_activation_depth(
    activations: Sequence[str] = ("sigmoid", "tanh", "relu", "gelu"),
    depths: Sequence[int] = (1, 2, 4, 8, 16),
    width: int = 32,
    seed: int = 0,
) -> Explorer:
    """Activation (buttons) x depth (slider): the function, its derivative and
    the gradient reaching each layer of a fresh deep MLP.

    Left: ``f(x)`` and ``f'(x)`` on ``[-4, 4]`` (``function_and_slope``).
    Right: ``layer_grad_norms`` of the cross-entropy loss at initialisation,
    for 512 digits, on a log scale: with sigmoid the first layers get orders of
    magnitude less than the output layer. The title and the metric
    ``first_to_last`` give layer 1's norm divided by the output layer's.

    Example:
        >>> ex = explore_activation_depth(activations=["sigmoid"], depths=[8])
        >>> ex.result().title
        "sigmoid, 8 hidden layers: layer 1's gradient is ... × the output layer's"
    """

    def compute(activation: str, depth: int) -> Result:
        return _depth_result(activation, depth, width, seed)

    return _ready(compute, {"activation": list(activations), "depth": list(depths)})
