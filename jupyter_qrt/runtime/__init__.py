"""The embedded Qiskit Runtime client of jupyter-qrt.

A small client of the IBM Quantum Platform REST API, wire-compatible with qiskit-ibm-runtime, with
no Jupyter dependency::

    from jupyter_qrt.runtime import RuntimeService, Sampler

    service = RuntimeService()                 # env, or the default saved account
    backend = service.least_busy(min_num_qubits=5)
    job = Sampler(mode=backend).run([isa_circuit], shots=1000)
    job.result()[0].data.meas.get_counts()

Modules, bottom up: ``errors`` (the error tree), ``accounts`` (the accounts file, CRNs, URLs),
``auth`` (IAM bearer tokens), ``transport`` (one HTTP session, retries, error mapping), ``rest``
(one method per endpoint), ``platform`` (instances from IBM Cloud search/catalog), ``encoding`` /
``decoding`` (the wire format), ``target`` / ``backend`` / ``isa`` (backends as qiskit objects),
``options``, ``job``, ``session``, ``primitives`` and ``service`` (the facade); ``redact`` masks
secrets wherever one could be shown.

Names are imported lazily so that ``import jupyter_qrt.runtime`` stays cheap: qiskit is loaded
only when a backend, a pub or a result needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import *  # noqa: F403  (the error tree is small and always needed)
from .errors import __all__ as _error_names

if TYPE_CHECKING:
    from .accounts import CRN, Account, AccountStore, resolve_account
    from .backend import BackendStatus, RuntimeBackend
    from .job import Job
    from .job_status import JobStatus
    from .options import EstimatorOptions, SamplerOptions
    from .platform import Instance
    from .primitives import Estimator, Sampler
    from .service import RuntimeService
    from .session import Batch, Session

_LAZY = {
    "Account": "accounts",
    "AccountStore": "accounts",
    "CRN": "accounts",
    "resolve_account": "accounts",
    "BackendStatus": "backend",
    "RuntimeBackend": "backend",
    "Job": "job",
    "JobStatus": "job_status",
    "EstimatorOptions": "options",
    "SamplerOptions": "options",
    "Instance": "platform",
    "Estimator": "primitives",
    "Sampler": "primitives",
    "RuntimeService": "service",
    "Batch": "session",
    "Session": "session",
}

__all__ = [
    "RuntimeService",
    "Sampler",
    "Estimator",
    "Session",
    "Batch",
    "Job",
    "JobStatus",
    "SamplerOptions",
    "EstimatorOptions",
    "RuntimeBackend",
    "BackendStatus",
    "Instance",
    "Account",
    "AccountStore",
    "CRN",
    "resolve_account",
    *_error_names,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
