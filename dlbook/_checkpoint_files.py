"""Atomic save and verified load: a checkpoint file is whole, or it is not used.

``save`` writes to a temporary file and renames it over the target, so a
crash never destroys the previous file; ``load`` checks the zip archive
(``torch.save``'s format) before ``torch.load`` reads it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import re
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

_BINARY = getattr(os, "O_BINARY", 0)  # Windows needs it; elsewhere 0


class CheckpointError(RuntimeError):
    """A checkpoint file exists but is truncated, corrupt or not a checkpoint."""

    __module__ = "dlbook.checkpoint"  # where readers import it from


def save(obj: Any, path: str | os.PathLike[str], loadable: bool = False) -> Path:
    """Save ``obj`` with ``torch.save`` atomically: all of it, or nothing.

    The data go to a temporary file in the same folder, are flushed and
    ``fsync``-ed to disk, and only then renamed over ``path`` with
    ``os.replace`` (atomic on POSIX and Windows). A save that crashes or is
    killed midway leaves the previous file at ``path`` untouched, and its
    temporary file is removed by the next save to ``path``. A module or
    optimizer is saved as its ``state_dict()``, the portable form.

    With ``loadable``, the new file is read back with ``torch.load(...,
    weights_only=True)`` before it replaces ``path``: a value that only an
    unsafe load could read (a NumPy number, an object) fails here, while the
    previous file is still there, not at the next load.

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist.
        OSError: the disk is full (``errno.ENOSPC``); the previous file is
            still there.
        TypeError: with ``loadable``, ``obj`` holds something that
            ``weights_only`` loading refuses; the previous file is still there.

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
    _remove_leftovers(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # Mode 0o666 less the umask, like open(); O_EXCL never reuses a file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        if loadable:
            _check_loadable(tmp, path)
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if _disk_full(error):
            free = shutil.disk_usage(path.parent).free / 2**20
            raise OSError(
                errno.ENOSPC,
                f"the disk is full ({free:.1f} MiB free in '{path.parent}'): "
                f"'{path}' was not written and any previous file there is "
                "unchanged. Free some space, or save to another folder",
            ) from error
        raise
    _fsync_folder(path.parent)
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
    problem = _zip_problem(path, verify)
    if problem is not None:
        raise CheckpointError(f"cannot load '{path}': {problem}")
    return torch.load(path, map_location=map_location, weights_only=weights_only)


def _check_loadable(tmp: Path, path: Path) -> None:
    try:
        torch.load(tmp, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message names the refused type in its "Unsupported global" line
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        reason = f"it refuses {found[1]}" if found else str(error).strip()
        raise TypeError(
            f"'{path}' was not written (any previous file there is unchanged): "
            "it holds a value that torch.load(weights_only=True) refuses, so it "
            "could not be loaded back. Store plain Python values and tensors, e.g. "
            f"float(x) for a NumPy number ({reason})"
        ) from None


def _remove_leftovers(path: Path) -> None:
    """Delete the temporary files of saves to ``path`` whose process died
    (killed midway, e.g. by ``kill -9`` or a restarted kernel)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    for entry in os.scandir(path.parent):
        match = pattern.fullmatch(entry.name)
        if match and not _process_alive(int(match[1])):
            with contextlib.suppress(OSError):  # best effort: never fail the save
                os.unlink(entry.path)


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (True where that cannot be told: Windows)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's process
    return True


def _disk_full(error: BaseException | None) -> bool:
    """Whether ``error``, or an error it arose from, says the disk is full.

    ``torch.save`` reports a failed write as ``RuntimeError: ... unexpected
    pos``; the ``OSError`` behind it is in its ``__context__``.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


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
