"""Choosing where tensors live: CUDA, Apple MPS or the CPU."""

from __future__ import annotations

import os

import torch
from torch import nn

__all__ = ["get_device", "available_devices"]


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
        RuntimeError: ``name`` is not a device (torch's message lists the
            valid kinds), or this machine does not have it.

    Example:
        >>> get_device("cpu")
        device(type='cpu')
    """
    if name is None:
        name = os.environ.get("DLBOOK_DEVICE") or "auto"
    if isinstance(name, str):
        name = name.strip().lower()
        if name == "auto":
            return torch.device(available_devices()[0])
    device = torch.device(name)
    count = torch.cuda.device_count() if device.type == "cuda" else 1
    if device.type not in available_devices() or (device.index or 0) >= count:
        raise RuntimeError(
            f"device {str(device)!r} was asked for but is not available here; "
            f"available: {', '.join(available_devices())}"
            + (f" ({count} CUDA device(s))" if device.type == "cuda" else "")
        )
    return device


def model_device(model: nn.Module) -> torch.device:
    """Where ``model``'s parameters are (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def optimizer_state_to_params(optimizer: torch.optim.Optimizer) -> None:
    """Move the optimizer's state (e.g. Adam's averages, restored from a file)
    to its parameters' device after ``model.to(device)``."""
    stale = any(
        torch.is_tensor(value) and key != "step" and value.device != param.device
        for param, state in optimizer.state.items()
        for key, value in state.items()
    )
    if stale:  # load_state_dict casts each state to its parameter's device
        optimizer.load_state_dict(optimizer.state_dict())
