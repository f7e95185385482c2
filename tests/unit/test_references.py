"""The references page and the chapters' citations link to each other.

Each entry of ``book/references.md`` is a heading, the form the chapters cite it by
("Lin et al., 2018"); its id, like a section's, is that text with spaces as
hyphens, and a chapter cites it as
``[Lin et al., 2018](../book/references.md#Lin-et-al.,-2018)``.
The entry's "Cited in:" line links back to every section that cites it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.unit.test_notebooks import NOT_PROSE

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = ROOT / "book" / "references.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted(p for p in (ROOT / "book").glob("*.md") if p != REFERENCES)

# A link to an entry: `../book/references.md#id` from a notebook, `references.md#id`
# from a page of book/.
REF_LINK = re.compile(
    r"\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]"
    r"\((?:\.\./book/)?references\.md(?:#(?P<id>[^)\s]+))?\)"
)
ANY_LINK = re.compile(r"\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]\((?P<url>[^)\s]*)\)")
# Author-year citations: "Lin et al." (with or without a year), "Kingma and Welling,
# 2014", "Kingma & Welling (2014)", "(Karpathy, 2022)", "AlexNet (2012)".
CITATION = re.compile(
    r"\bet al\."
    r"|\b[A-Z][\w'-]+ (?:and|&) [A-Z][\w'-]+,? \(?(?:19|20)\d\d\b"
    r"|\([A-Z][\w'-]+,? (?:19|20)\d\d\)"
    r"|\b[A-Z][\w'-]+ \((?:19|20)\d\d\)"
)
FENCE = re.compile(r"^(```+|~~~+).*?^\1", re.MULTILINE | re.DOTALL)


def slug(title: str) -> str:
    """The id JupyterLab and the site give a heading (book/_ext/dlbook_site.py)."""
    return title.strip().replace("`", "").replace(" ", "-")


def entries() -> dict[str, str]:
    """Each entry's id and its text, in the page's order."""
    parts = re.split(r"^## (.+)$", REFERENCES.read_text(), flags=re.MULTILINE)
    return {slug(title): body for title, body in zip(parts[1::2], parts[2::2])}


def markdown(nb_path: Path) -> list[str]:
    nb = nbformat.read(nb_path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def citations_by_section(nb_path: Path) -> set[tuple[str, str, str]]:
    """(entry id, notebook, id of the `##` section citing it; '' before the first)."""
    found, section = set(), ""
    for source in markdown(nb_path):
        for block in re.split(r"(^#{1,6} .*$)", FENCE.sub("", source), flags=re.M):
            heading = re.match(r"^## (.+)$", block)
            if heading:
                section = slug(heading[1])
            for m in REF_LINK.finditer(block):
                found.add((m["id"], nb_path.name, section))
    return found


def cited_in(body: str) -> set[tuple[str, str]]:
    """The (notebook, section id) pairs an entry's "Cited in:" line links to."""
    line = re.search(r"^Cited in:(.*?)(?:\n\n|\Z)", body, re.MULTILINE | re.DOTALL)
    assert line, "an entry without a 'Cited in:' line"
    links = re.findall(r"\]\(\.\./notebooks/([\w.]+\.ipynb)(?:#([^)\s]+))?\)", line[1])
    return set(links)


def unlinked_citations(source: str) -> list[str]:
    """Author-year citations in markdown that are not the text of a references link."""
    found = []
    for m in ANY_LINK.finditer(source):
        if CITATION.search(" ".join(m["text"].split())) and not REF_LINK.fullmatch(
            m.group()
        ):
            found.append(m.group())
    prose = " ".join(NOT_PROSE.sub(" ", source).split())
    return found + [
        prose[max(m.start() - 30, 0) : m.end()] for m in CITATION.finditer(prose)
    ]


def test_the_citation_detector_finds_each_form():
    link = "[Lin et al., 2018](../book/references.md#Lin-et-al.,-2018)"
    assert unlinked_citations(f"PacGAN ({link}) feeds") == []
    assert (
        unlinked_citations("as [Vaswani et al.](references.md#Vaswani-et-al.,-2017)")
        == []
    )
    for text in (
        "PacGAN (Lin et al., 2018) feeds",
        "Sajjadi et\nal. (2018) measure",
        "MolGAN (De Cao and Kipf, 2018)",
        "Kingma & Welling (2014)",
        "nanoGPT (Karpathy, 2022)",
        "since AlexNet (2012)",
        "[Lin et al., 2018](https://arxiv.org/abs/1712.04086)",
    ):
        assert unlinked_citations(text), text
    assert unlinked_citations("`Lin et al.` in code, $x (2018)$ in math") == []


def test_entries_are_sorted_by_first_author():
    titles = re.findall(r"^## (.+)$", REFERENCES.read_text(), re.MULTILINE)
    assert len(titles) >= 20
    expected = sorted(titles, key=str.casefold)
    moved = [t for t, e in zip(titles, expected) if t != e]
    assert not moved, f"entries out of alphabetical order: {moved}"


def test_every_entry_gives_authors_year_title_and_cited_in():
    for entry_id, body in entries().items():
        year = entry_id.rsplit("-", 1)[-1]
        assert re.search(rf"\w\s\({year}\)\.\s+\S", body), f"{entry_id}: no ({year})."
        assert cited_in(body), f"{entry_id}: 'Cited in:' links no section"


def test_every_link_to_the_references_names_an_entry():
    ids = set(entries())
    broken = [
        f"{path.name}: {m.group()}"
        for path in [*NOTEBOOKS, *PAGES]
        for source in (
            markdown(path) if path.suffix == ".ipynb" else [path.read_text()]
        )
        for m in REF_LINK.finditer(source)
        if m["id"] is not None and m["id"] not in ids
    ]
    assert not broken, f"no entry in book/references.md with these ids: {broken}"


def test_every_entry_is_cited_and_lists_the_sections_that_cite_it():
    """'Cited in:' names exactly the chapter sections that link to the entry."""
    cited = set().union(*(citations_by_section(p) for p in NOTEBOOKS))
    page_links = {
        m["id"] for p in PAGES for m in REF_LINK.finditer(p.read_text()) if m["id"]
    }
    for entry_id, body in entries().items():
        sections = {(nb, sec) for eid, nb, sec in cited if eid == entry_id}
        assert sections or entry_id in page_links, f"{entry_id}: nothing cites it"
        assert cited_in(body) == sections, (
            f"{entry_id}: 'Cited in:' links {sorted(cited_in(body))}, "
            f"but these sections cite it: {sorted(sections)}"
        )


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_citation_in_a_chapter_is_left_unlinked(nb_path):
    unlinked = [c for s in markdown(nb_path) for c in unlinked_citations(s)]
    assert not unlinked, f"link these to book/references.md: {unlinked}"
