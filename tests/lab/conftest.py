"""Fixtures for checks of live explorers in JupyterLab itself.

``lab`` starts ``jupyter lab`` from this virtual environment on a free loopback
port, with a token, in a temporary folder, with every setting, workspace and
runtime file kept in temporary folders too; ``lab_context`` is a Playwright context of
Debian's headless Chromium (the site checks' ``browser``) that may reach
only that server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.site.conftest import browser  # noqa: F401 (the same Chromium)

JUPYTER = Path(sys.executable).with_name("jupyter")


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def api(self, method: str, path: str) -> bytes:
        """Call the server's REST API (e.g. to shut a kernel down)."""
        request = urllib.request.Request(
            f"{self.url}api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if not JUPYTER.exists():
        pytest.fail(f"{JUPYTER} is missing: install the dev dependencies")
    tmp = tmp_path_factory.mktemp("lab")
    root, port, token = tmp / "work", _free_port(), "dlbook-lab-test"
    root.mkdir()
    env = {
        **os.environ,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "IPYTHONDIR": str(tmp / "ipython"),
        "OMP_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
    }
    env.pop("DLBOOK_BUILD", None)  # the live explorer, not the static figure
    args = [
        str(JUPYTER),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp runs commands
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]
    if os.getuid() == 0:
        args.append("--allow-root")
    log = open(tmp / "lab.log", "wb")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(tmp / 'lab.log').read_text()}")
            try:
                urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("jupyter lab did not answer within 60 s")
        yield Lab(url, token, root)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def lab_context(browser, lab):  # noqa: F811 (the imported fixture)
    """A browser context that may reach only the JupyterLab server."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})

    def only_loopback(route):
        if route.request.url.startswith(lab.url) or route.request.url.startswith(
            "data:"
        ):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_loopback)
    yield context
    context.close()
