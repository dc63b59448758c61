"""Where the job watcher reads jobs: an account's runtime API, through the upstream.

:class:`JobsSource` is what :class:`~.watcher.WatcherHub` needs: a page of an account's newest
jobs and one job by id. :class:`UpstreamJobs` implements it over HTTP (tornado's async client,
nothing blocks the event loop) against the :class:`~.upstream.UpstreamTarget` an async callable
gives for the account (``Upstream.target`` once the proxy part lands; see :mod:`.watcher_local`
for the stand-in used until then). Jobs are summarised by :func:`job_summary`; failures become
:class:`SourceError` with one readable line that never holds a header or a key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from .upstream import UpstreamTarget

__all__ = [
    "FINAL_STATUSES",
    "JobsSource",
    "SourceError",
    "TargetOf",
    "UpstreamJobs",
    "job_summary",
]

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"Completed", "Failed", "Cancelled"})
"""Job states after which a job never changes again (IBM's ``state.status``)."""

TargetOf = Callable[[str], Awaitable[UpstreamTarget]]
"""An account name to its upstream target (``Upstream.target``)."""

_CONNECT_TIMEOUT = 5.0
_REQUEST_TIMEOUT = 20.0
_MAX_LINE = 240


class SourceError(Exception):
    """A poll that did not work; ``str()`` is one readable line for subscribers."""


class JobsSource(Protocol):
    """What the watcher polls (a fake of it stands in for the upstream in unit tests)."""

    async def list_jobs(self, account: str, limit: int) -> list[dict[str, Any]]:
        """The account's newest ``limit`` jobs, as the runtime API's job JSON.

        Raises
        ------
        SourceError
            The upstream did not answer, or answered an error.
        """
        ...

    async def get_job(self, account: str, job_id: str) -> dict[str, Any] | None:
        """One job's JSON, or None when the upstream does not know it (404).

        Raises
        ------
        SourceError
            The upstream did not answer, or answered another error.
        """
        ...


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"


def _upstream_message(body: bytes | None) -> str:
    """The message of an IBM-style error body (``errors[0].message`` or ``message``)."""
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message", ""))
        for key in ("message", "errorMessage", "error"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return ""


class UpstreamJobs:
    """:class:`JobsSource` over HTTP through an account's upstream target.

    Parameters
    ----------
    target_of
        The account's target (base URL and headers), e.g. ``Upstream.target``.
    client
        The HTTP client (default: tornado's shared :class:`AsyncHTTPClient`).
    """

    def __init__(self, target_of: TargetOf, client: AsyncHTTPClient | None = None) -> None:
        self._target_of = target_of
        self._client = client

    async def _get(self, account: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        try:
            target = await self._target_of(account)
        except SourceError:
            raise
        except Exception as exc:  # the upstream's own refusal (no account, host not allowed)
            raise SourceError(_one_line(str(exc) or type(exc).__name__)) from None
        url = f"{target.runtime_url}{path}?{urlencode(query)}"
        request = HTTPRequest(
            url,
            method="GET",
            headers={**target.headers, "Accept": "application/json"},
            connect_timeout=_CONNECT_TIMEOUT,
            request_timeout=_REQUEST_TIMEOUT,
        )
        client = self._client or AsyncHTTPClient()
        try:
            response = await client.fetch(request, raise_error=False)
        except Exception as exc:  # connection refused, DNS, timeout before any answer
            raise SourceError(
                _one_line(f"Cannot reach {target.runtime_url}: {exc}. Retrying with backoff.")
            ) from None
        if response.code == 404:
            return 404, None
        if response.code >= 400 or response.code < 200:
            message = _upstream_message(response.body) or (response.reason or "")
            if response.code == 599:  # tornado's code for a request that got no answer
                message = str(response.error or message)
            raise SourceError(
                _one_line(f"The runtime API answered {response.code}: {message}".rstrip(": "))
            )
        try:
            return response.code, json.loads(response.body or b"null")
        except ValueError:
            raise SourceError(
                _one_line(f"The runtime API at {target.runtime_url} did not answer JSON.")
            ) from None

    async def list_jobs(self, account: str, limit: int) -> list[dict[str, Any]]:
        """``GET <runtime>/jobs?limit=<limit>&exclude_params=true``'s ``jobs``."""
        code, body = await self._get(
            account, "/jobs", {"limit": str(limit), "exclude_params": "true"}
        )
        jobs = body.get("jobs") if isinstance(body, dict) else None
        if code == 404 or not isinstance(jobs, list):
            raise SourceError("The runtime API's job list has no 'jobs': is the URL right?")
        return [job for job in jobs if isinstance(job, dict) and isinstance(job.get("id"), str)]

    async def get_job(self, account: str, job_id: str) -> dict[str, Any] | None:
        """``GET <runtime>/jobs/<id>?exclude_params=true``, or None on 404."""
        code, body = await self._get(
            account, f"/jobs/{quote(job_id, safe='')}", {"exclude_params": "true"}
        )
        if code == 404:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise SourceError(f"The runtime API's answer for job {job_id} is not a job.")
        return body


def _program_id(job: dict[str, Any]) -> str | None:
    program = job.get("program")
    if isinstance(program, dict):
        value = program.get("id")
        return str(value) if value is not None else None
    return str(program) if isinstance(program, str) else None


def job_summary(job: dict[str, Any]) -> dict[str, Any]:
    """What subscribers see of one job (never its params).

    ``{"id", "status", "backend", "program", "created", "tags"}`` always; ``running`` and
    ``finished`` (ISO times, when the upstream gives them, top level or under ``timestamps``),
    ``session_id``, ``reason``, ``reason_code``, ``queue_position`` and ``usage`` when present.
    """
    state = job.get("state") if isinstance(job.get("state"), dict) else {}
    assert isinstance(state, dict)
    status = state.get("status") or job.get("status")
    summary: dict[str, Any] = {
        "id": job["id"],
        "status": str(status) if status is not None else "Unknown",
        "backend": job.get("backend"),
        "program": _program_id(job),
        "created": job.get("created"),
        "tags": list(job.get("tags") or []),
    }
    stamps = job.get("timestamps") if isinstance(job.get("timestamps"), dict) else {}
    assert isinstance(stamps, dict)
    for key in ("running", "finished"):
        value = job.get(key) or stamps.get(key)
        if value:
            summary[key] = value
    if job.get("session_id"):
        summary["session_id"] = job["session_id"]
    if state.get("reason"):
        summary["reason"] = state["reason"]
    code = state.get("reason_code", state.get("reasonCode"))
    if code is not None:
        summary["reason_code"] = code
    for key in ("queue_position", "usage"):
        if job.get(key) is not None:
            summary[key] = job[key]
    return summary
