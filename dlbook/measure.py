"""What chapter 2 measures: an activation's slope, and the gradient each layer gets.

Chapter 2 introduces both; its activation x depth explorer uses them too.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from .models import get_activation

__all__ = ["function_and_slope", "layer_grad_norms"]


def function_and_slope(name: str, x: Tensor) -> tuple[Tensor, Tensor]:
    """``f(x)`` and ``f'(x)`` of the activation ``name``, the slope by autograd.

    Each output depends on its own input only, so the gradient of ``f(x).sum()``
    holds every ``d f(x_i) / d x_i``.

    Example:
        >>> y, slope = function_and_slope("relu", torch.tensor([-1.0, 2.0]))
        >>> y.tolist(), slope.tolist()
        ([0.0, 2.0], [0.0, 1.0])
    """
    x = x.detach().clone().requires_grad_(True)
    y = get_activation(name)(x)
    (slope,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), slope


def layer_grad_norms(
    model: nn.Module,
    X: Tensor,
    y: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor] = nn.functional.cross_entropy,
) -> list[float]:
    """Norm of ``d loss / d weight`` for each ``Linear`` or ``Conv2d`` layer,
    input side first, for one batch ``(X, y)``.

    ``torch.autograd.grad`` computes the gradients without touching any
    ``.grad``, so an optimizer's next step is unaffected. ``X`` and ``y`` must
    be on the model's device.

    Example:
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> norms = layer_grad_norms(model, torch.randn(8, 3), torch.zeros(8).long())
        >>> len(norms)
        2
    """
    weights = [
        m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    grads = torch.autograd.grad(loss_fn(model(X), y), weights)
    return [g.norm().item() for g in grads]
