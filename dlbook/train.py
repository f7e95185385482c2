"""Chapter 3's training loop as functions: ``train_one_epoch``, ``evaluate``, ``fit``.

``train_one_epoch`` and ``evaluate`` are the loops chapter 3 writes by hand
(section 3.4), generalised in two ways only: any ``metric`` instead of
accuracy alone, and a ``device`` argument instead of a global. ``fit`` calls
the two once per epoch and keeps the history.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn
from tqdm.std import tqdm  # a text bar: no widget is saved with the notebook

from ._checks import check_positive_int
from ._train_checks import (
    check_accuracy_args,
    check_loaders_reusable,
    check_loss_fn,
    check_optimizer_holds,
    check_shapes,
    finite_loss,
    split_batch,
)
from .device import get_device, model_device, optimizer_state_to_params

__all__ = ["accuracy", "evaluate", "fit", "train_one_epoch"]

Metric = Callable[[Tensor, Tensor], float]
LossFn = Callable[[Tensor, Tensor], Tensor]


def accuracy(logits: Tensor, targets: Tensor) -> float:
    """Fraction of rows whose largest logit is the target class.

    Shape: logits ``(N, C)``, targets ``(N,)`` (integer class labels).

    Example:
        >>> accuracy(torch.tensor([[0.1, 2.0]]), torch.tensor([1]))
        1.0
    """
    check_accuracy_args(logits, targets)
    return (logits.argmax(dim=1) == targets).float().mean().item()


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    metric: Metric | None = accuracy,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """One pass over ``loader`` with a training step per batch (chapter 3).

    Each batch is checked before its step, so a bad batch changes nothing.

    Returns:
        ``{"loss": ..., "metric": ...}``, averages over the epoch weighted by
        batch size (``"metric"`` only with a metric); ``device`` defaults to
        the model's.

    Example:
        >>> model = nn.Linear(2, 2)
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> loader = [(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))]
        >>> sorted(train_one_epoch(model, loader, nn.CrossEntropyLoss(), opt))
        ['loss', 'metric']
    """
    check_loss_fn(loss_fn)
    device = get_device(device) if device is not None else model_device(model)
    model.train()
    total_loss, total_metric, count = 0.0, 0.0, 0
    for i, batch in enumerate(loader):
        X, y = split_batch(batch)
        X, y = X.to(device), y.to(device)
        y_hat = model(X)  # 1. forward
        check_shapes(y_hat, y)
        loss = loss_fn(y_hat, y)  # 2. loss
        loss_value = finite_loss(loss, X, y, i, training=True)
        optimizer.zero_grad()  # 3. clear old gradients
        loss.backward()  # 4. backward: gradients of loss wrt every parameter
        optimizer.step()  # 5. update the parameters
        total_loss += loss_value * len(y)  # the loss is a batch mean
        if metric is not None:
            total_metric += metric(y_hat.detach(), y) * len(y)
        count += len(y)
    return _averages(total_loss, total_metric, count, metric, "train_loader")


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: LossFn,
    metric: Metric | None = accuracy,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Average loss (and metric) over ``loader`` in eval mode, updating nothing.

    Chapter 3's ``evaluate_by_hand``; the model's train/eval mode is restored
    afterwards, even after an error.

    Returns:
        ``{"loss": ..., "metric": ...}`` as ``train_one_epoch`` does.

    Example:
        >>> model = nn.Linear(2, 2)
        >>> loader = [(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))]
        >>> sorted(evaluate(model, loader, nn.CrossEntropyLoss()))
        ['loss', 'metric']
    """
    check_loss_fn(loss_fn)
    device = get_device(device) if device is not None else model_device(model)
    was_training = model.training
    model.eval()
    total_loss, total_metric, count = 0.0, 0.0, 0
    try:
        for i, batch in enumerate(loader):
            X, y = split_batch(batch)
            X, y = X.to(device), y.to(device)
            y_hat = model(X)
            check_shapes(y_hat, y)
            loss_value = finite_loss(loss_fn(y_hat, y), X, y, i, training=False)
            total_loss += loss_value * len(y)
            if metric is not None:
                total_metric += metric(y_hat, y) * len(y)
            count += len(y)
    finally:
        model.train(was_training)
    return _averages(total_loss, total_metric, count, metric, "loader")


