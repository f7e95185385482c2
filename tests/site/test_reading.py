"""The site as phone and dark-mode readers see it: figure text size, themes.

A notebook's PNG figure is drawn at its dpi (in the file's pHYs chunk, 100 for the
book's figures), so 10-point labels are ``10 / 72 * dpi`` px tall at full size;
``book/_static/dlbook.js`` keeps figures from shrinking below 55% on a phone, and
the output scrolls sideways instead of the page.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from .conftest import _page

CHAPTERS = ["02_activations_and_losses", "04_cnn", "06_gan"]
SMALLEST_LABEL_PX = 7.0  # 10-point tick labels at 55% of 100 dpi: 7.6 px


def png_dpi(path: Path) -> float:
    """The dpi in a PNG's pHYs chunk (pixels per metre), else 72 (no chunk)."""
    data = path.read_bytes()
    at = data.find(b"pHYs")
    if at < 0:
        return 72.0
    per_metre, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
    return per_metre * 0.0254 if unit == 1 else 72.0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figure_labels_stay_readable_on_a_phone(phone_page, base_url, site, chapter):
    phone_page.goto(f"{base_url}notebooks/{chapter}.html")
    phone_page.wait_for_load_state("load")
    figures = phone_page.eval_on_selector_all(
        "div.cell_output img",
        """imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth,
                               i.getBoundingClientRect().width])""",
    )
    assert figures, f"no figures on {chapter}"
    for src, natural, shown in figures:
        dpi = png_dpi((site / "notebooks" / src).resolve())
        label = 10 / 72 * dpi * shown / natural
        assert label >= SMALLEST_LABEL_PX, f"{src}: 10-pt labels {label:.1f} px tall"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_site_follows_the_system_theme(browser, base_url, scheme):
    context, page = _page(browser, base_url, 1280, 900)
    try:
        page.emulate_media(color_scheme=scheme)
        page.goto(base_url + "notebooks/03_mlp.html")
        page.wait_for_selector(".dlbook-explorer[data-drawn]", timeout=30_000)
        assert page.get_attribute("html", "data-theme") == scheme
        box = page.locator(".dlbook-explorer").first
        assert box.get_attribute("data-theme") == scheme
        paper = box.locator(".main-svg").first.evaluate(
            "svg => getComputedStyle(svg).backgroundColor"
        )
        dark_paper = paper not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
        assert dark_paper == (scheme == "dark"), paper
        figure = page.locator("div.cell_output img").first
        assert figure.evaluate("i => getComputedStyle(i).filter") == "none"
        assert page.console_errors == []
    finally:
        context.close()


def test_the_theme_switch_restyles_the_explorer(page, base_url):
    page.emulate_media(color_scheme="light")
    page.goto(base_url + "notebooks/03_mlp.html")
    page.wait_for_selector(".dlbook-explorer[data-drawn]", timeout=30_000)
    box = page.locator(".dlbook-explorer").first
    assert box.get_attribute("data-theme") == "light"
    switch = page.locator(".theme-switch-button:visible").first
    for _ in range(3):  # the switch cycles through light, dark and the system's
        switch.click()
        if page.get_attribute("html", "data-theme") == "dark":
            break
    assert page.get_attribute("html", "data-theme") == "dark"
    page.wait_for_function(
        "document.querySelector('.dlbook-explorer').dataset.theme === 'dark'"
    )
    assert page.console_errors == []


def test_no_code_cell_is_wider_than_the_column(page, base_url, site):
    """The notebooks' 80-column code fits the column at 1280 px: no input cell
    scrolls sideways (notebooks/ruff.toml keeps lines at 80)."""
    for path in sorted((site / "notebooks").glob("*.html")):
        page.goto(f"{base_url}notebooks/{path.name}")
        wide = page.eval_on_selector_all(
            "div.cell_input pre",
            "pres => pres.filter(p => p.scrollWidth > p.clientWidth + 1)"
            ".map(p => p.textContent.split('\\n')"
            ".sort((a, b) => b.length - a.length)[0])",
        )
        assert wide == [], f"{path.name}: {len(wide)} cells scroll, e.g. {wide[:2]}"
