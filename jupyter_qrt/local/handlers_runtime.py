"""Handlers of the runtime API (``.../api/v1/...``): backends, usage, jobs and sessions.

Each handler checks the request's shape (query arguments, body), calls one method of the core in
a worker thread with the caller's instance CRN, and answers with the JSON, text or ``204`` the
IBM service answers with. The core owns every rule about jobs and sessions; these handlers only
translate HTTP.
"""

from __future__ import annotations

from typing import Any

from .handlers_base import APIFailure, ServiceHandler
from .job_registry import MAX_PAGE_SIZE
from .timestamps import parse_instant

__all__ = [
    "BackendConfigurationHandler",
    "BackendPropertiesHandler",
    "BackendStatusHandler",
    "BackendsHandler",
    "JobCancelHandler",
    "JobHandler",
    "JobLogsHandler",
    "JobMetricsHandler",
    "JobResultsHandler",
    "JobTagsHandler",
    "JobsHandler",
    "SessionCloseHandler",
    "SessionHandler",
    "SessionsHandler",
    "UsageHandler",
]

MAX_INTEGER = 2**31 - 1
"""Largest integer query argument accepted (offsets beyond any job count are meaningless)."""
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _user_id(handler: ServiceHandler) -> str:
    return handler.claims.user_id if handler.claims is not None else ""


