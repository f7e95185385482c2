"""Saving and loading safely: atomic writes, clear errors, full checkpoints."""

from __future__ import annotations

import errno
import os
import random
import secrets
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checkpoint_checks import (
    KEYS,
    CheckpointError,
    check_loadable,
    check_matches,
    check_model_and_optimizer,
)
from ._checkpoint_files import disk_full, fsync_folder, remove_leftovers, zip_problem

__all__ = [
    "CheckpointError",
    "load",
    "load_checkpoint",
    "rng_state",
    "save",
    "save_checkpoint",
    "set_rng_state",
]

_BINARY = getattr(os, "O_BINARY", 0)  # Windows needs it; elsewhere 0


def save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Save ``obj`` with ``torch.save`` atomically: all of it, or nothing.

    The data go to a temporary file in the same folder, are flushed and
    ``fsync``-ed to disk, and only then renamed over ``path`` with
    ``os.replace`` (atomic on POSIX and Windows). A save that crashes or is
    killed midway leaves the previous file at ``path`` untouched, and its
    temporary file is removed by the next save to ``path``. A module or
    optimizer is saved as its ``state_dict()``, the portable form.

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist.
        OSError: the disk is full (``errno.ENOSPC``); the previous file is
            still there.

    Returns:
        The path written, as a ``Path``.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> save(nn.Linear(2, 1), folder / "model.pt").name
        'model.pt'
        >>> sorted(load(folder / "model.pt"))
        ['bias', 'weight']
    """
    path = Path(path)
    if path.is_symlink():  # replace the file the link points to, keep the link
        path = Path(os.path.realpath(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"cannot save to '{path}': the folder '{path.parent}' does not exist"
        )
    if isinstance(obj, (nn.Module, torch.optim.Optimizer)):
        obj = obj.state_dict()
    remove_leftovers(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Mode 0o666 less the umask, like open(); O_EXCL never reuses a file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if disk_full(error):
            free = shutil.disk_usage(path.parent).free / 2**20
            raise OSError(
                errno.ENOSPC,
                f"the disk is full ({free:.1f} MiB free in '{path.parent}'): "
                f"'{path}' was not written and any previous file there is "
                "unchanged. Free some space, or save to another folder",
            ) from error
        raise
    fsync_folder(path.parent)
    return path


def load(
    path: str | os.PathLike[str],
    map_location: Any = None,
    weights_only: bool = True,
    verify: bool = True,
) -> Any:
    """``torch.load`` that checks the file first and names it in errors.

    Args:
        path: a file written by ``save`` or ``torch.save``.
        map_location: where tensors go, e.g. ``"cpu"`` for a file saved on a
            GPU; see ``torch.load``.
        weights_only: refuse anything but tensors and plain containers
            (the safe default: unpickling arbitrary objects can run code).
        verify: check every stored checksum first (reads the file twice);
            ``torch.load`` alone loads silently corrupted tensor bytes.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is truncated or corrupt.

    Example:
        >>> import tempfile, pathlib
        >>> bad = pathlib.Path(tempfile.mkdtemp()) / "half.pt"
        >>> _ = bad.write_bytes(b"PK\\x03\\x04 cut off")
        >>> load(bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        dlbook.checkpoint.CheckpointError: cannot load '...half.pt': it is not ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at '{path}'")
    problem = zip_problem(path, verify)
    if problem is not None:
        raise CheckpointError(f"cannot load '{path}': {problem}")
    return torch.load(path, map_location=map_location, weights_only=weights_only)


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """The state of every random generator, in a form ``load`` accepts.

    Covers Python's ``random``, NumPy's global generator, PyTorch on the CPU,
    on every CUDA device and on Apple's MPS GPU (each GPU draws its random
    numbers, e.g. dropout masks, from a generator of its own), plus
    ``generator`` (e.g. a DataLoader's shuffling generator) if given.

    Example:
        >>> state = rng_state(); a = torch.rand(1)
        >>> set_rng_state(state); bool(torch.rand(1) == a)
        True
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "mps": torch.mps.get_rng_state() if torch.backends.mps.is_available() else None,
    }
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def set_rng_state(
    state: dict[str, Any], generator: torch.Generator | None = None
) -> None:
    """Restore what ``rng_state`` captured (``generator``: restore it too)."""
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    keys = keys.cpu().numpy().astype(np.uint32)
    np.random.set_state((kind, keys, pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"].cpu())  # .cpu(): map_location may move it
    if state["cuda"] and torch.cuda.is_available():
        # Saved on more GPUs than this machine has: restore the ones present.
        states = state["cuda"][: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all([s.cpu() for s in states])
    if state.get("mps") is not None and torch.backends.mps.is_available():
        torch.mps.set_rng_state(state["mps"].cpu())
    if generator is not None:
        if "generator" not in state:
            raise KeyError("this RNG state holds no 'generator' state to restore")
        generator.set_state(state["generator"].cpu())


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

    Everything is checked before the file is written: ``model`` and
    ``optimizer`` in the wrong order raise ``TypeError``, and a value that
    ``torch.load(..., weights_only=True)`` would refuse (a NumPy number, a
    ``Path``, any other object) raises ``TypeError`` naming it, so a bad
    ``extra`` never replaces a good checkpoint with one that cannot be loaded.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "ckpt.pt"
        >>> model = nn.Linear(2, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> save_checkpoint(path, model, opt, epoch=1, history={"loss": [0.5]}).name
        'ckpt.pt'
        >>> loss = np.float64(0.4)  # a NumPy number, not a Python float
        >>> save_checkpoint(path, model, opt, epoch=2, history={"loss": loss})
        Traceback (most recent call last):
        ...
        TypeError: save_checkpoint: history['loss'] is a numpy.float64, ...
    """
    check_model_and_optimizer("save_checkpoint", model, optimizer)
    if type(epoch) is not int or epoch < 0:
        raise TypeError(
            f"save_checkpoint: epoch must be a non-negative int (the number of "
            f"finished epochs), got {type(epoch).__name__} {epoch!r}"
        )
    reserved = sorted(set(extra) & set(KEYS))
    if reserved:
        raise ValueError(
            f"save_checkpoint: {reserved} are names the checkpoint uses itself; "
            "give the extra values other names"
        )
    for name, value in extra.items():
        check_loadable(value, name)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": rng_state(generator),
        **extra,
    }
    return save(checkpoint, path)


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
    check_model_and_optimizer("load_checkpoint", model, optimizer)
    checkpoint = load(path, map_location=map_location)
    check_matches(checkpoint, Path(path), model, optimizer, generator)
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    set_rng_state(checkpoint["rng"], generator)
    return checkpoint
