"""Reason codes of jobs that end Failed or Cancelled in the local runtime service.

A job's ``state.reason_code`` says why it ended badly; ``state.reason`` says it in words, with
what to do next. Codes the official client or IBM's registry give a meaning to keep it; the
others are local. The last column is the usage the job's instance is charged.

======  =========  ==============================================================  ==========
code    status     meaning                                                         charged
======  =========  ==============================================================  ==========
1305    Cancelled  ran longer than its ``cost`` (max execution time); IBM's "Ran   its cost
                   too long"
1517    Failed     a circuit or pub is bad or unsupported (e.g. wider than the     nothing
                   device)
1500    Failed     an internal error of the local service (the traceback is in     time run
                   the job's logs)
1501    Failed     the worker process running the job stopped unexpectedly (e.g.   time run
                   out of memory)
1502    Failed     the service stopped while the job was running, too many times   nothing
                   to retry it
1503    Failed     the job's device is no longer served (the service restarted     nothing
                   with another catalog while the job was queued)
======  =========  ==============================================================  ==========

Jobs failed by validation (:data:`NOT_CHARGED`: 1517, 1503: the job cannot run as submitted)
cost their instance nothing. A job stopped at its max execution time is charged exactly its
``cost``, the time it was allowed. A job cancelled on request is charged the time it ran.

Execution errors raised by ``jupyter_qrt.local.execution`` carry their own reason code, which
the job keeps.
"""

from __future__ import annotations

__all__ = [
    "DEVICE_GONE",
    "INTERNAL_ERROR",
    "INVALID_PUB",
    "NOT_CHARGED",
    "RAN_TOO_LONG",
    "SERVICE_RESTARTED",
    "WORKER_DIED",
]

RAN_TOO_LONG = 1305
INVALID_PUB = 1517
INTERNAL_ERROR = 1500
WORKER_DIED = 1501
SERVICE_RESTARTED = 1502
DEVICE_GONE = 1503

#: Reason codes of jobs failed by validation, which are charged no usage.
NOT_CHARGED = frozenset({INVALID_PUB, DEVICE_GONE})
