"""Small fixes to the Jupyter Book 1 site, as a local Sphinx extension.

- sphinx-thebe registers its configuration script twice, so every page logged
  ``Identifier 'THEBE_JS_URL' has already been declared``: drop exact duplicates.
- pydata-sphinx-theme logs ``Got invalid theme mode`` when no default mode is
  set: the book's figures are drawn on white, so default to the light theme.
"""

from __future__ import annotations


def _default_light_mode(app, config) -> None:
    config.html_context.setdefault("default_mode", "light")


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
    app.connect("html-page-context", _drop_duplicate_scripts, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
