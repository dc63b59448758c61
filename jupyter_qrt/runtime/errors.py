"""The one error tree of jupyter-qrt's runtime client.

Every message says what happened and what to do next. Nothing here ever holds a token.

::

    QRTError
    ├── AccountError                 an account cannot be found, read or saved
    │   ├── AccountNotFoundError     no account of that name (lists the saved names)
    │   ├── AccountExistsError       saving would clobber an account (pass overwrite=True)
    │   └── AccountsFileError        the accounts file is malformed (names the file and where)
    ├── InvalidInputError            a bad argument: CRN, channel, shots, pub, ...
    │   └── NotISAError              a circuit uses an instruction the backend does not support
    ├── AuthError                    IAM rejected the API key, or the bearer was refused (401)
    │   └── ForbiddenError           authenticated, but not allowed (403)
    ├── NotFoundError                404 from the service
    │   ├── BackendNotFoundError
    │   ├── JobNotFoundError
    │   └── SessionNotFoundError
    ├── RateLimitedError             429 that outlived the retries (has ``retry_after``)
    ├── TransportError               no usable answer: connection refused, timeout, 5xx
    ├── APIError                     any other non-2xx answer (has ``status_code``)
    │   ├── InvalidStateError        409: e.g. cancelling a finished job
    │   └── UsageLimitError          the instance has used up its allocation
    ├── JobFailedError               the job ended Failed (``reason_code``, ``reason``)
    │   └── JobCancelledError        the job ended Cancelled (1305: ran too long)
    └── JobTimeoutError              ``Job.wait(timeout=...)`` ran out before the job ended
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AccountError",
    "AccountExistsError",
    "AccountNotFoundError",
    "AccountsFileError",
    "AuthError",
    "BackendNotFoundError",
    "ForbiddenError",
    "InvalidInputError",
    "InvalidStateError",
    "JobCancelledError",
    "JobFailedError",
    "JobNotFoundError",
    "JobTimeoutError",
    "NotFoundError",
    "NotISAError",
    "PayloadTooLargeError",
    "QRTError",
    "RateLimitedError",
    "SessionNotFoundError",
    "TransportError",
    "UsageLimitError",
]


class QRTError(Exception):
    """Base class of every error jupyter-qrt raises on purpose."""


class AccountError(QRTError):
    """An account cannot be found, read or saved."""


class AccountNotFoundError(AccountError):
    """No saved account has the requested name."""


class AccountExistsError(AccountError):
    """Saving would replace an existing account; pass ``overwrite=True`` to replace it."""


class AccountsFileError(AccountError):
    """The accounts file exists but cannot be read as an accounts file."""


class InvalidInputError(QRTError, ValueError):
    """An argument is invalid; the message says which one and what is accepted."""


class NotISAError(InvalidInputError):
    """A circuit is not an ISA circuit for the target backend."""


class PayloadTooLargeError(InvalidInputError):
    """Compressed payloads inflate to more bytes than the decoder was allowed to produce.

    ``limit`` is the number of bytes that was allowed (see ``decoding.loads``).
    """

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled across processes: rebuild with both arguments, not just ``args``.
        return (type(self), (str(self), self.limit))


class AuthError(QRTError):
    """The API key was rejected by IAM, or the service refused the bearer token."""


class ForbiddenError(AuthError):
    """The credentials are valid but do not allow this call."""


class NotFoundError(QRTError):
    """The service answered 404."""


class BackendNotFoundError(NotFoundError):
    """No backend of that name is available to the instance."""


class JobNotFoundError(NotFoundError):
    """No job of that id is visible to the instance."""


class SessionNotFoundError(NotFoundError):
    """No session of that id is visible to the instance."""


class RateLimitedError(QRTError):
    """The service kept answering 429 after the client's retries."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransportError(QRTError):
    """No usable answer: the connection failed, timed out, or the service kept failing (5xx)."""


class APIError(QRTError):
    """The service answered with an error status not covered by a narrower class."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class InvalidStateError(APIError):
    """The object is not in a state that allows the call (HTTP 409)."""


class UsageLimitError(APIError):
    """The instance has used up its usage allocation."""


class JobFailedError(QRTError):
    """A job ended in a failed state."""

    def __init__(
        self,
        message: str,
        *,
        job_id: str | None = None,
        reason_code: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.reason_code = reason_code
        self.reason = reason


class JobCancelledError(JobFailedError):
    """A job was cancelled (by a person, or by the service: reason code 1305, ran too long)."""


class JobTimeoutError(QRTError, TimeoutError):
    """Waiting for a job ran out of time; the job itself goes on."""
