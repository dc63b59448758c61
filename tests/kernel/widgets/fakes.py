"""Fakes for widget tests: a REST API object that counts its calls, and jobs over it."""

from __future__ import annotations

from collections import Counter
from typing import Any


class FakeApi:
    """The part of ``RuntimeAPI`` the poller uses, with every call counted."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.states: dict[str, dict[str, Any]] = {}

    def add(self, job_id: str, status: str = "Running", **extra: Any) -> None:
        self.states[job_id] = {
            "id": job_id,
            "backend": "fake_device",
            "state": {"status": status, **extra},
            "created": "2026-01-01T00:00:00Z",
            "usage": {"quantum_seconds": 0.0, "status": "pending"},
        }

    def job(self, job_id: str, exclude_params: bool = True) -> dict[str, Any]:
        self.calls["job"] += 1
        return dict(self.states[job_id])

    def jobs(self, limit: Any = None, skip: int = 0, **filters: Any) -> list[dict[str, Any]]:
        self.calls["jobs"] += 1
        pending = [
            dict(d) for d in self.states.values() if d["state"]["status"] in ("Queued", "Running")
        ]
        return pending[: limit or None]

    def job_metrics(self, job_id: str) -> dict[str, Any]:
        self.calls["job_metrics"] += 1
        return {
            "timestamps": {
                "created": "2026-01-01T00:00:00Z",
                "running": "2026-01-01T00:00:02Z",
                "finished": "2026-01-01T00:00:05Z",
            },
            "usage": {"quantum_seconds": 1.5},
        }

    def cancel_job(self, job_id: str) -> None:
        self.calls["cancel_job"] += 1
        self.states[job_id]["state"] = {"status": "Cancelled"}

    @property
    def upstream(self) -> int:
        return sum(self.calls.values())


class FakeJob:
    """A job as the monitor uses it."""

    def __init__(self, job_id: str, api: FakeApi) -> None:
        self._id = job_id
        self._api = api
        self.backend_name = "fake_device"
        self.details: dict[str, Any] = {}

    def job_id(self) -> str:
        return self._id

    def cancel(self) -> None:
        self._api.cancel_job(self._id)
