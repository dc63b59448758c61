"""Data of the fake IBM cloud: recorded calls, replies, backends, jobs and sessions."""

from __future__ import annotations

import importlib.util
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FINAL = ("Completed", "Failed", "Cancelled")

Reply = tuple[int, dict[str, str], str | bytes]


@dataclass
class Call:
    """One request the fake received."""

    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str | None
    timeout: Any
    status: int | None = None
    error: str | None = None

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body or "null")


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)


def error_reply(status: int, message: str, code: str | int | None = None) -> Reply:
    """An error answer in the runtime API's documented shape."""
    body = {
        "errors": [
            {
                "code": code if code is not None else status,
                "message": message,
                "more_info": "https://cloud.ibm.com/apidocs/quantum-computing",
            }
        ],
        "trace": uuid.uuid4().hex,
    }
    return json_reply(status, body)


def snapshot(name: str, kind: str) -> dict[str, Any]:
    """The ``conf`` or ``props`` JSON of a qiskit-ibm-runtime fake backend (e.g. ``manila``)."""
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    assert spec is not None
    assert spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations))) / "fake_provider" / "backends"
    data: dict[str, Any] = json.loads((root / name / f"{kind}_{name}.json").read_text())
    return data


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class FakeBackend:
    """A backend the fake serves."""

    name: str
    configuration: dict[str, Any]
    properties: dict[str, Any]
    status: str = "online"  # online | paused | offline
    queue_length: int = 0


@dataclass
class JobPlan:
    """How a job ends: ``final`` after the ``steps`` (one per GET when advancing)."""

    final: str = "Completed"
    reason_code: int | None = None
    reason: str | None = None
    steps: tuple[str, ...] = ("Running",)


@dataclass
class FakeJob:
    """A job stored by the fake."""

    id: str
    crn: str
    backend: str
    program_id: str
    params_json: str
    created: float
    plan: JobPlan
    status: str = "Queued"
    tags: list[str] = field(default_factory=list)
    session_id: str | None = None
    cost: int = 600
    private: bool = False
    reason_code: int | None = None
    reason: str | None = None
    result_text: str | None = None
    history: list[tuple[str, float]] = field(default_factory=list)
    step: int = 0

    def details(self, *, include_params: bool) -> dict[str, Any]:
        state: dict[str, Any] = {"status": self.status}
        if self.reason is not None:
            state["reason"] = self.reason
        if self.reason_code is not None:
            state["reason_code"] = self.reason_code
        top_status = self.status
        if self.status == "Cancelled" and self.reason_code == 1305:
            top_status = "Cancelled - Ran too long"
        body: dict[str, Any] = {
            "id": self.id,
            "backend": self.backend,
            "state": state,
            "status": top_status,
            "program": {"id": self.program_id},
            "created": iso(self.created),
            "runtime": "",
            "cost": self.cost,
            "tags": list(self.tags),
            "user_id": "fake-user",
            "private": self.private,
            "usage": {"quantum_seconds": 1 if self.status == "Completed" else 0, "seconds": 1},
            "estimated_running_time_seconds": 1.5,
        }
        if self.session_id:
            body["session_id"] = self.session_id
        if include_params:
            body["params"] = json.loads(self.params_json or "{}")
        return body


@dataclass
class FakeSession:
    """A session or batch stored by the fake."""

    id: str
    crn: str
    backend: str
    mode: str
    max_ttl: int
    created: float
    accepting_jobs: bool = True
    state: str = "open"

    def details(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "backend_name": self.backend,
            "mode": self.mode,
            "state": self.state,
            "accepting_jobs": self.accepting_jobs,
            "max_ttl": self.max_ttl,
            "interactive_ttl": 60 if self.mode == "dedicated" else None,
            "active_ttl": None,
            "started_at": iso(self.created),
            "activated_at": None,
            "closed_at": None if self.state != "closed" else iso(self.created),
            "last_job_started": None,
            "last_job_completed": None,
            "elapsed_time": 0,
            "timestamps": [{"status": "open", "timestamp": iso(self.created)}],
        }
