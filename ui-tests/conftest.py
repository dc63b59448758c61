"""Fixtures of the browser tests: a real JupyterLab, an "IBM" upstream, Debian chromium.

- ``upstream``: a second local runtime service on a loopback port, the "IBM" of the canary
  scenario (its API key is the canary); the lab's ``c.QRTExtension.allowed_hosts`` allows it.
- ``lab``: one ``jupyter lab`` subprocess for the session (:mod:`lab_server`), its embedded local
  service running; every scenario starts with no session or kernel.
- ``browser``: chromium from Debian (``/usr/bin/chromium``; Playwright never downloads one),
  headless, with the flags these machines need.
- ``page``: a fresh browser context per scenario, at ``/lab?reset``, logged in with the token;
  its screenshot is saved to ``ui-tests/artifacts/<scenario>.png`` at the end, pass or fail.

Scenarios marked ``sidebar`` need the jupyter-qrt labextension and are skipped, saying so,
while ``jupyter labextension list`` does not list it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_page import ReceivedTraffic
from lab_server import LabServer
from playwright.sync_api import Browser, Page, expect, sync_playwright

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.server.app import DEFAULT_ALLOWED_HOSTS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LABEXTENSION = "jupyter-qrt"
PACED_DEVICE = "qrt_robin"
"""The device the embedded service paces (30 x its device time): the cancel scenario runs there."""


@pytest.fixture(scope="session")
def session_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="qrt-ui-") as root:
        yield Path(root)


@pytest.fixture(scope="session")
def upstream(session_dir: Path) -> Iterator[LocalService]:
    """A second local runtime service standing in for IBM; its key is the canary."""
    data_dir = session_dir / "ibm-stand-in"
    data_dir.mkdir()
    with LocalService(data_dir, workers=1) as service:
        yield service


@pytest.fixture(scope="session")
def lab(session_dir: Path, upstream: LocalService) -> Iterator[LabServer]:
    """JupyterLab with jupyter-qrt, in isolated dirs, on a free loopback port."""
    root = session_dir / "lab"
    root.mkdir()
    server = LabServer(
        root,
        REPO / "notebooks",
        {
            "allowed_hosts": [*DEFAULT_ALLOWED_HOSTS, f"127.0.0.1:{upstream.port}"],
            "local_workers": 1,  # 2 cores shared by the server, a kernel and chromium
            # One paced device, so the cancel scenario meets a job that runs for a while.
            "local_pacing": {PACED_DEVICE: 30.0},
            "watcher_interval": 1.0,
        },
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def labextension_listed(lab: LabServer) -> bool:
    """Whether ``jupyter labextension list`` (in the lab's environment) lists jupyter-qrt."""
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        env=lab.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = listing.stdout + listing.stderr
    return re.search(rf"^\s*{re.escape(LABEXTENSION)}\s", text, re.MULTILINE) is not None


@pytest.fixture(autouse=True)
def _sidebar_needs_the_labextension(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("sidebar") is None:
        return
    if not request.getfixturevalue("labextension_listed"):
        pytest.skip(
            f"the {LABEXTENSION} labextension is not installed (`jupyter labextension list` "
            "does not list it): the sidebar scenarios run once labextension/ is merged"
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(`apt-get install -y --no-install-recommends chromium`, or `make test` as root)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def traffic() -> ReceivedTraffic:
    """Every response body and websocket frame the scenario's page receives."""
    return ReceivedTraffic()


@pytest.fixture
def page(
    browser: Browser, lab: LabServer, traffic: ReceivedTraffic, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh page at ``/lab?reset``, logged in; screenshot saved at the end."""
    lab.shutdown_sessions()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    opened = context.new_page()
    traffic.attach(opened)
    # The token in the URL logs the browser in (a cookie); later URLs need no token.
    opened.goto(f"{lab.url}/lab?reset&token={lab.token}")
    expect(opened.locator("#jp-main-dock-panel")).to_be_visible(timeout=120_000)
    try:
        yield opened
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        try:
            opened.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        finally:
            context.close()
            lab.shutdown_sessions()
