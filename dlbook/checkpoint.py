"""Checkpoints that resume training exactly, saved atomically and checked on load.

Its parts, one idea per file: ``save`` and ``load`` (atomic writes, verified
reads) in ``_checkpoint_files``; ``rng_state`` and ``set_rng_state`` in
``_checkpoint_rng``; the checks that a checkpoint fits the model in
``_checkpoint_checks``. Chapter 7 uses them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._checkpoint_checks import KEYS, check_matches, check_not_swapped
from ._checkpoint_files import CheckpointError, load, save
from ._checkpoint_rng import rng_state, set_rng_state

__all__ = [
    "CheckpointError",
    "load",
    "load_checkpoint",
    "rng_state",
    "save",
    "save_checkpoint",
    "set_rng_state",
]


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    generator: torch.Generator | None = None,
    **extra: Any,
) -> Path:
    """Atomically save everything needed to resume training exactly.

    The file holds ``model`` and ``optimizer`` state dicts, ``epoch`` (the
    number of finished epochs), every RNG state (``rng_state(generator)``)
    and ``extra`` (plain values only, e.g. a history dict).

    ``model`` and ``optimizer`` in the wrong order raise ``TypeError``
    before anything is written. Store plain values in ``extra`` (``float(x)``
    for a NumPy number): the new file is read back as ``load`` will read it,
    with ``torch.load(..., weights_only=True)``, before it replaces the
    previous checkpoint, and anything else raises ``TypeError`` there.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "ckpt.pt"
        >>> model = nn.Linear(2, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> save_checkpoint(path, model, opt, epoch=1, history={"loss": [0.5]}).name
        'ckpt.pt'
    """
    check_not_swapped("save_checkpoint", model, optimizer)
    reserved = sorted(set(extra) & set(KEYS))
    if reserved:
        raise ValueError(
            f"save_checkpoint: {reserved} are names the checkpoint uses itself; "
            "give the extra values other names"
        )
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": rng_state(generator),
        **extra,
    }
    return save(checkpoint, path, loadable=True)


def load_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    map_location: Any = None,
) -> dict[str, Any]:
    """Restore a ``save_checkpoint`` file into ``model`` (and ``optimizer``).

    RNG states are restored too, so the next random draws (dropout,
    shuffling through ``generator``) match an uninterrupted run. Pass the
    train loader's ``generator`` when the checkpoint holds one: resuming
    with an ``optimizer`` but without it warns, as the shuffling would drift.

    Returns:
        The whole checkpoint dict: ``checkpoint["epoch"]`` is where to resume.

    Raises:
        CheckpointError: the file is damaged, or is not a ``save_checkpoint``
            file.
        ValueError: the saved model or optimizer does not fit ``model`` or
            ``optimizer`` (another shape, another optimizer class), or
            ``generator`` is given but the file holds no generator state.
            Everything is checked before anything is changed.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "ckpt.pt"
        >>> model = nn.Linear(2, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> _ = save_checkpoint(path, model, opt, epoch=3)
        >>> load_checkpoint(path, nn.Linear(2, 1))["epoch"]
        3
    """
    check_not_swapped("load_checkpoint", model, optimizer)
    checkpoint = load(path, map_location=map_location)
    check_matches(checkpoint, Path(path), model, optimizer, generator)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    set_rng_state(checkpoint["rng"], generator)
    return checkpoint
