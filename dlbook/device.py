"""Choosing where tensors live: CUDA, Apple MPS or the CPU."""

from __future__ import annotations

import os

import torch

__all__ = ["get_device", "available_devices"]

_KINDS = ("cuda", "mps", "cpu")


def available_devices() -> list[str]:
    """Device kinds usable in this process, best first.

    Example:
        >>> "cpu" in available_devices()
        True
    """
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def get_device(name: str | torch.device | None = None) -> torch.device:
    """Return the device to train on.

    Order of choice: ``name`` if given, else the environment variable
    ``DLBOOK_DEVICE``, else the best available of CUDA, Apple MPS, CPU.

    Args:
        name: ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"cpu"`` (or a
            ``torch.device``); ``None`` or ``"auto"`` picks the best available.

    Raises:
        ValueError: ``name`` is not a known device kind.
        RuntimeError: the device exists in PyTorch but not on this machine.

    Example:
        >>> get_device("cpu")
        device(type='cpu')
    """
    if name is None:
        name = os.environ.get("DLBOOK_DEVICE") or "auto"
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise TypeError(
            f"device must be a str or torch.device, got {type(name).__name__} {name!r}"
        )
    name = name.strip().lower()
    if name == "auto":
        return torch.device(available_devices()[0])
    kind, colon, index = name.partition(":")
    bad_index = colon and (not index.isdigit() or (kind != "cuda" and int(index) > 0))
    if kind not in _KINDS or bad_index:
        raise ValueError(
            f"unknown device {name!r}; choose one of: auto, cuda, cuda:N, mps, cpu"
        )
    if kind not in available_devices():
        raise RuntimeError(
            f"device {name!r} was asked for but is not available here; "
            f"available: {', '.join(available_devices())}"
        )
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise RuntimeError(
            f"device {name!r} was asked for but this machine has "
            f"{torch.cuda.device_count()} CUDA device(s)"
        )
    return torch.device(name)
