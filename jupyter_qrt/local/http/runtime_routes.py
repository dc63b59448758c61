"""Handlers of the runtime API (``.../api/v1/...``): backends, usage, jobs and sessions.

Each handler checks the request's shape (query arguments, body), calls one method of the core in
a worker thread with the caller's instance CRN, and answers with the JSON, text or ``204`` the
IBM service answers with. Bodies are decoded and answers encoded (to UTF-8 bytes) in that thread
too. The core owns every rule about jobs and sessions; these handlers only translate HTTP.
"""

from __future__ import annotations

import json

from jupyter_qrt.local.jobs.registry import MAX_PAGE_SIZE

from .base import ServiceContext, ServiceHandler
from .errors import APIFailure
from .query import QueryArguments

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


def _user_id(handler: ServiceHandler) -> str:
    return handler.claims.user_id if handler.claims is not None else ""


def _encoded_document(context: ServiceContext, kind: str, name: str, document: object) -> bytes:
    """The UTF-8 JSON of a device's document (``None``: ``{}``), encoded once per device.

    The core hands out the device's own dicts, which nothing modifies; the cache keeps the dict
    it encoded, so a device served anew under the same name is encoded anew.
    """
    cached = context.encoded.get((kind, name))
    if cached is not None and cached[0] is document:
        return cached[1]
    text = json.dumps(document if document is not None else {}).encode("utf-8")
    context.encoded[(kind, name)] = (document, text)
    return text


# -- backends and usage --------------------------------------------------------------------------


class BackendsHandler(ServiceHandler):
    """``GET /backends``: the devices the instance can use, with live queue lengths."""

    async def get(self) -> None:
        """List the backends."""
        await self.call_json(self.runtime.backends, self.crn)


class BackendConfigurationHandler(ServiceHandler):
    """``GET /backends/{name}/configuration``."""

    async def get(self, name: str) -> None:
        """The backend's configuration JSON (404 for an unknown ``calibration_id``)."""
        calibration_id = QueryArguments(self).text("calibration_id")
        await self.call_text(self._document_text, name, calibration_id)

    def _document_text(self, name: str, calibration_id: str | None) -> bytes:
        document = self.runtime.backend_configuration(self.crn, name, calibration_id)
        return _encoded_document(self.context, "configuration", name, document)


class BackendPropertiesHandler(ServiceHandler):
    """``GET /backends/{name}/properties`` (``{}`` for a backend without calibrations)."""

    async def get(self, name: str) -> None:
        """The backend's properties JSON (404 for an unknown ``calibration_id``)."""
        query = QueryArguments(self)
        query.timestamp("updated_before")
        await self.call_text(self._document_text, name, query.text("calibration_id"))

    def _document_text(self, name: str, calibration_id: str | None) -> bytes:
        document = self.runtime.backend_properties(self.crn, name, calibration_id)
        return _encoded_document(self.context, "properties", name, document)


class BackendStatusHandler(ServiceHandler):
    """``GET /backends/{name}/status``."""

    async def get(self, name: str) -> None:
        """The backend's status and queue length."""
        await self.call_json(self.runtime.backend_status, self.crn, name)


class UsageHandler(ServiceHandler):
    """``GET /instances/usage``: usage consumed and the limit of the caller's instance."""

    async def get(self) -> None:
        """The instance's usage."""
        await self.call_json(self.runtime.usage, self.crn)


# -- jobs ----------------------------------------------------------------------------------------


