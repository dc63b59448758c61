"""Widgets of the kernel layer (ipywidgets 8, plotly), each with a static fallback.

The functions below are the interface the magics use::

    job_monitor(job, service=None)          -> JobMonitor      live states, cancel, usage
    histogram(results, labels=None)         -> Histogram       Sampler results or counts
    expectation_plot(result, parameter_values=None) -> ExpectationPlot
    backend_browser(service)                -> BackendBrowser  table, coupling map, CSV
    jobs_table(service, limit)              -> JobsTable
    account_setup(...)                      -> AccountSetup    the key goes browser -> server
    instance_picker(service)                -> InstancePicker
    dashboard(service)                      -> Dashboard

Every widget's mimebundle also holds ``text/plain``, ``text/html`` and its plotly figure
(``application/vnd.plotly.v1+json``), so saved notebooks, nbconvert and GitHub show the result
without a kernel. Importing this package is cheap: ipywidgets, plotly and qiskit load when a
widget is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .account_form import AccountSetup
    from .backends import BackendBrowser
    from .expectation import ExpectationPlot
    from .histogram_view import Histogram
    from .instances import InstancePicker
    from .jobs_view import JobsTable
    from .monitor import JobMonitor
    from .tabs import Dashboard

__all__ = [
    "account_setup",
    "backend_browser",
    "dashboard",
    "expectation_plot",
    "histogram",
    "instance_picker",
    "job_monitor",
    "jobs_table",
]


def job_monitor(job: Any, *, service: Any = None) -> JobMonitor:
    """A live status widget for a :class:`jupyter_qrt.runtime.Job` (see :class:`JobMonitor`)."""
    from .monitor import job_monitor as make

    return make(job, service=service)


def histogram(results: Any, *, labels: list[str] | None = None) -> Histogram:
    """A histogram of one or several Sampler ``PrimitiveResult``\\ s or counts dicts."""
    from .histogram_view import Histogram

    return Histogram(results, labels=labels)


def expectation_plot(result: Any, *, parameter_values: Any = None) -> ExpectationPlot:
    """Expectation values of an Estimator result with error bars (a sweep as a line plot)."""
    from .expectation import ExpectationPlot

    return ExpectationPlot(result, parameter_values=parameter_values)


def backend_browser(service: Any) -> BackendBrowser:
    """A sortable table of the service's backends with a detail view and CSV export."""
    from .backends import BackendBrowser

    return BackendBrowser(service)


def jobs_table(service: Any, limit: int = 20) -> JobsTable:
    """The service's recent jobs with live status, cancel and open."""
    from .jobs_view import JobsTable

    return JobsTable(service, limit=limit)


def account_setup(**kwargs: Any) -> AccountSetup:
    """A form that saves an account; its key goes from the browser to the server only."""
    from .account_form import AccountSetup

    return AccountSetup(**kwargs)


def instance_picker(service: Any) -> InstancePicker:
    """Choose the instance the next job uses (an observable ``crn`` trait)."""
    from .instances import InstancePicker

    return InstancePicker(service)


def dashboard(service: Any) -> Dashboard:
    """Tabs: account and instances, backends, jobs."""
    from .tabs import Dashboard

    return Dashboard(service)
