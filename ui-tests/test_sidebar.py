"""The Quantum sidebar, the login dialog and the status bar item, through their DOM contract.

Written against the contract agreed with the labextension (``data-qrt`` attributes, command
ids) before the extension landed: every scenario here is marked ``sidebar`` and skipped, saying
why, while ``jupyter labextension list`` does not list ``jupyter-qrt``.

Bell on the ideal simulator gives 00 and 11 only, summing to the shots: exact, no statistics.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import pytest
from conftest import PACED_DEVICE
from lab_page import (
    KERNEL_START_MS,
    ReceivedTraffic,
    bell_cell,
    cell_outputs_text,
    new_notebook,
    open_notebook,
    rendered_counts,
    run_all_cells,
    storage_of,
    wait_prompts,
)
from lab_server import LabServer
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.sidebar

IDEAL = "qrt_ideal_simulator"
SHOTS = 100
BUILTIN_DEVICES = ("qrt_wren", "qrt_robin", "qrt_kestrel", "qrt_pelican", "qrt_gannet", IDEAL)
SIDEBAR_WAIT_MS = 60_000
"""A job reaches the sidebar through the server's watcher (it polls every second here)."""


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

_JOB_LINE = re.compile(r"Job ([0-9a-z]+)\b")


def sidebar(page: Page) -> Locator:
    """The sidebar, opened from its tab in the left area when it is not showing."""
    panel = page.locator('#jp-qrt-sidebar[data-qrt="sidebar"]')
    if not panel.is_visible():
        page.locator('.lm-TabBar-tab[data-id="jp-qrt-sidebar"]').click()
    expect(panel).to_be_visible()
    return panel


def submit_bell(page: Page, lab: LabServer, name: str, *extra_cells: str) -> tuple[str, str]:
    """Run a Bell job from a new notebook; its path (relative) and the job's id."""
    path = new_notebook(
        lab.notebook_dir / name,
        "%load_ext jupyter_qrt",
        "%qrt_login local",
        bell_cell(IDEAL, SHOTS),
        *extra_cells,
    )
    open_notebook(page, lab.url, path.name)
    run_all_cells(page)
    wait_prompts(page)
    found = _JOB_LINE.search(cell_outputs_text(page, 2))
    assert found, "the %%sampler cell names no job:\n" + cell_outputs_text(page, 2)
    return path.name, found.group(1)


def test_a_fresh_start_shows_account_local_its_devices_and_no_error(
    page: Page, lab: LabServer
) -> None:
    panel = sidebar(page)

    expect(panel.locator('[data-qrt="account"]')).to_have_text(re.compile(r"\blocal\b"))
    devices = panel.locator('[data-qrt="devices"] [data-qrt-device]')
    expect(devices.first).to_be_visible(timeout=SIDEBAR_WAIT_MS)
    names = devices.evaluate_all("rows => rows.map(r => r.getAttribute('data-qrt-device'))")
    assert set(BUILTIN_DEVICES) <= set(names), names
    expect(panel.locator('[data-qrt="error"]')).to_have_count(0)

    panel.locator('[data-qrt-device="qrt_wren"]').click()
    detail = page.locator('[data-qrt="device-detail"]')
    expect(detail).to_be_visible()
    expect(detail.locator('svg[data-qrt="coupling-map"]')).to_be_visible()


def test_a_job_from_a_notebook_appears_in_the_sidebar_and_completes(
    page: Page, lab: LabServer
) -> None:
    _, job_id = submit_bell(page, lab, "ui-sidebar-job.ipynb")

    row = sidebar(page).locator(f'[data-qrt="jobs"] [data-qrt-job="{job_id}"]')
    expect(row).to_be_visible(timeout=SIDEBAR_WAIT_MS)
    expect(row.locator('[data-qrt="job-status"]')).to_have_text(
        re.compile("completed", re.IGNORECASE), timeout=SIDEBAR_WAIT_MS
    )


def test_cancel_from_the_sidebar_ends_a_running_job(page: Page, lab: LabServer) -> None:
    # The lab's embedded service paces PACED_DEVICE (c.QRTExtension.local_pacing), so the job
    # holds the device for seconds: long enough to be seen Running and cancelled.
    path = new_notebook(
        lab.notebook_dir / "ui-sidebar-cancel.ipynb",
        "%load_ext jupyter_qrt",
        "%qrt_login local",
        bell_cell(PACED_DEVICE, SHOTS).replace("--shots", "--no-wait --shots", 1),
    )
    open_notebook(page, lab.url, path.name)
    run_all_cells(page)
    wait_prompts(page)
    found = _JOB_LINE.search(cell_outputs_text(page, 2))
    assert found, cell_outputs_text(page, 2)

    row = sidebar(page).locator(f'[data-qrt-job="{found.group(1)}"]')
    status = row.locator('[data-qrt="job-status"]')
    expect(status).to_have_text(re.compile("running", re.IGNORECASE), timeout=SIDEBAR_WAIT_MS)
    row.locator('[data-qrt="cancel"]').click()
    expect(status).to_have_text(re.compile("cancel", re.IGNORECASE), timeout=SIDEBAR_WAIT_MS)


