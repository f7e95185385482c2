"""Checks of ``save_checkpoint`` and ``load_checkpoint`` arguments and files.

Each runs before anything is written or restored, so a mistake leaves both
the file on disk and the model in memory as they were.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._checkpoint_files import CheckpointError

KEYS = ("model", "optimizer", "epoch", "rng")  # what save_checkpoint writes


def check_not_swapped(caller: str, model: Any, optimizer: Any) -> None:
    """TypeError for ``(path, optimizer, model)``: both have a ``state_dict``, so
    swapped arguments would save, or restore, the wrong things silently."""
    if isinstance(model, torch.optim.Optimizer) and isinstance(optimizer, nn.Module):
        raise TypeError(
            f"{caller}: model and optimizer are swapped (model is a "
            f"{type(model).__name__}, optimizer a {type(optimizer).__name__}); "
            f"call {caller}(path, model, optimizer, ...)"
        )


def check_matches(
    checkpoint: Any, path: Path, model: nn.Module, optimizer, generator
) -> None:
    """Check that ``checkpoint`` fits the model, optimizer and generator."""
    if not isinstance(checkpoint, dict) or not set(KEYS) <= set(checkpoint):
        has = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint)
        raise CheckpointError(
            f"'{path}' is not a save_checkpoint file: it holds {has}, not the keys "
            f"{list(KEYS)}. A file written by save(model, ...) holds a state_dict: "
            "load it with model.load_state_dict(load(path))"
        )
    _check_model(checkpoint["model"], path, model)
    if optimizer is not None:
        _check_optimizer(checkpoint["optimizer"], path, optimizer)
    _check_generator(checkpoint["rng"], path, generator, resuming=bool(optimizer))


def _check_model(saved: dict[str, Any], path: Path, model: nn.Module) -> None:
    own = model.state_dict()
    problems = [f"missing {k!r}" for k in own if k not in saved]
    problems += [f"unexpected {k!r}" for k in saved if k not in own]
    problems += [
        f"{k!r} has shape {tuple(saved[k].shape)} in the file, "
        f"{tuple(v.shape)} in the model"
        for k, v in own.items()
        if k in saved and hasattr(saved[k], "shape") and saved[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
        raise ValueError(
            f"the model in '{path}' does not fit this model ({shown}): build the "
            "model with the same code and settings as the one that was saved"
        )


def _check_optimizer(saved: dict[str, Any], path: Path, optimizer) -> None:
    groups = saved.get("param_groups", [])
    # Settings with a number as default (lr, momentum, betas, ...) are what an
    # optimizer class needs; flags (foreach, fused, ...) vary by torch version.
    needed = [
        k
        for k, v in optimizer.defaults.items()
        if not isinstance(v, (bool, type(None)))
    ]
    lacking = sorted({k for g in groups for k in needed if k not in g})
    if lacking:
        settings = sorted(k for k in (groups[0] if groups else {}) if k != "params")
        raise ValueError(
            f"the optimizer state in '{path}' was saved from another kind of "
            f"optimizer: it has no {lacking}, which {type(optimizer).__name__} "
            f"needs (its settings: {settings}). Build the same optimizer class "
            "as the run that was saved"
        )
    saved_sizes = [len(g["params"]) for g in groups]
    own_sizes = [len(g["params"]) for g in optimizer.param_groups]
    if saved_sizes != own_sizes:
        raise ValueError(
            f"the optimizer in '{path}' has parameter groups of sizes "
            f"{saved_sizes}, this optimizer {own_sizes}: build it on this "
            "model's parameters the same way as the one that was saved"
        )


def _check_generator(rng: dict[str, Any], path: Path, generator, resuming: bool):
    if generator is not None and "generator" not in rng:
        raise ValueError(
            f"'{path}' holds no generator state to restore into generator=: it "
            "was saved without one. Save with save_checkpoint(..., "
            "generator=train_loader.generator), or load without generator="
        )
    if generator is None and "generator" in rng and resuming:
        warnings.warn(
            f"'{path}' holds a DataLoader generator's state, but no generator= "
            "was given: the resumed run shuffles differently from an "
            "uninterrupted one. Pass generator=train_loader.generator",
            stacklevel=4,
        )
