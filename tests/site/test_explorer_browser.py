"""Explorers on the built site work in a real browser, with no kernel and no network.

For every built page with a ``dlbook.explore`` figure: the figure draws with the
site's own plotly.js; moving its slider and choosing another button changes the
plotted curves (or pictures) and the title, and so do the arrow keys on the focused
figure; the console stays free of errors. On a phone-sized screen the panels stack,
the controls sit just above the first one, and the figure fits the screen.
Screenshots of each page's first explorer are saved under ``_build/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

MARKER = 'class="dlbook-explorer"'
STATE = """box => {
    const gd = box.querySelector(".dlbook-explorer-plot");
    return {
        point: box.getAttribute("data-point"),
        y: gd.data.map(trace => Array.from(trace.y || [])),
        images: (gd.layout.images || []).map(image => image.source),
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
    moved = after["y"] != before["y"] or after["images"] != before["images"]
    assert moved, "neither the curves nor the pictures changed"
    assert after["title"] != before["title"], "the title did not change"
    return after


def drawn(box, page):
    """The explorer ``box``, in view, once its figure is drawn."""
    box.scroll_into_view_if_needed()
    page.wait_for_function(
        "b => b.hasAttribute('data-drawn')", arg=box.element_handle()
    )
    return box


def first_explorer(page, base_url: str, site: Path, path: Path):
    page.goto(base_url + path.relative_to(site).as_posix())
    return drawn(page.locator(".dlbook-explorer").first, page)


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
    """Click a button of the first row of choices other than the active one."""
    active = box.evaluate(
        "b => b.querySelector('.dlbook-explorer-plot')._fullLayout"
        ".updatemenus[0].active"
    )
    box.locator(".updatemenu-button").nth(1 if active == 0 else 0).click()


def test_explorers_switch_runs_in_the_browser(site, base_url, page):
    pages = explorer_pages(site)
    assert pages, f"no built page in {site} contains a dlbook.explore figure"
    for path in pages:
        page.goto(base_url + path.relative_to(site).as_posix())
        boxes = page.locator(".dlbook-explorer")
        for i in range(boxes.count()):
            box = drawn(boxes.nth(i), page)
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
                shot = site.parent / f"explorer-{path.stem}.png"
                box.screenshot(path=str(shot))
        assert page.console_errors == [], f"{path.name}: {page.console_errors}"


CONTROL_OF = """(box, k) => {
    const L = box.querySelector(".dlbook-explorer-plot")._fullLayout;
    const all = L.sliders.concat(L.updatemenus), c = all[k];
    return {active: c.active, size: (c.steps || c.buttons).length, count: all.length};
}"""


def control_of(box, k: int) -> dict:
    """The k-th control that arrow keys step: sliders first, then button rows."""
    return box.evaluate(CONTROL_OF, k)


def press(box, page, k: int, keys: tuple[str, str]) -> None:
    """Press the key that steps control k away from the end it is at; the curves,
    the title and the slider or buttons follow."""
    control = control_of(box, k)
    at_end = control["active"] == control["size"] - 1
    key = keys[0] if at_end else keys[1]
    before = box.evaluate(STATE)
    page.keyboard.press(key)
    changed(box, before, page)
    expected = control["active"] + (-1 if at_end else 1)
    assert control_of(box, k)["active"] == expected, f"{key}: the control stayed"


def test_arrow_keys_step_the_controls(site, base_url, page):
    for path in explorer_pages(site):
        box = first_explorer(page, base_url, site, path)
        plot = box.locator(".dlbook-explorer-plot")
        assert "Keys:" in plot.get_attribute("aria-label")
        assert "Keyboard:" in box.locator(".dlbook-explorer-keys").inner_text()
        plot.focus()
        press(box, page, 0, ("ArrowLeft", "ArrowRight"))
        if control_of(box, 0)["count"] > 1:
            press(box, page, 1, ("ArrowDown", "ArrowUp"))
        assert page.console_errors == [], f"{path.name}: {page.console_errors}"


LAYOUT = """box => {
    const gd = box.querySelector(".dlbook-explorer-plot"), L = gd._fullLayout;
    const axes = Object.keys(L).filter(a => /^[xy]axis\\d*$/.test(a)).sort();
    return {
        domains: Object.fromEntries(axes.map(a => [a, L[a].domain])),
        width: gd.getBoundingClientRect().width,
        right: gd.getBoundingClientRect().right,
        screen: document.documentElement.clientWidth,
    };
}"""

# Page y of the first panel's plot area, and of the controls' top and bottom edges.
PLACES = """box => {
    const rect = el => el.getBoundingClientRect();
    const panel = rect(box.querySelector(".draglayer .xy .nsewdrag"));
    const controls = Array.from(box.querySelectorAll(
        ".slider-container, .updatemenu-container")).map(rect);
    return {
        panel: panel.top,
        top: Math.min(...controls.map(r => r.top)),
        bottom: Math.max(...controls.map(r => r.bottom)),
    };
}"""


def test_panels_stack_on_a_phone(site, base_url, phone_page):
    page = phone_page
    phone = page.viewport_size
    for path in explorer_pages(site):
        page.set_viewport_size(phone)
        box = first_explorer(page, base_url, site, path)
        layout = box.evaluate(LAYOUT)
        domains = layout["domains"]
        assert layout["right"] <= layout["screen"], (
            f"{path.name}: wider than the screen"
        )
        buttons = box.locator(".updatemenu-button")
        for k in range(buttons.count()):  # every choice on the screen
            edge = buttons.nth(k).bounding_box()
            assert edge["x"] + edge["width"] <= layout["right"], f"{path.name}: {k}"
        if "xaxis2" in domains:  # panels one above the other, full width (an
            # image panel's centred inside it, to keep its pixels square)
            xs = [d for a, d in sorted(domains.items()) if a.startswith("x")]
            assert all(x == pytest.approx(xs[0]) for x in xs), domains
            assert sum(xs[0]) == pytest.approx(1) and xs[0][1] - xs[0][0] > 0.5
            assert domains["yaxis2"][1] < domains["yaxis"][0], domains
            # the controls right above the first panel, not a screen below it
            places = box.evaluate(PLACES)
            assert places["bottom"] < places["panel"] < places["top"] + 300, places
        shot = site.parent / f"explorer-phone-{path.stem}.png"
        box.screenshot(path=str(shot))
        if "xaxis2" in domains:  # turned to a wide screen: side by side again
            page.set_viewport_size({"width": 1280, "height": 900})
            page.wait_for_function(
                "b => { const L = b.querySelector('.dlbook-explorer-plot')"
                "._fullLayout; return L.xaxis.domain[1] < L.xaxis2.domain[0]; }",
                arg=box.element_handle(),
            )
            wide = box.evaluate(LAYOUT)["domains"]
            assert wide["xaxis"][1] < wide["xaxis2"][0], wide
            assert wide["yaxis"] == pytest.approx(wide["yaxis2"]), wide  # a row
        assert page.console_errors == [], f"{path.name}: {page.console_errors}"
