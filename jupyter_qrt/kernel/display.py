"""Showing things in the notebook: the widgets when they are there, plain text otherwise.

The widgets live in :mod:`jupyter_qrt.kernel.widgets` (``job_monitor``, ``histogram``,
``expectation_plot``, ``backend_browser``, ``jobs_table``, ``account_setup``,
``instance_picker``). Every function here calls the widget of that name when the widgets
package provides it and ipywidgets can be imported, and otherwise shows a small object whose
mimebundle is text (``text/plain`` and ``text/html``), so plain IPython and saved notebooks
show the result too.
"""

from __future__ import annotations

import html
import importlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "TextTable",
    "account_setup",
    "backend_browser",
    "counts_of",
    "expectation_plot",
    "histogram",
    "instance_picker",
    "job_monitor",
    "jobs_table",
    "show",
]

logger = logging.getLogger(__name__)

#: The text monitor of a job run with ``--no-wait`` reads its status at most this often and
#: stops after this long (the job goes on; ``%qrt_job ID`` shows it later).
MONITOR_POLL_SECONDS = 1.0
MONITOR_MAX_SECONDS = 3600.0


def _widget(name: str) -> Callable[..., Any] | None:
    """The widgets package's function ``name``, or ``None`` when there is none to use."""
    try:
        module = importlib.import_module("jupyter_qrt.kernel.widgets")
    except ImportError:
        return None
    function = getattr(module, name, None)
    return function if callable(function) else None


def show(obj: Any, *, display_id: str | bool | None = None) -> Any:
    """Display ``obj`` (IPython's ``display``); returns the display handle if one was asked."""
    from IPython.display import display

    return display(obj, display_id=display_id)  # type: ignore[no-untyped-call]


