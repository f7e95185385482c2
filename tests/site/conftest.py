"""Fixtures for checks of the built website (run after `make book`).

``site`` is the built HTML folder, ``base_url`` a loopback HTTP server over it,
``page`` a Playwright page in Debian's headless Chromium with no network, whose
``console_errors`` list collects JavaScript errors and failed requests.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site at {SITE}: run `make book` first")
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="session")
def base_url(site: Path):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser, base_url: str, width: int, height: int):
    """A fresh page that may reach only the loopback server, nothing else."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda msg: msg.type == "error" and page.console_errors.append(msg.text),
    )
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))

    def only_loopback(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            page.console_errors.append(f"blocked off-site request {route.request.url}")
            route.abort()

    page.route("**/*", only_loopback)
    return context, page


@pytest.fixture
def page(browser, base_url):
    """A desktop-sized page (1280 x 900) with no network but the site."""
    context, page = _page(browser, base_url, 1280, 900)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, base_url):
    """A phone-sized page (390 x 844) with no network but the site."""
    context, page = _page(browser, base_url, 390, 844)
    yield page
    context.close()
