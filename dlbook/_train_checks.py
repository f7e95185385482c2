"""Checks of what readers pass to ``fit``, the loops it calls and ``accuracy``.

Each names the mistake and its fix, and runs before the mistake changes
anything (a batch is checked before its training step).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn


def check_accuracy_args(logits: Tensor, targets: Tensor) -> None:
    """Logits ``(N, C)`` with C >= 2 and no NaN; integer targets ``(N,)``."""
    regression = targets.is_floating_point()
    hint = " (float targets: a regression? pass metric=None)" if regression else ""
    if logits.ndim != 2 or targets.ndim != 1 or len(logits) != len(targets):
        raise ValueError(
            "accuracy expects logits (N, C) and targets (N,), got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}{hint}"
        )
    if logits.shape[1] < 2:
        raise ValueError(
            "accuracy needs at least 2 classes (logits (N, C) with C >= 2), got "
            f"{tuple(logits.shape)}; with one logit per example, count "
            f"((logits[:, 0] > 0) == targets.bool()) instead{hint}"
        )
    if regression:
        raise ValueError(
            f"accuracy needs integer class labels as targets, got {targets.dtype}: "
            "for a regression, pass metric=None to fit or evaluate"
        )
    if logits.isnan().any():
        raise ValueError(
            f"accuracy got NaN logits in {int(logits.isnan().any(dim=1).sum())} of "
            f"{len(logits)} rows: the model's outputs are not numbers (NaN inputs, "
            "or training diverged), so there is no class to compare"
        )


def split_batch(batch: Any) -> tuple[Tensor, Tensor]:
    """``batch`` as ``(X, y)``, or a TypeError that says what the loader yields."""
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        if all(isinstance(t, Tensor) for t in batch):
            return batch[0], batch[1]
        kinds = " and ".join(f"{type(t).__module__}.{type(t).__name__}" for t in batch)
        what = f"pairs of {kinds}"
        fix = (
            "make tensors first: TensorDataset(torch.as_tensor(X), torch.as_tensor(y))"
        )
    elif isinstance(batch, dict):
        what = f"dicts with keys {sorted(batch)}"
        fix = "yield (X, y) instead, e.g. (batch['x'], batch['y'])"
    elif isinstance(batch, (tuple, list)):
        what = f"{type(batch).__name__}s of length {len(batch)}"
        fix = "a TensorDataset(X, y) yields (X, y); drop or add the other items"
    else:
        what = type(batch).__name__ + "s"
        fix = "wrap inputs and targets together: TensorDataset(X, y)"
    raise TypeError(
        f"the loader yields {what}; fit and evaluate need (X, y) pairs of tensors: "
        f"{fix}"
    )


def check_shapes(y_hat: Tensor, y: Tensor) -> None:
    """Outputs ``(N, 1)`` against targets ``(N,)`` would broadcast to ``(N, N)``."""
    if y.is_floating_point() and y_hat.shape != y.shape and y_hat.numel() == y.numel():
        raise ValueError(
            f"the model's output has shape {tuple(y_hat.shape)}, the targets "
            f"{tuple(y.shape)}: the loss would broadcast them and compare every "
            "output with every target. Give them one shape, e.g. targets "
            "y.view(-1, 1) or outputs model(X).squeeze(1)"
        )


def finite_loss(loss: Tensor, X: Tensor, y: Tensor, i: int, training: bool) -> float:
    """``loss`` as a float, if a finite scalar; else say why it is not."""
    if loss.ndim != 0:
        raise ValueError(
            f"loss_fn returned a tensor of shape {tuple(loss.shape)}, not a "
            "scalar (reduction='none'?): use the default reduction='mean', or "
            "reduce it yourself, e.g. lambda y_hat, y: loss_fn(y_hat, y).mean()"
        )
    value = loss.item()
    if math.isfinite(value):
        return value
    data = "training" if training else "evaluation (val_loader in fit)"
    for name, t in (("inputs X", X), ("targets y", y)):
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise FloatingPointError(
                f"batch {i} of the {data} data holds NaN or infinite {name}, so "
                f"the loss is {value}: clean the data first (drop or fill those "
                "values, as chapter 3 does); the learning rate is not the cause"
            )
    if training:
        raise FloatingPointError(
            f"training loss became {value} at batch {i}; lower the learning rate"
        )
    raise FloatingPointError(
        f"the evaluation loss became {value} at batch {i} with finite data: the "
        "model's outputs overflow (train with a lower learning rate)"
    )


def check_loss_fn(loss_fn: Any) -> None:
    """TypeError for a loss class passed where an instance is needed."""
    if isinstance(loss_fn, type):  # nn.CrossEntropyLoss, not nn.CrossEntropyLoss()
        raise TypeError(
            f"loss_fn is the class {loss_fn.__name__}, not a loss: create one, "
            f"loss_fn={loss_fn.__name__}()"
        )


def check_loaders_reusable(num_epochs: int, **loaders: Any) -> None:
    """TypeError for a generator as a loader: used up after one of the epochs."""
    for name, loader in loaders.items():
        if isinstance(loader, Iterator) and num_epochs > 1:
            raise TypeError(
                f"{name} is an iterator ({type(loader).__name__}), used up after "
                f"one pass, but fit goes over it num_epochs={num_epochs} times: "
                "pass a DataLoader or a list of batches"
            )


def check_optimizer_holds(optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
    """An optimizer built on another model (say, before a cell was re-run) would
    silently train nothing."""
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not held & {id(p) for p in model.parameters()}:
        raise ValueError(
            "the optimizer holds none of the model's parameters: it was built on "
            "another model (re-running a cell makes a new model). Build it after "
            "the model, e.g. torch.optim.Adam(model.parameters(), lr=...)"
        )
