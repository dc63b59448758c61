"""The job monitor's cancel button: from the page through the server, or from the kernel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.kernel.widgets.cancel import ESM, JobCancel
from jupyter_qrt.kernel.widgets.monitor import job_monitor
from jupyter_qrt.kernel.widgets.poller import ApiSource, JobPoller, WatcherSource
from jupyter_qrt.kernel.widgets.server_link import ServerLink

from .fakes import FakeApi, FakeJob

DRIVER = Path(__file__).with_name("job_cancel_driver.mjs")


@pytest.fixture(scope="module")
def page_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ES module is exercised under node")
    esm = tmp_path_factory.mktemp("esm") / "job_cancel.mjs"
    esm.write_text(ESM)  # the module the browser gets: page.js, then job_cancel.js
    done = subprocess.run(
        [node, str(DRIVER), str(esm)], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_under_the_server_the_page_cancels_through_the_accounts_runtime_proxy(
    page_run: dict[str, Any],
) -> None:
    run = page_run["server"]
    assert run["outcome"] == "server"
    (request,) = run["requests"]
    # The sidebar's route: the proxy of the account, IBM's cancel path, the page's XSRF cookie.
    assert request["url"] == "/user/alice/jupyter-qrt/runtime/ibm%20main/api/v1/jobs/job%201/cancel"
    assert request["method"] == "POST"
    assert request["headers"] == {"X-XSRFToken": "tok-9"}
    assert ["message", "Cancel requested."] in run["sets"]
    assert run["sent"] == [{"event": "cancelled"}]


def test_a_job_that_already_ended_says_why_and_tells_the_kernel_nothing(
    page_run: dict[str, Any],
) -> None:
    run = page_run["ended"]
    assert run["outcome"] == "failed"
    assert ["message", "Could not cancel: Job job 1 has already ended (Completed)."] in run["sets"]
    assert run["sent"] == []


def test_without_the_server_the_page_asks_the_kernel(page_run: dict[str, Any]) -> None:
    run = page_run["kernel"]
    assert run["outcome"] == "kernel"
    assert run["requests"] == []
    assert run["sent"] == [{"event": "cancel"}]


def _monitor(source: Any, api: FakeApi, poller: JobPoller | None = None) -> Any:
    api.add("job-c")
    poller = poller or JobPoller(start_thread=False)
    monitor = job_monitor(FakeJob("job-c", api), poller=poller, source=source)
    poller.poll_once()
    assert monitor.status == "RUNNING"
    return monitor


def test_the_monitors_button_names_the_watchers_account_or_none() -> None:
    api = FakeApi()
    watcher = WatcherSource(ServerLink("http://127.0.0.1:1/", "kt"), "ibm-main")
    on_server = job_monitor(
        FakeJob("job-w", api), poller=JobPoller(start_thread=False), source=watcher
    )
    assert isinstance(on_server._cancel, JobCancel)
    assert (on_server._cancel.account, on_server._cancel.job_id) == ("ibm-main", "job-w")
    plain = _monitor(ApiSource(api), api)
    assert plain._cancel.account == ""


def test_the_kernel_cancels_when_asked_and_shows_a_cancel_the_page_made() -> None:
    api = FakeApi()
    asked = _monitor(ApiSource(api), api)
    asked._cancel._handle_custom_msg({"event": "cancel"}, [])
    assert api.calls["cancel_job"] == 1
    assert asked.status == "CANCELLED"
    assert asked._cancel.disabled

    api = FakeApi()
    by_page = _monitor(ApiSource(api), api)
    by_page._cancel._handle_custom_msg({"event": "cancelled"}, [])
    assert api.calls["cancel_job"] == 0  # the server did it
    assert by_page.status == "CANCELLED"
    assert 'data-qrt-status="CANCELLED"' in by_page._header.value


def test_a_cancel_the_page_reports_late_does_not_undo_an_end() -> None:
    api = FakeApi()
    poller = JobPoller(start_thread=False)
    monitor = _monitor(ApiSource(api), api, poller)
    api.states["job-c"]["state"] = {"status": "Completed"}
    poller.poll_once()
    assert monitor.status == "DONE"
    monitor._cancel._handle_custom_msg({"event": "cancelled"}, [])
    assert monitor.status == "DONE"