class JobsHandler(ServiceHandler):
    """``POST /jobs`` (run a program) and ``GET /jobs`` (list, newest first, paged)."""

    async def post(self) -> None:
        """Create a job; answers ``{"id", "backend"[, "session_id"]}``."""
        # A failure of the store write itself, after which the job may exist, is the core's
        # 400 "could not confirm" (the official client sends a POST again on any 5xx); any
        # other failure happens before anything is stored.
        body = await self.call(self.json_body)
        await self.call_json(
            self.runtime.create_job,
            self.crn,
            _user_id(self),
            body,
            caller=self.request.headers.get("X-Qx-Client-Application"),
        )

    async def get(self) -> None:
        """A page of the instance's jobs: ``{"jobs", "count", "limit", "offset"}``."""
        query = QueryArguments(self)
        query.boolean("exclude_params")  # listed jobs never carry params; the value is checked
        limit = query.integer("limit", MAX_PAGE_SIZE)  # the core caps it at MAX_PAGE_SIZE
        offset = query.integer("offset", 0)
        sort = query.text("sort")
        if sort is not None and sort.upper() not in {"ASC", "DESC"}:
            raise APIFailure(400, f"The query argument sort={sort!r} must be ASC or DESC.")
        await self.call_json(
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
            updated_before=query.timestamp("updated_before"),
            ascending=sort is not None and sort.upper() == "ASC",
        )


class JobHandler(ServiceHandler):
    """``GET /jobs/{id}`` (details; ``exclude_params=true`` leaves the params out, and a private
    job's are never returned) and ``DELETE /jobs/{id}``."""

    async def get(self, job_id: str) -> None:
        """The job's details."""
        exclude = QueryArguments(self).boolean("exclude_params")
        await self.call_json(self.runtime.job, self.crn, job_id, exclude_params=bool(exclude))

    async def delete(self, job_id: str) -> None:
        """Delete the job and its results."""
        await self.call(self.runtime.delete_job, self.crn, job_id)
        self.no_content()


class JobResultsHandler(ServiceHandler):
    """``GET /jobs/{id}/results``: the result as RuntimeEncoder JSON text.

    A job that ended Failed or Cancelled has no result: its reason is answered instead, as plain
    text (the official client shows it as the job's error).
    """

    async def get(self, job_id: str) -> None:
        """The job's result text, or the reason it has none."""

        def answer() -> bytes:
            text = self.runtime.job_results(self.crn, job_id)
            return text if isinstance(text, bytes) else text.encode("utf-8")

        body = await self.call(answer)
        # Results are only answered for a final job, so its status can no longer change.
        details = await self.call(self.runtime.job, self.crn, job_id)
        if details["state"]["status"] != "Completed":
            self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(body)


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
        await self.call_json(self.runtime.job_metrics, self.crn, job_id)


class JobLogsHandler(ServiceHandler):
    """``GET /jobs/{id}/logs``: the job's log as plain text."""

    async def get(self, job_id: str) -> None:
        """The job's log."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        await self.call_text(self.runtime.job_logs, self.crn, job_id)


class JobTagsHandler(ServiceHandler):
    """``PUT /jobs/{id}/tags`` with ``{"tags": [...]}``: replace the tags, answer exactly 204."""

    async def put(self, job_id: str) -> None:
        """Replace the job's tags."""
        # The core checks the tags (the same rules as the tags of POST /jobs).
        tags = (await self.call(self.json_body)).get("tags")
        await self.call(self.runtime.replace_job_tags, self.crn, job_id, tags)
        self.no_content()


# -- sessions ------------------------------------------------------------------------------------


class SessionsHandler(ServiceHandler):
    """``POST /sessions``: open a session (``mode`` dedicated) or a batch."""

    async def post(self) -> None:
        """Create the session; answers its details (with ``id``)."""
        body = await self.call(self.json_body)
        await self.call_json(self.runtime.create_session, self.crn, body, user_id=_user_id(self))


class SessionHandler(ServiceHandler):
    """``GET /sessions/{id}`` and ``PATCH /sessions/{id}`` (``{"accepting_jobs": false}``)."""

    async def get(self, session_id: str) -> None:
        """The session's details."""
        await self.call_json(self.runtime.session, self.crn, session_id)

    async def patch(self, session_id: str) -> None:
        """Change whether the session accepts jobs."""
        body = await self.call(self.json_body)
        await self.call(self.runtime.update_session, self.crn, session_id, body)
        self.no_content()


class SessionCloseHandler(ServiceHandler):
    """``DELETE /sessions/{id}/close``: cancel the session's queued jobs and close it."""

    async def delete(self, session_id: str) -> None:
        """Close the session."""
        await self.call(self.runtime.close_session, self.crn, session_id)
        self.no_content()
