"""The kernel's widgets in a real JupyterLab, driven as a person would: no labextension needed.

- The getting-started notebook runs: each job monitor ends Completed with the states it went
  through and their times, and the histograms show bars for 00 and 11.
- A long job is cancelled with its monitor's button: the monitor and the service say Cancelled.
- ``%qrt_backends``: a click on a device's row shows its coupling map (as many edges drawn as the
  device has couplings) and its qubit and gate tables.
- A canary key typed into the account setup widget runs a job on its account and appears in
  none of: the saved notebook (widget state included), the kernel's widget state, namespace and
  environment, the server's log, the browser's storage, DOM and received traffic.

The widgets' DOM contract (``data-qrt`` attributes, ``qrt-*`` classes on ipywidgets controls) is
described in each widget's module (``jupyter_qrt/kernel/widgets/``).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

import pytest
from conftest import PACED_DEVICE, REPO
from lab_page import (
    ReceivedTraffic,
    bell_cell,
    cell_outputs_text,
    code_cell,
    drawn_segments,
    new_notebook,
    open_notebook,
    record_job_states,
    recorded_job_states,
    rendered_counts,
    run_all_cells,
    run_cell,
    run_from_cell,
    save_notebook,
    storage_of,
    wait_prompts,
)
from lab_server import LabServer
from playwright.sync_api import Locator, Page, expect

from jupyter_qrt.local.devices import builtin_catalog
from jupyter_qrt.local.server import LocalService
from jupyter_qrt.server.guard import MARKER as GUARD_MARKER

IDEAL = "qrt_ideal_simulator"
GETTING_STARTED = "02-getting-started-magics.ipynb"
GETTING_STARTED_SHOTS = 500
"""The shots of both ``%%sampler`` cells of the getting-started notebook."""
WIDGET_WAIT_MS = 60_000
"""A job's status reaches its monitor through the kernel's poller and the server's watcher
(each polling every second here): seconds, more on a busy machine."""
ORDER = ["INITIALIZING", "QUEUED", "RUNNING", "DONE", "CANCELLED", "ERROR"]
FINAL = {"DONE", "CANCELLED", "ERROR"}


def monitor_of(cell: Locator) -> tuple[Locator, Locator]:
    """A cell's job monitor and its summary line (``data-qrt-job``, ``data-qrt-status``)."""
    monitor = cell.locator(".qrt-job-monitor")
    return monitor, monitor.locator('[data-qrt="job-summary"]')


def history(monitor: Locator) -> list[list[str]]:
    """The rows (state, time) of a monitor's history table."""
    rows: list[list[str]] = monitor.locator('[data-qrt="job-history"] tbody tr').evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return rows


def assert_states_in_order(states: list[str]) -> None:
    """Statuses a monitor showed: each a step forward, none after an end, ending Completed."""
    ranks = [ORDER.index(s) for s in states]
    assert ranks == sorted(ranks), states
    assert [s for s in states if s in FINAL] == ["DONE"], states


