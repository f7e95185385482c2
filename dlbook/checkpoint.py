"""Saving and loading safely: atomic writes, clear errors, full checkpoints."""

from __future__ import annotations

import os
import random
import secrets
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

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
_KEYS = ("model", "optimizer", "epoch", "rng")  # what save_checkpoint writes


class CheckpointError(RuntimeError):
    """A checkpoint file exists but is truncated, corrupt or not a checkpoint."""


def save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Save ``obj`` with ``torch.save`` atomically: all of it, or nothing.

    The data go to a temporary file in the same folder, are flushed and
    ``fsync``-ed to disk, and only then renamed over ``path`` with
    ``os.replace`` (atomic on POSIX and Windows). A save that crashes or is
    killed midway leaves the previous file at ``path`` untouched. A module
    or optimizer is saved as its ``state_dict()``, the portable form.

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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Mode 0o666 less the umask, like open(); O_EXCL never reuses a file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only: Windows cannot open a folder)."""
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _zip_problem(path: Path, verify: bool) -> str | None:
    """Why ``path`` is not an intact zip archive (``torch.save``'s format)."""
    if not zipfile.is_zipfile(path):
        return (
            "it is not a complete PyTorch checkpoint (truncated or corrupt: load "
            "an earlier checkpoint; or a legacy file from before PyTorch 1.6's zip "
            "format, which only torch.load reads)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(n.endswith("data.pkl") for n in archive.namelist()):
                return "its save did not finish (the archive holds no data.pkl)"
            bad = archive.testzip() if verify else None  # checks every CRC
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f"its zip archive is damaged ({error})"
    return None if bad is None else f"member {bad!r} fails its checksum (corrupt)"


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
    problem = _zip_problem(path, verify)
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

    Everything is checked before the file is written: a value that
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
    if type(epoch) is not int or epoch < 0:
        raise TypeError(
            f"save_checkpoint: epoch must be a non-negative int (the number of "
            f"finished epochs), got {type(epoch).__name__} {epoch!r}"
        )
    reserved = sorted(set(extra) & set(_KEYS))
    if reserved:
        raise ValueError(
            f"save_checkpoint: {reserved} are names the checkpoint uses itself; "
            "give the extra values other names"
        )
    for name, value in extra.items():
        _check_loadable(value, name)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": rng_state(generator),
        **extra,
    }
    return save(checkpoint, path)


_PLAIN = (bool, int, float, complex, str, bytes, type(None), torch.Size)


def _check_loadable(value: Any, where: str) -> None:
    """Raise TypeError unless ``weights_only=True`` loading accepts ``value``."""
    kind = type(value)
    if kind in _PLAIN or isinstance(value, torch.Tensor):
        return  # exact types: np.float64 subclasses float but is refused
    if kind in (list, tuple, set):
        for i, item in enumerate(value):
            _check_loadable(item, f"{where}[{i}]")
        return
    if kind in (dict, OrderedDict):
        for key, item in value.items():
            _check_loadable(key, f"a key of {where}")
            _check_loadable(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"save_checkpoint: {where} is a {kind.__module__}.{kind.__qualname__}, "
        "which torch.load(..., weights_only=True) refuses to load. Store plain "
        "values: int, float, str, bool, None, tensors, and lists, tuples or "
        "dicts of them (e.g. float(x) for a NumPy number, str(p) for a path)"
    )


def _check_matches(checkpoint: Any, path: Path, model: nn.Module, optimizer) -> None:
    """Check that ``checkpoint`` fits ``model`` and ``optimizer`` before any change."""
    needed = list(_KEYS)
    if not isinstance(checkpoint, dict) or not set(needed) <= set(checkpoint):
        has = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint)
        raise CheckpointError(
            f"'{path}' is not a save_checkpoint file: it holds {has}, not the keys "
            f"{needed}. A file written by save(model, ...) holds a state_dict: load "
            "it with model.load_state_dict(load(path))"
        )
    own = model.state_dict()
    saved = checkpoint["model"]
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
    if optimizer is not None:
        groups = checkpoint["optimizer"].get("param_groups", [])
        saved_sizes = [len(g["params"]) for g in groups]
        own_sizes = [len(g["params"]) for g in optimizer.param_groups]
        if saved_sizes != own_sizes:
            raise ValueError(
                f"the optimizer in '{path}' has parameter groups of sizes "
                f"{saved_sizes}, this optimizer {own_sizes}: build it on this "
                "model's parameters the same way as the one that was saved"
            )


def load_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    map_location: Any = None,
) -> dict[str, Any]:
    """Restore a ``save_checkpoint`` file into ``model`` (and ``optimizer``).

    RNG states are restored too, so the next random draws (dropout,
    shuffling through ``generator``) match an uninterrupted run.

    Returns:
        The whole checkpoint dict: ``checkpoint["epoch"]`` is where to resume.

    Raises:
        CheckpointError: the file is damaged, or is not a ``save_checkpoint``
            file.
        ValueError: the saved model or optimizer does not fit ``model`` or
            ``optimizer`` (checked before either is changed).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "ckpt.pt"
        >>> model = nn.Linear(2, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> _ = save_checkpoint(path, model, opt, epoch=3)
        >>> load_checkpoint(path, nn.Linear(2, 1))["epoch"]
        3
    """
    checkpoint = load(path, map_location=map_location)
    _check_matches(checkpoint, Path(path), model, optimizer)  # before any change
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
    set_rng_state(checkpoint["rng"], generator)
    return checkpoint
