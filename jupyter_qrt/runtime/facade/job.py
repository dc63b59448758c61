"""Jobs: one runtime job as the service sees it, with status, wait, result and cancel.

A :class:`Job` is generic in what its :meth:`~Job.result` returns: ``Job[PrimitiveResult[Any]]``
from :meth:`Sampler.run` and :meth:`Estimator.run`, ``Job[QuantumProgramResult]`` from
:meth:`Executor.run`, ``Job[Any]`` from :meth:`RuntimeService.job` (only the job's program,
known once it is read, says which). The result is decoded by the job's program id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, cast

from qiskit.primitives import BasePrimitiveJob, PrimitiveResult
from typing_extensions import TypeVar  # a default (PEP 696) before Python 3.13; qiskit needs it

from jupyter_qrt.runtime.errors import (
    InvalidInputError,
    JobCancelledError,
    JobFailedError,
    JobTimeoutError,
)

from .job_status import (
    FINAL_STATUSES,
    REASON_RAN_TOO_LONG,
    JobStatus,
    reason_of,
    status_from_api,
)

if TYPE_CHECKING:
    from jupyter_qrt.runtime.http.rest import RuntimeAPI

__all__ = ["EXECUTOR_PROGRAM_ID", "FINAL_STATUSES", "Job", "JobStatus", "status_from_api"]

#: The program whose results are QuantumProgramResults, not PrimitiveResults.
EXECUTOR_PROGRAM_ID = "executor"
#: What :meth:`Job.result` returns; a bare ``Job`` annotation means a V2 primitive's job, as it
#: did before the executor.
ResultT = TypeVar("ResultT", default=PrimitiveResult[Any])

#: First pause between status reads in :meth:`Job.wait`.
_FIRST_POLL_SECONDS = 0.05
#: Each pause is this many times the one before, up to the poll interval. A job is seen to end
#: at most ``_POLL_GROWTH - 1`` of its run time late (until the pauses reach the interval):
#: 1.5 sees a 1 s job end by ~1.04 s with six reads, where doubling reads four times but only
#: sees it at 1.25 s.
_POLL_GROWTH = 1.5


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value)  # fromisoformat reads a trailing "Z" since Python 3.11
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class Job(BasePrimitiveJob[ResultT, JobStatus], Generic[ResultT]):  # type: ignore[misc]
    """A runtime job.

    Jobs come from :meth:`Sampler.run`, :meth:`Estimator.run`, :meth:`Executor.run`,
    :meth:`RuntimeService.job` and :meth:`RuntimeService.jobs`. Status is read from the service
    on demand and never re-read once final.

    Parameters
    ----------
    job_id
        The service's id of the job.
    api
        The REST resources of the instance that owns the job.
    details
        Job details JSON already at hand (saves one request).
    poll_interval
        Seconds between status reads in :meth:`wait`.
    """

    def __init__(
        self,
        job_id: str,
        api: RuntimeAPI,
        *,
        details: Mapping[str, Any] | None = None,
        backend_name: str | None = None,
        program_id: str | None = None,
        session_id: str | None = None,
        poll_interval: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(job_id)
        self._api = api
        self._details: dict[str, Any] = dict(details or {})
        self._backend_name = backend_name or self._details.get("backend")
        self._program_id = program_id or (self._details.get("program") or {}).get("id")
        self._session_id = session_id or self._details.get("session_id")
        self._status = status_from_api(self._details) if details else JobStatus.INITIALIZING
        self._result: ResultT | None = None
        self._poll_interval = max(0.05, poll_interval)
        self._sleep = sleep

    # -- identity -----------------------------------------------------------------------------

    @property
    def backend_name(self) -> str | None:
        """Name of the backend the job runs on."""
        return self._backend_name

    @property
    def program_id(self) -> str | None:
        """``sampler``, ``estimator`` or ``executor`` (or another program id)."""
        return self._program_id

    @property
    def session_id(self) -> str | None:
        """Id of the session or batch the job belongs to, if any."""
        return self._session_id

    @property
    def creation_date(self) -> datetime | None:
        """When the service created the job."""
        return _parse_time(self._details.get("created"))

    @property
    def tags(self) -> list[str]:
        """The job's tags as last read from the service."""
        return list(self._details.get("tags") or [])

    @property
    def details(self) -> dict[str, Any]:
        """The job details JSON as last read from the service (a copy)."""
        return dict(self._details)

    def __repr__(self) -> str:
        return (
            f"<Job('{self._job_id}', backend='{self._backend_name}', "
            f"program='{self._program_id}', status='{self._status}')>"
        )

    # -- status -------------------------------------------------------------------------------

    def refresh(self) -> dict[str, Any]:
        """Read the job's details from the service (unless already final) and return them."""
        if self._status not in FINAL_STATUSES or not self._details:
            self._details = self._api.job(self._job_id, exclude_params=True)
            self._backend_name = self._details.get("backend", self._backend_name)
            self._session_id = self._details.get("session_id", self._session_id)
            self._program_id = self._program_id or (self._details.get("program") or {}).get("id")
            self._status = status_from_api(self._details)
        return dict(self._details)

    def status(self) -> JobStatus:
        """Return the job's status, reading it from the service unless already final."""
        self.refresh()
        return self._status

    def done(self) -> bool:
        """True when the job completed successfully."""
        return self.status() is JobStatus.DONE

    def running(self) -> bool:
        """True while the job runs."""
        return self.status() is JobStatus.RUNNING

    def cancelled(self) -> bool:
        """True when the job was cancelled."""
        return self.status() is JobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """True when the job has ended (done, cancelled or failed)."""
        return self.status() in FINAL_STATUSES

    def error_message(self) -> str | None:
        """Why the job failed or was cancelled, or ``None``."""
        status = self.status()
        if status not in (JobStatus.ERROR, JobStatus.CANCELLED):
            return None
        code, reason = reason_of(self._details)
        if code == REASON_RAN_TOO_LONG:
            return (
                f"Job {self._job_id} ran longer than its maximum execution time and was "
                "cancelled (reason code 1305). Raise max_execution_time or split the work."
            )
        text = reason or "no reason given by the service"
        return f"Error code {code}; {text}" if code is not None else text

    def wait(
        self,
        timeout: float | None = None,
        callback: Callable[[Job[ResultT], JobStatus], None] | None = None,
        *,
        poll_interval: float | None = None,
    ) -> JobStatus:
        """Block until the job ends and return its final status.

        Parameters
        ----------
        timeout
            Seconds to wait at most; ``None`` waits as long as the job takes.
        callback
            Called as ``callback(job, status)`` once per status change (including the first read).
        poll_interval
            Longest pause between reads; defaults to the job's poll interval. The first
            pauses are shorter (from 0.05 s, growing by half each time), so short jobs return
            promptly.

        Raises
        ------
        JobTimeoutError
            The job did not end within ``timeout`` seconds; it goes on running.
        """
        if timeout is not None and timeout < 0:
            raise InvalidInputError("timeout must be a number of seconds >= 0, or None")
        interval = max(0.05, poll_interval if poll_interval is not None else self._poll_interval)
        # Short jobs end in tens of milliseconds: read again soon, then back off to ``interval``.
        step = min(_FIRST_POLL_SECONDS, interval)
        deadline = None if timeout is None else time.monotonic() + timeout
        last: JobStatus | None = None
        while True:
            status = self.status()
            if status != last and callback is not None:
                callback(self, status)
            last = status
            if status in FINAL_STATUSES:
                return status
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeoutError(
                    f"Job {self._job_id} is still {status.value} after {timeout:g} s. "
                    "It goes on running: call job.wait() or job.result() again later, "
                    "or job.cancel() to stop it."
                )
            pause = step if deadline is None else min(step, deadline - time.monotonic())
            self._sleep(max(0.0, pause))
            step = min(step * _POLL_GROWTH, interval)

    def result(self, timeout: float | None = None) -> ResultT:
        """Wait for the job and return its result.

        A :class:`~qiskit.primitives.PrimitiveResult` for a ``sampler`` or ``estimator`` job; a
        :class:`~jupyter_qrt.runtime.QuantumProgramResult` (samplomatic's) for an ``executor``
        job.

        Raises
        ------
        JobFailedError
            The job failed; ``reason_code`` and ``reason`` say why. Also when the job completed
            but its result cannot be read as its program's result (see :meth:`raw_result`).
        JobCancelledError
            The job was cancelled (``reason_code`` 1305: it ran too long).
        JobTimeoutError
            ``timeout`` ran out first.
        """
        if self._result is not None:
            return self._result
        status = self.wait(timeout)
        code, reason = reason_of(self._details)
        if status is JobStatus.CANCELLED or code == REASON_RAN_TOO_LONG:
            raise JobCancelledError(
                f"Job {self._job_id} was cancelled: {self.error_message()}",
                job_id=self._job_id,
                reason_code=code,
                reason=reason,
            )
        if status is JobStatus.ERROR:
            raise JobFailedError(
                f"Job {self._job_id} failed: {self.error_message()}. See job.logs() for details.",
                job_id=self._job_id,
                reason_code=code,
                reason=reason,
            )
        decoded = self._decode(self._api.job_results(self._job_id))
        self._result = cast("ResultT", decoded)
        return self._result

    def _decode(self, text: str) -> object:
        """The result text as the result of the job's program."""
        if self._program_id == EXECUTOR_PROGRAM_ID:
            from jupyter_qrt.runtime.wire.program import decode_program_result

            try:
                return decode_program_result(text)
            except InvalidInputError as exc:
                raise JobFailedError(
                    f"Job {self._job_id} completed but its result cannot be read: {exc} "
                    "Use job.raw_result() to read it as text.",
                    job_id=self._job_id,
                ) from None
        from jupyter_qrt.runtime.wire.decoding import decode_result

        decoded = decode_result(text)
        if not isinstance(decoded, PrimitiveResult):
            raise JobFailedError(
                f"Job {self._job_id} completed but its result is not a PrimitiveResult "
                f"(got {type(decoded).__name__}); use job.raw_result() to read it as text.",
                job_id=self._job_id,
            )
        return decoded

    def raw_result(self) -> str:
        """The result exactly as the service sent it (JSON text)."""
        return self._api.job_results(self._job_id)

    # -- actions ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the service to cancel the job.

        Raises
        ------
        InvalidStateError
            The job has already ended.
        """
        self._api.cancel_job(self._job_id)
        # The service accepted: the job is cancelled, even if a status read in the next instant
        # still shows it running while its work is being stopped.
        self._details = {**self._details, "state": {"status": "Cancelled"}}
        self._status = JobStatus.CANCELLED

    def metrics(self) -> dict[str, Any]:
        """Timestamps, usage and other metrics the service keeps for the job."""
        return self._api.job_metrics(self._job_id)

    def usage(self) -> float:
        """Quantum seconds the job was charged (0 while the service has not settled it)."""
        usage = self.metrics().get("usage") or {}
        if usage.get("status") == "pending":
            return 0.0
        return float(usage.get("quantum_seconds", usage.get("qpu_charge_time_seconds", 0)) or 0)

    def logs(self) -> str:
        """The job's logs as text ("" when the service keeps none)."""
        return self._api.job_logs(self._job_id)

    def update_tags(self, tags: list[str]) -> list[str]:
        """Replace the job's tags and return them as the service now has them."""
        given = list(tags) if isinstance(tags, Iterable) and not isinstance(tags, str) else None
        if given is None or not all(isinstance(t, str) and t for t in given):
            raise InvalidInputError("tags must be a list of non-empty strings, e.g. ['run-1']")
        self._api.replace_job_tags(self._job_id, given)
        self._details = self._api.job(self._job_id, exclude_params=True)
        return self.tags

    def inputs(self) -> dict[str, Any]:
        """The job's input parameters, decoded (pubs as qiskit objects)."""
        from jupyter_qrt.runtime.wire.decoding import loads

        details = self._api.job(self._job_id, exclude_params=False)
        params = details.get("params") or {}
        decoded = loads(json.dumps(params))
        return decoded if isinstance(decoded, dict) else {"params": decoded}