def test_the_getting_started_notebook_monitors_its_jobs_to_completed_and_shows_00_and_11(
    page: Page, lab: LabServer
) -> None:
    # The notebook as committed, its outputs cleared: every prompt and output is this run's.
    source = json.loads((REPO / "notebooks" / GETTING_STARTED).read_text())
    for cell in source["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    source["metadata"].pop("widgets", None)
    path = lab.notebook_dir / "ui-getting-started.ipynb"
    path.write_text(json.dumps(source, indent=1))
    code = ["".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code"]
    samplers = [n for n, text in enumerate(code) if text.startswith("%%sampler")]
    assert len(samplers) == 2, code  # the ideal simulator, then qrt_wren

    open_notebook(page, lab.url, path.name)
    record_job_states(page)
    run_all_cells(page)
    assert wait_prompts(page) == list(range(1, len(code) + 1))

    jobs = []
    for index, backend in zip(samplers, (IDEAL, "qrt_wren"), strict=True):
        monitor, summary = monitor_of(code_cell(page, index))
        expect(summary).to_have_attribute("data-qrt-status", "DONE", timeout=WIDGET_WAIT_MS)
        expect(summary).to_have_text(
            re.compile(rf"^Job \w+ on {backend}: Completed$"), timeout=WIDGET_WAIT_MS
        )
        # The history: time spent queued (and running, when seen), then the end.
        rows = history(monitor)
        assert rows[0][0] == "Queued", rows
        assert re.fullmatch(r"\d+\.\d s", rows[0][1]), rows
        assert [r[0] for r in rows[1:-1]] in ([], ["Running"]), rows
        assert rows[-1] == ["Completed", ""], rows
        expect(monitor).to_contain_text(
            re.compile(r"Usage: [\d.e-]+ quantum seconds"), timeout=WIDGET_WAIT_MS
        )
        expect(monitor.locator(".qrt-cancel")).to_be_disabled(timeout=WIDGET_WAIT_MS)
        jobs.append(summary.get_attribute("data-qrt-job"))

    # Every state the page drew, in order: forward only, ending Completed.
    states = recorded_job_states(page)
    for job in jobs:
        assert job in states, states
        assert_states_in_order(states[job])

    for index in samplers:  # plotly draws a moment after the output arrived
        plots = code_cell(page, index).locator(".js-plotly-plot")
        expect(plots).to_have_count(1, timeout=WIDGET_WAIT_MS)
    ideal = rendered_counts(page, samplers[0])
    assert set(ideal) == {"00", "11"}, ideal  # exact on the ideal simulator; each ~250 of 500
    assert sum(ideal.values()) == GETTING_STARTED_SHOTS, ideal
    noisy = rendered_counts(page, samplers[1])
    assert sum(noisy.values()) == GETTING_STARTED_SHOTS, noisy
    assert noisy.get("00", 0) > 100, noisy
    assert noisy.get("11", 0) > 100, noisy  # the noise makes the rest
    assert noisy["00"] + noisy["11"] > 0.8 * GETTING_STARTED_SHOTS, noisy
    # Bars, not only numbers: plotly drew one bar per outcome of each histogram.
    for index, counts in ((samplers[0], ideal), (samplers[1], noisy)):
        bars = code_cell(page, index).locator(".js-plotly-plot .barlayer .point")
        expect(bars).to_have_count(len(counts), timeout=WIDGET_WAIT_MS)

    # The saved notebook keeps each monitor's end, not the "Queued" of its first render.
    saved = save_notebook(page, path)
    saved_code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    for index in samplers:
        texts = [
            "".join(o.get("data", {}).get("text/plain", "")) for o in saved_code[index]["outputs"]
        ]
        assert any(re.search(r": Completed\b", t) for t in texts), texts
    # The screenshot shows the first monitor and its histogram.
    monitor_of(code_cell(page, samplers[0]))[0].evaluate("el => el.scrollIntoView()")


SHOTS_TO_CANCEL = 2000
"""Bell on the paced device: about 1.5 quantum seconds, held 30 x that (~45 s) while Running;
the monitor shows Running within seconds, so the job is surely still running when cancelled."""


@pytest.mark.parametrize("waiting", [False, True], ids=["no-wait", "waiting-cell"])
def test_the_monitors_cancel_button_cancels_a_running_job(
    page: Page, lab: LabServer, waiting: bool
) -> None:
    """``--no-wait``: the cell has ended, the kernel is idle. A waiting cell: the kernel is busy
    until the job ends, so only the page can cancel it (through the server's proxy)."""
    cell = bell_cell(PACED_DEVICE, SHOTS_TO_CANCEL)
    if not waiting:
        cell = cell.replace("--shots", "--no-wait --shots", 1)
    path = new_notebook(
        lab.notebook_dir / f"ui-monitor-cancel-{'waiting' if waiting else 'no-wait'}.ipynb",
        "%load_ext jupyter_qrt",
        "%qrt_login local",
        cell,
    )
    open_notebook(page, lab.url, path.name)
    run_all_cells(page)
    if not waiting:
        assert wait_prompts(page) == [1, 2, 3]
    monitor, summary = monitor_of(code_cell(page, 2))
    expect(summary).to_have_attribute("data-qrt-status", "RUNNING", timeout=WIDGET_WAIT_MS)
    job_id = summary.get_attribute("data-qrt-job")
    assert job_id
    # While it runs the monitor says what RUNNING means.
    expect(monitor).to_contain_text(
        "RUNNING means the job has left the queue", timeout=WIDGET_WAIT_MS
    )
    if waiting:
        expect(code_cell(page, 2).locator(".jp-InputArea-prompt")).to_have_text("[*]:")

    monitor.locator(".qrt-cancel").click()

    expect(summary).to_have_attribute("data-qrt-status", "CANCELLED", timeout=WIDGET_WAIT_MS)
    expect(summary).to_have_text(
        re.compile(rf"^Job {job_id} on {PACED_DEVICE}: Cancelled$"), timeout=WIDGET_WAIT_MS
    )
    expect(monitor.locator(".qrt-cancel")).to_be_disabled(timeout=WIDGET_WAIT_MS)
    expect(monitor.locator('[data-qrt="cancel-message"]')).to_have_text(
        "Cancel requested.", timeout=WIDGET_WAIT_MS
    )
    rows = history(monitor)
    assert rows[-1] == ["Cancelled", ""], rows
    # The embedded service's job, as the server's REST API (its runtime proxy) has it.
    deadline = time.monotonic() + 30
    while True:
        job = lab.get(f"/jupyter-qrt/runtime/local/api/v1/jobs/{job_id}")
        if job["state"]["status"] != "Running" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert job["state"]["status"] == "Cancelled", job["state"]
    assert job["backend"] == PACED_DEVICE
    if waiting:  # the cell ends as soon as the job does, saying so in one line
        assert wait_prompts(page) == [1, 2, 3]
        assert f"Job {job_id} was cancelled" in cell_outputs_text(page, 2)


def test_a_device_row_of_qrt_backends_opens_its_coupling_map_and_tables(
    page: Page, lab: LabServer
) -> None:
    path = new_notebook(
        lab.notebook_dir / "ui-backends.ipynb",
        "%load_ext jupyter_qrt",
        "%qrt_login local",
        "%qrt_backends",
    )
    open_notebook(page, lab.url, path.name)
    run_all_cells(page)
    assert wait_prompts(page) == [1, 2, 3]
    cell = code_cell(page, 2)
    table = cell.locator('table[data-qrt="backend-table"]')
    expect(table).to_be_visible(timeout=WIDGET_WAIT_MS)
    rows = table.locator("tbody tr[data-qrt-device]")
    names = rows.evaluate_all("rs => rs.map(r => r.getAttribute('data-qrt-device'))")
    catalog = builtin_catalog()
    assert set(catalog.names()) <= set(names), names

    # Sortable: a click on "qubits" sorts on it, a second click the other way (the header
    # shows the order at once; the rows come back sorted from the kernel a moment later).
    header = table.locator('th[data-qrt-sort="qubits"]')
    for order in ("ascending", "descending"):
        header.click()
        expect(header).to_have_attribute("aria-sort", order, timeout=WIDGET_WAIT_MS)
        page.wait_for_function(
            """([table, descending]) => [...table.querySelectorAll('tbody tr')]
                .map(r => Number(r.cells[1].textContent))
                .every((q, i, all) => i === 0 || (descending ? all[i - 1] >= q : all[i - 1] <= q))
            """,
            arg=[table.element_handle(), order == "descending"],
            timeout=WIDGET_WAIT_MS,
        )
        qubits = [int(q) for q in rows.evaluate_all("rs => rs.map(r => r.cells[1].textContent)")]
        assert qubits == sorted(qubits, reverse=order == "descending"), qubits
        assert len(set(qubits)) > 1, qubits

    for device in ("qrt_wren", "qrt_robin"):
        # What the server says about the device (its runtime proxy), and the local catalog.
        configuration = lab.get(
            f"/jupyter-qrt/runtime/local/api/v1/backends/{device}/configuration"
        )
        edges = {tuple(sorted(pair)) for pair in configuration["coupling_map"]}
        local = catalog.get(device).configuration
        assert edges == {tuple(sorted(pair)) for pair in local["coupling_map"]}
        num_qubits = int(configuration["n_qubits"])

        row = table.locator(f'tr[data-qrt-device="{device}"]')
        row.click()
        expect(row).to_have_attribute("aria-selected", "true", timeout=WIDGET_WAIT_MS)
        detail = cell.locator(".qrt-device-detail")
        tables = detail.locator(f'[data-qrt="device-tables"][data-qrt-device="{device}"]')
        expect(tables).to_be_visible(timeout=WIDGET_WAIT_MS)
        plot = detail.locator(".qrt-coupling-map .js-plotly-plot")
        expect(plot).to_be_visible(timeout=WIDGET_WAIT_MS)
        expect(plot.locator(".gtitle")).to_contain_text(
            f"{device}: coupling map", timeout=WIDGET_WAIT_MS
        )
        assert drawn_segments(plot) == {"data": len(edges), "svg": len(edges)}
        qubit_markers = plot.evaluate(
            "el => el.data.filter(t => t.mode === 'markers+text').map(t => t.x.length)"
        )
        assert qubit_markers == [num_qubits]
        qubit_rows = tables.locator('[data-qrt="qubit-table"] tbody tr')
        expect(qubit_rows).to_have_count(num_qubits, timeout=WIDGET_WAIT_MS)
        gate_qubits = tables.locator('[data-qrt="gate-table"] tbody tr').evaluate_all(
            "rs => rs.map(r => r.cells[1].textContent.trim())"
        )
        assert {q for q in gate_qubits if " " not in q} == {str(n) for n in range(num_qubits)}
        assert len({q for q in gate_qubits if " " in q}) >= len(edges)


ENV_AND_STATE_FILE = "ui-kernel-dump.json"
DUMP_CELL = f"""import json, os
from ipywidgets.widgets import widget as _widget_module
_states = {{k: w.get_state() for k, w in list(_widget_module._instances.items())}}
_names = {{k: repr(v) for k, v in list(get_ipython().user_ns.items())}}
with open({ENV_AND_STATE_FILE!r}, "w") as f:
    json.dump({{"env": dict(os.environ), "widgets": _states, "namespace": _names}}, f, default=repr)
len(_states)"""


def test_a_canary_typed_into_the_account_widget_runs_a_job_and_appears_nowhere(
    page: Page, lab: LabServer, upstream: LocalService, traffic: ReceivedTraffic
) -> None:
    canary = upstream.api_key
    account = f"form{secrets.token_hex(3)}"
    path = new_notebook(
        lab.notebook_dir / "ui-account-widget.ipynb",
        "%load_ext jupyter_qrt",
        "from jupyter_qrt.kernel.widgets import account_setup\naccount_setup()",
        f"%qrt_login {account}",
        bell_cell(IDEAL, 100),
        DUMP_CELL,
    )
    jobs_before = len(upstream.runtime.jobs(upstream.instance)["jobs"])
    try:
        open_notebook(page, lab.url, path.name)
        run_cell(page, 0)
        run_cell(page, 1)
        form = code_cell(page, 1).locator('form[data-qrt="account-setup"]')
        expect(form).to_be_visible(timeout=WIDGET_WAIT_MS)
        form.locator('[data-qrt="account-name"]').fill(account)
        form.locator('[data-qrt="account-channel"]').select_option("local")
        form.locator('[data-qrt="account-url"]').fill(upstream.url)
        form.locator('[data-qrt="account-default"]').uncheck()  # keep `local` the default
        key = form.locator('[data-qrt="account-key"]')
        key.click()
        key.press_sequentially(canary)  # typed, key by key
        assert key.input_value() == canary
        form.locator('[data-qrt="account-save"]').click()
        status = form.locator('[data-qrt="account-status"]')
        expect(status).to_have_text(
            re.compile(rf"^Saved account '{account}' \(local, key "), timeout=WIDGET_WAIT_MS
        )
        assert key.input_value() == "", "the key field keeps the key after it was saved"
        summaries = lab.get("/jupyter-qrt/accounts")["accounts"]
        assert [a["channel"] for a in summaries if a["name"] == account] == ["local"]

        run_from_cell(page, 2)
        assert wait_prompts(page) == [1, 2, 3, 4, 5]
        assert f"account '{account}'" in cell_outputs_text(page, 2)
        expect(code_cell(page, 3).locator(".js-plotly-plot")).to_have_count(
            1, timeout=WIDGET_WAIT_MS
        )
        counts = rendered_counts(page, 3)
        assert set(counts) <= {"00", "11"}, counts
        assert sum(counts.values()) == 100, counts
        # The job ran on the "IBM" stand-in whose key the canary is, through the server.
        assert len(upstream.runtime.jobs(upstream.instance)["jobs"]) == jobs_before + 1
        saved = save_notebook(page, path)

        # Every place checked, checked before any is asserted, so a leak names all its places.
        text = path.read_text()
        widget_state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
        forms = [
            m["state"]
            for m in widget_state["state"].values()
            if m["state"].get("name") == account and "set_default" in m["state"]
        ]
        # The kernel's widgets, namespace and environment, as the last cell wrote them.
        dump: dict[str, Any] = json.loads((lab.notebook_dir / ENV_AND_STATE_FILE).read_text())
        log = lab.log_text()
        places = {
            "the saved notebook": canary in text,
            # The server's pre-save guard replaces a key it finds with its marker: the notebook
            # the page sent (its widget state included) must have held none.
            "the notebook the page sent (the server's guard removed a key)": GUARD_MARKER in text,
            "the kernel's environment": canary in json.dumps(dump["env"]),
            "the kernel's widget state": canary in json.dumps(dump["widgets"]),
            "the kernel's namespace": canary in json.dumps(dump["namespace"]),
            "the server's log": canary in log,
            "the page's storage": canary in storage_of(page),
            "the page's DOM": canary in page.content(),
            "what the page received": bool(traffic.containing(canary)),
        }
        leaks = [place for place, found in places.items() if found]
        assert not leaks, f"the canary is in: {'; '.join(leaks)} ({traffic.containing(canary)})"

        # Each place was really looked at: the form's state was saved and is in the kernel's
        # dump, the kernel's environment is a kernel's under the extension, the log is at DEBUG
        # and has this scenario's requests, the page received the POST's answer and frames.
        assert forms, "the saved notebook holds no account form's state"
        assert forms[0]["result"]["name"] == account, forms
        assert any(s.get("result", {}).get("name") == account for s in dump["widgets"].values())
        assert "account_setup" in dump["namespace"]
        assert "QRT_KERNEL_TOKEN" in dump["env"]
        assert "/jupyter-qrt/accounts" in log
        assert "[D " in log
        posted = [u for u, _ in traffic.bodies if u.endswith("/jupyter-qrt/accounts")]
        assert posted, traffic.unreadable
        assert traffic.frames, "no kernel websocket frame was captured"
    finally:
        names = [a["name"] for a in lab.get("/jupyter-qrt/accounts")["accounts"]]
        if account in names:
            lab.delete(f"/jupyter-qrt/accounts/{account}")
