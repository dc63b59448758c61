"""Sessions and batches: groups of jobs the service schedules together on one backend."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from jupyter_qrt.runtime.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from jupyter_qrt.runtime.backends.backend import RuntimeBackend

    from .service import RuntimeService

__all__ = ["Batch", "Session"]

logger = logging.getLogger(__name__)


class Session:
    """A dedicated session: the backend runs this session's jobs one after another, first.

    Use it as a context manager; on exit the session stops accepting jobs (jobs already
    submitted still run)::

        with Session(backend, max_time=600) as session:
            job = Sampler(mode=session).run([isa_circuit])

    Parameters
    ----------
    backend
        The backend to run on, from :meth:`RuntimeService.backend`.
    max_time
        Longest the session may live, in seconds (the service's maximum applies when ``None``).
    service
        The service to use; by default the backend's own.
    """

    mode: ClassVar[str] = "dedicated"

    def __init__(
        self,
        backend: RuntimeBackend,
        *,
        max_time: int | None = None,
        service: RuntimeService | None = None,
    ) -> None:
        service = service or getattr(backend, "service", None)
        if service is None:
            raise InvalidInputError(
                f"{type(self).__name__} needs a backend from a RuntimeService, e.g. "
                f"{type(self).__name__}(service.backend('name'))."
            )
        if max_time is not None and (
            isinstance(max_time, bool) or not isinstance(max_time, int) or max_time <= 0
        ):
            raise InvalidInputError(
                f"max_time must be a positive number of seconds, not {max_time!r}."
            )
        self._service = service
        self._backend = backend
        self._max_time = max_time
        response = service.api.create_session(
            backend.name, service.instance, self.mode, max_ttl=max_time
        )
        self._session_id: str = str(response["id"])
        self._closed = False
        logger.info("Opened %s %s on %s", self.mode, self._session_id, backend.name)

    @classmethod
    def from_id(cls, session_id: str, service: RuntimeService) -> Session:
        """Re-attach to an existing session or batch by its id."""
        details = service.api.session(session_id)
        mode = details.get("mode")
        if mode and mode != cls.mode:
            raise InvalidInputError(
                f"{session_id} is a {mode} session, not a {cls.mode} one: "
                f"use {'Batch' if mode == 'batch' else 'Session'}.from_id instead."
            )
        self = cls.__new__(cls)
        self._service = service
        self._backend = service.backend(details.get("backend_name") or details["backend"])
        self._max_time = details.get("max_ttl")
        self._session_id = session_id
        self._closed = details.get("accepting_jobs") is False
        return self

    @property
    def session_id(self) -> str:
        """The service's id of this session."""
        return self._session_id

    @property
    def max_time(self) -> int | None:
        """Longest the session may live, in seconds (``None``: the service's maximum)."""
        return self._max_time

    @property
    def service(self) -> RuntimeService:
        """The service the session belongs to."""
        return self._service

    def backend(self) -> RuntimeBackend:
        """The backend the session runs on."""
        return self._backend

    def details(self) -> dict[str, Any]:
        """The session's details as the service reports them."""
        return self._service.api.session(self._session_id)

    def status(self) -> str | None:
        """``Pending``, ``In progress``, ``Closed`` ... as the official client words it."""
        state = self.details().get("state")
        words = {
            "open": "Pending",
            "active": "In progress, accepting new jobs",
            "inactive": "Pending",
            "pending_inactive": "In progress, not accepting new jobs",
            "pending_closed": "In progress, not accepting new jobs",
            "closed": "Closed",
        }
        return words.get(str(state), None if state is None else str(state))

    def close(self) -> None:
        """Stop accepting new jobs; the jobs already in the session still run."""
        if self._closed:
            return
        try:
            self._service.api.close_session(self._session_id)
        except NotFoundError:
            logger.debug("Session %s was already gone when closing it", self._session_id)
        self._closed = True

    def cancel(self) -> None:
        """Cancel every queued job of the session and close it."""
        self._service.api.cancel_session(self._session_id)
        self._closed = True

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}('{self._session_id}', backend='{self._backend.name}', "
            f"closed={self._closed})>"
        )


class Batch(Session):
    """A batch: jobs submitted together, which the service may run in parallel.

    Cheaper than a :class:`Session` when jobs do not depend on each other's results.
    """

    mode: ClassVar[str] = "batch"
