"""What a run produces or why it cannot: :class:`ExecutionReport` and :class:`ExecutionError`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qiskit.primitives import PrimitiveResult

from ...runtime.errors import QRTError
from ..job_reasons import INVALID_PUB

__all__ = ["ExecutionError", "ExecutionReport", "JobLog"]

logger = logging.getLogger("jupyter_qrt.local.execution")


class ExecutionError(QRTError):
    """A job cannot run as submitted; the service fails it with ``reason_code`` and the message.

    Parameters
    ----------
    message
        What is wrong and what to change, for a person.
    reason_code
        The job's ``state.reason_code``: 1517 (the default) for a bad or unsupported pub,
        circuit or option; 1500 for an internal error of the simulator.
    """

    def __init__(self, message: str, reason_code: int = INVALID_PUB) -> None:
        super().__init__(message)
        self.message = message
        self.reason_code = reason_code

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses process boundaries: rebuild with both arguments, not just ``args``.
        return (type(self), (self.message, self.reason_code))


@dataclass(frozen=True)
class ExecutionReport:
    """What running one job produced.

    Parameters
    ----------
    result
        The primitive result, ready for the wire encoder.
    quantum_seconds
        Usage to charge. Hardware-like devices: modelled device time (per shot, the circuit's
        scheduled length plus the repetition delay; plus a per-job overhead). The ideal
        simulator: the wall time of the simulation.
    started, finished
        When execution began and ended (UTC).
    logs
        Log lines for the job's ``/logs`` endpoint.
    metrics
        Counts worth showing with the job (pubs, circuits, shots, simulation seconds).
    """

    result: PrimitiveResult
    quantum_seconds: float
    started: datetime
    finished: datetime
    logs: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)


def completed_report(
    result: PrimitiveResult,
    *,
    quantum_seconds: float,
    started: datetime,
    elapsed: float,
    log: JobLog,
    pubs: int,
    shots: int,
) -> ExecutionReport:
    """The report of a run that finished: logs the totals and stamps the end time."""
    log.record(f"Done: {shots} shots in {elapsed:.3f} s; {quantum_seconds:.3f} quantum seconds.")
    return ExecutionReport(
        result=result,
        quantum_seconds=quantum_seconds,
        started=started,
        finished=datetime.now(UTC),
        logs=tuple(log.lines),
        metrics={"pubs": pubs, "shots": shots, "simulation_seconds": elapsed},
    )


class JobLog:
    """Collects a job's log lines, and passes each on to the ``execution`` logger."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def record(self, message: str, level: int = logging.INFO) -> None:
        """Add a line at ``level`` (a ``logging`` level)."""
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.lines.append(f"{stamp} {logging.getLevelName(level)} {message}")
        logger.log(level, "%s", message)
