"""Fakes for the job watcher's tests: an upstream that counts its calls, and a clock the test
drives interval by interval (so no test waits on, or asserts about, wall-clock time).

Job JSON has the shape of IBM's ``GET /jobs/{id}`` (reference section 5.2), e.g.
``{"id", "backend", "state": {"status"}, "status", "program": {"id"}, "created", "tags"}``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_qrt.server.watcher_source import SourceError

HANG_GUARD_SECONDS = 30.0
"""Bound on every wait in these tests: reached only when the code under test hangs."""


def ibm_job(
    job_id: str, status: str = "Queued", created: str = "2026-12-06T03:00:00Z"
) -> dict[str, Any]:
    """A job as IBM's runtime API lists it (``exclude_params=true``)."""
    return {
        "id": job_id,
        "backend": "fake_manila",
        "state": {"status": status},
        "status": status,
        "program": {"id": "sampler"},
        "created": created,
        "tags": [],
        "user_id": "u1",
    }


class CountingSource:
    """A :class:`~jupyter_qrt.server.watcher_source.JobsSource` that counts upstream calls.

    ``jobs`` is what the upstream lists (newest first); ``hidden`` are jobs it only answers by id
    (e.g. not yet on the list page); ``failure``, when set, makes every call fail with that line.
    """

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []
        self.hidden: dict[str, dict[str, Any]] = {}
        self.failure: str | None = None
        self.list_calls = 0
        self.get_calls: list[str] = []

    async def list_jobs(self, account: str, limit: int) -> list[dict[str, Any]]:
        self.list_calls += 1
        if self.failure:
            raise SourceError(self.failure)
        return [dict(job) for job in self.jobs[:limit]]

    async def get_job(self, account: str, job_id: str) -> dict[str, Any] | None:
        self.get_calls.append(job_id)
        if self.failure:
            raise SourceError(self.failure)
        for job in self.jobs:
            if job["id"] == job_id:
                return dict(job)
        found = self.hidden.get(job_id)
        return None if found is None else dict(found)


class ManualClock:
    """A ``sleep`` that records each pause and returns only when the test says so.

    ``await clock.tick()`` lets every sleeping poller finish its interval and waits until each
    is asleep again, i.e. has made exactly one more poll round.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._pending: list[asyncio.Future[None]] = []
        self._condition = asyncio.Condition()

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.delays.append(seconds)
        async with self._condition:
            self._pending.append(future)
            self._condition.notify_all()
        try:
            await future
        finally:
            if future in self._pending:
                self._pending.remove(future)

    async def sleeping(self, count: int = 1) -> None:
        """Wait until ``count`` pollers are asleep."""

        async def wait() -> None:
            async with self._condition:
                await self._condition.wait_for(lambda: len(self._pending) >= count)

        await asyncio.wait_for(wait(), HANG_GUARD_SECONDS)

    async def tick(self, count: int = 1) -> None:
        """One interval for ``count`` sleeping pollers."""
        await self.sleeping(count)
        pending, self._pending = self._pending, []
        for future in pending:
            if not future.done():
                future.set_result(None)
        await self.sleeping(count)
