"""One job poller per kernel, shared by every job monitor and jobs table.

Fifty monitors must not mean fifty pollers upstream. Monitors :meth:`JobPoller.watch` a job id on
a *source*; every ``interval`` seconds the poller's single background thread asks each source once
for all the ids watched on it, and fans the answers out to the callbacks. A source is either

- :class:`ApiSource`: the instance's REST API (one ``GET /jobs/{id}`` when one job is watched,
  otherwise one ``GET /jobs?pending=true`` page for all of them, plus one read per job that has
  just left that list), or
- :class:`WatcherSource`: the server extension's shared watcher
  (``GET $QRT_SERVER_URL/jupyter-qrt/jobs?account=NAME``), which itself polls upstream once per
  account for every kernel and the sidebar.

A job that reached a final state is read once more for its metrics (timestamps, usage), handed to
its callbacks and dropped. The thread starts with the first watch and ends when nothing is watched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Protocol

from jupyter_qrt.runtime.facade.job_status import FINAL_STATUSES, status_from_api

from .server_link import ServerLink, server_link

__all__ = [
    "ApiSource",
    "JobPoller",
    "JobSource",
    "JobUpdate",
    "WatcherSource",
    "shared_poller",
    "source_for",
    "watcher_details",
]

logger = logging.getLogger(__name__)

#: Shortest pause between two rounds: the bound on the upstream request rate of one kernel.
MIN_INTERVAL_SECONDS = 0.5
#: A source that fails is skipped for 1, 2, 4 ... rounds, up to this many, until it answers.
MAX_BACKOFF_ROUNDS = 32
#: Most pending jobs one ``GET /jobs`` page lists (the service's page limit).
_PENDING_PAGE = 200


@dataclass(frozen=True)
class JobUpdate:
    """What a poll round learned about one job.

    Attributes
    ----------
    job_id
        The job.
    details
        The job details JSON (``state``, ``created``, ``usage``, ...).
    metrics
        The job's metrics (``timestamps``, ``usage``) once it is final, else ``{}``.
    """

    job_id: str
    details: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        """True when the job has ended."""
        return status_from_api(self.details) in FINAL_STATUSES


class JobSource(Protocol):
    """Where a poll round reads jobs from."""

    key: Any

    def fetch(self, job_ids: set[str]) -> dict[str, dict[str, Any]]:
        """Details of the given jobs (ids it cannot see are left out)."""
        ...

    def final_metrics(self, job_id: str) -> dict[str, Any]:
        """Metrics of a job that has ended (``{}`` when the source has none)."""
        ...


class ApiSource:
    """Jobs read from an instance's REST resources (a ``RuntimeAPI``)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.key = ("api", id(api))

    def fetch(self, job_ids: set[str]) -> dict[str, dict[str, Any]]:
        """One read for one job; one pending-jobs page plus the jobs that left it, otherwise."""
        if len(job_ids) == 1:
            (only,) = job_ids
            return {only: self.api.job(only, exclude_params=True)}
        pending = {
            str(d.get("id")): d for d in self.api.jobs(_PENDING_PAGE, pending=True, page_size=200)
        }
        found = {i: pending[i] for i in job_ids if i in pending}
        # A watched job missing from the pending list has just ended (or is beyond the page):
        # read it alone. Each job is read this way once, then dropped when final.
        for job_id in job_ids - set(found):
            found[job_id] = self.api.job(job_id, exclude_params=True)
        return found

    def final_metrics(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/metrics``."""
        result: dict[str, Any] = self.api.job_metrics(job_id)
        return result


class WatcherSource:
    """Jobs read from the server extension's shared watcher for one account."""

    def __init__(self, link: ServerLink, account: str) -> None:
        self.link = link
        self.account = account
        self.key = ("watcher", link.url, account)

    def fetch(self, job_ids: set[str]) -> dict[str, dict[str, Any]]:
        """``GET /jupyter-qrt/jobs?account=NAME``: one request for every watched job."""
        body = self.link.get_json("jobs", {"account": self.account})
        jobs = body.get("jobs", []) if isinstance(body, Mapping) else body
        if isinstance(jobs, Mapping):  # keyed by id rather than listed
            jobs = [
                {"id": key, **value} for key, value in jobs.items() if isinstance(value, Mapping)
            ]
        out: dict[str, dict[str, Any]] = {}
        for item in jobs or []:
            if isinstance(item, Mapping) and str(item.get("id")) in job_ids:
                out[str(item["id"])] = watcher_details(item)
        return out

    def final_metrics(self, job_id: str) -> dict[str, Any]:
        """The watcher's details carry what the monitor shows; no extra request."""
        return {}


def watcher_details(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A job of the server's watcher as the runtime API's job details.

    The watcher lists a summary per job (``status``, ``reason``, ``reason_code``, ``created``,
    ``running``, ``finished`` at the top level); monitors read details (``state.status``,
    ``state.reason``, ``timestamps``). Details that already have a ``state`` are kept as they are.
    """
    details = dict(summary)
    if not isinstance(details.get("state"), Mapping):
        state = {"status": details.get("status")}
        for key in ("reason", "reason_code"):
            if details.get(key) is not None:
                state[key] = details[key]
        details["state"] = state
    stamps = {k: details[k] for k in ("created", "running", "finished") if details.get(k)}
    if stamps and not isinstance(details.get("timestamps"), Mapping):
        details["timestamps"] = stamps
    return details


def source_for(job: Any, service: Any = None, env: Mapping[str, str] | None = None) -> JobSource:
    """The source to watch ``job`` on: the server's watcher when there is one, else the API.

    Parameters
    ----------
    job
        A :class:`jupyter_qrt.runtime.Job`.
    service
        The :class:`~jupyter_qrt.runtime.RuntimeService` the job belongs to, if known.
    env
        Environment to read instead of ``os.environ``.
    """
    link = server_link(env)
    account = getattr(getattr(service, "account", None), "name", None)
    if link is not None and account:
        return WatcherSource(link, account)
    api = getattr(service, "api", None) or job._api  # the Job's own REST resources
    return ApiSource(api)


Callback = Callable[[JobUpdate], None]


class JobPoller:
    """Polls every watched job from one thread, one request round per interval.

    Parameters
    ----------
    interval
        Seconds between rounds (at least :data:`MIN_INTERVAL_SECONDS`).
    start_thread
        False to drive rounds by hand with :meth:`poll_once` (tests).
    """

    def __init__(self, interval: float = 1.0, *, start_thread: bool = True) -> None:
        self.interval = max(MIN_INTERVAL_SECONDS, float(interval))
        self._start_thread = start_thread
        self._lock = threading.Lock()
        self._sources: dict[Any, JobSource] = {}
        # source key -> job id -> subscription id -> callback
        self._watches: dict[Any, dict[str, dict[int, Callback]]] = {}
        self._ids = count(1)
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._failures: dict[Any, int] = {}  # source key -> failed reads in a row
        self._resume: dict[Any, int] = {}  # source key -> first round to read it again
        self.rounds = 0

    def watch(self, job_id: str, source: JobSource, callback: Callback) -> int:
        """Call ``callback(update)`` after each round until the job ends; returns a handle."""
        with self._lock:
            self._sources.setdefault(source.key, source)
            handle = next(self._ids)
            self._watches.setdefault(source.key, {}).setdefault(job_id, {})[handle] = callback
            if self._start_thread and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(
                    target=self._run, name="jupyter-qrt-job-poller", daemon=True
                )
                self._thread.start()
        return handle

    def unwatch(self, handle: int) -> None:
        """Stop calling the callback of ``handle`` (unknown handles are ignored)."""
        with self._lock:
            for key, jobs in list(self._watches.items()):
                for job_id, subs in list(jobs.items()):
                    subs.pop(handle, None)
                    if not subs:
                        del jobs[job_id]
                if not jobs:
                    del self._watches[key]
                    self._sources.pop(key, None)

    @property
    def watched(self) -> int:
        """How many (job, callback) pairs are watched."""
        with self._lock:
            return sum(len(s) for jobs in self._watches.values() for s in jobs.values())

    def poll_once(self) -> None:
        """One round: each source is asked once for all its watched jobs."""
        with self._lock:
            plan = [
                (self._sources[key], {j: dict(s) for j, s in jobs.items()})
                for key, jobs in self._watches.items()
            ]
        self.rounds += 1
        for source, jobs in plan:
            if self._resume.get(source.key, 0) > self.rounds:
                continue  # backing off a source that failed
            try:
                found = source.fetch(set(jobs))
            except Exception as exc:  # a dead network must not kill the thread, nor flood
                failures = self._failures[source.key] = self._failures.get(source.key, 0) + 1
                self._resume[source.key] = self.rounds + min(2**failures, MAX_BACKOFF_ROUNDS)
                log = logger.warning if failures == 1 else logger.debug
                log("Could not read job statuses (%s); will try again", exc)
                continue
            self._failures.pop(source.key, None)
            self._resume.pop(source.key, None)
            for job_id, details in found.items():
                update = JobUpdate(job_id, details)
                if update.final:
                    try:
                        metrics = source.final_metrics(job_id)
                    except Exception as exc:
                        logger.warning("Could not read metrics of job %s: %s", job_id, exc)
                        metrics = {}
                    update = JobUpdate(job_id, details, metrics)
                for handle, callback in jobs.get(job_id, {}).items():
                    try:
                        callback(update)
                    except Exception:
                        logger.exception("A job monitor failed to update")
                    if update.final:
                        self.unwatch(handle)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                if not self._watches:
                    self._thread = None
                    return
            self.poll_once()

    def stop(self) -> None:
        """Drop every watch; the thread ends at its next round."""
        with self._lock:
            self._watches.clear()
            self._sources.clear()
        self._wake.set()


_shared: JobPoller | None = None
_shared_lock = threading.Lock()


def shared_poller() -> JobPoller:
    """The kernel's one poller (made on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = JobPoller()
        return _shared
