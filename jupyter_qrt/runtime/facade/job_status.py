"""Job statuses as qiskit-ibm-runtime names them, read from the service's job details.

Plain Python (no qiskit), so that code which only watches jobs imports fast.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

__all__ = ["FINAL_STATUSES", "REASON_RAN_TOO_LONG", "JobStatus", "reason_of", "status_from_api"]

logger = logging.getLogger(__name__)

#: Reason code the service gives a job it cancelled because it ran past its time limit.
REASON_RAN_TOO_LONG = 1305


class JobStatus(StrEnum):
    """Status of a job, named as qiskit-ibm-runtime names it (``job.status() == "DONE"`` works)."""

    INITIALIZING = "INITIALIZING"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"


FINAL_STATUSES = frozenset({JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR})

_API_TO_STATUS = {
    "QUEUED": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "COMPLETED": JobStatus.DONE,
    "CANCELLED": JobStatus.CANCELLED,
    "CANCELLED - RAN TOO LONG": JobStatus.ERROR,
    "FAILED": JobStatus.ERROR,
}


def reason_of(details: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """Return ``(reason_code, reason)`` from job details (both spellings of the code)."""
    state = details.get("state") or {}
    code = state.get("reason_code", state.get("reasonCode"))
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    return code, state.get("reason")


def status_from_api(details: Mapping[str, Any]) -> JobStatus:
    """Map the service's ``state.status`` to a :class:`JobStatus`.

    ``Cancelled`` with reason code 1305 (the job ran past its time limit) is an error, as the
    official client reports it. An unknown status is treated as still queued: it is not final, so a
    waiting caller keeps polling rather than returning a wrong answer.
    """
    raw = str((details.get("state") or {}).get("status") or details.get("status") or "")
    status = _API_TO_STATUS.get(raw.upper())
    if status is None:
        logger.warning("Unknown job status %r from the service; treating it as queued", raw)
        return JobStatus.QUEUED
    code, _ = reason_of(details)
    if status is JobStatus.CANCELLED and code == REASON_RAN_TOO_LONG:
        return JobStatus.ERROR
    return status
