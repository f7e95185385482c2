"""The training loop of chapter 3, generalised: ``fit``, ``evaluate``, ``accuracy``."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ._train_checks import (
    check_accuracy_args,
    check_fit_args,
    check_loss_fn,
    check_optimizer_holds,
    check_shapes,
    finite_loss,
    split_batch,
)
from .device import get_device

__all__ = ["accuracy", "evaluate", "fit"]

Metric = Callable[[Tensor, Tensor], float]


def accuracy(logits: Tensor, targets: Tensor) -> float:
    """Fraction of rows whose largest logit is the target class.

    Shape: logits ``(N, C)``, targets ``(N,)`` (integer class labels).

    Example:
        >>> accuracy(torch.tensor([[0.1, 2.0]]), torch.tensor([1]))
        1.0
    """
    check_accuracy_args(logits, targets)
    return (logits.argmax(dim=1) == targets).float().mean().item()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    metric: Metric | None = accuracy,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Average loss (and metric) of ``model`` over ``loader``, in eval mode.

    Averages are weighted by batch size, so a short last batch counts for
    what it holds. The model's train/eval mode is restored afterwards.

    Returns:
        ``{"loss": ..., "metric": ...}`` (``"metric"`` only with a metric).

    Example:
        >>> model = nn.Linear(2, 2)
        >>> loader = [(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))]
        >>> sorted(evaluate(model, loader, nn.CrossEntropyLoss()))
        ['loss', 'metric']
    """
    check_loss_fn(loss_fn)
    device = get_device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    try:
        totals = _run_epoch(model, loader, loss_fn, metric, device)
    finally:  # back to the mode it was in, even after an error
        model.train(was_training)
    if totals[2] == 0:
        raise ValueError("evaluate got an empty loader")
    return _averages(*totals, metric)


def _run_epoch(model, loader, loss_fn, metric, device, optimizer=None):
    """One pass over ``loader``; a training step per batch if ``optimizer``.

    Returns the summed loss and metric (each batch weighted by its size) and
    the number of examples.
    """
    total_loss = total_metric = 0.0
    count = 0
    for i, batch in enumerate(loader):
        X, y = split_batch(batch)
        X, y = X.to(device), y.to(device)
        y_hat = model(X)
        check_shapes(y_hat, y)
        loss = loss_fn(y_hat, y)
        value = finite_loss(loss, X, y, i, optimizer is not None)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        n = len(y)
        total_loss += value * n
        if metric is not None:
            total_metric += metric(y_hat.detach(), y) * n
        count += n
    return total_loss, total_metric, count


def _averages(total_loss, total_metric, count, metric) -> dict[str, float]:
    result = {"loss": total_loss / count}
    if metric is not None:
        result["metric"] = total_metric / count
    return result


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _optimizer_state_to_params(optimizer: torch.optim.Optimizer) -> None:
    """Move the optimizer's state (e.g. Adam's averages, restored from a file)
    to its parameters' device after ``model.to(device)``."""
    stale = any(
        torch.is_tensor(value) and key != "step" and value.device != param.device
        for param, state in optimizer.state.items()
        for key, value in state.items()
    )
    if stale:  # load_state_dict casts each state to its parameter's device
        optimizer.load_state_dict(optimizer.state_dict())


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: torch.optim.Optimizer,
    num_epochs: int,
    metric: Metric | None = accuracy,
    device: torch.device | str | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict[str, list[float]]], bool | None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` and return its per-epoch history.

    Each epoch: a training phase (``model.train()``; forward, loss,
    ``zero_grad``, ``backward``, ``step`` per batch), then an evaluation
    phase on ``val_loader`` (``model.eval()`` under ``torch.no_grad``).
    This is the loop chapter 3 writes by hand, with device moves and a
    progress bar added.

    Args:
        model: moved to ``device`` before training (with the optimizer's
            state, e.g. after ``load_checkpoint`` on the CPU).
        train_loader: yields ``(X, y)`` batches of tensors; a DataLoader or
            a list, which can be gone through once per epoch (not a generator).
        val_loader: yields ``(X, y)`` batches, or ``None`` to skip.
        loss_fn: ``loss_fn(y_hat, y)`` returns a scalar tensor.
        optimizer: built on ``model.parameters()``.
        num_epochs: number of passes over ``train_loader``.
        metric: ``metric(y_hat, y)`` returns a float, or ``None``.
        device: default ``get_device()``.
        progress: show a ``tqdm`` bar over epochs (``TQDM_DISABLE=1``
            turns every bar off, as ``make execute`` does).
        on_epoch_end: called as ``on_epoch_end(epoch, history)`` after each
            epoch, with ``epoch`` counted from 0 (so ``epoch + 1`` epochs are
            finished, the number ``save_checkpoint`` wants); returning
            ``True`` stops training (early stopping).

    Returns:
        ``history`` with lists ``train_loss`` and ``val_loss`` (and
        ``train_metric`` and ``val_metric`` with a metric), one entry per
        epoch. The training figures are averages over the epoch's batches.

    Raises:
        ValueError: the optimizer holds none of ``model``'s parameters.
        TypeError: a batch is not an ``(X, y)`` pair of tensors.
        FloatingPointError: a loss became NaN or infinite (the message says
            whether the data hold NaN).

    Example:
        >>> X, y = torch.randn(32, 2), torch.randint(0, 2, (32,))
        >>> loader = [(X, y)]
        >>> model = nn.Linear(2, 2)
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> h = fit(model, loader, loader, nn.CrossEntropyLoss(), opt, 3,
        ...         device="cpu", progress=False)
        >>> sorted(h), len(h["train_loss"])
        (['train_loss', 'train_metric', 'val_loss', 'val_metric'], 3)
    """
    loaders = {"train_loader": train_loader, "val_loader": val_loader}
    check_fit_args(num_epochs, optimizer, loss_fn, loaders)
    check_optimizer_holds(optimizer, model)
    device = get_device(device)
    model.to(device)
    _optimizer_state_to_params(optimizer)
    keys = ["train_loss", "val_loss"]
    if metric is not None:
        keys += ["train_metric", "val_metric"]
    history: dict[str, list[float]] = {k: [] for k in keys}
    show = progress and os.environ.get("TQDM_DISABLE", "") in ("", "0")
    bar = tqdm(range(num_epochs), desc="epochs", leave=False, disable=not show)
    for epoch in bar:
        train = _train_epoch(model, train_loader, loss_fn, optimizer, metric, device)
        for key, value in train.items():
            history[f"train_{key}"].append(value)
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, metric, device)
            for key, value in val.items():
                history[f"val_{key}"].append(value)
        bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}")
        if on_epoch_end is not None and on_epoch_end(epoch, history):
            break
    bar.close()
    return {k: v for k, v in history.items() if v or k.startswith("train")}


def _train_epoch(model, loader, loss_fn, optimizer, metric, device) -> dict[str, float]:
    model.train()
    totals = _run_epoch(model, loader, loss_fn, metric, device, optimizer)
    total_loss, _, count = totals
    if count == 0:
        raise ValueError("fit got an empty train_loader")
    if not math.isfinite(total_loss):  # finite batch losses that overflow the sum
        raise FloatingPointError(
            f"training loss became {total_loss / count}; lower the learning rate"
        )
    return _averages(*totals, metric)
