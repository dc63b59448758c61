"""The shared job watcher: one poller per account, however many subscribers.

:class:`WatcherHub` keeps, per account with subscribers, one poller that lists recent jobs
upstream (rate-limited, backing off while the upstream fails) and a version counter that moves
when a job's state changes. Widgets, notebooks and the sidebar read the list and wait for
changes (``GET /jupyter-qrt/jobs``, ``GET /jupyter-qrt/jobs/events``): upstream calls per interval
do not grow with the number of subscribers. It serves the jobs of a kernel that has since
restarted too (they are listed by account, not by kernel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .upstream import Upstream

__all__ = ["WatcherHub"]


class WatcherHub:
    """One poller per watched account (see the module docstring)."""

    def __init__(self, *, upstream: Upstream, interval: float, max_interval: float) -> None:
        self.upstream = upstream
        self.interval = interval
        self.max_interval = max_interval

    def stop(self) -> None:
        """Stop every poller."""
