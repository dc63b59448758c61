"""The shared job watcher: one poller per account, however many subscribers.

:class:`WatcherHub` keeps, per account with subscribers, one poller that lists recent jobs
upstream (rate-limited, backing off while the upstream fails) and a version counter that moves
when a job's state changes. Widgets, notebooks and the sidebar read the list and wait for
changes (``GET /jupyter-qrt/jobs``, ``GET /jupyter-qrt/jobs/events``): upstream calls per interval
do not grow with the number of subscribers. It serves the jobs of a kernel that has since
restarted too (they are listed by account, not by kernel).

How an account is polled (:class:`AccountWatch`):

- every ``interval`` seconds one ``GET <runtime>/jobs?limit=<page>&exclude_params=true``; then,
  by id (``GET <runtime>/jobs/<id>``), the jobs it must follow that are not on that page: ids a
  client asked to track (:meth:`WatcherHub.track`, so a job just submitted appears at once) and
  known jobs not yet final that fell off the page, at most ``max_tracked`` of them;
- a tracked id is fetched at once (the poller wakes up for it) without moving the next list
  poll, so track requests never add list polls;
- on an error the pause doubles up to ``max_interval``, the error's one line goes to subscribers
  (it is part of the version), and the first good poll brings back ``interval`` and clears it;
- the poller starts with the first subscriber (an event stream) or the first ``GET`` of the
  list, and stops after ``linger`` seconds of polling with no subscriber and no ``GET``.

Versions are integers that only grow within a server process: each poller starts from the
current time in milliseconds (above any version an earlier poller gave), and each change adds
one. A client that presents a version from before this poller (an older poller, another server
process) gets the whole list again (``"reset": true``).

Sleeping goes through an injectable ``sleep`` coroutine, so tests drive the poller interval by
interval with a controllable clock and count upstream calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .watcher_source import FINAL_STATUSES, JobsSource, SourceError, job_summary

if TYPE_CHECKING:
    from .upstream import Upstream

__all__ = ["AccountWatch", "Sleep", "WatcherHub"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
"""``asyncio.sleep`` or a test's controllable clock."""

_MAX_KNOWN_JOBS = 1000


def _newest_first(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # IBM's ``created`` is ISO 8601 in UTC: string order is time order.
    return sorted(jobs, key=lambda job: str(job.get("created") or ""), reverse=True)


class AccountWatch:
    """One account's jobs as last seen upstream, its version, and its poller."""

    def __init__(self, hub: WatcherHub, account: str, base_version: int) -> None:
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
        self.polls = 0
        """List polls made (one per interval)."""
        self.requests = 0
        """Upstream calls made (list polls and by-id fetches)."""
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
                done, _ = await asyncio.wait({sleeper, current}, return_when=asyncio.FIRST_COMPLETED)
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
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not leave subscribers waiting on a dead poller
            log.exception("jupyter-qrt watcher: the poller of %s stopped", self.account)
            self._commit([], [], "The job watcher stopped on an internal error; see the log.")
        finally:
            self.hub._ended(self)


class WatcherHub:
    """One poller per watched account (see the module docstring).

    Parameters
    ----------
    upstream
        Where accounts' calls go (``Upstream.target``); unused when ``source`` is given.
    interval
        Seconds between list polls of an account.
    max_interval
        Longest pause while the upstream keeps failing.
    source
        What to poll (default: the runtime API through ``upstream``).
    sleep
        How to wait (default :func:`asyncio.sleep`; tests pass a controllable clock).
    page_size
        Jobs asked for per list poll.
    linger
        Seconds a poller keeps polling after its last subscriber or reader left.
    max_tracked
        Jobs fetched one by one per round, at most.
    """

    stream_seconds = 55.0
    """How long one event stream stays open before it closes (clients reconnect)."""
    heartbeat_seconds = 15.0
    """Pause after which an event stream with no change sends a heartbeat comment."""

    def __init__(
        self,
        *,
        upstream: Upstream | None,
        interval: float,
        max_interval: float,
        source: JobsSource | None = None,
        sleep: Sleep | None = None,
        page_size: int = 50,
        linger: float = 60.0,
        max_tracked: int = 20,
    ) -> None:
        self.upstream = upstream
        self.interval = interval
        self.max_interval = max(max_interval, interval)
        self._source = source
        self.sleep: Sleep = sleep or asyncio.sleep
        self.page_size = page_size
        self.linger = linger
        self.max_tracked = max_tracked
        self._watches: dict[str, AccountWatch] = {}
        self._last_version = 0

    @property
    def source(self) -> JobsSource:
        """What the pollers read (built on first use from ``upstream``)."""
        if self._source is None:
            from .watcher_local import LocalTargets, target_with_fallback
            from .watcher_source import UpstreamJobs

            if self.upstream is None:
                raise RuntimeError("WatcherHub needs an upstream or a source")
            target_of = target_with_fallback(self.upstream, LocalTargets(self.upstream.embedded))
            self._source = UpstreamJobs(target_of)
        return self._source

    @source.setter
    def source(self, value: JobsSource) -> None:
        self._source = value

    def watch(self, account: str) -> AccountWatch:
        """The account's watch, its poller started if it was not running."""
        current = self._watches.get(account)
        if current is None:
            base = max(int(time.time() * 1000), self._last_version + 1)
            current = AccountWatch(self, account, base)
            self._watches[account] = current
            current.task = asyncio.ensure_future(current.run())
        return current

    def _ended(self, watch: AccountWatch) -> None:
        self._last_version = max(self._last_version, watch.version)
        if self._watches.get(watch.account) is watch:
            del self._watches[watch.account]

    def touch(self, account: str) -> AccountWatch:
        """A reader of ``account``'s list: keep (or start) its poller for ``linger`` more."""
        watch = self.watch(account)
        watch.idle = 0.0
        return watch

    @asynccontextmanager
    async def subscribe(self, account: str) -> AsyncIterator[AccountWatch]:
        """Subscribe to ``account`` while the block runs."""
        watch = self.watch(account)
        watch.subscribers += 1
        try:
            yield watch
        finally:
            watch.subscribers -= 1
            watch.idle = 0.0

    def track(self, account: str, job_id: str) -> AccountWatch:
        """Fetch ``job_id`` of ``account`` now and follow it until it is final."""
        watch = self.touch(account)
        watch.track(job_id)
        return watch

    def status(self) -> dict[str, Any]:
        """The watcher's part of the status route."""
        return {
            "interval": self.interval,
            "max_interval": self.max_interval,
            "accounts": [w.state() for w in self._watches.values()],
            "last_error": next((w.error for w in self._watches.values() if w.error), None),
        }

    def stop(self) -> list[asyncio.Task[None]]:
        """Stop every poller; returns their tasks (awaiting them waits for the cancellation)."""
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        self._watches.clear()
        return tasks
