"""The ready explorer of activation x depth: gradients of a fresh deep MLP.

Private to :mod:`dlbook.explore`, which re-exports :func:`explore_activation_depth`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._explore_core import Explorer
from ._explore_ready import check_activations, check_positive, digits, fresh_mlp, ready
from ._explore_result import Panel, Result
from .models import get_activation


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
    data = digits()
    model = fresh_mlp(seed, hidden=width, depth=depth, activation=activation)
    loss = nn.functional.cross_entropy(model(data.X_train[:512]), data.y_train[:512])
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    return [g.norm().item() for g in torch.autograd.grad(loss, weights)]


def _depth_result(activation: str, depth: int, width: int, seed: int) -> Result:
    norms = _gradient_norms(activation, depth, width, seed)
    ratio = norms[0] / norms[-1]
    gradients = Panel(
        list(range(1, depth + 2)),
        {"gradient norm": norms},
        title="gradient per layer at initialisation",
        xlabel="layer (1 = input side)",
        ylabel="norm (log scale)",
        log_y=True,
    )
    title = (
        f"{activation}, {depth} hidden layer{'s' * (depth > 1)}: layer 1's "
        f"gradient is {ratio:.2g} × the output layer's"
    )
    return Result(
        [_activation_panel(activation), gradients], {"first_to_last": ratio}, title
    )


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
    sigmoid the first layers get orders of magnitude less than the output
    layer. The title and the metric ``first_to_last`` give layer 1's norm
    divided by the output layer's.

    Example:
        >>> ex = explore_activation_depth(activations=["sigmoid"], depths=[8])
        >>> ex.result().title
        "sigmoid, 8 hidden layers: layer 1's gradient is ... × the output layer's"
    """
    check_activations(activations)
    check_positive("depth", depths, integer=True)
    check_positive("width", [width], integer=True)

    def compute(activation: str, depth: int) -> Result:
        return _depth_result(activation, depth, width, seed)

    grid = {"activation": list(activations), "depth": list(depths)}
    return ready(Explorer(compute, grid))