class TextTable:
    """Rows shown as an aligned text table and an HTML table."""

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = ""):
        self.headers = [str(h) for h in headers]
        self.rows = [[str(c) for c in row] for row in rows]
        self.title = title

    def __repr__(self) -> str:
        widths = [
            max(len(h), *(len(r[i]) for r in self.rows)) if self.rows else len(h)
            for i, h in enumerate(self.headers)
        ]
        lines = [self.title] if self.title else []
        lines.append("  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True)))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in self.rows]
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- jobs --------------------------------------------------------------------------------------


class _TextMonitor:
    """A job's status as one updating line."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self._status = "INITIALIZING"
        self._lock = threading.Lock()
        self._handle = show(self, display_id=True)

    def line(self) -> str:
        return f"Job {self.job.job_id()} on {self.job.backend_name}: {self._status}"

    def __repr__(self) -> str:
        return self.line()

    def update(self, status: Any) -> None:
        with self._lock:
            self._status = getattr(status, "value", str(status))
        if self._handle is not None:
            self._handle.update(self)

    def refresh(self) -> None:
        """Show the job's status as the service has it now."""
        self.update(self.job.status())

    def follow(self) -> None:
        """Keep the line current from a background thread until the job ends (bounded)."""
        thread = threading.Thread(target=self._poll, name="qrt-job-monitor", daemon=True)
        thread.start()

    def _poll(self) -> None:
        from jupyter_qrt.runtime.facade.job_status import FINAL_STATUSES

        deadline = time.monotonic() + MONITOR_MAX_SECONDS
        while time.monotonic() < deadline:
            try:
                status = self.job.status()
            except Exception:  # the service went away: the line keeps its last state
                return
            self.update(status)
            # The status just shown decides: a second read could be the end, never shown.
            if status in FINAL_STATUSES:
                return
            time.sleep(MONITOR_POLL_SECONDS)


def job_monitor(job: Any, *, service: Any = None, follow: bool = False) -> Any:
    """Show a live status of ``job``; the object returned has ``refresh()``.

    ``follow``: keep it updating from a background thread (for ``--no-wait``); the widget
    does this by itself (the kernel's shared poller). Either way the display is updated in
    place when the job ends, so a saved notebook shows the final state, not "Queued".
    """
    widget = _widget("job_monitor")
    if widget is not None:
        monitor = widget(job, service=service)
        monitor.show()  # keeps the display handle: the final state replaces the first render
        return monitor
    monitor = _TextMonitor(job)
    if follow:
        monitor.follow()
    return monitor


def counts_of(result: Any) -> list[tuple[str, dict[str, int]]]:
    """Counts per pub and classical register of a Sampler ``PrimitiveResult``."""
    out = []
    for index, pub_result in enumerate(result):
        data = pub_result.data
        for name in data:
            value = data[name]
            if hasattr(value, "get_counts"):
                out.append((f"pub {index}, {name}", dict(value.get_counts())))
    return out


def _counts_table(labels: Sequence[str], counts: dict[str, int], top: int = 16) -> TextTable:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(counts.values()) or 1
    rows = [(k, v, f"{v / total:.3f}", "#" * round(40 * v / total)) for k, v in ordered[:top]]
    rest = ordered[top:]
    if rest:
        other = sum(v for _, v in rest)
        rows.append((f"other ({len(rest)})", other, f"{other / total:.3f}", ""))
    return TextTable(("bitstring", "count", "probability", ""), rows, title=", ".join(labels))


class _TextHistogram:
    def __init__(self, tables: list[TextTable]) -> None:
        self.tables = tables

    def __repr__(self) -> str:
        return "\n\n".join(repr(t) for t in self.tables)

    def _repr_html_(self) -> str:
        return "".join(t._repr_html_() for t in self.tables)


def histogram(results: Any, *, labels: Sequence[str] | None = None) -> Any:
    """Show the counts of one or several Sampler results (or counts dicts)."""
    widget = _widget("histogram")
    if widget is not None:
        return show(widget(results, labels=labels)) or None
    many = results if isinstance(results, (list, tuple)) else [results]
    tables = []
    for n, item in enumerate(many):
        prefix = (
            labels[n] if labels and n < len(labels) else (f"result {n}" if len(many) > 1 else "")
        )
        pairs = [("counts", item)] if isinstance(item, dict) else counts_of(item)
        for label, counts in pairs:
            tables.append(_counts_table([p for p in (prefix, label) if p], counts))
    show(_TextHistogram(tables))
    return None


def expectation_plot(result: Any, *, parameter_values: Any = None) -> Any:
    """Show an Estimator result: expectation values with their standard errors."""
    import numpy as np

    widget = _widget("expectation_plot")
    if widget is not None:
        return show(widget(result, parameter_values=parameter_values)) or None
    tables = []
    for index, pub_result in enumerate(result):
        evs = np.atleast_1d(np.asarray(pub_result.data.evs, dtype=float))
        stds = np.atleast_1d(np.asarray(pub_result.data.stds, dtype=float))
        rows = [
            (
                str(tuple(int(i) for i in position)) if evs.ndim > 1 else str(position[0]),
                f"{evs[position]:.6g}",
                f"{stds[position]:.3g}",
            )
            for position in np.ndindex(evs.shape)
        ]
        tables.append(TextTable(("index", "<O>", "± std"), rows, title=f"pub {index}"))
    show(_TextHistogram(tables))
    return None


# -- services ----------------------------------------------------------------------------------


def backend_browser(service: Any, backends: Sequence[Any], *, filtered: bool) -> None:
    """Show the backends (the browser widget when no filter narrows the list)."""
    widget = _widget("backend_browser")
    if widget is not None and not filtered:
        show(widget(service))
        return
    rows = []
    for backend in backends:
        status = backend.status()
        rows.append(
            (
                backend.name,
                backend.num_qubits,
                "simulator" if backend.simulator else "device",
                "online" if status.operational else "offline",
                status.pending_jobs,
            )
        )
    show(TextTable(("backend", "qubits", "kind", "status", "queue"), rows))


def jobs_table(service: Any, limit: int) -> None:
    """Show the newest ``limit`` jobs."""
    widget = _widget("jobs_table")
    if widget is not None:
        show(widget(service, limit))
        return
    rows = []
    for job in service.jobs(limit=limit):
        created = job.creation_date
        rows.append(
            (
                job.job_id(),
                job.program_id or "",
                job.backend_name or "",
                job.status().value,
                created.strftime("%Y-%m-%d %H:%M:%S") if created else "",
            )
        )
    show(TextTable(("job", "program", "backend", "status", "created"), rows))


def instance_picker(service: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Show the instances the account can use."""
    widget = _widget("instance_picker")
    if widget is not None:
        show(widget(service))
        return
    show(TextTable(("", "instance", "plan", "region", "CRN"), rows))


def account_setup() -> bool:
    """Show the account setup widget; ``False`` when there is none (plain IPython)."""
    widget = _widget("account_setup")
    if widget is None:
        return False
    try:
        from ipykernel.kernelbase import Kernel

        if not Kernel.initialized():  # no frontend to draw a widget in
            return False
    except ImportError:
        return False
    show(widget())
    return True
