"""Every chapter keeps the book's conventions (CONTRIBUTING.md)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The repository URL is written once, in pyproject.toml (the site reads it too);
# every notebook's Colab link and install line must agree with it.
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"][
    "Repository"
]
GITHUB = REPOSITORY.removeprefix("https://github.com/")
COLAB = f"https://colab.research.google.com/github/{GITHUB}/blob/main/notebooks/"
# The install line stays inside the 80-column code (the URL sits in its own line).
BOOTSTRAP = f'''BOOK = "git+{REPOSITORY}"
if importlib.util.find_spec("dlbook") is None:
    %pip install -q "dlbook @ {{BOOK}}"'''


def load(path: Path):
    return nbformat.read(path, as_version=4)


def text(nb, kind: str) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == kind)


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb_path(request) -> Path:
    return request.param


def test_every_notebook_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    listed = set(re.findall(r"file: (notebooks/\S+)", toc))
    assert {f"notebooks/{p.stem}" for p in NOTEBOOKS} == listed
    assert yaml.safe_load(toc)["root"] == "book/intro"


def test_the_repository_is_on_github():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPOSITORY)


def test_opening_title_colab_link_and_goals(nb_path):
    first = load(nb_path).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# Chapter ")
    assert f"[Open in Colab]({COLAB}{nb_path.name})" in first.source
    assert re.search(r"learning goals", first.source, re.IGNORECASE)


def test_no_image_is_loaded_from_another_host(nb_path):
    images = re.findall(r"!\[[^\]]*\]\((\S+?)\)", text(load(nb_path), "markdown"))
    assert not [src for src in images if re.match(r"https?://", src)]


def test_bootstrap_cell_installs_dlbook_only_when_missing(nb_path):
    cell = load(nb_path).cells[1]
    assert cell.cell_type == "code" and BOOTSTRAP in cell.source
    pip_lines = [line for line in cell.source.splitlines() if "pip" in line]
    assert pip_lines == [BOOTSTRAP.splitlines()[2]], "install dlbook alone, never torch"
    assert max(map(len, cell.source.splitlines())) <= 80


def test_setup_cell_seeds_and_uses_one_thread(nb_path):
    setup = load(nb_path).cells[2].source
    for needle in ("set_seed(", "torch.set_num_threads(1)", "get_device()"):
        assert needle in setup, f"setup cell lacks {needle}"


def test_ends_with_summary_exercises_solutions_and_self_check(nb_path):
    nb = load(nb_path)
    markdown = text(nb, "markdown")
    assert re.search(r"^#+ .*Summary", markdown, re.MULTILINE)
    assert re.search(r"^#+ .*Exercises", markdown, re.MULTILINE)
    solutions = markdown.count(":class: dropdown") + sum(
        "hide-input" in c.metadata.get("tags", []) for c in nb.cells
    )
    assert solutions >= 3, "at least 3 exercises with folded solutions"
    assert any("assert " in c.source for c in nb.cells[-3:] if c.cell_type == "code")


def test_notebooks_are_stored_executed_without_errors(nb_path):
    for cell in load(nb_path).cells:
        if cell.cell_type != "code" or "skip-execution" in cell.metadata.get(
            "tags", []
        ):
            continue
        assert cell.execution_count is not None, f"unexecuted cell: {cell.source[:80]}"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" not in cell.metadata.get("tags", []):
            assert not errors, f"stored error in: {cell.source[:80]}"


def test_stored_explorers_carry_the_current_script(nb_path):
    # The site serves a notebook's stored output: an explorer stored before the
    # last change to explorer.js would show the old behaviour until re-executed.
    script = (ROOT / "dlbook" / "explore" / "explorer.js").read_text()
    for cell in load(nb_path).cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            for uid in re.findall(r'class="dlbook-explorer" id="([\w-]+)"', html):
                assert script.replace("__ID__", uid) in html, (
                    f"re-run `make execute NB={nb_path.relative_to(ROOT)}`: its "
                    f"explorer ({cell.source[:60]!r}) has an older explorer.js"
                )


def test_widget_outputs_are_excluded_from_nbval(nb_path):
    for cell in load(nb_path).cells:
        for out in cell.get("outputs", []):
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {}):
                assert "nbval-ignore-output" in cell.metadata.get("tags", [])


def test_cells_skipped_by_the_build_are_skipped_by_nbval_too(nb_path):
    # nbval ignores `skip-execution` (myst-nb's and nbclient's tag): without
    # `nbval-skip` such a cell runs under nbval, with nothing stored to compare.
    for cell in load(nb_path).cells:
        tags = cell.metadata.get("tags", [])
        if "skip-execution" in tags:
            assert "nbval-skip" in tags, f"add nbval-skip to: {cell.source[:80]}"


def test_every_link_to_the_book_repository_agrees_with_pyproject():
    """A copy of the URL anywhere else (a renamed organisation, a fork) fails here."""
    owner, name = GITHUB.split("/")
    files = [*NOTEBOOKS, *ROOT.glob("book/*.md"), ROOT / "README.md"]
    files += [ROOT / "CONTRIBUTING.md", *ROOT.glob("tests/**/*.py")]
    found = {}
    for path in files:
        for repo in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", path.read_text()):
            repo = repo.removesuffix(".git")
            if repo.split("/")[0] == owner or repo.split("/")[1] == name:
                found.setdefault(repo, set()).add(path.name)
    assert set(found) == {GITHUB}, found


# Markdown that is not prose: fenced code, headings, inline code, math, links.
NOT_PROSE = re.compile(
    r"^(?P<fence>```+|~~~+).*?^(?P=fence)|^#{1,6} .*?$|(?P<tick>`+).+?(?P=tick)"
    r"|\$\$.*?\$\$|\$[^$\n]+\$|\[(?:[^\[\]]|\[[^\]]*\])*\]\([^)\s]*\)",
    re.MULTILINE | re.DOTALL,
)
LINK = re.compile(r"\]\((?P<file>[\w.]*\.ipynb)?(?:#(?P<fragment>[^)\s]+))?\)")


def jupyter_heading_ids(nb) -> set[str]:
    """JupyterLab's ids for a notebook's headings: the text, spaces as hyphens."""
    ids = set()
    for source in (c.source for c in nb.cells if c.cell_type == "markdown"):
        source = re.sub(r"^(```+|~~~+).*?^\1", "", source, flags=re.M | re.S)
        for title in re.findall(r"^#{1,6} (.+)$", source, re.MULTILINE):
            ids.add(title.strip().replace("`", "").replace(" ", "-"))
    return ids


def test_section_references_are_links(nb_path):
    """'section 4.3' in a chapter's prose is a link to it (CONTRIBUTING.md)."""
    prose = NOT_PROSE.sub("", text(load(nb_path), "markdown"))
    plain = re.findall(r"\b[Ss]ections?\s+\d+\.\d+", prose)
    assert not plain, f"link these to their sections: {plain}"


def test_links_to_sections_name_a_heading_jupyterlab_knows(nb_path):
    """A link's #fragment is the id JupyterLab gives the heading it names."""
    broken = []
    for m in LINK.finditer(text(load(nb_path), "markdown")):
        if m["fragment"] is None:
            continue
        target = ROOT / "notebooks" / (m["file"] or nb_path.name)
        if not target.exists() or m["fragment"] not in jupyter_heading_ids(
            load(target)
        ):
            broken.append(m.group())
    assert not broken, f"no heading with these ids: {broken}"