class _QueryArguments:
    """Typed access to a handler's query arguments; a bad value is a 400 naming it."""

    def __init__(self, handler: ServiceHandler) -> None:
        self._handler = handler

    def text(self, name: str) -> str | None:
        value = self._handler.get_query_argument(name, None)
        return value if value else None

    def _typed(self, name: str) -> str | None:
        # An empty value of a typed argument is a mistake worth saying, not "not given".
        return self._handler.get_query_argument(name, None)

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        value = self._typed(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if not minimum <= number <= MAX_INTEGER:
            raise APIFailure(
                400,
                f"The query argument {name}={value!r} must be an integer from {minimum} to "
                f"{MAX_INTEGER}.",
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._typed(name)
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise APIFailure(400, f"The query argument {name}={value!r} must be true or false.")

    def timestamp(self, name: str) -> float | None:
        """The argument as a POSIX time (parsed here once; the core takes the number)."""
        value = self._typed(name)
        if value is None:
            return None
        try:
            return parse_instant(value)
        except (ValueError, OverflowError) as exc:
            raise APIFailure(
                400,
                f"The query argument {name}={value!r} is not an ISO 8601 date and time, e.g. "
                "2026-01-31T12:00:00Z.",
            ) from exc

    def texts(self, name: str) -> list[str]:
        return [value for value in self._handler.get_query_arguments(name) if value]


# -- backends and usage --------------------------------------------------------------------------


class BackendsHandler(ServiceHandler):
    """``GET /backends``: the devices the instance can use, with live queue lengths."""

    async def get(self) -> None:
        """List the backends."""
        self.write_json(await self.call(self.runtime.backends, self.crn))


class BackendConfigurationHandler(ServiceHandler):
    """``GET /backends/{name}/configuration``."""

    async def get(self, name: str) -> None:
        """The backend's configuration JSON."""
        self.write_json(await self.call(self.runtime.backend_configuration, self.crn, name))


class BackendPropertiesHandler(ServiceHandler):
    """``GET /backends/{name}/properties`` (``{}`` for a backend without calibrations)."""

    async def get(self, name: str) -> None:
        """The backend's properties JSON."""
        _QueryArguments(self).timestamp("updated_before")
        properties = await self.call(self.runtime.backend_properties, self.crn, name)
        self.write_json(properties if properties is not None else {})


class BackendStatusHandler(ServiceHandler):
    """``GET /backends/{name}/status``."""

    async def get(self, name: str) -> None:
        """The backend's status and queue length."""
        self.write_json(await self.call(self.runtime.backend_status, self.crn, name))


class UsageHandler(ServiceHandler):
    """``GET /instances/usage``: usage consumed and the limit of the caller's instance."""

    async def get(self) -> None:
        """The instance's usage."""
        self.write_json(await self.call(self.runtime.usage, self.crn))


# -- jobs ----------------------------------------------------------------------------------------


class JobsHandler(ServiceHandler):
    """``POST /jobs`` (run a program) and ``GET /jobs`` (list, newest first, paged)."""

    async def post(self) -> None:
        """Create a job; answers ``{"id", "backend"[, "session_id"]}``."""
        # A failure of the store write itself, after which the job may exist, is the core's
        # 400 "could not confirm" (the official client sends a POST again on any 5xx); any
        # other failure happens before anything is stored.
        created = await self.call(
            self.runtime.create_job,
            self.crn,
            _user_id(self),
            self.json_body(),
            caller=self.request.headers.get("X-Qx-Client-Application"),
        )
        self.write_json(created)

    async def get(self) -> None:
        """A page of the instance's jobs: ``{"jobs", "count", "limit", "offset"}``."""
        query = _QueryArguments(self)
        query.boolean("exclude_params")  # listed jobs never carry params; the value is checked
        limit = min(query.integer("limit", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
        offset = query.integer("offset", 0)
        sort = query.text("sort")
        if sort is not None and sort.upper() not in {"ASC", "DESC"}:
            raise APIFailure(400, f"The query argument sort={sort!r} must be ASC or DESC.")
        page = await self.call(
            self.runtime.jobs,
            self.crn,
            limit=limit,
            offset=offset,
            backend=query.text("backend"),
            pending=query.boolean("pending"),
            program=query.text("program"),
            tags=query.texts("tags") or None,
            session_id=query.text("session_id"),
            created_after=query.timestamp("created_after"),
            created_before=query.timestamp("created_before"),
            ascending=sort is not None and sort.upper() == "ASC",
        )
        self.write_json(page)


class JobHandler(ServiceHandler):
    """``GET /jobs/{id}`` (details; ``exclude_params=true`` leaves the params out) and
    ``DELETE /jobs/{id}``."""

    async def get(self, job_id: str) -> None:
        """The job's details."""
        exclude = _QueryArguments(self).boolean("exclude_params")
        details = await self.call(self.runtime.job, self.crn, job_id, exclude_params=bool(exclude))
        self.write_json(details)

    async def delete(self, job_id: str) -> None:
        """Delete the job and its results."""
        await self.call(self.runtime.delete_job, self.crn, job_id)
        self.no_content()


class JobResultsHandler(ServiceHandler):
    """``GET /jobs/{id}/results``: the result as RuntimeEncoder JSON text."""

    async def get(self, job_id: str) -> None:
        """The job's result text."""
        text = await self.call(self.runtime.job_results, self.crn, job_id)
        self.set_header("Content-Type", "application/json")
        self.finish(text)


class JobCancelHandler(ServiceHandler):
    """``POST /jobs/{id}/cancel`` (409 once the job has ended)."""

    async def post(self, job_id: str) -> None:
        """Cancel the job."""
        await self.call(self.runtime.cancel_job, self.crn, job_id)
        self.no_content()


class JobMetricsHandler(ServiceHandler):
    """``GET /jobs/{id}/metrics``: timestamps, usage, versions."""

    async def get(self, job_id: str) -> None:
        """The job's metrics."""
        self.write_json(await self.call(self.runtime.job_metrics, self.crn, job_id))


class JobLogsHandler(ServiceHandler):
    """``GET /jobs/{id}/logs``: the job's log as plain text."""

    async def get(self, job_id: str) -> None:
        """The job's log."""
        text = await self.call(self.runtime.job_logs, self.crn, job_id)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(text)


class JobTagsHandler(ServiceHandler):
    """``PUT /jobs/{id}/tags`` with ``{"tags": [...]}``: replace the tags, answer exactly 204."""

    async def put(self, job_id: str) -> None:
        """Replace the job's tags."""
        # The core checks the tags (the same rules as the tags of POST /jobs).
        tags = self.json_body().get("tags")
        await self.call(self.runtime.replace_job_tags, self.crn, job_id, tags)
        self.no_content()


# -- sessions ------------------------------------------------------------------------------------


class SessionsHandler(ServiceHandler):
    """``POST /sessions``: open a session (``mode`` dedicated) or a batch."""

    async def post(self) -> None:
        """Create the session; answers its details (with ``id``)."""
        body: dict[str, Any] = self.json_body()
        session = await self.call(
            self.runtime.create_session, self.crn, body, user_id=_user_id(self)
        )
        self.write_json(session)


class SessionHandler(ServiceHandler):
    """``GET /sessions/{id}`` and ``PATCH /sessions/{id}`` (``{"accepting_jobs": false}``)."""

    async def get(self, session_id: str) -> None:
        """The session's details."""
        self.write_json(await self.call(self.runtime.session, self.crn, session_id))

    async def patch(self, session_id: str) -> None:
        """Change whether the session accepts jobs."""
        body = self.json_body()
        await self.call(self.runtime.update_session, self.crn, session_id, body)
        self.no_content()


class SessionCloseHandler(ServiceHandler):
    """``DELETE /sessions/{id}/close``: cancel the session's queued jobs and close it."""

    async def delete(self, session_id: str) -> None:
        """Close the session."""
        await self.call(self.runtime.close_session, self.crn, session_id)
        self.no_content()
