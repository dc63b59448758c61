"""The job watcher's routes in a real Jupyter server: the list, server-sent events, tracking.

Upstream calls are counted with :class:`CountingSource` and intervals driven by
:class:`ManualClock` (no wall-clock asserts); one test runs a real job on the embedded local
service. Every wait is bounded (:data:`HANG_GUARD_SECONDS`, reached only if something hangs).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpclient import TCPClient

from jupyter_qrt.server.app import QRTExtension
from jupyter_qrt.server.watcher import WatcherHub

from .conftest import Fetch, fetch_json
from .watcher_fakes import HANG_GUARD_SECONDS, CountingSource, ManualClock, ibm_job

INTERVALS = 3


@pytest.fixture
def qrt_config() -> dict[str, Any]:
    return {"watcher_interval": 0.2, "watcher_max_interval": 1.0}


def extension(serverapp: Any) -> QRTExtension:
    (app,) = serverapp.extension_manager.extension_apps["jupyter_qrt"]
    assert isinstance(app, QRTExtension)
    return app


def kernel_headers(qrt: QRTExtension) -> dict[str, str]:
    return {"Authorization": f"token {qrt.kernel_token}"}


def faked(qrt: QRTExtension) -> tuple[WatcherHub, CountingSource, ManualClock]:
    """The server's hub polling a counting fake on a driven clock."""
    hub = qrt.watcher
    source, clock = CountingSource(), ManualClock()
    hub.source = source
    hub.sleep = clock.sleep
    return hub, source, clock


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until ``condition()`` holds."""
    steps = int(HANG_GUARD_SECONDS / 0.02)
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def subscribers(hub: WatcherHub, account: str = "local") -> int:
    return sum(a["subscribers"] for a in hub.status()["accounts"] if a["account"] == account)


class SSEClient:
    """A raw HTTP/1.0 client of the events route (no chunking: the body is the event stream)."""

    def __init__(self, stream: IOStream) -> None:
        self.stream = stream
        self.head = b""
        self.body = b""
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, port: int, path: str, headers: dict[str, str]) -> SSEClient:
        stream = await TCPClient().connect("127.0.0.1", port)
        lines = [f"GET {path} HTTP/1.0", f"Host: 127.0.0.1:{port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        await stream.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        return cls(stream)

    async def _read(self) -> None:
        try:
            self.head = await self.stream.read_until(b"\r\n\r\n")
            while True:
                self.body += await self.stream.read_bytes(65536, partial=True)
        except StreamClosedError:
            pass
        finally:
            self.closed.set()

    @property
    def status(self) -> int:
        return int(self.head.split()[1]) if self.head else 0

    def events(self) -> list[dict[str, Any]]:
        """The ``data`` of each complete event received so far."""
        found = []
        for block in self.body.decode().split("\n\n")[:-1]:
            for line in block.split("\n"):
                if line.startswith("data: "):
                    found.append(json.loads(line[len("data: ") :]))
        return found

    def saw_job(self, job_id: str) -> bool:
        return any(job["id"] == job_id for event in self.events() for job in event["jobs"])

    def close(self) -> None:
        self.stream.close()


def events_path(base_url: str, query: str) -> str:
    return f"{base_url}jupyter-qrt/jobs/events?{query}"


async def test_upstream_polls_per_interval_stay_the_same_with_1_10_and_100_sse_clients(
    jp_fetch: Fetch, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    qrt = extension(jp_serverapp)
    hub, source, clock = faked(qrt)
    source.jobs = [ibm_job("job-0", "Completed")]
    polls: dict[int, int] = {}
    for count in (1, 10, 100):
        clients = [
            await SSEClient.open(
                jp_http_port, events_path(jp_base_url, "account=local"), kernel_headers(qrt)
            )
            for _ in range(count)
        ]
        await until(lambda n=count: subscribers(hub) == n, f"{count} subscribers")  # type: ignore[misc]
        await clock.sleeping()
        before = source.list_calls
        new_job = f"job-{count}"
        source.jobs.insert(0, ibm_job(new_job, "Queued", f"2026-12-06T03:{count:02d}:00Z"))
        for _ in range(INTERVALS):
            await clock.tick()
        polls[count] = source.list_calls - before
        # The one poll's change reached every client as an event.
        await until(lambda c=clients, j=new_job: all(x.saw_job(j) for x in c), "events")  # type: ignore[misc]
        assert all(client.status == 200 for client in clients)
        assert b"text/event-stream" in clients[0].head
        for client in clients:
            client.close()
        await until(lambda: subscribers(hub) == 0, "clients gone")
    assert polls == {1: INTERVALS, 10: INTERVALS, 100: INTERVALS}
    assert source.get_calls == []


async def test_a_stream_starts_with_the_list_sends_heartbeats_and_closes_by_itself(
    jp_fetch: Fetch, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
) -> None:
    qrt = extension(jp_serverapp)
    hub, source, clock = faked(qrt)
    source.jobs = [ibm_job("job-1", "Running")]
    hub.stream_seconds, hub.heartbeat_seconds = 1.0, 0.2
    first = await SSEClient.open(
        jp_http_port, events_path(jp_base_url, "account=local"), kernel_headers(qrt)
    )
    await asyncio.wait_for(first.closed.wait(), HANG_GUARD_SECONDS)
    (event,) = first.events()
    assert event["reset"] is True
    assert [job["id"] for job in event["jobs"]] == ["job-1"]
    assert b": heartbeat" in first.body
    assert b"retry: " in first.body

    # Reconnecting at the version it had: no list again, only what changes.
    again = await SSEClient.open(
        jp_http_port,
        events_path(jp_base_url, "account=local"),
        {**kernel_headers(qrt), "Last-Event-ID": str(event["version"])},
    )
    await until(lambda: subscribers(hub) == 1, "subscribed")
    source.jobs = [ibm_job("job-1", "Completed")]
    await clock.tick()
    await asyncio.wait_for(again.closed.wait(), HANG_GUARD_SECONDS)
    (change,) = again.events()
    assert change["reset"] is False
    assert [(job["id"], job["status"]) for job in change["jobs"]] == [("job-1", "Completed")]


async def test_the_list_route_reports_the_upstream_error_and_status_shows_the_watcher(
    jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    qrt = extension(jp_serverapp)
    _, source, clock = faked(qrt)
    source.failure = "The runtime API answered 503: Service Unavailable"
    answer = await fetch_json(jp_fetch, "jobs", params={"account": "local"})
    assert answer["account"] == "local"
    assert answer["jobs"] == []
    assert answer["error"] == "The runtime API answered 503: Service Unavailable"
    status = await fetch_json(jp_fetch, "status", headers=kernel_headers(qrt))
    watcher = status["watcher"]
    assert watcher["interval"] == 0.2
    assert watcher["last_error"] == answer["error"]
    (local,) = watcher["accounts"]
    assert local["account"] == "local"
    assert local["interval"] == 0.4  # backed off once

    source.failure = None
    source.jobs = [ibm_job(f"job-{i}", "Completed", f"2026-12-06T03:0{i}:00Z") for i in range(5)]
    await clock.tick()
    answer = await fetch_json(jp_fetch, "jobs", params={"account": "local", "limit": "2"})
    assert answer["error"] is None
    assert [job["id"] for job in answer["jobs"]] == ["job-4", "job-3"]
    assert set(answer["jobs"][0]) >= {"id", "status", "backend", "program", "created", "tags"}


async def refused(jp_fetch: Fetch, *parts: str, **kwargs: Any) -> tuple[int, str]:
    response = await jp_fetch("jupyter-qrt", *parts, raise_error=False, **kwargs)
    return response.code, json.loads(response.body)["message"]


async def test_the_routes_refuse_anonymous_callers_and_proxy_bearers(
    jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    qrt = extension(jp_serverapp)
    faked(qrt)
    bearer = str(qrt.bearers.issue()["access_token"])
    track = {"method": "POST", "body": json.dumps({"account": "local", "job_id": "j1"})}
    calls: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("jobs",), {"params": {"account": "local"}}),
        (("jobs", "events"), {"params": {"account": "local"}}),
        (("jobs", "track"), track),
    ]
    for parts, kwargs in calls:
        code, message = await refused(jp_fetch, *parts, headers={"Authorization": ""}, **kwargs)
        if kwargs.get("method") == "POST":  # Jupyter's XSRF check refuses it before we look
            assert (code, message) == (403, "'_xsrf' argument missing from POST"), parts
        else:
            assert (code, message.split(":")[0]) == (401, "Not signed in to Jupyter"), parts
        code, message = await refused(
            jp_fetch, *parts, headers={"Authorization": f"Bearer {bearer}"}, **kwargs
        )
        assert (code, message) == (403, "A bearer may not call this route."), parts
    assert qrt.watcher.status()["accounts"] == []  # nothing was started for them
    response = await jp_fetch("jupyter-qrt", "jobs/track", headers=kernel_headers(qrt), **track)
    assert response.code == 202


async def test_bad_input_gets_one_clear_message(jp_fetch: Fetch, jp_serverapp: Any) -> None:
    qrt = extension(jp_serverapp)
    faked(qrt)
    cases = [
        (("jobs",), {}, 400, "Name the account: ?account=<name>"),
        (("jobs",), {"params": {"account": "nope"}}, 404, "No account named 'nope'"),
        (("jobs",), {"params": {"account": "local", "limit": "x"}}, 400, "limit must be"),
        (("jobs", "events"), {"params": {"account": "local", "since": "-3"}}, 400, "since must"),
        (
            ("jobs", "track"),
            {"method": "POST", "body": json.dumps({"account": "local", "job_id": "../x"})},
            400,
            "Send the job's id as job_id",
        ),
        (("jobs", "track"), {"method": "POST", "body": "[1]"}, 400, "The body must be a JSON"),
    ]
    for parts, kwargs, expected_code, expected_start in cases:
        code, message = await refused(jp_fetch, *parts, headers=kernel_headers(qrt), **kwargs)
        assert code == expected_code, (parts, kwargs, message)
        assert message.startswith(expected_start), message
    assert qrt.watcher.status()["accounts"] == []  # and nothing started or changed


def _submit_bell(account: Any) -> str:
    """Submit a 2-qubit Bell job with our client (blocking: run off the server's loop); ``env={}``
    because the extension points IAM_URL in this process at its own IAM route."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.runtime import RuntimeService, Sampler

    backend = RuntimeService(account, env={}).backend("qrt_ideal_simulator")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)
    return str(Sampler(mode=backend).run([isa], shots=50).job_id())


