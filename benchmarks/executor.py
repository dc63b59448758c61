"""Executor program benchmarks: ``python -m benchmarks executor [--quick]``.

One ``jupyter-qrt serve`` subprocess (2 worker processes, a temporary data dir) serves every row:

- (a) a Bell job from a fresh process to counts (import, connect, submit, result) with
  qiskit-ibm-runtime's executor-based ``executor_sampler.Sampler`` (``program_id: "executor"``:
  the client builds a samplomatic quantum program, the service runs it, the client
  post-processes), against the same client's legacy ``SamplerV2`` (``program_id: "sampler"``).
  Both are the official client, polling as it does, so the row shows what the executor path
  costs a user of ``jupyter-qrt serve``.
  A second row runs a Bell ``QuantumProgram`` to its bits with our ``Executor`` against the
  official ``Executor`` (both fresh processes, same service).
- (b) service overhead of the executor: GHZ-20 at 100,000 shots on the ideal simulator as one
  circuit item, submit -> ``QuantumProgramResult`` polling every 50 ms, against qiskit-aer's
  ``SamplerV2`` run directly in this process on the same circuit (as ``benchmarks local`` does
  for the V2 sampler path; target <= 1.15). Rows: the official ``Executor`` and ours
  (``jupyter_qrt.runtime.Executor``), and the worker's own clock for the executor job.

Machine load matters (2 cores run the service, its workers and the clients): the load average is
printed before and after.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

from benchmarks._table import Row, fresh_process_seconds, print_table
from benchmarks.local import (
    _environ,
    _ghz,
    _interleaved_medians,
    _load,
    running_service,
)

IDEAL = "qrt_ideal_simulator"
GHZ_QUBITS = 20
GHZ_SHOTS = 100_000
FAST_POLL = 0.05
JOB_TIMEOUT = 300.0

_FRESH_BELL = """
import warnings; warnings.simplefilter("ignore")
from qiskit import QuantumCircuit
from qiskit_ibm_runtime import QiskitRuntimeService
{import_line}
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
backend = QiskitRuntimeService().backend("qrt_ideal_simulator")
job = {sampler}(mode=backend).run([bell], shots=100)
counts = job.result()[0].data.meas.get_counts()
assert sum(counts.values()) == 100 and set(counts) <= {{"00", "11"}}, counts
"""


_FRESH_PROGRAM = """
import warnings; warnings.simplefilter("ignore")
import numpy as np
from qiskit import QuantumCircuit
from samplomatic.quantum_program import QuantumProgram
{imports}
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
program = QuantumProgram(shots=100)
program.append_circuit_item(bell, circuit_arguments=np.zeros((0,)))
backend = {service}().backend("qrt_ideal_simulator")
bits = np.asarray(Executor(mode=backend).run(program).result()[0]["meas"])
assert bits.shape == (100, 2) and np.all(bits[:, 0] == bits[:, 1])
"""


def fresh_process_rows(env: dict[str, str], quick: bool) -> list[Row]:
    """The executor-based Sampler against the legacy SamplerV2, both official, fresh processes."""
    repeat = 3 if quick else 5
    executor_code = _FRESH_BELL.format(
        import_line="from qiskit_ibm_runtime.executor_sampler import Sampler",
        sampler="Sampler",
    )
    legacy_code = _FRESH_BELL.format(
        import_line="from qiskit_ibm_runtime import SamplerV2", sampler="SamplerV2"
    )
    with tempfile.TemporaryDirectory(prefix="qrt-bench-home-") as home:
        child_env = {**env, "HOME": home}
        return [
            Row(
                "Bell from a fresh process to counts: executor_sampler vs legacy SamplerV2",
                fresh_process_seconds(executor_code, repeat=repeat, env=child_env),
                fresh_process_seconds(legacy_code, repeat=repeat, env=child_env),
                "s",
            ),
            Row(
                "Bell program from a fresh process to bits: our Executor vs the official one",
                fresh_process_seconds(
                    _FRESH_PROGRAM.format(
                        imports="from jupyter_qrt.runtime import Executor, RuntimeService",
                        service="RuntimeService",
                    ),
                    repeat=repeat,
                    env=child_env,
                ),
                fresh_process_seconds(
                    _FRESH_PROGRAM.format(
                        imports="from qiskit_ibm_runtime import QiskitRuntimeService\n"
                        "from qiskit_ibm_runtime.executor import Executor",
                        service="QiskitRuntimeService",
                    ),
                    repeat=repeat,
                    env=child_env,
                ),
                "s",
            ),
        ]


def _ghz_program() -> Any:
    import numpy as np
    from samplomatic.quantum_program import QuantumProgram

    program = QuantumProgram(shots=GHZ_SHOTS)
    program.append_circuit_item(_ghz(GHZ_QUBITS), circuit_arguments=np.zeros((0,)))
    return program


def _wait(job: Any, status: Callable[[], str]) -> None:
    deadline = time.monotonic() + JOB_TIMEOUT
    while status() not in {"DONE", "ERROR", "CANCELLED"}:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job.job_id()} did not end in {JOB_TIMEOUT} s")
        time.sleep(FAST_POLL)


def overhead_rows(env: dict[str, str], quick: bool) -> list[Row]:
    """GHZ-20 at 100k shots through the executor program vs Aer's SamplerV2 in-process."""
    import numpy as np
    from qiskit_aer.primitives import SamplerV2 as AerSampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from qiskit_ibm_runtime import QiskitRuntimeService
        from qiskit_ibm_runtime.executor import Executor as OfficialExecutor

    repeat = 3 if quick else 7
    circuit = _ghz(GHZ_QUBITS)
    program = _ghz_program()
    aer = AerSampler()

    def aer_direct() -> None:
        result = aer.run([circuit], shots=GHZ_SHOTS).result()
        assert result[0].data.meas.num_shots == GHZ_SHOTS

    with _environ(env), tempfile.TemporaryDirectory(prefix="qrt-bench-home-") as home:
        with _environ({"HOME": home}):
            official = OfficialExecutor(mode=QiskitRuntimeService().backend(IDEAL))
        sides: list[Callable[[], object]] = [aer_direct]
        labels = ["official Executor"]

        def official_run() -> Any:
            job = official.run(program)
            _wait(job, job.status)
            result = job.result()
            assert np.asarray(result[0]["meas"]).shape == (GHZ_SHOTS, GHZ_QUBITS)
            return job

        sides.append(official_run)
        ours = _our_executor(env, home)
        if ours is not None:

            def our_run() -> Any:
                job = ours.run(program)
                job.wait(poll_interval=FAST_POLL)
                result = job.result()
                assert np.asarray(result[0]["meas"]).shape == (GHZ_SHOTS, GHZ_QUBITS)
                return job

            sides.append(our_run)
            labels.append("jupyter_qrt Executor")
        measured = _interleaved_medians(sides, repeat)
    theirs = measured[0][0]
    label = f"GHZ-{GHZ_QUBITS} {GHZ_SHOTS // 1000}k shots via executor, submit->result vs Aer"
    rows = [
        Row(f"{label} ({name}, poll {FAST_POLL * 1000:g} ms)", seconds, theirs, "s", "<= 1.15")
        for name, (seconds, _) in zip(labels, measured[1:], strict=True)
    ]
    jobs = measured[-1][1]
    worker = [_worker_seconds(job) for job in jobs]
    for phase in ("decode", "execute", "encode"):
        seconds = [float(w[phase]) for w in worker if phase in w]
        if seconds:
            rows.append(Row(f"  worker: {phase}", statistics.median(seconds), None, "s"))
    return rows


def _our_executor(env: dict[str, str], home: str) -> Any:
    """Our ``Executor`` on the ideal simulator, or ``None`` while the client has none."""
    try:
        from jupyter_qrt.runtime import Executor, RuntimeService
    except ImportError:
        return None
    service = RuntimeService(env={**env, "HOME": home})
    return Executor(mode=service.backend(IDEAL))


def _worker_seconds(job: Any) -> dict[str, Any]:
    metrics = job.metrics()
    seconds = metrics.get("worker_seconds", {})
    return seconds if isinstance(seconds, dict) else {}


def main(quick: bool = False) -> None:
    """Print the executor benchmark tables."""
    print(f"\nexecutor program benchmarks; before: {_load()}")
    with running_service() as env:
        print_table(
            "executor: fresh process (theirs = qiskit-ibm-runtime: row 1 its legacy SamplerV2, "
            "row 2 its Executor; median)",
            fresh_process_rows(env, quick),
        )
        print_table(
            "executor: service overhead (theirs = qiskit-aer SamplerV2 in-process, median)",
            overhead_rows(env, quick),
            baseline="qiskit-aer direct",
        )
    print(f"after: {_load()}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
