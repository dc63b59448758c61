"""The embedded Qiskit Runtime client of jupyter-qrt.

A small client of the IBM Quantum Platform REST API, wire-compatible with qiskit-ibm-runtime, with
no Jupyter dependency::

    from jupyter_qrt.runtime import RuntimeService, Sampler

    service = RuntimeService()                 # env, or the default saved account
    backend = service.least_busy(min_num_qubits=5)
    job = Sampler(mode=backend).run([isa_circuit], shots=1000)
    job.result()[0].data.meas.get_counts()

Parts, bottom up (each subpackage's docstring says what it owns and may import):
``errors`` (the error tree) and ``redact`` (masking secrets); ``accounts`` (the account model,
CRNs, the accounts file, which account to use); ``http`` (IAM, the HTTP session and its retries,
REST resources, instances), ``wire`` (the wire format of job bodies and results) and
``backends`` (backends as qiskit objects), which do not import one another; ``facade``
(``RuntimeService``, ``Sampler``, ``Estimator``, ``Executor``, ``Job``, ``Session``, ``Batch``).

Names are imported lazily so that ``import jupyter_qrt.runtime`` stays cheap: qiskit is loaded
only when a backend, a pub or a result needs it; samplomatic and ibm-quantum-schemas only when
an ``Executor`` or a ``QuantumProgramResult`` is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import *  # noqa: F403  (the error tree is small and always needed)
from .errors import __all__ as _error_names

if TYPE_CHECKING:
    from .accounts import CRN, Account, AccountStore, resolve_account
    from .backends.backend import BackendStatus, RuntimeBackend
    from .facade.executor import Executor
    from .facade.job import Job
    from .facade.job_status import JobStatus
    from .facade.primitives import Estimator, Sampler
    from .facade.service import RuntimeService
    from .facade.session import Batch, Session
    from .http.platform import Instance
    from .wire.options import EstimatorOptions, ExecutorOptions, SamplerOptions
    from .wire.program_result import QuantumProgramResult

_LAZY = {
    "Account": "accounts",
    "AccountStore": "accounts",
    "CRN": "accounts",
    "resolve_account": "accounts",
    "BackendStatus": "backends.backend",
    "RuntimeBackend": "backends.backend",
    "Job": "facade.job",
    "JobStatus": "facade.job_status",
    "EstimatorOptions": "wire.options",
    "ExecutorOptions": "wire.options",
    "SamplerOptions": "wire.options",
    "QuantumProgramResult": "wire.program_result",
    "Instance": "http.platform",
    "Estimator": "facade.primitives",
    "Executor": "facade.executor",
    "Sampler": "facade.primitives",
    "RuntimeService": "facade.service",
    "Batch": "facade.session",
    "Session": "facade.session",
}

__all__ = [
    "RuntimeService",
    "Sampler",
    "Estimator",
    "Executor",
    "Session",
    "Batch",
    "Job",
    "JobStatus",
    "SamplerOptions",
    "EstimatorOptions",
    "ExecutorOptions",
    "QuantumProgramResult",
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
