"""What the account can see: accounts, instances, backends, usage, versions, jobs.

The functions behind ``%qrt_accounts``, ``%qrt_instances``, ``%qrt_backends``, ``%qrt_usage``,
``%qrt_version``, ``%qrt_jobs`` and ``%qrt_job``.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from jupyter_qrt.runtime.errors import InvalidInputError, QRTError

from . import display
from .connection import LOCAL, current
from .server_link import server_accounts, server_status, server_url

__all__ = ["accounts", "backends", "instances", "job", "jobs", "usage", "version"]


def accounts() -> list[str]:
    """Print the account names (``*`` marks the default); returns the names."""
    if server_url() is not None:
        listed, default = server_accounts()
        names = [str(a["name"]) for a in listed]
    else:
        from jupyter_qrt.runtime import AccountStore

        store = AccountStore()
        names = list(store.accounts())
        default = store.default_name()
        if LOCAL not in names:
            names.append(LOCAL)  # always works: the in-process local runtime
    for name in names:
        print(f"{'*' if name == default else ' '} {name}")
    return names


def instances() -> list[Any]:
    """Show the instances the account can use; returns them."""
    connection = current()
    found = connection.service.instances(refresh=True)
    rows = [
        ("*" if i.crn == connection.service.instance else "", i.name, i.plan, i.region, i.crn)
        for i in found
    ]
    display.instance_picker(connection.service, rows)
    return found


def backends(
    *, min_qubits: int | None = None, simulator: bool | None = None, operational: bool = False
) -> list[Any]:
    """Show the backends, filtered; returns them."""
    if min_qubits is not None and min_qubits < 1:
        raise InvalidInputError(f"--min-qubits must be at least 1, not {min_qubits}.")
    service = current().service
    found = service.backends(
        min_num_qubits=min_qubits, simulator=simulator, operational=True if operational else None
    )
    filtered = min_qubits is not None or simulator is not None or operational
    display.backend_browser(service, found, filtered=filtered)
    return found


def usage() -> dict[str, Any]:
    """Print the instance's usage in one line; returns the service's answer."""
    connection = current()
    answer = connection.service.usage()
    used = float(answer.get("usage_consumed_seconds") or 0)
    limit = answer.get("usage_limit_seconds", answer.get("usage_allocation_seconds"))
    where = f"Instance '{connection.instance_name}'"
    if limit is None:
        print(f"{where}: {used:.1f} s used this period, no limit.")
    else:
        left = max(0.0, float(limit) - used)
        line = f"{where}: {used:.1f} s used of {float(limit):.1f} s; {left:.1f} s left."
        if answer.get("usage_limit_reached"):
            line += " The limit is reached: jobs wait until the next period."
        print(line)
    return answer


def _version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def version() -> dict[str, str]:
    """Show the versions table; returns it."""
    from jupyter_qrt._version import __version__

    table = {
        "jupyter-qrt": __version__,
        "qiskit": _version_of("qiskit"),
        "qiskit-aer": _version_of("qiskit-aer"),
        "qiskit-ibm-runtime": _version_of("qiskit-ibm-runtime"),
    }
    if server_url() is not None:
        try:
            table["jupyter-qrt server extension"] = str(server_status().get("version", "unknown"))
        except QRTError:
            table["jupyter-qrt server extension"] = "unreachable"
    display.show(display.TextTable(("package", "version"), list(table.items())))
    return table


def jobs(limit: int = 10) -> None:
    """Show the newest jobs."""
    if isinstance(limit, bool) or limit < 1:
        raise InvalidInputError(f"--limit must be at least 1, not {limit}.")
    service = current().service
    display.jobs_table(service, limit)


def job(job_id: str) -> Any:
    """Reopen a job by id (also one from before a kernel restart): status, then its result.

    Shows the job monitor (its states, time in each, usage; it keeps following a job that has
    not ended) and, for a finished job, its histogram or expectation values (an executor job:
    the histogram of its items' registers, see :mod:`.program_view`). Returns the result of a
    finished job (a ``PrimitiveResult``, or an executor job's ``QuantumProgramResult``), else
    the job.
    """
    service = current().service
    found = service.job(job_id)
    status = found.status()
    print(f"Job {found.job_id()} ({found.program_id or 'unknown program'}) on {found.backend_name}")
    monitor = display.job_monitor(found, service=service, follow=not found.in_final_state())
    if not found.in_final_state():
        return found
    monitor.refresh()
    if status.value != "DONE":
        print(found.error_message() or "The job has no result.")
        return found
    from .program_view import as_counts_result, is_program_result

    result = found.result()
    if found.program_id == "estimator":
        display.expectation_plot(result)
    elif is_program_result(result):
        print(
            "An executor job: the counts of each item's classical registers, measurement "
            "flips undone, its randomizations and sweep together."
        )
        display.histogram(as_counts_result(result))
    else:
        display.histogram(result)
    return result
