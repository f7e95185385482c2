"""Small fixes to the Jupyter Book 1 site, as a local Sphinx extension.

- sphinx-thebe registers its configuration script twice, so every page logged
  ``Identifier 'THEBE_JS_URL' has already been declared``: drop exact duplicates.
- The intro's chapter map shows each chapter's measured CPU time, read from
  ``book/data/bench.json`` (written by ``make bench``) as MyST substitutions
  ``{{ time_<notebook> }}`` and ``{{ time_book }}``.
- The intro says how many of the book's printed numbers move on another CPU or
  seed, from ``book/data/spread.json`` (written by ``make spread``):
  ``{{ spread_numbers }}``, ``{{ spread_moving }}``, ``{{ spread_acc_median }}``,
  ``{{ spread_acc_max }}``.
- pydata-sphinx-theme logs ``Got invalid theme mode`` when no default mode is
  set: the book's figures are drawn on white, so default to the light theme.
"""

from __future__ import annotations

import json
from pathlib import Path


def _default_light_mode(app, config) -> None:
    config.html_context.setdefault("default_mode", "light")


def _chapter_times(app, config) -> None:
    root = Path(app.srcdir)
    bench = root / "book" / "data" / "bench.json"
    measured = json.loads(bench.read_text())["notebooks"] if bench.exists() else {}
    subs = dict(config.myst_substitutions)
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        seconds = measured.get(notebook.stem)
        subs[f"time_{notebook.stem}"] = (
            f"about {seconds:.0f} s" if seconds is not None else "not measured yet"
        )
    total = sum(measured.values())
    subs["time_book"] = f"about {total:.0f} s" if measured else "not measured yet"
    config.myst_substitutions = subs


def _spread(app, config) -> None:
    path = Path(app.srcdir) / "book" / "data" / "spread.json"
    spread = json.loads(path.read_text()) if path.exists() else {}
    subs = dict(config.myst_substitutions)
    subs["spread_numbers"] = str(spread.get("numbers", "(not measured)"))
    subs["spread_moving"] = str(spread.get("moving", "(not measured)"))
    for key in ("median", "max"):
        value = spread.get(f"accuracy_spread_{key}")
        subs[f"spread_acc_{key}"] = (
            "(not measured)" if value is None else f"{value:.3f}"
        )
    config.myst_substitutions = subs


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        # the same inline script appears once with filename None, once with ""
        key = (
            getattr(script, "filename", None) or "",
            tuple(sorted(attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def setup(app):
    app.connect("config-inited", _default_light_mode)
    app.connect("config-inited", _chapter_times)
    app.connect("config-inited", _spread)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
