"""What a run produces or why it cannot: :class:`ExecutionReport` and :class:`ExecutionError`."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qiskit.primitives import PrimitiveResult

from jupyter_qrt.local.devices import Device
from jupyter_qrt.local.job_reasons import INVALID_PUB
from jupyter_qrt.runtime.errors import QRTError

if TYPE_CHECKING:
    from ibm_quantum_schemas.executor.version_2_0 import QuantumProgramResultModel

__all__ = ["JOB_OVERHEAD_SECONDS", "ExecutionError", "ExecutionReport", "JobLog"]

logger = logging.getLogger("jupyter_qrt.local.execution")

#: Quantum seconds a job on a hardware-like device is charged on top of its shots (loading and
#: readying the device), in line with what small jobs cost on IBM devices.
JOB_OVERHEAD_SECONDS = 1.0


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
        The primitive result (``sampler``, ``estimator``), ready for the wire encoder, or the
        executor's ``QuantumProgramResultModel``.
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

    result: PrimitiveResult[Any] | QuantumProgramResultModel
    quantum_seconds: float
    started: datetime
    finished: datetime
    logs: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def result_text(self) -> str:
        """The result as the job's ``/results`` returns it: RuntimeEncoder JSON for a
        ``PrimitiveResult``, the schema's own JSON for the executor's result model."""
        if isinstance(self.result, PrimitiveResult):
            from jupyter_qrt.runtime.wire.encoding import dumps

            return dumps(self.result)
        return str(self.result.model_dump_json())


def completed_report(
    results: Sequence[Any],
    metadata: Mapping[str, Any],
    *,
    device: Device,
    device_seconds: float,
    started: datetime,
    clock: float,
    log: JobLog,
    shots: int,
) -> ExecutionReport:
    """The report of a primitive run that finished: a ``PrimitiveResult`` of ``results``.

    Parameters
    ----------
    results, metadata
        The pub results and the result metadata of the ``PrimitiveResult``.
    device, device_seconds, started, clock, log, shots
        As :func:`finished_report` takes them.
    """
    result = PrimitiveResult(results, metadata=dict(metadata))
    return finished_report(
        result,
        device=device,
        device_seconds=device_seconds,
        started=started,
        clock=clock,
        log=log,
        shots=shots,
        metrics={"pubs": len(result)},
    )


def finished_report(
    result: PrimitiveResult[Any] | QuantumProgramResultModel,
    *,
    device: Device,
    device_seconds: float,
    started: datetime,
    clock: float,
    log: JobLog,
    shots: int,
    metrics: Mapping[str, Any] | None = None,
) -> ExecutionReport:
    """The report of a run that finished: the result, its usage, its totals logged.

    Parameters
    ----------
    result
        What the job returns.
    device
        Where it ran.
    device_seconds
        Modelled device time of the shots (hardware-like devices).
    started, clock
        ``datetime.now(UTC)`` and ``time.perf_counter()`` when execution began.
    log
        The job's log; the totals are added to it.
    shots
        Shots run in all.
    metrics
        Counts worth showing with the job (``pubs`` or ``items``).

    The quantum seconds charged are the wall time of the simulation on the ideal simulator,
    and ``device_seconds`` plus :data:`JOB_OVERHEAD_SECONDS` on a hardware-like device.
    """
    elapsed = time.perf_counter() - clock
    quantum = elapsed if device.simulator else device_seconds + JOB_OVERHEAD_SECONDS
    log.record(f"Done: {shots} shots in {elapsed:.3f} s; {quantum:.3f} quantum seconds.")
    return ExecutionReport(
        result=result,
        quantum_seconds=quantum,
        started=started,
        finished=datetime.now(UTC),
        logs=tuple(log.lines),
        metrics={**(metrics or {}), "shots": shots, "simulation_seconds": elapsed},
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
