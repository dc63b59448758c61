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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .watcher_account import AccountWatch, Sleep
from .watcher_source import JobsSource

if TYPE_CHECKING:
    from .upstream import Upstream

__all__ = ["AccountWatch", "Sleep", "WatcherHub"]

log = logging.getLogger(__name__)


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
        self._source = value  # tests and benchmarks put a counting fake here

    def watch(self, account: str) -> AccountWatch:
        """The account's watch, its poller started if it was not running."""
        current = self._watches.get(account)
        if current is None:
            base = max(int(time.time() * 1000), self._last_version + 1)
            current = AccountWatch(self, account, base)
            self._watches[account] = current
            current.task = asyncio.ensure_future(current.run())
        return current

    def ended(self, watch: AccountWatch) -> None:
        """Forget the poller of ``watch`` (it has stopped)."""
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
