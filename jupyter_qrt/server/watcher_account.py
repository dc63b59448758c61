"""One watched account: its jobs as last seen upstream, its versions, and its poller.

:class:`AccountWatch` is the per-account half of :mod:`.watcher` (whose docstring says how an
account is polled, and what versions mean); :class:`~.watcher.WatcherHub` creates one per
account with subscribers and gives it its settings (:class:`HubSettings`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .watcher_source import FINAL_STATUSES, JobsSource, SourceError, job_summary

__all__ = ["AccountWatch", "HubSettings", "Sleep"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
"""``asyncio.sleep`` or a test's controllable clock."""


class HubSettings(Protocol):
    """What an :class:`AccountWatch` reads from its hub."""

    interval: float
    max_interval: float
    page_size: int
    linger: float
    max_tracked: int
    sleep: Sleep

    @property
    def source(self) -> JobsSource:
        """What to poll."""
        ...

    def ended(self, watch: AccountWatch) -> None:
        """The poller of ``watch`` has stopped."""
        ...


_MAX_KNOWN_JOBS = 1000


def _newest_first(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # IBM's ``created`` is ISO 8601 in UTC: string order is time order.
    return sorted(jobs, key=lambda job: str(job.get("created") or ""), reverse=True)


class AccountWatch:
    """One account's jobs as last seen upstream, its version, and its poller."""

    def __init__(self, hub: HubSettings, account: str, base_version: int) -> None:
        self.hub = hub
        self.account = account
        self.base = base_version
        self.version = base_version
        self.jobs: dict[str, dict[str, Any]] = {}
        self._changed_at: dict[str, int] = {}
        self._removed_at: dict[str, int] = {}
        self.error: str | None = None
        self.interval = hub.interval
        self.subscribers = 0
        self.idle = 0.0
        self.polls = 0  # list polls (one per interval)
        self.requests = 0  # upstream calls (list polls and by-id fetches)
        self.last_poll: float | None = None
        self.polled = asyncio.Event()
        self._tracked: set[str] = set()
        self._track_now: set[str] = set()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    # -- what readers see -----------------------------------------------------------------------

    def snapshot(self, limit: int | None = None) -> dict[str, Any]:
        """``{"account", "version", "jobs", "error"}``, newest jobs first."""
        jobs = _newest_first(list(self.jobs.values()))
        return {
            "account": self.account,
            "version": self.version,
            "jobs": jobs[:limit] if limit is not None else jobs,
            "error": self.error,
        }

    def needs_reset(self, since: int | None) -> bool:
        """Whether a client at version ``since`` must get the whole list."""
        return since is None or since < self.base or since > self.version

    def changes_since(self, since: int | None) -> dict[str, Any]:
        """What changed after version ``since``: the changed jobs and the removed ids, or the
        whole list with ``"reset": true`` when ``since`` is not one of this poller's versions."""
        if since is None or self.needs_reset(since):
            return {**self.snapshot(), "removed": [], "reset": True}
        changed = [self.jobs[i] for i, v in self._changed_at.items() if v > since]
        return {
            "account": self.account,
            "version": self.version,
            "jobs": _newest_first(changed),
            "removed": [i for i, v in self._removed_at.items() if v > since],
            "error": self.error,
            "reset": False,
        }

    async def wait_change(self, since: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a version after ``since``; whether there is one."""
        event = self._changed
        if self.version != since:
            return True
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return self.version != since
        return True

    def state(self) -> dict[str, Any]:
        """The status route's view of this account."""
        return {
            "account": self.account,
            "subscribers": self.subscribers,
            "interval": self.interval,
            "last_error": self.error,
            "last_poll": None
            if self.last_poll is None
            else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_poll)),
            "version": self.version,
            "jobs": len(self.jobs),
            "polls": self.polls,
            "requests": self.requests,
        }

    # -- changes --------------------------------------------------------------------------------

    def _commit(self, changed: list[str], removed: list[str], error: str | None) -> None:
        if not changed and not removed and error == self.error:
            return
        self.version += 1
        for job_id in changed:
            self._changed_at[job_id] = self.version
            self._removed_at.pop(job_id, None)
        for job_id in removed:
            self._removed_at[job_id] = self.version
            self._changed_at.pop(job_id, None)
        self.error = error
        self._forget_old()
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _forget_old(self) -> None:
        """Keep memory bounded: drop the oldest final jobs past :data:`_MAX_KNOWN_JOBS`."""
        excess = len(self.jobs) - _MAX_KNOWN_JOBS
        if excess <= 0:
            return
        final = [j for j in self.jobs.values() if j["status"] in FINAL_STATUSES]
        for job in _newest_first(final)[-excess:]:
            del self.jobs[job["id"]]
            self._changed_at.pop(job["id"], None)
        while len(self._removed_at) > _MAX_KNOWN_JOBS:
            del self._removed_at[next(iter(self._removed_at))]

    def _take(self, raw: dict[str, Any], changed: list[str]) -> None:
        summary = job_summary(raw)
        if self.jobs.get(summary["id"]) != summary:
            self.jobs[summary["id"]] = summary
            changed.append(summary["id"])
        self._tracked.discard(summary["id"])

    def track(self, job_id: str) -> bool:
        """Follow ``job_id`` and fetch it at once; False when the poller already follows it."""
        known = self.jobs.get(job_id)
        if job_id in self._tracked or (known is not None and known["status"] in FINAL_STATUSES):
            return False
        if len(self._tracked) >= self.hub.max_tracked:
            # Beyond the bound, the next list poll finds it (no extra upstream calls).
            return False
        self._tracked.add(job_id)
        self._track_now.add(job_id)
        self._wake.set()
        return True

    # -- polling --------------------------------------------------------------------------------

    def _to_follow(self, on_page: set[str]) -> list[str]:
        """Ids to fetch one by one after a list poll (bounded by ``max_tracked``)."""
        stale = [
            job_id
            for job_id, job in self.jobs.items()
            if job_id not in on_page and job["status"] not in FINAL_STATUSES
        ]
        ids = [*sorted(self._tracked - on_page), *stale]
        return list(dict.fromkeys(ids))[: self.hub.max_tracked]

    async def _fetch(self, ids: list[str], changed: list[str], removed: list[str]) -> None:
        source = self.hub.source
        for job_id in ids:
            self.requests += 1
            raw = await source.get_job(self.account, job_id)
            if raw is None:  # deleted upstream, or an id that never existed
                self._tracked.discard(job_id)
                if self.jobs.pop(job_id, None) is not None:
                    removed.append(job_id)
            else:
                self._take(raw, changed)

    async def poll(self) -> None:
        """One round: the list, then the jobs to follow by id; errors back off."""
        self.polls += 1
        self.last_poll = time.time()
        changed: list[str] = []
        removed: list[str] = []
        try:
            self.requests += 1
            page = await self.hub.source.list_jobs(self.account, self.hub.page_size)
            for raw in page:
                self._take(raw, changed)
            await self._fetch(self._to_follow({str(raw["id"]) for raw in page}), changed, removed)
        except SourceError as exc:
            self.interval = min(self.interval * 2, self.hub.max_interval)
            if str(exc) != self.error:
                log.info("jupyter-qrt watcher: account %s: %s", self.account, exc)
            self._commit(changed, removed, str(exc))
        else:
            self.interval = self.hub.interval
            self._commit(changed, removed, None)
        finally:
            self.polled.set()

    async def _fetch_tracked_now(self) -> None:
        ids, self._track_now = sorted(self._track_now), set()
        changed: list[str] = []
        removed: list[str] = []
        try:
            await self._fetch(ids, changed, removed)
        except SourceError as exc:
            # The next list poll retries these; the error is reported as any poll's.
            self._commit(changed, removed, str(exc))
        else:
            self._commit(changed, removed, self.error)

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` (through the hub's clock), fetching tracked ids as they come."""
        sleeper: asyncio.Future[Any] = asyncio.ensure_future(self.hub.sleep(delay))
        waker: asyncio.Future[Any] | None = None
        try:
            while not sleeper.done():
                current: asyncio.Future[Any] = asyncio.ensure_future(self._wake.wait())
                waker = current
                done, _ = await asyncio.wait(
                    {sleeper, current}, return_when=asyncio.FIRST_COMPLETED
                )
                if current in done:
                    self._wake.clear()
                    await self._fetch_tracked_now()
        finally:
            sleeper.cancel()
            if waker is not None:
                waker.cancel()

    async def run(self) -> None:
        """Poll until nobody has subscribed or read for ``linger`` seconds."""
        try:
            while True:
                await self.poll()
                delay = self.interval
                if self.subscribers == 0:
                    if self.idle >= self.hub.linger:
                        return
                    self.idle += delay
                await self._pause(delay)
        except Exception:  # a bug here must not leave subscribers waiting on a dead poller
            log.exception("jupyter-qrt watcher: the poller of %s stopped", self.account)
            self._commit([], [], "The job watcher stopped on an internal error; see the log.")
        finally:
            self.hub.ended(self)
