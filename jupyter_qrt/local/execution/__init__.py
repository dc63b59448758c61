"""Run Sampler and Estimator jobs (V2 semantics) on a simulated device with qiskit-aer.

The service's worker process calls :func:`run_program` with a job's decoded ``params``
(``{"pubs": [...], "options": {...}, "version": 2}``) and gets an :class:`ExecutionReport`: the
``PrimitiveResult`` shaped as IBM's sampler and estimator programs shape theirs, the quantum
seconds to charge, timestamps and log lines. :func:`run_sampler` / :func:`run_estimator` return
just the result; :func:`execute_sampler` / :func:`execute_estimator` the whole report.

- Pubs come in the wire form (Sampler ``[circuit, ndarray, shots|None]``, Estimator
  ``[circuit, observables, ndarray, precision|None]``) or as anything qiskit's pub classes take.
- Circuits must be ISA circuits of the device (the official client's rule); the ideal simulator
  also takes other gates and decomposes them itself.
- Noisy devices simulate with the device's noise model (:mod:`.noise`); the ideal simulator
  samples exactly (Sampler) and computes exact expectation values (Estimator). Clifford circuits
  on noisy devices run on stim with the noise in Pauli form (:mod:`.engines`,
  :mod:`.stabilizer`, :mod:`.pauli_noise`), at any device width.
- Twirling is simulated by its effect on the noise and IBM's shot arithmetic (:mod:`.twirling`);
  dynamical decoupling and error mitigation are accepted, not simulated: the job's log says so
  and the result metadata reports them off.

Bad input raises :class:`ExecutionError` (``message``, ``reason_code``), which the service turns
into a Failed job. Everything is a top-level function with no state but caches (noise models,
targets), so a worker process can run it, and be killed to cancel it.
"""

from __future__ import annotations

from .estimator import DEFAULT_PRECISION, execute_estimator, run_estimator
from .program import PROGRAMS, run_program
from .report import JOB_OVERHEAD_SECONDS, ExecutionError, ExecutionReport
from .sampler import DEFAULT_SHOTS, execute_sampler, run_sampler

__all__ = [
    "DEFAULT_PRECISION",
    "DEFAULT_SHOTS",
    "JOB_OVERHEAD_SECONDS",
    "PROGRAMS",
    "ExecutionError",
    "ExecutionReport",
    "execute_estimator",
    "execute_sampler",
    "run_estimator",
    "run_program",
    "run_sampler",
]
