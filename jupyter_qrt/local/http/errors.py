"""Error answers of the service, in the IBM Cloud shape.

``{"errors": [{"code", "message", "more_info", "solution"}], "trace", "status_code"}`` plus an
``"error": {"code", "message"}`` member: what the official client's error parser reads to put the
message into its exception.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from tornado import web

__all__ = ["APIFailure", "error_body", "generic_code", "reason_phrase"]


def generic_code(status: int) -> int:
    """The error code of an answer with ``status`` when none is given: ``1000 + status``."""
    # The core's convention (service_error.py).
    return 1000 + status


class APIFailure(web.HTTPError):
    """An error answer in the IBM style; raise it from a handler.

    Parameters
    ----------
    status
        HTTP status.
    message
        What went wrong and what to do next.
    code
        The IBM error code (``1000 + status`` when not given, the core's convention).
    solution
        A separate hint, when there is one.
    """

    def __init__(
        self,
        status: int,
        message: str,
        code: int | str | None = None,
        solution: str | None = None,
    ) -> None:
        reason = reason_phrase(status)
        super().__init__(status, reason=reason)
        self.message = message
        self.code = code if code is not None else generic_code(status)
        self.solution = solution


def reason_phrase(status: int) -> str:
    """The HTTP reason phrase of ``status`` (``Error`` for a status HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(
    status: int,
    message: str,
    code: int | str | None = None,
    solution: str | None = None,
    trace: str | None = None,
) -> dict[str, Any]:
    """The IBM-style error body for an answer with ``status``.

    Returns
    -------
    dict
        ``errors`` (one item with ``code``, ``message``, ``more_info``, ``solution``),
        ``trace``, ``status_code`` and ``error`` (``code``, ``message``: what the official
        client's parser shows).
    """
    code = code if code is not None else generic_code(status)
    return {
        "errors": [{"code": code, "message": message, "more_info": "", "solution": solution or ""}],
        "trace": trace or uuid.uuid4().hex,
        "status_code": status,
        "error": {"code": code, "message": message},
    }
