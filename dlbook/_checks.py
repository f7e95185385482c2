"""Argument checks that several dlbook functions share."""

from __future__ import annotations

from typing import Any


def check_positive_int(name: str, value: Any) -> None:
    """ValueError naming ``value`` unless it is an int >= 1 (``True`` is not)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