def _averages(total_loss, total_metric, count, metric, name) -> dict[str, float]:
    if count == 0:
        raise ValueError(f"empty {name}: it yielded no batches")
    result = {"loss": total_loss / count}
    if metric is not None:
        result["metric"] = total_metric / count
    return result


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    num_epochs: int,
    metric: Metric | None = accuracy,
    device: torch.device | str | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict[str, list[float]]], bool | None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` for ``num_epochs`` and return its per-epoch history.

    Each epoch is ``train_one_epoch`` on ``train_loader``, then ``evaluate``
    on ``val_loader``: chapter 3's loop over epochs.

    Args:
        model: moved to ``device`` first, with the optimizer's state.
        train_loader, val_loader: yield ``(X, y)`` batches: DataLoaders or
            lists, not generators (used up after one epoch); ``val_loader``
            may be ``None``.
        loss_fn: ``loss_fn(y_hat, y)`` returns a scalar tensor.
        optimizer: built on ``model.parameters()``.
        metric: ``metric(y_hat, y)`` returns a float, or ``None``.
        device: default ``get_device()``.
        progress: a text progress bar over epochs, removed when done
            (``TQDM_DISABLE=1`` turns it off, as ``make execute`` does).
        on_epoch_end: called as ``on_epoch_end(epoch, history)`` after each
            epoch, counted from 0 (``epoch + 1`` epochs are finished, the
            number ``save_checkpoint`` wants); ``True`` stops training.

    Returns:
        ``history``: lists ``train_loss`` and ``val_loss`` (and
        ``train_metric`` and ``val_metric`` with a metric), one entry per
        epoch; the training figures are averages over the epoch's batches.

    Raises:
        ValueError: the optimizer holds none of ``model``'s parameters (it
            was built on another model, e.g. before a cell was re-run).
        TypeError: a batch is not an ``(X, y)`` pair of tensors.
        FloatingPointError: a loss became NaN or infinite.

    Example:
        >>> X, y = torch.randn(32, 2), torch.randint(0, 2, (32,))
        >>> model = nn.Linear(2, 2)
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> h = fit(model, [(X, y)], [(X, y)], nn.CrossEntropyLoss(), opt, 3,
        ...         device="cpu", progress=False)
        >>> sorted(h), len(h["train_loss"])
        (['train_loss', 'train_metric', 'val_loss', 'val_metric'], 3)
    """
    check_positive_int("num_epochs", num_epochs)
    check_loaders_reusable(num_epochs, train_loader=train_loader, val_loader=val_loader)
    check_optimizer_holds(optimizer, model)
    device = get_device(device)
    model.to(device)
    optimizer_state_to_params(optimizer)
    splits = ("train", "val") if val_loader is not None else ("train",)
    kinds = ("loss", "metric") if metric is not None else ("loss",)
    history = {f"{split}_{kind}": [] for kind in kinds for split in splits}
    show = progress and os.environ.get("TQDM_DISABLE", "") in ("", "0")
    bar = tqdm(range(num_epochs), desc="epochs", leave=False, disable=not show)
    for epoch in bar:
        train = train_one_epoch(model, train_loader, loss_fn, optimizer, metric, device)
        scores = {"train": train}
        if val_loader is not None:
            scores["val"] = evaluate(model, val_loader, loss_fn, metric, device)
        for split, values in scores.items():
            for kind, value in values.items():
                history[f"{split}_{kind}"].append(value)
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}")
        if on_epoch_end is not None and on_epoch_end(epoch, history):
            break
    bar.close()
    return history
