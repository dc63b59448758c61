"""The jobs table: recent jobs with live status, cancel for pending ones, and open.

Pending rows are updated by the kernel's shared :mod:`poller`. "open" shows a finished job's
histogram (Sampler) or expectation plot (Estimator), or the job monitor while it runs.
"""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as w

from jupyter_qrt.runtime.facade.job_status import FINAL_STATUSES, JobStatus, status_from_api

from ._static import StaticFallback, esc, html_table
from .poller import JobPoller, JobUpdate, shared_poller, source_for

__all__ = ["JobsTable"]

logger = logging.getLogger(__name__)

_HEADER = ["id", "status", "backend", "program", "created"]


class JobsTable(StaticFallback, w.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """The service's recent jobs (use :func:`...widgets.jobs_table`)."""

    def __init__(self, service: Any, *, limit: int = 20, poller: JobPoller | None = None) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number of jobs >= 1, not {limit!r}.")
        self._service = service
        self._poller = poller or shared_poller()
        self.jobs = list(service.jobs(limit=limit))
        self._status: dict[str, str] = {}
        self._labels: dict[str, w.Label] = {}
        self._cancel: dict[str, w.Button] = {}
        self._handles: list[int] = []
        self._opened = w.VBox()
        self._message = w.HTML()
        cells: list[Any] = [w.HTML(f"<b>{esc(h)}</b>") for h in [*_HEADER, "", ""]]
        for job in self.jobs:
            job_id = job.job_id()
            details = job.details
            self._status[job_id] = status_from_api(details).value
            self._labels[job_id] = w.Label(self._status[job_id])
            cancel = w.Button(description="cancel", layout={"width": "80px"})
            cancel.on_click(lambda _b, j=job: self.cancel(j.job_id()))
            cancel.disabled = self._status[job_id] in FINAL_STATUSES
            self._cancel[job_id] = cancel
            opener = w.Button(description="open", layout={"width": "80px"})
            opener.on_click(lambda _b, j=job: self.open_job(j.job_id()))
            cells += [
                w.Label(job_id),
                self._labels[job_id],
                w.Label(str(details.get("backend") or "-")),
                w.Label(str(job.program_id or "-")),
                w.Label(str(details.get("created") or "-")),
                cancel,
                opener,
            ]
            if self._status[job_id] not in FINAL_STATUSES:
                source = source_for(job, service)
                self._handles.append(self._poller.watch(job_id, source, self._on_update))
        grid = w.GridBox(cells, layout={"grid_template_columns": "repeat(7, max-content)"})
        grid.layout.grid_gap = "2px 12px"
        super().__init__(children=[grid, self._message, self._opened])

    def _job(self, job_id: str) -> Any:
        for job in self.jobs:
            if job.job_id() == job_id:
                return job
        raise ValueError(f"Job {job_id} is not in this table; use %qrt_job {job_id} to open it.")

    def _on_update(self, update: JobUpdate) -> None:
        if self._status.get(update.job_id) in FINAL_STATUSES and not update.final:
            return  # a cancel the table made is not undone by a status read that lags it
        status = status_from_api(update.details).value
        self._status[update.job_id] = status
        self._labels[update.job_id].value = status
        self._cancel[update.job_id].disabled = status in FINAL_STATUSES

    def status(self, job_id: str) -> str:
        """The status shown for ``job_id``."""
        return self._status[job_id]

    def cancel(self, job_id: str) -> None:
        """Cancel a pending job (the table says why when it cannot)."""
        try:
            self._job(job_id).cancel()
        except Exception as exc:
            self._message.value = f"<b>Could not cancel {esc(job_id)}:</b> {esc(exc)}"
            return
        self._on_update(JobUpdate(job_id, {"state": {"status": "Cancelled"}}))
        self._message.value = f"Cancelled {esc(job_id)}."

    def open_job(self, job_id: str) -> Any:
        """Show the job: its result when done, else its monitor; returns the widget shown."""
        job = self._job(job_id)
        widget: Any
        if self._status[job_id] == JobStatus.DONE.value:
            from jupyter_qrt.kernel.program_view import as_counts_result, is_program_result

            from .expectation import ExpectationPlot
            from .histogram_view import Histogram

            result = job.result()
            if job.program_id == "estimator":
                widget = ExpectationPlot(result)
            elif is_program_result(result):
                widget = Histogram(as_counts_result(result), labels=[job_id])
            else:
                widget = Histogram(result, labels=[job_id])
        else:
            from .monitor import JobMonitor

            widget = JobMonitor(job, source=source_for(job, self._service), poller=self._poller)
        self._opened.children = [widget]
        return widget

    def close(self) -> None:
        """Stop the live updates and close the widget."""
        for handle in self._handles:
            self._poller.unwatch(handle)
        self._handles.clear()
        super().close()

    def _rows(self) -> list[list[str]]:
        return [
            [
                job.job_id(),
                self._status[job.job_id()],
                str(job.details.get("backend") or "-"),
                str(job.program_id or "-"),
                str(job.details.get("created") or "-"),
            ]
            for job in self.jobs
        ]

    def _fallback_text(self) -> str:
        return "\n".join(
            ["Jobs: " + ", ".join(_HEADER)] + ["  " + ", ".join(r) for r in self._rows()]
        )

    def _fallback_html(self) -> str:
        return html_table(_HEADER, self._rows(), caption="Jobs")
