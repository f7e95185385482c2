"""Explorers: sliders that re-run a small experiment, live or on the static site.

In a kernel an explorer is a live view (:mod:`.live`): ``ipywidgets`` controls
that compute the chosen point of a parameter grid (once; results are cached,
:mod:`.model`) and redraw a matplotlib figure. When the book is built
(``DLBOOK_BUILD=1``, set by ``make execute`` and nbval) the same call
precomputes the whole grid and shows the static view (:mod:`.static`), a plotly
figure whose controls switch between stored runs in the browser, with no
kernel. :mod:`.ready` holds the chapters' explorers.

Example:
    >>> line = lambda slope: Result([Panel([0, 1], {"y": [0, slope]})])
    >>> Explorer(line, {"slope": [1, 2, 3]})
    Explorer(slope: 3 points, 0 computed)
"""

from .model import Explorer, Panel, Result, is_build
from .ready import explore_activation_depth, explore_lr_activation

__all__ = [
    "Explorer",
    "Panel",
    "Result",
    "explore_activation_depth",
    "explore_lr_activation",
    "is_build",
]
