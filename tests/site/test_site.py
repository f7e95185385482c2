"""Checks of the built website: every chapter built, no errors, math typeset, links."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

from .conftest import ROOT, SITE

RAW_LATEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac\{")


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def html_pages() -> list[Path]:
    return sorted(p for p in SITE.rglob("*.html") if "_static" not in p.parts)


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("entry", toc_files())
def test_every_toc_entry_is_built(site, entry):
    assert (site / f"{entry}.html").is_file(), f"_toc.yml entry {entry} was not built"


def test_chapter_pages_carry_a_colab_launch_button(site):
    for entry in toc_files():
        if entry.startswith("notebooks/"):
            html = (site / f"{entry}.html").read_text(encoding="utf-8")
            assert "colab.research.google.com/github/" in html, entry


@pytest.mark.parametrize("path", html_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_no_error_output_outside_cells_meant_to_fail(path):
    for out in soup(path).select("div.output.traceback, div.output.error"):
        cell = out.find_parent("div", class_="cell")
        tags = cell.get("class", []) if cell else []
        assert "tag_raises-exception" in tags, (
            f"{path.name}: error output in a cell not tagged raises-exception:\n"
            f"{out.get_text()[:500]}"
        )


def _local_target(page: Path, ref: str) -> tuple[Path, str] | None:
    if not ref or ref.startswith(("mailto:", "javascript:", "data:")):
        return None
    if urlparse(ref).scheme or ref.startswith("//"):
        return None  # external: not checked offline
    url, fragment = urldefrag(ref)
    url = urlparse(url).path  # drop ?v=digest cache busters
    target = (page.parent / unquote(url)).resolve() if url else page
    if target.is_dir():
        target = target / "index.html"
    return target, fragment


@pytest.mark.parametrize("path", html_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_internal_links_and_assets_resolve(path):
    doc = soup(path)
    refs = [a.get("href") for a in doc.find_all(["a", "link"])]
    refs += [tag.get("src") for tag in doc.find_all(["img", "script"])]
    broken = []
    for ref in filter(None, refs):
        found = _local_target(path, ref)
        if found is None:
            continue
        target, fragment = found
        if not target.exists():
            broken.append(ref)
        elif fragment and target.suffix == ".html":
            ids = {t.get("id") for t in soup(target).find_all(id=True)}
            if fragment not in ids:
                broken.append(ref)
    assert not broken, f"{path.name}: broken internal links {broken}"


def test_glossary_entries_link_to_the_section_that_explains_them(site):
    """At most a handful of entries (a term explained in a chapter's opening, before
    its first section) link only to chapter tops."""
    glossary = soup(site / "book" / "glossary.html")
    tops = []
    for term in glossary.select("dl.glossary > dt"):
        links = [
            a["href"]
            for a in term.find_next_sibling("dd").find_all("a", href=True)
            if "notebooks/" in a["href"]
        ]
        if not any(urldefrag(href).fragment for href in links):
            tops.append(term.get_text().strip())
    assert len(glossary.select("dl.glossary > dt")) >= 80
    assert len(tops) <= 4, f"entries with no link to a section: {tops}"


@pytest.mark.parametrize(
    "entry", [e for e in toc_files() if e.startswith("notebooks/")]
)
def test_chapters_link_their_terms_to_the_glossary(site, entry):
    article = soup(site / f"{entry}.html").select_one("article")
    terms = {
        urldefrag(a["href"]).fragment
        for a in article.find_all("a", href=True)
        if urldefrag(a["href"]).url.endswith("book/glossary.html")
    }
    assert len(terms) >= 15, f"{entry} links {len(terms)} glossary terms"
    assert all(t.startswith("term-") for t in terms), terms


def test_no_cdn_is_referenced(site):
    for path in html_pages():
        for tag in soup(path).find_all(["script", "link"]):
            ref = tag.get("src") or tag.get("href") or ""
            if tag.name == "link" and "stylesheet" not in tag.get("rel", []):
                continue
            assert not urlparse(ref).scheme, f"{path.name} loads {ref} from off-site"


@pytest.mark.parametrize("path", html_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_math_is_typeset_in_the_browser(page, base_url, path):
    page.goto(base_url + str(path.relative_to(SITE)), wait_until="load")
    if page.locator("script[src*=mathjax]").count():
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
            timeout=20_000,
        )
        page.evaluate("() => MathJax.startup.promise")
    text = page.inner_text("body")
    leftover = RAW_LATEX.findall(text)
    assert not leftover, (
        f"{path.name}: raw LaTeX left after typesetting: {leftover[:5]}"
    )
    assert not page.console_errors, f"{path.name}: {page.console_errors}"


@pytest.mark.parametrize(
    "path",
    [p for p in html_pages() if p != SITE / "index.html"],  # that one redirects
    ids=lambda p: str(p.relative_to(SITE)),
)
def test_no_page_scrolls_sideways_on_a_phone(phone_page, base_url, path):
    # Wide tables, code and equations may scroll inside their own boxes; the page
    # itself must fit a 390-pixel screen (a long inline code name in a heading
    # once made a whole chapter scroll sideways).
    phone_page.goto(base_url + str(path.relative_to(SITE)), wait_until="load")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path.name} is {width} px wide on a 390 px screen"


def test_chapter_one_shows_typeset_math_offline(page, base_url):
    page.goto(base_url + "notebooks/01_concepts.html", wait_until="load")
    page.wait_for_selector("mjx-container", timeout=20_000)
    count = page.locator("article mjx-container").count()
    assert count >= 5, f"expected typeset formulas in chapter 1, found {count}"
    page.screenshot(path=str(SITE.parent / "chapter1.png"))
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("path", html_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_every_figure_has_alt_text(path):
    """Notebook figures carry the alt text of their cell's ``mystnb.image.alt``;
    without it Sphinx writes the image's file name, which says nothing."""
    missing = [
        img.get("src")
        for img in soup(path).select("div.cell_output img")
        if not (img.get("alt") or "").strip()
        or img.get("alt") == img.get("src")
        or (img.get("alt") or "").endswith(".png")
    ]
    assert not missing, f"{path.name}: figures without alt text {missing}"


@pytest.mark.parametrize("path", html_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_no_build_machine_path_in_a_page(path):
    """Outputs (tracebacks, warnings, messages) name no folder of the machine that
    executed the notebooks."""
    text = soup(path).get_text()
    found = re.findall(
        r"(?:/tmp/|/work/|/root/|/home/\w+|site-packages|\.venv/)\S*", text
    )
    assert not found, f"{path.name}: build-machine paths {found[:3]}"
