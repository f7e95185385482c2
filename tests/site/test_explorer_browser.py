"""Explorers on the built site work in a real browser, with no kernel and no network.

For every built page with a ``dlbook.explore`` figure: the figure draws with the
site's own plotly.js; moving its slider and choosing another dropdown entry
changes the plotted curve and the title; the console stays free of errors. A
screenshot of each page's first explorer is saved under ``_build/``.
"""

from __future__ import annotations

from pathlib import Path

MARKER = 'class="dlbook-explorer"'
STATE = """box => {
    const gd = box.querySelector(".dlbook-explorer-plot");
    return {
        point: box.getAttribute("data-point"),
        y: gd.data.map(trace => Array.from(trace.y || [])),
        title: gd.querySelector(".gtitle").textContent,
    };
}"""

CONTROLS = """box => {
    const layout = box.querySelector(".dlbook-explorer-plot")._fullLayout;
    const first = (items, key) => items.length > 0 && items[0][key].length > 1;
    return [first(layout.sliders, "steps"), first(layout.updatemenus, "buttons")];
}"""


def explorer_pages(site: Path) -> list[Path]:
    return sorted(
        path
        for path in site.rglob("*.html")
        if "_static" not in path.parts and MARKER in path.read_text(encoding="utf-8")
    )


def changed(box, before: dict, page) -> dict:
    """Wait until the explorer shows another point; return its new state."""
    page.wait_for_function(
        "([box, point]) => box.getAttribute('data-point') !== point",
        arg=[box.element_handle(), before["point"]],
        timeout=10_000,
    )
    after = box.evaluate(STATE)
    assert after["y"] != before["y"], "the curves did not change"
    assert after["title"] != before["title"], "the title did not change"
    return after


def move_slider(box, page) -> None:
    """Click the far end of the first slider's rail (the near end if it is there)."""
    rail = box.locator(".slider-container .slider-rail-touch-rect").first
    active = box.evaluate(
        "b => { const s = b.querySelector('.dlbook-explorer-plot')._fullLayout"
        ".sliders[0]; return s.active === s.steps.length - 1; }"
    )
    bounds = rail.bounding_box()
    x = bounds["x"] + bounds["width"] * (0.02 if active else 0.98)
    page.mouse.click(x, bounds["y"] + bounds["height"] / 2)


def pick_other_entry(box, page) -> None:
    """Open the first dropdown and choose an entry other than the current one."""
    box.locator(".updatemenu-header-group").first.click()
    active = box.evaluate(
        "b => b.querySelector('.dlbook-explorer-plot')._fullLayout"
        ".updatemenus[0].active"
    )
    box.locator(".updatemenu-dropdown-button").nth(1 if active == 0 else 0).click()


def test_explorers_switch_runs_in_the_browser(site, base_url, page):
    pages = explorer_pages(site)
    assert pages, f"no built page in {site} contains a dlbook.explore figure"
    for path in pages:
        page.goto(base_url + path.relative_to(site).as_posix())
        boxes = page.locator(".dlbook-explorer")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            box.scroll_into_view_if_needed()
            page.wait_for_function(
                "b => b.hasAttribute('data-drawn')", arg=box.element_handle()
            )
            state = box.evaluate(STATE)
            sliders, menus = box.evaluate(CONTROLS)
            if sliders:
                move_slider(box, page)
                state = changed(box, state, page)
            if menus:
                pick_other_entry(box, page)
                state = changed(box, state, page)
            assert sliders or menus, f"{path.name}: an explorer without controls"
            if i == 0:
                page.wait_for_timeout(600)  # let the dropdown finish closing
                shot = site.parent / f"explorer-{path.stem}.png"
                box.screenshot(path=str(shot))
        assert page.console_errors == [], f"{path.name}: {page.console_errors}"
