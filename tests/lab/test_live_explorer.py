"""Live explorers in JupyterLab itself: controls, keys, a saved-and-reopened notebook.

A tiny notebook with both ready explorers (small grids) runs in a real
JupyterLab in headless Chromium. Moving the slider and each choice control
redraws the figure; keys typed on a focused control move it and never reach
the notebook's shortcuts (arrows move the cell selection, ``r``/``m`` change
the cell type); after saving, shutting the kernel down and reopening, no
"Error displaying widget" line is left. Run it with
``.venv/bin/pytest -q tests/lab`` (about a minute).
"""

from __future__ import annotations

import json

import nbformat

CELLS = [
    "import torch\nfrom dlbook import explore_activation_depth, explore_lr_activation"
    "\n\ntorch.set_num_threads(1)",
    'explore_lr_activation(lrs=(0.1, 1.0), activations=("relu", "tanh"), num_epochs=2)',
    'explore_activation_depth(activations=("relu", "sigmoid"), depths=(1, 4))',
    # fit's progress bar, as a reader sees it: text, so nothing to lose on reopening
    "from torch import nn\nfrom dlbook import fit\nmodel = nn.Linear(4, 2)\n"
    "batches = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]\n"
    "history = fit(model, batches, batches, nn.CrossEntropyLoss(),\n"
    "              torch.optim.SGD(model.parameters(), lr=0.1), 3, progress=True)",
]
ACTIVE = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'))
    .findIndex(c => c.classList.contains('jp-mod-active'))"""
CELL_TYPES = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'))
    .map(c => c.classList.contains('jp-CodeCell') ? 'code' : 'other')"""


def write_notebook(path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)


def open_notebook(context, lab, name: str):
    page = context.new_page()
    page.goto(f"{lab.url}lab/tree/{name}?token={lab.token}")
    page.wait_for_function(
        "window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
        timeout=60_000,
    )
    return page


def cells_of(page):
    return page.locator(".jp-Notebook .jp-Cell")


def figure(cell) -> str:
    """The src of the explorer's figure in ``cell``."""
    return cell.locator("img.widget-image").get_attribute("src")


def redrawn(page, cell, before: str) -> str:
    """Wait until ``cell``'s figure is another image; return it."""
    page.wait_for_function(
        "([img, src]) => img.getAttribute('src') !== src",
        arg=[cell.locator("img.widget-image").element_handle(), before],
        timeout=30_000,
    )
    return figure(cell)


def test_live_explorers_in_jupyterlab(lab, lab_context):
    write_notebook(lab.root / "explorers.ipynb")
    page = open_notebook(lab_context, lab, "explorers.ipynb")
    page.wait_for_function(
        "jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel",
        timeout=60_000,
    )
    page.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")
    cells = cells_of(page)
    for i in (1, 2):
        cells.nth(i).locator(".widget-toggle-buttons").wait_for(timeout=90_000)
        cells.nth(i).locator("img.widget-image").wait_for(timeout=90_000)
    types = page.evaluate(CELL_TYPES)

    for i in (1, 2):
        cell = cells.nth(i)
        # The slider, by the keyboard: arrows move it, not the cell selection.
        handle = cell.locator(".widget-slider .noUi-handle").first
        handle.focus()
        active, before = page.evaluate(ACTIVE), figure(cell)
        page.keyboard.press("ArrowRight")
        before = redrawn(page, cell, before)
        page.keyboard.press("ArrowDown")  # noUiSlider: down steps back
        before = redrawn(page, cell, before)
        assert page.evaluate(ACTIVE) == active, "an arrow key moved the cell"
        # Every choice of the toggle buttons, by the mouse.
        buttons = cell.locator(".widget-toggle-buttons button")
        for k in range(buttons.count()):
            if "mod-active" not in (buttons.nth(k).get_attribute("class") or ""):
                buttons.nth(k).click()
                before = redrawn(page, cell, before)
        # Command-mode keys typed on a focused control stay with it.
        for control in (buttons.first, handle):
            control.focus()
            for key in ("r", "m", "ArrowUp", "ArrowLeft"):
                page.keyboard.press(key)
            page.wait_for_timeout(300)
            assert page.evaluate(CELL_TYPES) == types, f"a key changed cell {i}'s type"
            assert page.evaluate(ACTIVE) == active
    text = page.locator(".jp-Notebook").inner_text()
    assert "Error" not in text and "drawn in" in text, text
    page.screenshot(path=str(lab.root.parent / "live.png"), full_page=True)

    # Saved, the kernel shut down, reopened: the figures and no widget errors.
    page.evaluate("jupyterapp.commands.execute('docmanager:save')")
    path = lab.root / "explorers.ipynb"
    page.wait_for_function(
        "() => !jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    saved = json.loads(path.read_text())["cells"]
    outputs = saved[1]["outputs"]
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"]
    assert "data:image/png" in "".join(outputs[1]["data"]["text/html"])
    assert "widget-view" not in json.dumps(saved[3]["outputs"])  # fit's bar: text
    page.close()
    for kernel in json.loads(lab.api("GET", "kernels")):
        lab.api("DELETE", f"kernels/{kernel['id']}")
    page = open_notebook(lab_context, lab, "explorers.ipynb")
    page.wait_for_function(
        "document.querySelectorAll('.jp-Notebook .dlbook-explorer-note').length == 2",
        timeout=60_000,
    )
    text = page.locator("body").inner_text()
    assert "Error displaying widget" not in text and "model not found" not in text
    for i in (1, 2):  # the explorer's first figure instead
        assert cells_of(page).nth(i).locator("img.dlbook-explorer-first").is_visible()
    page.screenshot(path=str(lab.root.parent / "reopened.png"), full_page=True)
    page.close()
