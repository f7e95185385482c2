"""What an explorer's ``compute`` returns, and how its values are labelled.

Private to :mod:`dlbook.explore`, which re-exports :class:`Panel` and :class:`Result`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
MARKERS_UP_TO = 30  # points per curve; longer curves are drawn as plain lines


@dataclass
class Panel:
    """One subplot of a result: x values and one or more named y series.

    ``None`` or NaN in a series leaves a gap (e.g. after a run diverged).
    ``y_range`` (data units, also on a log axis) fixes the axis so that every
    point of the grid is drawn on the same scale; without it the static figure
    uses the range of the whole grid and the live one autoscales.

    Shape: ``x`` and every series in ``ys`` have the same length.

    Example:
        >>> Panel([1, 2], {"loss": [0.5, None]}, xlabel="epoch").ys
        {'loss': [0.5, None]}
    """

    x: Sequence[float]
    ys: dict[str, Sequence[float | None]]
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    log_y: bool = False
    y_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.log_y and self.y_range is not None and min(self.y_range) <= 0:
            raise ValueError(
                f"y_range {self.y_range} is not positive, so it cannot be shown on a "
                "log axis (log_y=True): give a range above 0, or log_y=False"
            )
        for name, y in self.ys.items():
            if len(y) != len(self.x):
                raise ValueError(
                    f"series {name!r} has {len(y)} values for {len(self.x)} x values"
                )


@dataclass
class Result:
    """What ``compute(**point)`` returns: panels of curves, final metrics, a title.

    The title should state the finding for this point; by default the explorer
    shows the point and its metrics.
    """

    panels: list[Panel]
    metrics: dict[str, float] = field(default_factory=dict)
    title: str = ""


def is_number(value: Any) -> bool:
    """True for real numbers, False for bools and anything else.

    Example:
        >>> is_number(0.5), is_number(True), is_number("relu")
        (True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def uses_slider(values: Sequence) -> bool:
    """Whether a parameter's control is a slider (all numbers) or a dropdown."""
    return all(is_number(v) for v in values)


def fmt(value: Any) -> str:
    """A short label: numbers with 4 significant digits, anything else as text.

    Example:
        >>> fmt(0.123456), fmt(3.0), fmt("tanh")
        ('0.1235', '3', 'tanh')
    """
    return f"{value:.4g}" if is_number(value) else str(value)


def rounded(values: Iterable[float | None]) -> list:
    """4 significant digits; NaN, inf and None become None (a gap).

    Example:
        >>> rounded([1 / 3, 2.0, float("nan"), None])
        [0.3333, 2, None, None]
    """
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(None)
        else:
            v = float(f"{float(v):.4g}")
            out.append(int(v) if v.is_integer() and abs(v) < 1e15 else v)
    return out


def series_colors(results: Iterable[Result]) -> dict[str, str]:
    """One color per series name, in order of first appearance over ``results``."""
    names = dict.fromkeys(s for r in results for p in r.panels for s in p.ys)
    return {name: COLORS[i % len(COLORS)] for i, name in enumerate(names)}
