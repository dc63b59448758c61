"""The runtime API part of the fake IBM cloud (see ``fake_ibm.py`` for how to use it).

Backends come from the qiskit-ibm-runtime fake_provider snapshots; jobs and sessions live in
memory; a job's lifecycle advances one step on every ``GET /jobs/{id}`` (when
``advance_on_get``) and its pubs really run when it completes.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .fake_ibm_execution import ExecutionError, execute
from .fake_ibm_models import (
    FINAL,
    Call,
    FakeBackend,
    FakeJob,
    FakeSession,
    JobPlan,
    Reply,
    error_reply,
    iso,
    json_reply,
    snapshot,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from threading import RLock

    from .fake_ibm import FakeInstance


class FakeRuntimeService:
    """State and handlers of the runtime API (mixed into ``FakeIBMCloud``)."""

    clock: Callable[[], float]
    lock: RLock
    require_crn: bool

    def __init__(self) -> None:
        self.backends: dict[str, FakeBackend] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.sessions: dict[str, FakeSession] = {}
        self.advance_on_get = True
        self.jobs_count_offset = 0
        self.max_jobs_page = 200
        self.logs_available = True
        self._next_plans: list[JobPlan] = []
        self.set_backend("fake_manila", snapshot_name="manila")
        self.set_backend("fake_lima", snapshot_name="lima", queue_length=3)

    # -- knobs --------------------------------------------------------------------------------

    def instance(self, crn: str) -> FakeInstance | None:  # implemented by FakeIBMCloud
        raise NotImplementedError

    def bearer_account(self, call: Call) -> str | None:  # implemented by FakeIBMCloud
        raise NotImplementedError

    def set_backend(
        self,
        name: str,
        *,
        snapshot_name: str | None = None,
        status: str | None = None,
        queue_length: int | None = None,
    ) -> FakeBackend:
        """Add a backend from a fake_provider snapshot, or change one's status/queue."""
        backend = self.backends.get(name)
        if backend is None:
            configuration = snapshot(snapshot_name or name.removeprefix("fake_"), "conf")
            properties = snapshot(snapshot_name or name.removeprefix("fake_"), "props")
            configuration["backend_name"] = name
            properties["backend_name"] = name
            backend = FakeBackend(name, configuration, properties)
            self.backends[name] = backend
        if status is not None:
            backend.status = status
        if queue_length is not None:
            backend.queue_length = queue_length
        return backend

    def plan_next_job(
        self,
        final: str = "Completed",
        *,
        reason_code: int | None = None,
        reason: str | None = None,
        steps: tuple[str, ...] = ("Running",),
    ) -> None:
        """Decide how the next created job ends (e.g. ``"Failed", reason_code=1517``)."""
        if final == "Cancelled" and reason_code == 1305 and reason is None:
            reason = "Ran too long"
        if final == "Failed" and reason is None:
            reason = "Error in job execution"
        self._next_plans.append(JobPlan(final, reason_code, reason, steps))

    def add_job(
        self,
        *,
        crn: str,
        backend: str = "fake_manila",
        program_id: str = "sampler",
        status: str = "Completed",
        tags: list[str] | None = None,
        created: float | None = None,
        session_id: str | None = None,
        plan: JobPlan | None = None,
    ) -> FakeJob:
        """Store a job directly (for listing tests); its pubs are not run.

        A job stored ``Queued`` or ``Running`` advances like any other, to ``plan.final``.
        """
        job = FakeJob(
            id=secrets.token_hex(10),
            crn=crn,
            backend=backend,
            program_id=program_id,
            params_json="{}",
            created=self.clock() if created is None else created,
            plan=plan or JobPlan(final=status if status in FINAL else "Completed"),
            status=status,
            tags=list(tags or []),
            session_id=session_id,
            result_text="" if status == "Completed" else None,
        )
        self.jobs[job.id] = job
        return job

    def advance_job(self, job_id: str) -> FakeJob:
        """Move a job one step along its plan (running its pubs when it completes)."""
        job = self.jobs[job_id]
        if job.status in FINAL:
            return job
        if job.step < len(job.plan.steps):
            job.status = job.plan.steps[job.step]
            job.step += 1
        else:
            self._finish(job)
        job.history.append((job.status, self.clock()))
        return job

    def _finish(self, job: FakeJob) -> None:
        job.status = job.plan.final
        job.reason_code, job.reason = job.plan.reason_code, job.plan.reason
        if job.status != "Completed":
            return
        try:
            job.result_text = execute(job.program_id, job.params_json)
        except ExecutionError as exc:
            job.status, job.reason_code, job.reason = "Failed", 1517, str(exc)
            return
        instance = self.instance(job.crn)
        if instance is not None:
            instance.usage_consumed_seconds += 1

    # -- routing ------------------------------------------------------------------------------

    def _runtime(self, call: Call, host_region: str) -> Reply:
        account = self.bearer_account(call)
        if account is None:
            return error_reply(401, "Invalid or expired bearer token.", "unauthorized")
        crn = call.headers.get("Service-CRN")
        if not crn:
            if self.require_crn:
                return error_reply(400, "The Service-CRN header is required.", "missing_crn")
        else:
            instance = self.instance(crn)
            if instance is None or instance.account != account or instance.region != host_region:
                return error_reply(
                    403, "You are not authorized to use this instance here.", "forbidden"
                )
        parts = call.path.removeprefix("/api/v1").strip("/").split("/")
        return self._runtime_route(call, crn or "", parts)

    def _runtime_route(self, call: Call, crn: str, parts: list[str]) -> Reply:
        m = call.method
        head = parts[0]
        if head == "backends":
            if len(parts) == 1 and m == "GET":
                return json_reply(
                    200, {"devices": [self._device(b) for b in self.backends.values()]}
                )
            if len(parts) == 3 and m == "GET":
                backend = self.backends.get(parts[1])
                if backend is None:
                    return error_reply(404, f"Backend {parts[1]} not found.", 1216)
                if parts[2] == "configuration":
                    return json_reply(200, backend.configuration)
                if parts[2] == "properties":
                    return json_reply(200, backend.properties)
                if parts[2] == "status":
                    return json_reply(200, self._backend_status(backend))
        if parts == ["instances", "usage"] and m == "GET":
            return json_reply(200, self._usage(crn))
        if head == "jobs":
            return self._jobs_route(call, crn, parts)
        if head == "sessions":
            return self._sessions_route(call, crn, parts)
        return error_reply(404, f"No route {m} {call.path}")

    def _device(self, backend: FakeBackend) -> dict[str, Any]:
        n = int(backend.configuration.get("n_qubits", 0))
        return {
            "name": backend.name,
            "status": {
                "name": backend.status,
                "reason": "available" if backend.status == "online" else "maintenance",
            },
            "is_simulator": False,
            "qubits": n,
            "physical_qubits": n,
            "queue_length": self._queue_length(backend),
            "processor_type": backend.configuration.get("processor_type") or {},
            "clops": {"type": "hardware", "value": 2000},
        }

    def _queue_length(self, backend: FakeBackend) -> int:
        queued = sum(
            1 for j in self.jobs.values() if j.backend == backend.name and j.status == "Queued"
        )
        return backend.queue_length + queued

    def _backend_status(self, backend: FakeBackend) -> dict[str, Any]:
        return {
            "state": backend.status == "online",
            "status": "active" if backend.status == "online" else backend.status,
            "message": "available" if backend.status == "online" else backend.status,
            "length_queue": self._queue_length(backend),
            "backend_version": backend.configuration.get("backend_version", "0.0.0"),
        }

    def _usage(self, crn: str) -> dict[str, Any]:
        instance = self.instance(crn)
        assert instance is not None
        return {
            "instance_id": crn,
            "plan_id": instance.plan_id,
            "usage_consumed_seconds": instance.usage_consumed_seconds,
            "usage_limit_seconds": instance.usage_limit_seconds,
            "usage_allocation_seconds": instance.usage_limit_seconds,
            "usage_limit_reached": instance.usage_limit_reached,
            "usage_period": {
                "start_time": "2026-01-01T00:00:00Z",
                "end_time": "2026-12-31T23:59:59Z",
            },
        }

    # -- jobs ---------------------------------------------------------------------------------

    def _jobs_route(self, call: Call, crn: str, parts: list[str]) -> Reply:
        m = call.method
        if len(parts) == 1:
            if m == "POST":
                return self._create_job(call, crn)
            if m == "GET":
                return self._list_jobs(call, crn)
            return error_reply(405, "Method not allowed")
        job = self.jobs.get(parts[1])
        if job is None or job.crn != crn:
            return error_reply(404, f"Job not found: {parts[1]}", 1291)
        action = parts[2] if len(parts) > 2 else None
        if action is None and m == "GET":
            if self.advance_on_get:
                self.advance_job(job.id)
            include = (call.query.get("exclude_params") or ["false"])[-1].lower() != "true"
            return json_reply(200, job.details(include_params=include))
        if action is None and m == "DELETE":
            del self.jobs[job.id]
            return 204, {}, ""
        if action == "results" and m == "GET":
            if job.status == "Completed":
                return 200, {"Content-Type": "application/json"}, job.result_text or ""
            if job.status in ("Failed", "Cancelled"):
                return (
                    200,
                    {"Content-Type": "text/plain"},
                    f"Error code {job.reason_code}; {job.reason}",
                )
            return error_reply(404, f"Results for job {job.id} are not available ({job.status}).")
        if action == "cancel" and m == "POST":
            if job.status in FINAL:
                return error_reply(
                    409, f"Job {job.id} is already in a final state: {job.status}.", 1292
                )
            job.status, job.reason = "Cancelled", "Cancelled by the user"
            job.history.append((job.status, self.clock()))
            return 204, {}, ""
        if action == "metrics" and m == "GET":
            return json_reply(200, self._metrics(job))
        if action == "logs" and m == "GET":
            if not self.logs_available:
                return error_reply(404, f"Logs for job {job.id} not found")
            lines = [f"{iso(t)} INFO {s}" for s, t in [("Queued", job.created), *job.history]]
            return 200, {"Content-Type": "text/plain"}, "\n".join(lines) + "\n"
        if action == "tags" and m == "PUT":
            tags = (call.json() or {}).get("tags")
            if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
                return error_reply(400, "tags must be a list of non-empty strings")
            job.tags = list(tags)
            return 204, {}, ""
        return error_reply(404, f"No route {m} {call.path}")

    def _create_job(self, call: Call, crn: str) -> Reply:
        try:
            body = json.loads(call.body or "")
        except ValueError:
            return error_reply(400, "The request body is not JSON.")
        if not isinstance(body, dict) or not body.get("program_id") or not body.get("backend"):
            return error_reply(400, "program_id and backend are required.")
        if body["backend"] not in self.backends:
            return error_reply(404, f"Backend {body['backend']} not found.", 1216)
        session_id = body.get("session_id")
        if session_id:
            session = self.sessions.get(session_id)
            if session is None or session.crn != crn:
                return error_reply(404, f"Session {session_id} not found.")
            if not session.accepting_jobs:
                return error_reply(400, f"Session {session_id} is closed and accepts no new jobs.")
            session.state = "active"
        plan = self._next_plans.pop(0) if self._next_plans else JobPlan()
        job = FakeJob(
            id=secrets.token_hex(10),
            crn=crn,
            backend=body["backend"],
            program_id=body["program_id"],
            params_json=json.dumps(body.get("params") or {}),
            created=self.clock(),
            plan=plan,
            tags=list(body.get("tags") or []),
            session_id=session_id,
            cost=int(body.get("cost") or 600),
            private=bool(body.get("private")),
        )
        self.jobs[job.id] = job
        answer: dict[str, Any] = {"id": job.id, "backend": job.backend}
        if session_id:
            answer["session_id"] = session_id
        return json_reply(200, answer)

    def _list_jobs(self, call: Call, crn: str) -> Reply:
        q = {k: v[-1] for k, v in call.query.items()}
        jobs = [j for j in self.jobs.values() if j.crn == crn]
        if "backend" in q:
            jobs = [j for j in jobs if j.backend == q["backend"]]
        if "pending" in q:
            pending = q["pending"] == "true"
            jobs = [j for j in jobs if (j.status not in FINAL) == pending]
        if "program" in q:
            jobs = [j for j in jobs if j.program_id == q["program"]]
        if "tags" in call.query:
            jobs = [j for j in jobs if set(call.query["tags"]) <= set(j.tags)]
        if "session_id" in q:
            jobs = [j for j in jobs if j.session_id == q["session_id"]]
        if "created_after" in q:
            after = datetime.fromisoformat(q["created_after"]).timestamp()
            jobs = [j for j in jobs if j.created >= after]
        if "created_before" in q:
            before = datetime.fromisoformat(q["created_before"]).timestamp()
            jobs = [j for j in jobs if j.created <= before]
        jobs.sort(key=lambda j: j.created, reverse=q.get("sort") != "ASC")
        limit = min(int(q.get("limit", "200")), self.max_jobs_page)
        offset = int(q.get("offset", "0"))
        page = jobs[offset : offset + limit]
        include = q.get("exclude_params", "false").lower() != "true"
        return json_reply(
            200,
            {
                "jobs": [j.details(include_params=include) for j in page],
                "count": len(jobs) + self.jobs_count_offset,
                "limit": limit,
                "offset": offset,
            },
        )

    def _metrics(self, job: FakeJob) -> dict[str, Any]:
        times = {s: t for s, t in job.history}
        final = job.status in FINAL
        return {
            "timestamps": {
                "created": iso(job.created),
                "running": iso(times["Running"]) if "Running" in times else None,
                "finished": iso(times[job.status]) if final and job.status in times else None,
            },
            "usage": {
                "quantum_seconds": 1 if job.status == "Completed" else 0,
                "seconds": 1 if job.status == "Completed" else 0,
                "qpu_charge_time_seconds": 1 if job.status == "Completed" else 0,
                "status": "complete" if final else "pending",
            },
            "qiskit_version": "2.6.2",
            "caller": "qiskit",
        }

    # -- sessions -----------------------------------------------------------------------------

    def _sessions_route(self, call: Call, crn: str, parts: list[str]) -> Reply:
        m = call.method
        if len(parts) == 1 and m == "POST":
            body = call.json() or {}
            mode = body.get("mode")
            if mode not in ("dedicated", "batch"):
                return error_reply(400, "mode must be 'dedicated' or 'batch'.")
            if body.get("backend") not in self.backends:
                return error_reply(404, f"Backend {body.get('backend')} not found.", 1216)
            session = FakeSession(
                id=secrets.token_hex(10),
                crn=crn,
                backend=body["backend"],
                mode=mode,
                max_ttl=int(body.get("max_ttl") or 28800),
                created=self.clock(),
            )
            self.sessions[session.id] = session
            return json_reply(200, session.details())
        session = self.sessions.get(parts[1]) if len(parts) > 1 else None
        if session is None or session.crn != crn:
            return error_reply(404, f"Session not found: {parts[1] if len(parts) > 1 else ''}")
        if len(parts) == 2 and m == "GET":
            return json_reply(200, session.details())
        if len(parts) == 2 and m == "PATCH":
            body = call.json() or {}
            if body.get("accepting_jobs") is False:
                session.accepting_jobs = False
                pending = any(
                    j.session_id == session.id and j.status not in FINAL for j in self.jobs.values()
                )
                session.state = "pending_closed" if pending else "closed"
            return 204, {}, ""
        if parts[2:] == ["close"] and m == "DELETE":
            for job in self.jobs.values():
                if job.session_id == session.id and job.status not in FINAL:
                    job.status, job.reason = "Cancelled", "Session cancelled"
            session.accepting_jobs, session.state = False, "closed"
            return 204, {}, ""
        return error_reply(404, f"No route {m} {call.path}")
