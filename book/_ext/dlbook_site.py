"""Small fixes to the Jupyter Book 1 site, as a local Sphinx extension.

- The repository URL is written once, in ``pyproject.toml`` (``[project.urls]
  Repository``): the site's repository and Colab buttons read it from there, and
  tests/unit/test_notebooks.py checks that every notebook's Colab link and install
  line agree with it.
- Jupyter Book always loads sphinx-thebe, which put a dead configuration naming an
  unrelated Binder repository, a script from unpkg.com and a stylesheet on every
  page although the book never runs code on the site: it is switched off.
- Docutils and pydata-sphinx-theme each add a viewport tag beside Sphinx's own:
  pages keep Sphinx's alone (book/_templates/layout.html drops the theme's).
- The intro's chapter map shows each chapter's measured CPU time, read from
  ``book/data/bench.json`` (written by ``make bench``) as MyST substitutions
  ``{{ time_<notebook> }}``, ``{{ time_book }}`` and ``{{ bench_machine }}`` (the
  CPU that measured them).
- The intro says how many of the book's printed numbers move on another CPU or
  seed, from ``book/data/spread.json`` (written by ``make spread``):
  ``{{ spread_numbers }}``, ``{{ spread_moving }}``, ``{{ spread_acc_median }}``,
  ``{{ spread_acc_max }}``.
- Headings get the id JupyterLab gives them (``jupyter_slug``, MyST's
  ``myst_heading_slug_func``), so that one markdown link such as
  ``[section 2.4](02_activations_and_losses.ipynb#2.4-Same-network,-each-activation)``
  opens the section in JupyterLab and, resolved by MyST, on the site.
- A link to a glossary term, ``[loss](../book/glossary.md#term-loss)``, is checked
  like a link to a heading: the glossary's term ids are registered as MyST anchors of
  its page, so a misspelt term id still fails the strict build.
- pydata-sphinx-theme logs ``Got invalid theme mode`` when no default mode is
  set: the site follows the reader's system (``auto``), and the theme switch.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import tomllib
from docutils import nodes

ROOT = Path(__file__).resolve().parents[2]


GLOSSARY = "book/glossary"


def jupyter_slug(text: str) -> str:
    """JupyterLab's id for a heading: its text with spaces as hyphens.

    JupyterLab takes the rendered heading's ``textContent``; MyST passes the
    heading's text and inline code without backticks, which is the same text.

    Example:
        >>> jupyter_slug("3.2 Dataset and DataLoader")
        '3.2-Dataset-and-DataLoader'
    """
    return text.replace(" ", "-")


def _glossary_anchors(app, doctree) -> None:
    """Register the glossary's term ids (``term-loss``) as MyST anchors of its page.

    MyST resolves ``[text](page.md#id)`` only to heading slugs and warns
    ``myst.xref_missing`` for any other id; a term is not a heading.
    """
    env = app.env
    if env.docname != GLOSSARY:
        return
    slugs = env.metadata[env.docname].setdefault("myst_slugs", {})
    for term in doctree.findall(nodes.term):
        for term_id in term["ids"]:
            slugs.setdefault(term_id, (term.line, term_id, term.astext()))


def repository_url() -> str:
    """The book's repository, from ``pyproject.toml``: the one place it is written."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


def _repository(app, config) -> None:
    config.html_theme_options["repository_url"] = repository_url()
    config.html_theme_options["use_repository_button"] = True


def _without_thebe(app) -> None:
    """Unhook sphinx-thebe's handlers: no thebe script or configuration is added."""
    for event in ("env-before-read-docs", "doctree-resolved"):
        app.events.listeners[event] = [
            listener
            for listener in app.events.listeners.get(event, [])
            if getattr(listener.handler, "__module__", "") != "sphinx_thebe"
        ]


def _default_mode(app, config) -> None:
    config.html_context.setdefault("default_mode", "auto")


def _chapter_times(app, config) -> None:
    root = Path(app.srcdir)
    bench = root / "book" / "data" / "bench.json"
    results = json.loads(bench.read_text()) if bench.exists() else {}
    measured = results.get("notebooks", {})
    subs = dict(config.myst_substitutions)
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        seconds = measured.get(notebook.stem)
        subs[f"time_{notebook.stem}"] = (
            f"about {seconds:.0f} s" if seconds is not None else "not measured yet"
        )
    total = sum(measured.values())
    subs["time_book"] = f"about {total:.0f} s" if measured else "not measured yet"
    # "Intel(R) Xeon(R) Processor, 2 cores, load 0.6": the CPU, without the load
    machine = results.get("machine", "a 2-core CPU")
    subs["bench_machine"] = machine.split(", load")[0]
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


def _clean_head(app, pagename, templatename, context, doctree) -> None:
    context["css_files"][:] = [
        css
        for css in context.get("css_files", [])
        if "sphinx-thebe" not in getattr(css, "filename", str(css))
    ]
    metatags = context.get("metatags", "")
    context["metatags"] = re.sub(r'<meta name="viewport"[^>]*>\s*', "", metatags)


def setup(app):
    app.connect("config-inited", _repository)
    app.connect("builder-inited", _without_thebe)
    app.connect("config-inited", _default_mode)
    app.connect("config-inited", _chapter_times)
    app.connect("config-inited", _spread)
    app.connect("html-page-context", _clean_head, priority=999)
    app.connect("doctree-read", _glossary_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
