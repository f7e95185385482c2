"""Explorers: sliders that re-run a small experiment, live or on the static site.

In a kernel an explorer is an ``ipywidgets`` control: moving a slider computes the
chosen point of a parameter grid (once; results are cached) and redraws. When the
book is built (``DLBOOK_BUILD=1``, set by ``make execute`` and nbval) the same call
precomputes the whole grid and displays a plotly figure whose sliders and dropdowns
switch between the stored runs in the browser, with no kernel.

This module is the public face; the code lives in small private modules:

- ``_explore_result``: :class:`Panel` and :class:`Result`, what ``compute`` returns;
- ``_explore_core``: :class:`Explorer` (grid, cache, display) and :func:`is_build`;
- ``_explore_live``: the live view (ipywidgets controls, a matplotlib PNG);
- ``_explore_static`` and ``_explore_html``: the static view (a plotly figure of
  every run, as HTML with the script that switches runs);
- ``_explore_lr`` and ``_explore_depth``: the chapters' ready explorers, with
  ``_explore_ready`` for what they share.

Example:
    >>> from dlbook.explore import Explorer, Panel, Result
    >>> line = lambda slope: Result([Panel([0, 1], {"y": [0, slope]})])
    >>> Explorer(line, {"slope": [1, 2, 3]})
    Explorer(slope: 3 points, 0 computed)
"""

from __future__ import annotations

from ._explore_core import Explorer, is_build
from ._explore_depth import explore_activation_depth
from ._explore_lr import explore_lr_activation
from ._explore_result import Panel, Result

__all__ = [
    "Explorer",
    "Panel",
    "Result",
    "explore_activation_depth",
    "explore_lr_activation",
    "is_build",
]
