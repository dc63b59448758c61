"""Reason codes of jobs that end Failed or Cancelled in the local runtime service.

A job's ``state.reason_code`` says why it ended badly; ``state.reason`` says it in words, with
what to do next. Codes the official client or IBM's registry give a meaning to keep it; the
others are local.

======  =========  =========================================================================
code    status     meaning
======  =========  =========================================================================
1305    Cancelled  ran longer than its ``cost`` (max execution time); IBM's "Ran too long"
1517    Failed     a circuit or pub is bad or unsupported (e.g. wider than the device); IBM's
1500    Failed     an internal error of the local service (the traceback is in the job's logs)
1501    Failed     the worker process running the job stopped unexpectedly (e.g. out of memory)
1502    Failed     the service stopped while the job was running, too many times to retry it
1503    Failed     the job's device is no longer served (the service restarted with another
                   catalog while the job was queued)
======  =========  =========================================================================

Execution errors raised by ``jupyter_qrt.local.execution`` carry their own reason code, which
the job keeps.
"""

from __future__ import annotations

__all__ = [
    "DEVICE_GONE",
    "INTERNAL_ERROR",
    "INVALID_PUB",
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
