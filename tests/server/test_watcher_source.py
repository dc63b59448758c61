"""The watcher's HTTP source against a small fake runtime API on a loopback port: what it asks
for, and the one line subscribers see when the upstream fails (never a header or a key).

Error bodies have IBM's shape (``{"errors": [{"message", "code"}]}``, reference section 4).
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from jupyter_qrt.server.upstream import UpstreamRefused, UpstreamTarget
from jupyter_qrt.server.watcher_source import SourceError, UpstreamJobs, job_summary

from .watcher_fakes import ibm_job

BEARER = "Bearer not-a-real-token-5f2c"


class FakeRuntime:
    """What the fake runtime API answers, and what it was asked."""

    def __init__(self) -> None:
        self.down = False
        self.seen: list[tuple[str, dict[str, list[str]], str | None]] = []


class _Jobs(web.RequestHandler):
    def initialize(self, runtime: FakeRuntime) -> None:
        self.runtime = runtime

    def get(self, job_id: str | None = None) -> None:
        args = {k: [v.decode() for v in vs] for k, vs in self.request.query_arguments.items()}
        self.runtime.seen.append(
            (self.request.path, args, self.request.headers.get("Authorization"))
        )
        if self.runtime.down:
            self.set_status(503)
            self.finish({"errors": [{"message": "Service is down for maintenance", "code": 3204}]})
        elif job_id is None:
            self.finish({"jobs": [ibm_job("job-1", "Running")], "count": 1, "limit": 5})
        elif job_id == "job-1":
            self.finish(ibm_job("job-1", "Running"))
        else:
            self.set_status(404)
            self.finish({"errors": [{"message": "Job not found", "code": 1291}]})


@pytest.fixture
def runtime_url(jp_asyncio_loop: Any) -> Any:
    """A fake runtime API served on the test's event loop."""
    runtime = FakeRuntime()
    app = web.Application(
        [
            (r"/api/v1/jobs", _Jobs, {"runtime": runtime}),
            (r"/api/v1/jobs/([^/]+)", _Jobs, {"runtime": runtime}),
        ]
    )
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/v1", runtime
    server.stop()


def source_for(url: str) -> UpstreamJobs:
    async def target_of(account: str) -> UpstreamTarget:
        return UpstreamTarget(url, "", "", headers={"Authorization": BEARER, "Service-CRN": "c"})

    return UpstreamJobs(target_of)


async def test_it_lists_with_the_accounts_bearer_and_reads_one_job_by_id(runtime_url: Any) -> None:
    url, runtime = runtime_url
    source = source_for(url)
    jobs = await source.list_jobs("acct", 5)
    assert [job["id"] for job in jobs] == ["job-1"]
    path, args, authorization = runtime.seen[0]
    assert (path, args, authorization) == (
        "/api/v1/jobs",
        {"limit": ["5"], "exclude_params": ["true"]},
        BEARER,
    )
    assert job_summary(jobs[0]) == {
        "id": "job-1",
        "status": "Running",
        "backend": "fake_manila",
        "program": "sampler",
        "created": "2026-12-06T03:00:00Z",
        "tags": [],
    }
    assert (await source.get_job("acct", "job-1"))["id"] == "job-1"  # type: ignore[index]
    assert await source.get_job("acct", "gone") is None


async def test_a_failing_upstream_is_one_readable_line_without_secrets(runtime_url: Any) -> None:
    url, runtime = runtime_url
    runtime.down = True
    with pytest.raises(SourceError) as failed:
        await source_for(url).list_jobs("acct", 5)
    assert str(failed.value) == "The runtime API answered 503: Service is down for maintenance"

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1"
    with pytest.raises(SourceError) as unreachable:
        await source_for(closed).list_jobs("acct", 5)
    line = str(unreachable.value)
    assert line.startswith(f"Cannot reach {closed}: ")
    assert line.endswith("Retrying with backoff.")
    assert "\n" not in line
    assert "not-a-real-token" not in line

    async def refusing(account: str) -> UpstreamTarget:
        raise UpstreamRefused(f"No account named {account!r}.")

    with pytest.raises(SourceError) as refused:
        await UpstreamJobs(refusing).list_jobs("nope", 5)
    assert str(refused.value) == "No account named 'nope'."
    assert json.dumps(str(refused.value))  # plain text, ready for the error field