async def test_a_job_submitted_to_the_embedded_local_service_is_listed(
    jp_fetch: Fetch, jp_serverapp: Any
) -> None:
    qrt = extension(jp_serverapp)
    service = await qrt.embedded.ready(timeout=HANG_GUARD_SECONDS * 4)
    loop = asyncio.get_running_loop()
    job_id = await loop.run_in_executor(None, _submit_bell, service.account())
    headers = kernel_headers(qrt)
    await jp_fetch(
        "jupyter-qrt",
        "jobs/track",
        method="POST",
        body=json.dumps({"account": "local", "job_id": job_id}),
        headers=headers,
    )
    listed: dict[str, Any] = {}
    for _ in range(int(HANG_GUARD_SECONDS / 0.1)):  # a bounded wait, in reads of the list
        answer = await fetch_json(jp_fetch, "jobs", params={"account": "local"}, headers=headers)
        listed = {job["id"]: job for job in answer["jobs"]}
        if listed.get(job_id, {}).get("status") == "Completed":
            break
        await asyncio.sleep(0.1)
    assert answer["error"] is None
    job = listed[job_id]
    assert (job["status"], job["backend"], job["program"]) == (
        "Completed",
        "qrt_ideal_simulator",
        "sampler",
    )
    assert job["created"].endswith("Z")
