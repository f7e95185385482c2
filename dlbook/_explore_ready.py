"""Helpers that the chapters' ready explorers share: data, checks, fresh models.

Private to :mod:`dlbook.explore`; the explorers are in ``_explore_lr`` and
``_explore_depth``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from ._checks import check_positive_int
from ._explore_core import Explorer, is_build
from ._explore_result import is_number
from .models import get_activation, make_mlp


@functools.lru_cache(maxsize=1)
def digits():
    """The digits split, loaded once per process."""
    from .data import load_digits_split

    return load_digits_split()


def check_positive(name: str, values: Sequence, integer: bool = False) -> None:
    """ValueError naming the first value that is not a positive number (int)."""
    for v in values:
        if integer:
            check_positive_int(name, v)
        elif not (is_number(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")


def check_activations(activations: Sequence[str]) -> None:
    """ValueError for an unknown activation name (it lists the valid ones)."""
    for activation in activations:
        get_activation(activation)  # ValueError naming the valid ones


def ready(explorer: Explorer) -> Explorer:
    """The explorer, its grid precomputed while the book is built."""
    if is_build():  # compute now, so an error fails the cell, not only its display
        explorer.precompute()
    return explorer


def fresh_mlp(seed: int, **kwargs) -> nn.Sequential:
    """A digits MLP (64 inputs, 10 classes) with weights seeded by ``seed``."""
    with torch.random.fork_rng(devices=[]):  # the caller's random stream is kept
        torch.manual_seed(seed)
        return make_mlp(64, out_features=10, **kwargs)
