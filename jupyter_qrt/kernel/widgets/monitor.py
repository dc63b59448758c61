"""The job monitor: a job's states with the time spent in each, usage, cancel and errors.

Live updates come from the kernel's shared :mod:`poller` (never a poller per widget). Times in each
state come from the service's timestamps when it gives them (``created``, and the metrics'
``running``/``finished`` once the job ends), else from when this kernel first saw each state.

A monitor shown with :meth:`JobMonitor.show` keeps its IPython display handle and, when the job
reaches a final state, updates that display: a saved notebook's ``text/plain`` and ``text/html``
then hold the final state and the time in each state, not the "Queued" of the first render.

DOM contract (the browser tests rely on it): the monitor is ``.qrt-job-monitor``; its summary
line ``[data-qrt="job-summary"]`` carries ``data-qrt-job`` (the id) and ``data-qrt-status`` (the
status, e.g. ``RUNNING``, ``DONE``); the states and times are ``[data-qrt="job-history"]``; why
it failed or was cancelled ``[data-qrt="job-error"]``; the
cancel button is ``button[data-qrt="cancel"].qrt-cancel`` (:mod:`.cancel`: under the server
extension it cancels from the page, so it works while the cell that waits for the job runs).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w
import traitlets

from jupyter_qrt.runtime.facade.job_status import (
    FINAL_STATUSES,
    JobStatus,
    reason_of,
    status_from_api,
)

from ._static import StaticFallback, esc, html_table
from .cancel import JobCancel
from .poller import JobPoller, JobSource, JobUpdate, WatcherSource, shared_poller, source_for

__all__ = ["RUNNING_MEANS", "JobMonitor"]

logger = logging.getLogger(__name__)

RUNNING_MEANS = (
    "RUNNING means the job has left the queue: the service may still be pre-processing it "
    "(transpiling, loading parameters) or waiting for the device. It is not necessarily being "
    "billed: only the quantum seconds shown as usage are charged."
)

_LABELS = {
    JobStatus.INITIALIZING: "Initializing",
    JobStatus.QUEUED: "Queued",
    JobStatus.RUNNING: "Running",
    JobStatus.DONE: "Completed",
    JobStatus.CANCELLED: "Cancelled",
    JobStatus.ERROR: "Failed",
}


def _when(value: Any) -> float | None:
    """Epoch seconds of an ISO timestamp, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class JobMonitor(StaticFallback, w.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """A live status widget for a :class:`jupyter_qrt.runtime.Job`.

    Use :func:`jupyter_qrt.kernel.widgets.job_monitor` to make one.

    Attributes
    ----------
    status
        The job's status (``QUEUED``, ``RUNNING``, ``DONE``, ``CANCELLED``, ``ERROR``).
    durations
        Seconds spent in each state so far, keyed by label (``Queued``, ``Running``).
    usage_seconds
        Quantum seconds charged, once the job ended (None before).
    error
        Why the job failed or was cancelled ("" otherwise).
    """

    status = traitlets.Unicode("INITIALIZING")
    durations = traitlets.Dict()
    usage_seconds = traitlets.Float(None, allow_none=True)
    error = traitlets.Unicode("")

    def __init__(
        self,
        job: Any,
        *,
        source: JobSource,
        poller: JobPoller | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._job = job
        self._clock = clock
        self._details: dict[str, Any] = dict(getattr(job, "details", {}) or {})
        self._metrics: dict[str, Any] = {}
        self._seen: dict[JobStatus, float] = {}  # state -> when this kernel first saw it
        self._lock = threading.RLock()  # the poller's thread and the kernel's both apply
        self._display: Any = None  # IPython DisplayHandle once shown
        self._source = source
        self._header = w.HTML()
        self._table = w.HTML()
        self._explain = w.HTML(f"<small>{esc(RUNNING_MEANS)}</small>")
        self._footer = w.HTML()
        # Under the server extension the page cancels through the job's account (the kernel
        # may be busy waiting for the job); otherwise the kernel does.
        self._cancel = JobCancel(
            job_id=job.job_id(),
            account=source.account if isinstance(source, WatcherSource) else "",
            on_cancel=self._on_cancel,
            on_cancelled=self._on_cancelled_by_page,
        )
        super().__init__(
            children=[self._header, self._table, self._explain, self._footer, self._cancel]
        )
        self.add_class("qrt-job-monitor")
        self._poller = poller or shared_poller()
        self._handle: int | None = None
        self._apply(self._details or {"state": {"status": "Queued"}}, {})
        if self.status not in FINAL_STATUSES:
            self._handle = self._poller.watch(job.job_id(), source, self._on_update)
        else:  # ended before we looked: one read of its timestamps and usage, no watch
            try:
                self._apply(self._details, source.final_metrics(job.job_id()))
            except Exception as exc:
                logger.warning("Could not read metrics of job %s: %s", job.job_id(), exc)

    @property
    def job(self) -> Any:
        """The job this monitor shows."""
        return self._job

    def show(self) -> Any:
        """Display the monitor and keep its handle, so its final state replaces the first render.

        Returns the IPython ``DisplayHandle``.
        """
        from IPython.display import display

        self._display = display(self, display_id=True)  # type: ignore[no-untyped-call]
        return self._display

    def refresh(self) -> None:
        """Apply the job's details now (the caller waited for the job, e.g. ``job.wait()``).

        Reads the job's own details (one ``GET /jobs/{id}`` unless the job object already holds
        its final state) and, once final, its metrics; a final state stops the poller's watch.
        """
        with self._lock:
            if self.status in FINAL_STATUSES and self._metrics:
                return  # the end and its metrics are shown already
        details = self._job.refresh() if callable(getattr(self._job, "refresh", None)) else {}
        if not details.get("state"):
            return
        metrics: dict[str, Any] = {}
        if status_from_api(details) in FINAL_STATUSES:
            try:
                metrics = self._source.final_metrics(self._job.job_id())
            except Exception as exc:
                logger.warning("Could not read metrics of job %s: %s", self._job.job_id(), exc)
        self._on_update(JobUpdate(self._job.job_id(), details, metrics))

    # -- updates ------------------------------------------------------------------------------

    def _on_update(self, update: JobUpdate) -> None:
        with self._lock:
            if self.status in FINAL_STATUSES and not update.final:
                # The service may report a just-cancelled job as running for a moment: an end
                # the monitor already knows is never undone.
                return
            self._apply(update.details, update.metrics)

    def _apply(self, details: dict[str, Any], metrics: dict[str, Any]) -> None:
        with self._lock:
            self._apply_locked(details, metrics)

    def _apply_locked(self, details: dict[str, Any], metrics: dict[str, Any]) -> None:
        was = self.status
        self._details = dict(details)
        if metrics:
            self._metrics = dict(metrics)
        status = status_from_api(self._details) if self._details.get("state") else JobStatus.QUEUED
        now = self._clock()
        self._seen.setdefault(status, now)
        self.durations = self._durations(status, now)
        if status in FINAL_STATUSES:
            usage = self._metrics.get("usage") or self._details.get("usage") or {}
            seconds = usage.get("quantum_seconds", usage.get("seconds"))
            self.usage_seconds = float(seconds) if seconds is not None else 0.0
            code, reason = reason_of(self._details)
            # A job cancelled on request is no error; one the service stopped says why.
            if status is JobStatus.ERROR or (status is JobStatus.CANCELLED and (code or reason)):
                text = reason or "no reason given by the service"
                self.error = f"Error code {code}: {text}" if code is not None else text
        self.status = status.value
        self._render()
        if status in FINAL_STATUSES:
            if self._display is not None and (was != status.value or metrics):
                # The saved notebook keeps the last display of this output: make it the end.
                try:
                    self._display.update(self)
                except Exception as exc:  # no frontend any more: the live widget is current
                    logger.debug("Could not update the display of job %s: %s", self._job, exc)
            if self._handle is not None:  # the end is shown: no more polling
                self._poller.unwatch(self._handle)
                self._handle = None

    def _durations(self, status: JobStatus, now: float) -> dict[str, float]:
        # The service's times: its metrics once the job ended, else what its details carry
        # (the server's watcher passes on ``running`` as soon as the job left the queue).
        stamps = self._metrics.get("timestamps") or self._details.get("timestamps") or {}
        created = _when(stamps.get("created") or self._details.get("created"))
        running = _when(stamps.get("running")) or self._seen.get(JobStatus.RUNNING)
        finished = _when(stamps.get("finished"))
        if finished is None and status in FINAL_STATUSES:
            finished = self._seen.get(status, now)
        queued_from = created if created is not None else self._seen.get(JobStatus.QUEUED, now)
        out: dict[str, float] = {}
        queued_until = running or finished or now
        out["Queued"] = max(0.0, queued_until - queued_from)
        if running is not None:
            out["Running"] = max(0.0, (finished or now) - running)
        return {k: round(v, 3) for k, v in out.items()}

    def _on_cancel(self, _button: Any = None) -> None:
        try:
            self._job.cancel()
        except Exception as exc:  # already ended, network: say so in the widget
            self._footer.value = f"<b>Could not cancel:</b> {esc(exc)}"
            return
        self._apply({**self._details, "state": {"status": "Cancelled"}}, {})

    def _on_cancelled_by_page(self) -> None:
        """The page cancelled the job through the server: show it, unless an end is known."""
        with self._lock:
            if self.status in FINAL_STATUSES:
                return
            self._apply({**self._details, "state": {"status": "Cancelled"}}, {})

    def close(self) -> None:
        """Stop watching the job and close the widget."""
        if self._handle is not None:
            self._poller.unwatch(self._handle)
            self._handle = None
        super().close()

    # -- rendering ----------------------------------------------------------------------------

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(state, f"{seconds:.1f} s") for state, seconds in self.durations.items()]
        status = JobStatus(self.status)
        if status in FINAL_STATUSES:
            rows.append((_LABELS[status], ""))
        return rows

    def _summary(self) -> str:
        job_id = self._job.job_id()
        backend = self._details.get("backend") or getattr(self._job, "backend_name", None) or "-"
        text = f"Job {job_id} on {backend}: {_LABELS[JobStatus(self.status)]}"
        position = self._details.get("queue_position")
        if JobStatus(self.status) is JobStatus.QUEUED and isinstance(position, int):
            text += f" (position {position} in the queue)"
        return text

    def _render(self) -> None:
        status = JobStatus(self.status)
        self._header.value = (
            f'<b data-qrt="job-summary" data-qrt-job="{esc(self._job.job_id())}" '
            f'data-qrt-status="{esc(status.value)}">{esc(self._summary())}</b>'
        )
        self._table.value = (
            f'<div data-qrt="job-history">{html_table(["state", "time"], self._rows())}</div>'
        )
        footer = []
        if self.usage_seconds is not None:
            footer.append(f"Usage: {self.usage_seconds:g} quantum seconds")
        if self.error:  # a failure in red; why a job was cancelled ("on request") plainly
            colour = "color:#b00" if status is JobStatus.ERROR else ""
            footer.append(f"<span data-qrt='job-error' style='{colour}'>{esc(self.error)}</span>")
        self._footer.value = "<br>".join(footer)
        self._cancel.disabled = status in FINAL_STATUSES
        self._explain.layout.display = None if status is JobStatus.RUNNING else "none"

    def _fallback_text(self) -> str:
        lines = [self._summary()]
        lines += [f"  {state}: {time_}" for state, time_ in self._rows() if time_]
        if self.usage_seconds is not None:
            lines.append(f"  usage: {self.usage_seconds:g} quantum seconds")
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)

    def _fallback_html(self) -> str:
        parts = [self._header.value, self._table.value]
        if JobStatus(self.status) is JobStatus.RUNNING:
            parts.append(self._explain.value)
        if self._footer.value:
            parts.append(f"<div>{self._footer.value}</div>")
        return "<div class='qrt-job-monitor'>" + "".join(parts) + "</div>"


def job_monitor(
    job: Any, *, service: Any = None, poller: JobPoller | None = None, source: Any = None
) -> JobMonitor:
    """A live status widget for ``job``, updated by the kernel's shared poller.

    Parameters
    ----------
    job
        A :class:`jupyter_qrt.runtime.Job`.
    service
        The :class:`~jupyter_qrt.runtime.RuntimeService` it belongs to; under the server extension
        its account name selects the server's shared watcher.
    poller, source
        Another poller or job source than the kernel's (tests).
    """
    if not callable(getattr(job, "job_id", None)):
        raise TypeError(
            f"job_monitor takes a job (from Sampler.run, Estimator.run or service.job(id)), "
            f"not {type(job).__name__}."
        )
    return JobMonitor(job, source=source or source_for(job, service), poller=poller)
