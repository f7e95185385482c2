"""What ``save`` and ``load`` do with files: leftovers, full disks, zip checks."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import zipfile
from pathlib import Path


def remove_leftovers(path: Path) -> None:
    """Delete the temporary files of saves to ``path`` whose process died
    (killed midway, e.g. by ``kill -9`` or a restarted kernel)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    for entry in os.scandir(path.parent):
        match = pattern.fullmatch(entry.name)
        if match and not process_alive(int(match[1])):
            with contextlib.suppress(OSError):  # best effort: never fail the save
                os.unlink(entry.path)


def process_alive(pid: int) -> bool:
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


def disk_full(error: BaseException | None) -> bool:
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


def fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only: Windows cannot open a folder)."""
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def zip_problem(path: Path, verify: bool) -> str | None:
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
