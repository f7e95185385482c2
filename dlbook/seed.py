"""Seeding every random number generator a chapter uses."""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

__all__ = ["set_seed"]

#: Environment variable that adds an offset to every ``set_seed`` seed. The book's
#: tests set it to run each chapter on another draw of its random numbers, the way
#: another CPU or GPU is another draw of its rounding: a claim must survive both.
SEED_SHIFT_VAR = "DLBOOK_SEED_SHIFT"


def _seed_shift() -> int:
    raw = os.environ.get(SEED_SHIFT_VAR, "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"{SEED_SHIFT_VAR}={raw!r} is not an integer; unset it, or set it to "
            "a whole number such as 1"
        ) from None


def shifted(seed: int) -> int:
    """``seed`` plus ``DLBOOK_SEED_SHIFT`` (0 when unset), modulo ``2**32``: every
    seed that governs training noise (``set_seed``, a loader's shuffling) goes
    through it, so a shifted run is another draw of all of that noise.

    Example:
        >>> shifted(7) if not _seed_shift() else 7
        7
    """
    return (int(seed) + _seed_shift()) % 2**32


def set_seed(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every GPU).

    Args:
        seed: a non-negative integer below ``2**32``.
        deterministic: also ask PyTorch for deterministic algorithms (slower
            on a GPU; raises at run time for operations that have none).
            ``False`` (the default) switches them off again if an earlier call
            switched them on, so ``set_seed(0)`` restores PyTorch's default.

    If the environment variable ``DLBOOK_SEED_SHIFT`` holds an integer, it is
    added to ``seed`` (modulo ``2**32``): the book's tests use it to check that a
    chapter's claims hold for other random draws, not only for the stored one.

    Returns:
        A ``torch.Generator`` seeded with ``seed``, for ``DataLoader``
        shuffling or ``torch.randn(..., generator=g)``.

    Example:
        >>> g = set_seed(0)
        >>> a = torch.rand(2); _ = set_seed(0); bool((a == torch.rand(2)).all())
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = shifted(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic or torch.are_deterministic_algorithms_enabled():
        # Only switch when needed: the call imports torch's compiler (~1.7 s).
        torch.use_deterministic_algorithms(deterministic)
    if deterministic:
        # cuBLAS needs this workspace setting for deterministic matmuls; PyTorch
        # reads it once, at the first matrix product on the GPU.
        if "CUBLAS_WORKSPACE_CONFIG" not in os.environ and torch.cuda.is_initialized():
            warnings.warn(
                "set_seed(deterministic=True) came after CUDA started: if a matrix "
                "product already ran on the GPU, PyTorch has read its cuBLAS setting "
                "and CUBLAS_WORKSPACE_CONFIG comes too late, so products may still "
                "vary run to run. Call it before any GPU work (at the top of the "
                "notebook), or set CUBLAS_WORKSPACE_CONFIG=:4096:8 before starting "
                "Python.",
                stacklevel=2,
            )
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)
