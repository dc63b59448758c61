"""The filters of ``GET /jobs`` as SQL over the ``jobs`` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jupyter_qrt.local.service_error import bad_request
from jupyter_qrt.local.store.timestamps import iso_z, parse_instant

from .views import FINAL_STATUSES

__all__ = ["job_filter_sql"]


def job_filter_sql(
    crn: str,
    *,
    backend: str | None = None,
    pending: bool | None = None,
    program: str | None = None,
    tags: Sequence[str] | None = None,
    session_id: str | None = None,
    created_after: str | datetime | float | None = None,
    created_before: str | datetime | float | None = None,
    updated_before: str | datetime | float | None = None,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause and its arguments for the instance's jobs matching every filter.

    ``updated_before`` keeps the jobs whose status last changed (created, started running,
    ended) at or before that instant. A bad time is a 400 naming the argument.
    """
    where = ["instance_crn = ?"]
    args: list[Any] = [crn]
    if backend is not None:
        where.append("backend = ?")
        args.append(backend)
    if pending is not None:
        where.append("status IN ('Queued', 'Running')" if pending else _FINAL_SQL)
    if program is not None:
        where.append("program_id = ?")
        args.append(program)
    for tag in tags or ():
        where.append("EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE value = ?)")
        args.append(tag)
    if session_id is not None:
        where.append("session_id = ?")
        args.append(session_id)
    if created_after is not None:
        where.append("created >= ?")
        args.append(_instant(created_after, "created_after"))
    if created_before is not None:
        where.append("created <= ?")
        args.append(_instant(created_before, "created_before"))
    if updated_before is not None:
        # Times are shown rounded to the microsecond, and a float of today's epoch seconds
        # holds about a quarter of one: a job whose shown time is the instant given (e.g.
        # copied from its metrics) is listed, so allow one whole microsecond.
        where.append(f"{_UPDATED_SQL} < ?")
        args.append(_instant(updated_before, "updated_before") + 1e-6)
    return " AND ".join(where), args


# When a job's status last changed: created, started running (again, after a requeue), ended.
_UPDATED_SQL = "MAX(created, COALESCE(running, created), COALESCE(finished, created))"

# The ``pending=False`` filter of ``GET /jobs``: jobs in one of the final statuses.
_FINAL_SQL = "status IN ({})".format(", ".join(f"'{status}'" for status in FINAL_STATUSES))


def _instant(value: str | datetime | float, name: str) -> float:
    try:
        if isinstance(value, str | datetime):
            return parse_instant(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    except (TypeError, ValueError, OverflowError):
        pass
    raise bad_request(
        f"'{name}' must be an ISO 8601 date and time such as {iso_z(0)}; got {value!r}."
    )
