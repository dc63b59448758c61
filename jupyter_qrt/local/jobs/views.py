"""The JSON shapes of jobs and sessions, as the IBM service answers them.

Built from database rows; nothing here touches the database.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from jupyter_qrt.local.job_reasons import RAN_TOO_LONG
from jupyter_qrt.local.store.timestamps import iso_z, iso_z_or_none

__all__ = [
    "FINAL_STATUSES",
    "job_details",
    "job_metrics",
    "session_details",
]

FINAL_STATUSES = ("Completed", "Failed", "Cancelled")


def job_details(
    row: sqlite3.Row,
    *,
    queue_position: int | None = None,
    held_reason: str | None = None,
    params_text: str | None = None,
) -> dict[str, Any]:
    """``GET /jobs/{id}`` (section 5.2 of the reference).

    ``queue_position`` (1 = next to run on its device) is an extra field of this service,
    present while the job is Queued. ``held_reason`` is the ``state.reason`` of a Queued job
    held back by its instance's usage limit. ``params_text`` (the params' JSON, from the
    ``job_params`` table) is given only when the params were asked for.
    """
    status = str(row["status"])
    state: dict[str, Any] = {"status": status}
    if row["reason"] is not None:
        state["reason"] = row["reason"]
    elif held_reason is not None and status == "Queued":
        state["reason"] = held_reason
    if row["reason_code"] is not None:
        state["reason_code"] = int(row["reason_code"])
    details: dict[str, Any] = {
        "id": row["id"],
        "backend": row["backend"],
        "state": state,
        # IBM's top-level status spells out why a job was cancelled by the service.
        "status": "Cancelled - Ran too long"
        if status == "Cancelled" and row["reason_code"] == RAN_TOO_LONG
        else status,
        "program": {"id": row["program_id"]},
        "created": iso_z(float(row["created"])),
        "runtime": row["runtime"],
        "cost": int(row["cost"]),
        "tags": json.loads(row["tags"]),
        "session_id": row["session_id"],
        "user_id": row["user_id"],
        "usage": _usage(row),
        "estimated_running_time_seconds": float(row["estimated_seconds"]),
        "private": bool(row["private"]),
    }
    if row["log_level"] is not None:
        details["log_level"] = row["log_level"]
    if queue_position is not None:
        details["queue_position"] = queue_position
    if params_text is not None:
        details["params"] = json.loads(params_text)
    return details


def job_metrics(row: sqlite3.Row) -> dict[str, Any]:
    """``GET /jobs/{id}/metrics``: timestamps, usage, and what the run reported."""
    extra: dict[str, Any] = json.loads(row["metrics"])
    metrics: dict[str, Any] = {
        "timestamps": {
            "created": iso_z(float(row["created"])),
            "running": iso_z_or_none(row["running"]),
            "finished": iso_z_or_none(row["finished"]),
        },
        "bss": {"seconds": _seconds(row["usage_seconds"])},
        "usage": _usage(row),
        "qiskit_version": row["qiskit_version"] or "",
        "caller": row["caller"] or "",
        "estimated_running_time_seconds": float(row["estimated_seconds"]),
    }
    for name, value in extra.items():
        metrics.setdefault(name, value)
    return metrics


def session_details(row: sqlite3.Row, now: float) -> dict[str, Any]:
    """``GET /sessions/{id}`` (section 5, row 16)."""
    activated = row["activated_at"]
    closed = row["closed_at"]
    if activated is None:
        elapsed = 0.0
    else:
        elapsed = max((closed if closed is not None else now) - float(activated), 0.0)
    return {
        "id": row["id"],
        "backend_name": row["backend"],
        "mode": row["mode"],
        "state": row["state"],
        "accepting_jobs": bool(row["accepting_jobs"]) and row["state"] != "closed",
        "max_ttl": int(row["max_ttl"]),
        "interactive_ttl": int(row["interactive_ttl"]),
        "active_ttl": int(row["max_ttl"]),
        "started_at": iso_z(float(row["created"])),
        "activated_at": iso_z_or_none(activated),
        "closed_at": iso_z_or_none(closed),
        "last_job_started": iso_z_or_none(row["last_job_started"]),
        "last_job_completed": iso_z_or_none(row["last_job_completed"]),
        "elapsed_time": round(elapsed, 3),
        "timestamps": json.loads(row["timestamps"]),
        "user_id": row["user_id"],
        "instance": row["instance_crn"],
    }


def _usage(row: sqlite3.Row) -> dict[str, Any]:
    final = row["status"] in FINAL_STATUSES
    quantum = _seconds(row["usage_seconds"])
    return {
        "quantum_seconds": quantum,
        "seconds": quantum,
        "qpu_charge_time_seconds": quantum,
        "status": "complete" if final else "pending",
    }


def _seconds(value: object) -> float:
    return round(float(value), 3) if isinstance(value, int | float) else 0.0
