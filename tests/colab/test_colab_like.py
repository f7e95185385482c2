"""A Colab-like environment: only torch, numpy, matplotlib, ipywidgets 7 and a kernel.

Colab ships its own torch and a Jupyter kernel; a chapter's first code cell then
installs ``dlbook`` with pip. This test builds such an environment from scratch,
points the bootstrap cell at this checkout instead of GitHub (no network here),
executes every chapter with live explorers (no ``DLBOOK_BUILD``), and checks that
each ran with ``dlbook``'s declared dependencies alone and that torch was not
reinstalled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
# Every chapter, or those named (space-separated paths) in DLBOOK_COLAB_CHAPTERS.
CHAPTERS = [
    ROOT / p
    for p in os.environ.get("DLBOOK_COLAB_CHAPTERS", "").split()
    or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.ipynb"))
]
COLAB_PACKAGES = [
    "torch==2.13.0",
    "numpy",
    "matplotlib",
    "ipywidgets==7.7.1",  # the version Colab ships; dlbook must work with it
    "ipykernel",
    "nbclient",
]
# The install URL the chapters' first cell uses, from the one place it is written.
GITHUB = (
    "git+"
    + tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"][
        "Repository"
    ]
)


def run(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    # never from the checkout, where ./dlbook would import without being installed
    kwargs.setdefault("cwd", tempfile.gettempdir())
    out = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def colab_python(tmp_path_factory) -> Path:
    env_dir = tmp_path_factory.mktemp("colab") / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(str(python), "-m", "pip", "install", "-q", *COLAB_PACKAGES)
    return python


def torch_fingerprint(python: Path) -> str:
    code = (
        "import torch, os; print(torch.__version__, os.stat(torch.__file__).st_mtime)"
    )
    return run(str(python), "-c", code).stdout.strip()


def prepare(chapter: Path, folder: Path) -> Path:
    """A copy of ``chapter`` whose bootstrap cell installs from this checkout."""
    nb = nbformat.read(chapter, as_version=4)
    bootstrap = nb.cells[1].source
    assert GITHUB in bootstrap, f"{chapter.name}: cell 2 must be the Colab bootstrap"
    nb.cells[1].source = bootstrap.replace(GITHUB, ROOT.as_uri())
    folder.mkdir(parents=True, exist_ok=True)
    notebook = folder / chapter.name
    nbformat.write(nb, notebook)
    return notebook


def execute(python: Path, notebook: Path) -> str:
    """Run ``notebook`` like Colab does (live explorers, no DLBOOK_* settings);
    return the problems found: a failed run, or error outputs in cells that are
    not meant to raise. Empty when the chapter ran."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLBOOK_")}
    env |= {"TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    # pip caches the wheel it builds from a local folder under the folder's URL:
    # a stale one (an older checkout at the same path) would be installed instead
    # of this checkout. Colab has no such cache either.
    env["PIP_NO_CACHE_DIR"] = "1"
    env["PATH"] = f"{python.parent}:{env['PATH']}"
    folder = notebook.parent
    code = (
        "import sys, nbformat; from nbclient import NotebookClient;"
        f"nb = nbformat.read({str(notebook)!r}, as_version=4);"
        "NotebookClient(nb, timeout=600, kernel_name='python3',"
        f" resources={{'metadata': {{'path': {str(folder)!r}}}}}).execute();"
        f"nbformat.write(nb, {str(notebook)!r})"
    )
    out = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=env, cwd=folder
    )
    if out.returncode != 0:
        return f"{notebook.name} failed:\n{out.stderr[-3000:]}"
    executed = nbformat.read(notebook, as_version=4)
    errors = [
        o
        for c in executed.cells
        for o in c.get("outputs", [])
        if o.output_type == "error"
        and "raises-exception" not in c.metadata.get("tags", [])
    ]
    return json.dumps(errors, indent=1)[:2000] if errors else ""


@pytest.fixture(scope="module")
def first_chapter(colab_python, tmp_path_factory) -> tuple[str, str]:
    """Chapter 1 on a fresh Colab-like runtime: its bootstrap installs dlbook.
    Returns the torch fingerprint from before, and the problems found."""
    before = torch_fingerprint(colab_python)
    missing = run(
        str(colab_python),
        "-c",
        "import importlib.util as u; print(u.find_spec('dlbook') is None)",
    )
    assert missing.stdout.strip() == "True", "dlbook must start uninstalled"
    folder = tmp_path_factory.mktemp("first")
    return before, execute(colab_python, prepare(CHAPTERS[0], folder))


def test_bootstrap_installs_dlbook_and_keeps_colabs_packages(
    colab_python, first_chapter
):
    before, problems = first_chapter
    assert not problems, problems
    installed = run(str(colab_python), "-m", "pip", "show", "dlbook").stdout
    assert "Name: dlbook" in installed, "the bootstrap cell did not install dlbook"
    assert torch_fingerprint(colab_python) == before, "torch was reinstalled"
    widgets = run(str(colab_python), "-m", "pip", "show", "ipywidgets").stdout
    assert "Version: 7.7.1" in widgets, "installing dlbook upgraded Colab's ipywidgets"


@pytest.fixture(scope="module")
def other_chapters(colab_python, first_chapter, tmp_path_factory) -> dict[str, str]:
    """Every other chapter, two at a time (2 cores), once dlbook is installed."""
    folder = tmp_path_factory.mktemp("chapters")
    notebooks = [prepare(c, folder / c.stem) for c in CHAPTERS[1:]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = pool.map(lambda nb: execute(colab_python, nb), notebooks)
        return {nb.stem: p for nb, p in zip(notebooks, problems)}


@pytest.mark.parametrize("chapter", [c.stem for c in CHAPTERS[1:]])
def test_chapter_runs_with_dlbooks_dependencies_alone(other_chapters, chapter):
    assert not other_chapters[chapter], other_chapters[chapter]


def test_ddp_script_runs_from_the_installed_package(colab_python, tmp_path):
    # Chapter 8 launches dlbook.ddp_train with torchrun: on Colab there is no
    # checkout, so the script must come with the pip-installed package.
    has_dlbook = "import importlib.util as u; print(u.find_spec('dlbook') is not None)"
    if run(str(colab_python), "-c", has_dlbook).stdout.strip() != "True":
        run(
            str(colab_python), "-m", "pip", "install", "-q", "--no-cache-dir", str(ROOT)
        )
    data_file = str(tmp_path / "d.pt")
    make_data = (
        "import torch; g = torch.Generator().manual_seed(0);"
        "torch.save({'X_train': torch.randn(40, 64, generator=g),"
        " 'y_train': torch.randint(0, 10, (40,), generator=g),"
        " 'X_val': torch.randn(8, 64, generator=g),"
        f" 'y_val': torch.randint(0, 10, (8,), generator=g)}}, {data_file!r})"
    )
    run(str(colab_python), "-c", make_data)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    out = run(
        str(colab_python),
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "dlbook.ddp_train",
        "--epochs=1",
        f"--data={data_file}",
        env=env,
        cwd=tmp_path,
    ).stdout.splitlines()
    for rank in (0, 1):
        assert f"[rank {rank}] max weight difference to other ranks: 0.0" in out


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
