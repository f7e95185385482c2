"""The site's navigation as phone and tablet readers use it.

Below 992 px the chapter list (☰) and the page's contents ("Contents") hide behind
two buttons that open them as panels. With sphinx-book-theme 1.3 and
pydata-sphinx-theme 0.17.1 both buttons opened nothing (pydata/pydata-sphinx-theme
#2451); requirements.txt pins a pair that works, and these tests tap the buttons.
"""

from __future__ import annotations

import pytest

from .conftest import _page

PAGE = "notebooks/03_mlp.html"


@pytest.mark.parametrize("width", [390, 900])
@pytest.mark.parametrize(
    "toggle, panel, shows",
    [
        ("primary", "pst-primary-sidebar-modal", "Chapter 4: Convolutional networks"),
        ("secondary", "pst-secondary-sidebar-modal", "3.4 The training loop"),
    ],
)
def test_menu_buttons_open_their_panels(browser, base_url, width, toggle, panel, shows):
    context, page = _page(browser, base_url, width, 844)
    try:
        page.goto(base_url + PAGE)
        buttons = page.locator(f".{toggle}-toggle")
        visible = [buttons.nth(i) for i in range(buttons.count())]
        visible = [b for b in visible if b.is_visible()]
        assert len(visible) == 1, f"{len(visible)} visible .{toggle}-toggle buttons"
        dialog = page.locator(f"dialog#{panel}")
        assert not dialog.evaluate("d => d.open")
        visible[0].click()
        page.wait_for_function(f"document.getElementById('{panel}').open")
        link = dialog.get_by_text(shows).first
        assert link.is_visible(), f"{shows!r} not visible in the opened {toggle} panel"
        box = link.bounding_box()
        assert 0 <= box["x"] and box["x"] + 20 < width  # on screen, not off to a side
        page.keyboard.press("Escape")
        page.wait_for_function(f"!document.getElementById('{panel}').open")
        assert page.console_errors == []
    finally:
        context.close()


def test_pages_declare_an_icon_that_exists(page, base_url, site):
    requests = []
    page.on("requestfinished", lambda r: requests.append((r.url, r.response().status)))
    page.goto(base_url + PAGE)
    page.wait_for_load_state("load")
    icon = page.locator("link[rel='icon']")
    assert icon.count() == 1
    href = icon.get_attribute("href")
    assert (site / "notebooks" / href).resolve().is_file(), href
    assert not [url for url, status in requests if status >= 400]