def test_the_login_dialog_stores_a_canary_key_that_appears_nowhere(
    page: Page, lab: LabServer, traffic: ReceivedTraffic
) -> None:
    name = f"canary{secrets.token_hex(3)}"
    canary = lab.create_local_key(name)
    sidebar(page).locator('[data-qrt="login"]').click()
    dialog = page.locator('[data-qrt="login-dialog"]')
    expect(dialog).to_be_visible()
    dialog.locator('input[name="name"]').fill(name)
    dialog.locator('input[name="channel"]').fill("local")
    dialog.locator('input[name="instance"]').fill("")
    dialog.locator('input[type="password"][name="token"]').fill(canary)
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    try:
        try:
            expect(dialog).to_have_count(0, timeout=SIDEBAR_WAIT_MS)
        except AssertionError:
            pytest.fail("the login dialog did not accept the key: " + dialog.inner_text())
        deadline = time.monotonic() + 30
        while name not in [a["name"] for a in lab.get("/jupyter-qrt/accounts")["accounts"]]:
            assert time.monotonic() < deadline, f"the account {name!r} was not stored"
            time.sleep(0.5)

        assert canary not in page.content()
        assert canary not in storage_of(page)
        assert canary not in lab.log_text()
        assert any("/jupyter-qrt/accounts" in url for url, _ in traffic.bodies)
        assert traffic.containing(canary) == []
    finally:
        if name in [a["name"] for a in lab.get("/jupyter-qrt/accounts")["accounts"]]:
            lab.delete(f"/jupyter-qrt/accounts/{name}")


def test_insert_result_cell_gives_a_cell_that_shows_the_counts(page: Page, lab: LabServer) -> None:
    _, job_id = submit_bell(page, lab, "ui-sidebar-insert.ipynb")
    cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
    before = cells.count()

    row = sidebar(page).locator(f'[data-qrt-job="{job_id}"]')
    expect(row.locator('[data-qrt="job-status"]')).to_have_text(
        re.compile("completed", re.IGNORECASE), timeout=SIDEBAR_WAIT_MS
    )
    row.locator('[data-qrt="insert-cell"]').click()
    expect(cells).to_have_count(before + 1)

    inserted = next(
        n for n in range(before + 1) if job_id in cells.nth(n).locator(".jp-InputArea").inner_text()
    )
    cells.nth(inserted).locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")  # run in place: Shift+Enter would add a cell
    wait_prompts(page)
    counts = rendered_counts(page, inserted)
    if not counts:  # a printed dict: {'00': 52, '11': 48}
        text = cell_outputs_text(page, inserted)
        counts = {k: int(v) for k, v in re.findall(r"'([01]+)': (\d+)", text)}
    assert counts, cell_outputs_text(page, inserted)
    assert set(counts) <= {"00", "11"}, counts
    assert sum(counts.values()) == SHOTS, counts


def test_notebook_7_shows_the_status_item(page: Page, lab: LabServer) -> None:
    path = new_notebook(lab.notebook_dir / "ui-nb7.ipynb", "1 + 1")
    page.goto(f"{lab.url}/tree")
    link = page.get_by_text(path.name, exact=True)
    expect(link).to_be_visible(timeout=KERNEL_START_MS)
    with page.context.expect_page() as opened:  # Notebook 7 opens a notebook in a new tab
        link.dblclick()
    notebook = opened.value
    try:
        notebook.wait_for_url(re.compile(rf"/notebooks/{re.escape(path.name)}"))
        # Notebook 7 has no kernel status text: its notebook and kernel indicator suffice.
        expect(notebook.locator(".jp-NotebookPanel .jp-Notebook")).to_be_visible(
            timeout=KERNEL_START_MS
        )
        expect(notebook.locator('[data-qrt="statusbar"]')).to_be_visible(timeout=SIDEBAR_WAIT_MS)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        notebook.screenshot(path=str(ARTIFACTS / "test_notebook_7_shows_the_status_item-nb.png"))
