"""The chapters' ready explorers: learning rate x activation (chapter 3) and
activation x depth (chapter 2), on the digits data.

Both start every run from the same seeded weights and keep the caller's random
state; while the book is built they precompute their grid, so that an error
fails the cell rather than only its display.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
from torch import nn

from ..measure import function_and_slope, layer_grad_norms
from ..models import get_activation, make_mlp
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


def _side_by_side_sgd(points, num_epochs, hidden, batch_size, seed):
    """Plain SGD on the digits at each ``(lr, activation)`` of ``points``,
    side by side.

    One MLP per point, each a copy of the seeded ``make_mlp(64, hidden, 10,
    activation=...)``, all trained on the same shuffled batches as one batched
    model: weights ``(k, out, in)`` and ``torch.baddbmm``, each copy's own
    activation on its slice of the hidden layer, and the step
    ``p -= lr * p.grad`` with each copy's own rate. The sum of the copies' mean
    losses gives each copy the gradient of its own loss, so a copy trains as it
    would alone (one point alone gives the same numbers), and one whose loss
    overflows (it diverged) cannot disturb the others.

    Returns:
        One history per point, as ``fit`` keeps it (epoch averages of training
        loss and accuracy, then validation loss and accuracy), and the epoch
        (from 1) in which each run diverged, or ``None``; a diverged run keeps
        the epochs before it, as ``fit`` does when it raises
        ``FloatingPointError``.
    """
    data, k = _digits(), len(points)
    fresh = {a: _fresh_mlp(seed, hidden, activation=a) for _, a in points}
    starts = [fresh[a] for _, a in points]  # one per copy

    def stacked(tensors) -> torch.Tensor:  # one per copy -> (k, ...), trainable
        return torch.stack([t.detach() for t in tensors]).requires_grad_()

    # both layers' weights (k, out, in) and biases (k, 1, out)
    W1, W2 = (stacked(mlp[i].weight for mlp in starts) for i in (0, 2))
    b1, b2 = (stacked(mlp[i].bias[None] for mlp in starts) for i in (0, 2))
    params = [W1, b1, W2, b2]
    lr = torch.tensor([float(rate) for rate, _ in points]).reshape(k, 1, 1)
    # runs of copies with the same activation: their activations and sizes
    acts, sizes = [], []
    for j, (_, activation) in enumerate(points):
        if j == 0 or activation != points[j - 1][1]:
            acts.append(fresh[activation][1])
            sizes.append(0)
        sizes[-1] += 1

    def losses_and_correct(X, y):
        before = torch.baddbmm(b1, X.expand(k, *X.shape), W1.mT)  # (k, N, hidden)
        parts = before.split(sizes)  # one per run of copies, for its activation
        after = torch.cat([act(part) for act, part in zip(acts, parts, strict=True)])
        logits = torch.baddbmm(b2, after, W2.mT)  # (k, N, 10)
        losses = nn.functional.cross_entropy(
            logits.transpose(1, 2), y.expand(k, -1), reduction="none"
        ).mean(dim=1)  # (k,): each copy's mean loss
        correct = (logits.argmax(dim=2) == y).sum(dim=1)
        return losses, correct

    keys = ("train_loss", "val_loss", "train_metric", "val_metric")
    histories = [{key: [] for key in keys} for _ in points]
    diverged: list[int | None] = [None] * k
    batches = _Batches(data.X_train, data.y_train, batch_size, seed)
    for epoch in range(num_epochs):
        loss_sum = torch.zeros(k, dtype=torch.float64)
        correct_sum, count = torch.zeros(k, dtype=torch.float64), 0
        for X, y in batches:
            losses, correct = losses_and_correct(X, y)
            for p in params:
                p.grad = None
            losses.sum().backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
            loss_sum += losses.detach().double() * len(y)
            correct_sum += correct
            count += len(y)
        with torch.no_grad():
            val_losses, val_correct = losses_and_correct(data.X_val, data.y_val)
        epoch_scores = zip(
            (loss_sum / count).tolist(), val_losses.double().tolist(),
            (correct_sum / count).tolist(),
            (val_correct.double() / len(data.y_val)).tolist(),
        )  # fmt: skip
        for j, scores in enumerate(epoch_scores):
            if diverged[j] is not None:
                continue
            if not all(math.isfinite(s) for s in scores):
                diverged[j] = epoch + 1  # fit would have raised in this epoch
                continue
            for key, value in zip(keys, scores, strict=True):
                histories[j][key].append(value)
    return histories, diverged


def _digits_result(lr, activation, num_epochs, history, diverged) -> Result:
    """One point: loss and accuracy curves, titled by the outcome."""
    title = f"learning rate {lr:g}, {activation}: "
    if diverged is None:
        title += f"validation accuracy {history['val_metric'][-1]:.3f} after "
        title += f"{num_epochs} epochs"
    else:
        title += f"training diverged in epoch {diverged}"
    epochs = list(range(1, num_epochs + 1))

    def curves(metric: str, **labels) -> Panel:
        pad = lambda key: (history[key] + [None] * num_epochs)[:num_epochs]
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
    SGD on the digits data (``load_digits_split``), on the CPU, and shows
    training and validation loss and accuracy per epoch, as ``fit`` records
    them. A run whose loss overflows stops and says in which epoch it diverged.
    A live explorer trains the one point a control asks for; while the book is
    built, the whole grid is trained at once, side by side, with the same
    numbers as each point alone.

    Example:
        >>> ex = explore_lr_activation(lrs=[0.5], activations=["tanh"], num_epochs=2)
        >>> ex.result().title
        'learning rate 0.5, tanh: validation accuracy ... after 2 epochs'
    """
    grid_results: dict[tuple, Result] = {}  # filled at once while building

    def train(points: list[tuple[float, str]]) -> dict[tuple, Result]:
        histories, diverged = _side_by_side_sgd(
            points, num_epochs, hidden, batch_size, seed
        )
        return {
            point: _digits_result(*point, num_epochs, history, epoch)
            for point, history, epoch in zip(points, histories, diverged, strict=True)
        }

    def compute(lr: float, activation: str) -> Result:
        if is_build() and not grid_results:  # precomputing: every point at once
            grid_results.update(train([(r, a) for a in activations for r in lrs]))
        if (lr, activation) in grid_results:
            return grid_results[lr, activation]
        return train([(lr, activation)])[lr, activation]  # live: this point only

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
