"""The Qiskit Runtime REST API, one method per endpoint, JSON in and out.

:class:`RuntimeAPI` knows paths, query parameters and what a 404 means for each resource; it
returns the service's JSON as plain dicts (and result/log bodies as text) and builds no qiskit
objects. Retries, timeouts and the error tree come from the :class:`~.transport.Transport`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from jupyter_qrt.runtime.errors import (
    APIError,
    BackendNotFoundError,
    InvalidInputError,
    JobNotFoundError,
    NotFoundError,
    SessionNotFoundError,
)

from .error_mapping import NotFoundSpec
from .transport import Transport

__all__ = ["JOB_CREATE_TIMEOUT", "MAX_JOBS_PAGE", "RuntimeAPI"]

logger = logging.getLogger(__name__)

#: Pages in a row holding only jobs already listed before a listing gives up.
_MAX_REPEATED_PAGES = 3

JOB_CREATE_TIMEOUT = (5.0, 900.0)
"""``(connect, read)`` seconds for ``POST /jobs``: large payloads take the service a while."""

MAX_JOBS_PAGE = 200
"""The service's largest ``limit`` for ``GET /jobs``."""


def _segment(value: str, what: str) -> str:
    """One path segment, URL-quoted; an empty or non-string id is a usage error."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} must be a non-empty string, not {value!r}.")
    return quote(value.strip(), safe="")


def _utc_iso(value: datetime | str) -> str:
    """ISO 8601 in UTC; a naive datetime is taken as local time, as the official client does."""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat()  # naive: astimezone takes it as local time


def _tag_list(tags: str | Iterable[str]) -> list[str]:
    """Tags as a list; a single string is one tag."""
    return [tags] if isinstance(tags, str) else list(tags)


def _backend_404(name: str) -> NotFoundSpec:
    return (
        BackendNotFoundError,
        f"No backend named '{name}' is available to this instance; list the backends to see "
        "the names it has.",
    )


def _job_404(job_id: str) -> NotFoundSpec:
    return (
        JobNotFoundError,
        f"Job '{job_id}' was not found: check the id; jobs are only visible to the instance "
        "that ran them and are gone once deleted.",
    )


def _session_404(session_id: str) -> NotFoundSpec:
    return (
        SessionNotFoundError,
        f"Session '{session_id}' was not found: check the id; sessions are only visible to "
        "the instance that opened them.",
    )


class RuntimeAPI:
    """The runtime REST API (``.../api/v1``) over one :class:`~.transport.Transport`.

    Parameters
    ----------
    transport
        A transport whose ``base_url`` is the runtime API base, e.g.
        ``https://quantum.cloud.ibm.com/api/v1``, and whose auth adds ``Authorization``,
        ``Service-CRN`` and ``IBM-API-Version``.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def __repr__(self) -> str:
        return f"RuntimeAPI({self.transport.base_url!r})"

    # -- backends ---------------------------------------------------------------------------------

    def backends(self, *, include_mocks: bool = False) -> list[dict[str, Any]]:
        """``GET /backends``: the devices the instance can use (``name``, ``status``, ...)."""
        params = {"include_mocks": "true"} if include_mocks else None
        body = self.transport.get_json("/backends", params=params)
        devices = body.get("devices") if isinstance(body, dict) else None
        if not isinstance(devices, list):
            raise APIError("The service's backend list has no 'devices'; check the service URL.")
        return [d for d in devices if isinstance(d, dict)]

    def backend_configuration(self, name: str) -> dict[str, Any]:
        """``GET /backends/{name}/configuration``: the backend's configuration JSON."""
        path = f"/backends/{_segment(name, 'backend name')}/configuration"
        return self._dict(self.transport.get_json(path, not_found=_backend_404(name)), path)

    def backend_properties(
        self, name: str, updated_before: datetime | str | None = None
    ) -> dict[str, Any] | None:
        """``GET /backends/{name}/properties``: calibration data, ``None`` if it has none.

        ``backend_name`` is set to ``name``: the service may report an internal name.
        """
        path = f"/backends/{_segment(name, 'backend name')}/properties"
        params = {"updated_before": _utc_iso(updated_before)} if updated_before else None
        body = self.transport.get_json(path, params=params, not_found=_backend_404(name))
        if not body:
            return None
        properties = self._dict(body, path)
        properties["backend_name"] = name
        return properties

    def backend_status(self, name: str) -> dict[str, Any]:
        """``GET /backends/{name}/status``: ``state``, ``status``, ``length_queue``, ..."""
        path = f"/backends/{_segment(name, 'backend name')}/status"
        return self._dict(self.transport.get_json(path, not_found=_backend_404(name)), path)

    def usage(self) -> dict[str, Any]:
        """``GET /instances/usage``: the instance's consumed and allowed seconds."""
        return self._dict(self.transport.get_json("/instances/usage"), "/instances/usage")

    # -- jobs ---------------------------------------------------------------------------------

    def create_job(self, body: str | dict[str, Any]) -> dict[str, Any]:
        """``POST /jobs``: submit a job; returns ``{"id", "backend", ...}``.

        Never sent twice once it may have reached the service (a retry could run the job twice);
        retried only when the connection failed before sending or the service answered 429.

        Parameters
        ----------
        body
            The job JSON (``program_id``, ``backend``, ``params``, ...), as text or a dict.
        """
        answer = self.transport.post_json(
            "/jobs",
            body,  # the transport JSON-encodes a dict and sends text as is
            timeout=JOB_CREATE_TIMEOUT,
            idempotent=False,
            not_found=(
                NotFoundError,
                "The service does not know this job's program or backend: check the backend "
                "name and the program id",
            ),
        )
        job = self._dict(answer, "/jobs")
        if not isinstance(job.get("id"), str):
            raise APIError("The service accepted the job but returned no job id; list your jobs.")
        return job

    def job(self, job_id: str, exclude_params: bool = True) -> dict[str, Any]:
        """``GET /jobs/{id}``: the job's details (``state.status``, ``backend``, ...)."""
        path = f"/jobs/{_segment(job_id, 'job id')}"
        params = {"exclude_params": "true"} if exclude_params else None
        body = self.transport.get_json(path, params=params, not_found=_job_404(job_id))
        return self._dict(body, path)

    def jobs(
        self,
        limit: int | None = None,
        skip: int = 0,
        *,
        backend: str | None = None,
        pending: bool | None = None,
        program: str | None = None,
        tags: Iterable[str] | None = None,
        session_id: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        descending: bool = True,
        page_size: int = 50,
    ) -> Iterator[dict[str, Any]]:
        """``GET /jobs``: the instance's jobs, newest first, fetched a page at a time.

        Stops when ``limit`` jobs were yielded, at the service's ``count``, at an empty page, or
        at a page holding only jobs already seen, so an inconsistent ``count`` cannot make it
        loop forever.

        Parameters
        ----------
        limit
            Most jobs to yield; ``None`` for all.
        skip
            Jobs to skip at the start.
        backend, pending, program, tags, session_id, created_after, created_before
            Filters as the service understands them (``pending=True``: queued or running).
        descending
            Newest first (the default) or oldest first.
        page_size
            Jobs per request (at most 200).
        """
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise InvalidInputError(f"limit must be a non-negative number or None, not {limit!r}.")
        if isinstance(skip, bool) or skip < 0:
            raise InvalidInputError(f"skip must be a non-negative number, not {skip!r}.")
        filters: dict[str, Any] = {"exclude_params": "true"}
        if backend:
            filters["backend"] = backend
        if pending is not None:
            filters["pending"] = "true" if pending else "false"
        if program:
            filters["program"] = program
        if tags:
            filters["tags"] = _tag_list(tags)
        if session_id:
            filters["session_id"] = session_id
        if created_after:
            filters["created_after"] = _utc_iso(created_after)
        if created_before:
            filters["created_before"] = _utc_iso(created_before)
        if not descending:
            filters["sort"] = "ASC"
        return self._job_pages(filters, limit, skip, max(1, min(page_size, MAX_JOBS_PAGE)))

    def _job_pages(
        self, filters: dict[str, Any], limit: int | None, skip: int, page_size: int
    ) -> Iterator[dict[str, Any]]:
        yielded = 0
        offset = skip
        seen: set[str] = set()
        repeated_pages = 0
        while limit is None or yielded < limit:
            want = page_size if limit is None else min(page_size, limit - yielded)
            params = dict(filters, limit=want)
            if offset:
                params["offset"] = offset
            body = self._dict(self.transport.get_json("/jobs", params=params), "/jobs")
            page = [job for job in body.get("jobs") or [] if isinstance(job, dict)]
            count = body.get("count")
            if not isinstance(count, int) or isinstance(count, bool):
                count = None  # a service without a usable count: page until an empty page
            fresh = [job for job in page if str(job.get("id")) not in seen]
            if not page:
                return
            if not fresh:
                # New jobs pushed already-seen ones down a newest-first listing: move on while
                # ``count`` says there is more, but not forever if the service ignores offset.
                repeated_pages += 1
                more = count is not None and offset + len(page) < count
                if not more or repeated_pages >= _MAX_REPEATED_PAGES:
                    logger.warning("GET /jobs repeated jobs at offset %d; stopping", offset)
                    return
                offset += len(page)
                continue
            repeated_pages = 0
            for job in fresh:
                if limit is not None and yielded >= limit:
                    return
                seen.add(str(job.get("id")))
                yielded += 1
                yield job
            offset += len(page)
            if count is not None and offset >= count:
                return

    def job_results(self, job_id: str) -> str:
        """``GET /jobs/{id}/results``: the result body as text (RuntimeEncoder JSON)."""
        path = f"/jobs/{_segment(job_id, 'job id')}/results"
        return self.transport.get_text(path, not_found=_job_404(job_id))

    def cancel_job(self, job_id: str) -> None:
        """``POST /jobs/{id}/cancel``.

        Raises
        ------
        InvalidStateError
            The job has already ended (409).
        """
        path = f"/jobs/{_segment(job_id, 'job id')}/cancel"
        self.transport.post_json(path, not_found=_job_404(job_id))

    def delete_job(self, job_id: str) -> None:
        """``DELETE /jobs/{id}``: delete the job and its results (cannot be undone)."""
        path = f"/jobs/{_segment(job_id, 'job id')}"
        self.transport.delete(path, not_found=_job_404(job_id))

    def job_metrics(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/metrics``: timestamps, usage, versions."""
        path = f"/jobs/{_segment(job_id, 'job id')}/metrics"
        return self._dict(self.transport.get_json(path, not_found=_job_404(job_id)), path)

    def job_logs(self, job_id: str) -> str:
        """``GET /jobs/{id}/logs``: the job's log text ("" when the service keeps none)."""
        path = f"/jobs/{_segment(job_id, 'job id')}/logs"
        try:
            return self.transport.get_text(path, not_found=_job_404(job_id))
        except JobNotFoundError:
            return ""

    def replace_job_tags(self, job_id: str, tags: Iterable[str]) -> None:
        """``PUT /jobs/{id}/tags``: replace the job's tags (the service answers 204)."""
        path = f"/jobs/{_segment(job_id, 'job id')}/tags"
        response = self.transport.put_json(
            path, {"tags": _tag_list(tags)}, not_found=_job_404(job_id)
        )
        if response.status_code != 204:
            raise APIError(
                f"Updating the tags of job '{job_id}' got {response.status_code} instead of 204; "
                "read the job again to see its tags.",
                status_code=response.status_code,
            )

    # -- sessions -------------------------------------------------------------------------------

    def create_session(
        self, backend: str, instance: str | None, mode: str, max_ttl: int | None = None
    ) -> dict[str, Any]:
        """``POST /sessions``: open a ``"dedicated"`` session or a ``"batch"``; returns its JSON."""
        body: dict[str, Any] = {"mode": mode, "backend": backend}
        if instance:
            body["instance"] = instance
        if max_ttl:
            body["max_ttl"] = max_ttl
        answer = self.transport.post_json(
            "/sessions", body, idempotent=False, not_found=_backend_404(backend)
        )
        session = self._dict(answer, "/sessions")
        if not session.get("id"):
            raise APIError("The service opened a session but returned no id; list your sessions.")
        return session

    def session(self, session_id: str) -> dict[str, Any]:
        """``GET /sessions/{id}``: ``state``, ``accepting_jobs``, ``mode``, TTLs, ..."""
        path = f"/sessions/{_segment(session_id, 'session id')}"
        body = self.transport.get_json(path, not_found=_session_404(session_id))
        return self._dict(body, path)

    def close_session(self, session_id: str) -> None:
        """``PATCH /sessions/{id}`` ``{"accepting_jobs": false}``: accept no new jobs."""
        path = f"/sessions/{_segment(session_id, 'session id')}"
        self.transport.patch_json(
            path,
            {"accepting_jobs": False},
            idempotent=True,  # setting a flag to the same value twice changes nothing
            not_found=_session_404(session_id),
        )

    def cancel_session(self, session_id: str) -> None:
        """``DELETE /sessions/{id}/close``: cancel the session's queued jobs and close it."""
        path = f"/sessions/{_segment(session_id, 'session id')}/close"
        self.transport.delete(path, not_found=_session_404(session_id))

    @staticmethod
    def _dict(body: Any, path: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise APIError(
                f"The service answered {path} with {type(body).__name__} instead of a JSON "
                "object; check that the service URL points at the runtime API."
            )
        return body
