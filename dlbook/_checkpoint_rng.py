"""Capturing and restoring every random generator, for resuming training exactly."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


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
