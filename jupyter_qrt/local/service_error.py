"""The one error the local runtime core raises at its callers, and its error codes.

The HTTP layer turns a :class:`ServiceError` into an IBM-style error body
(``{"errors": [{"code", "message", "more_info", "solution"}], "trace", "status_code"}``).

Error codes
-----------
Where IBM's error code registry has a code for the same situation, that code is used; the rest
are local codes of the form ``1000 + HTTP status`` so that a person can tell them apart at once.

======  ======  ==========================================================================
code    status  meaning
======  ======  ==========================================================================
1007    404     unknown backend (IBM: "Backend not found")
1204    400     more than 8 tags on a job (IBM: too many tags)
1400    400     a malformed or invalid request body or argument
1403    403     the instance has reached its usage limit
1404    404     no such job, session, instance, key or program for this instance
1409    409     the object is not in a state that allows the call (e.g. cancel a final job)
1413    413     the request body is larger than the service accepts
======  ======  ==========================================================================
"""

from __future__ import annotations

__all__ = [
    "BACKEND_NOT_FOUND",
    "BODY_TOO_LARGE",
    "INVALID_REQUEST",
    "INVALID_STATE",
    "NOT_FOUND",
    "TOO_MANY_TAGS",
    "USAGE_LIMIT_REACHED",
    "ServiceError",
    "bad_request",
    "conflict",
    "not_found",
]

BACKEND_NOT_FOUND = 1007
TOO_MANY_TAGS = 1204
INVALID_REQUEST = 1400
USAGE_LIMIT_REACHED = 1403
NOT_FOUND = 1404
INVALID_STATE = 1409
BODY_TOO_LARGE = 1413


class ServiceError(Exception):
    """An answer the HTTP layer turns into an IBM-style error body.

    Parameters
    ----------
    status
        The HTTP status code (400, 403, 404, 409, 413, ...).
    message
        What went wrong, for a person; it says what to do next.
    code
        The error code of the body (see the module docstring); defaults to ``1000 + status``.
    solution
        An optional separate hint of what to do, shown as ``solution`` in the error body.
    """

    def __init__(
        self,
        status: int,
        message: str,
        code: int | str | None = None,
        solution: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code: int | str = code if code is not None else 1000 + status
        self.solution = solution

    def __repr__(self) -> str:
        return f"ServiceError({self.status}, {self.message!r}, code={self.code!r})"


def bad_request(message: str, code: int = INVALID_REQUEST) -> ServiceError:
    """A 400 answer."""
    return ServiceError(400, message, code)


def not_found(message: str, code: int = NOT_FOUND) -> ServiceError:
    """A 404 answer."""
    return ServiceError(404, message, code)


def conflict(message: str) -> ServiceError:
    """A 409 answer: the object is in a state that does not allow the call."""
    return ServiceError(409, message, INVALID_STATE)
