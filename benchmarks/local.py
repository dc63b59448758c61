"""Local runtime service benchmarks: ``python -m benchmarks local [--quick]``.

One ``jupyter-qrt serve`` subprocess (2 worker processes, a temporary data dir) serves every row,
so neither client shares a process (or a GIL) with the service:

- (a) service overhead: GHZ-20 at 100,000 shots on the ideal simulator, our client
  submit -> ``PrimitiveResult``, against qiskit-aer's ``SamplerV2`` run directly in this process
  on the same circuit (the "theirs" column is Aer direct here, not qiskit-ibm-runtime). The first
  row polls every 50 ms, so it measures the service; the second uses ``job.result()`` as is, whose
  pauses grow from 0.05 s by half each time up to 0.5 s, so it sees a ~1 s job end up to ~0.3 s
  late (the official client's fixed 0.5 s would add up to 0.5 s). The runs alternate
  with Aer direct so that a busy machine slows both alike; the ``worker:`` rows are the worker's
  own clock (job metrics), so the rest of "ours" is HTTP, storage, polling and decoding.
- (b) throughput: Bell jobs (100 shots) from 8 client threads, each submitting its share one job
  after the other and waiting for each result (polling every 0.1 s, the official client's
  minimum); jobs/s, p50 and p95 latency (submit -> result). The official client doing the same
  is the "theirs" column.
- (c) a Bell job from a fresh process to counts (import, connect, submit, result), our client
  against the official client, both with no arguments after the service's ``export`` lines. The
  official client polls every 0.5 s, so its first status read comes after the ~50 ms the job
  takes and it waits a whole poll interval; ours reads again after 0.05 s. The second row stops
  after submit
  and compares the clients' own costs without that (interpreter exit included: the official
  client's takes about 0.5 s).

Machine load matters (2 cores run the service, its workers and the clients): the load average is
printed before and after.
"""

from __future__ import annotations

import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks._table import Row, fresh_process_seconds, print_table

IDEAL = "qrt_ideal_simulator"
GHZ_QUBITS = 20
GHZ_SHOTS = 100_000
BELL_SHOTS = 100
CLIENT_THREADS = 8
FAST_POLL = 0.05
THROUGHPUT_POLL = 0.1
_EXPORT_LINES = 9
_START_SECONDS = 60.0

_FRESH_OURS = """
import warnings; warnings.simplefilter("ignore")
from qiskit import QuantumCircuit
from jupyter_qrt.runtime import RuntimeService, Sampler
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
backend = RuntimeService().backend("qrt_ideal_simulator")
job = Sampler(mode=backend).run([bell], shots=100)
"""

_FRESH_THEIRS = """
import warnings; warnings.simplefilter("ignore")
from qiskit import QuantumCircuit
from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
backend = QiskitRuntimeService().backend("qrt_ideal_simulator")
job = SamplerV2(mode=backend).run([bell], shots=100)
"""

_TO_COUNTS = """
counts = job.result()[0].data.meas.get_counts()
assert sum(counts.values()) == 100, counts
"""


# -- the service ---------------------------------------------------------------------------------


@contextmanager
def running_service(workers: int = 2) -> Iterator[dict[str, str]]:
    """``jupyter-qrt serve`` on a free port and a temporary data dir; yields its exported env."""
    with tempfile.TemporaryDirectory(prefix="qrt-bench-") as data_dir:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_qrt.local.cli",
                "serve",
                "--port",
                "0",
                "--data-dir",
                data_dir,
                "--workers",
                str(workers),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            env = _read_exports(process, _START_SECONDS)
            yield env
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()


def _read_exports(process: subprocess.Popen[str], timeout: float) -> dict[str, str]:
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for _ in range(_EXPORT_LINES):
            line = process.stdout.readline()
            if not line:
                return
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if len(lines) < _EXPORT_LINES:
        raise RuntimeError(f"jupyter-qrt serve did not start within {timeout}s: {lines!r}")
    env = {}
    for line in lines:
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return env


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (the official client reads IAM_URL and friends there)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# -- circuits --------------------------------------------------------------------------------------


def _ghz(num_qubits: int) -> Any:
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(num_qubits)
    circuit.h(0)
    for target in range(1, num_qubits):
        circuit.cx(0, target)
    circuit.measure_all()
    return circuit


# -- (a) service overhead ------------------------------------------------------------------------


def _interleaved_medians(
    sides: list[Callable[[], object]], repeat: int
) -> list[tuple[float, list[object]]]:
    """Median wall time of each side, the sides run in turn so that load hits them alike.

    Returns, per side, the median seconds and what each timed call returned.
    """
    for side in sides:  # warm-up: worker imports, Aer's first run, the bearer token
        side()
    times: list[list[float]] = [[] for _ in sides]
    outputs: list[list[object]] = [[] for _ in sides]
    for _ in range(repeat):
        for index, side in enumerate(sides):
            start = time.perf_counter()
            outputs[index].append(side())
            times[index].append(time.perf_counter() - start)
    return [(statistics.median(t), out) for t, out in zip(times, outputs, strict=True)]


def overhead_rows(env: dict[str, str], quick: bool) -> list[Row]:
    """GHZ-20 at 100k shots: through the service (our client) vs Aer's SamplerV2 in-process."""
    from qiskit_aer.primitives import SamplerV2 as AerSampler

    from jupyter_qrt.runtime import Job, RuntimeService, Sampler

    repeat = 3 if quick else 9
    circuit = _ghz(GHZ_QUBITS)
    aer = AerSampler()

    def aer_direct() -> None:
        result = aer.run([circuit], shots=GHZ_SHOTS).result()
        assert result[0].data.meas.num_shots == GHZ_SHOTS

    with RuntimeService(env=env) as service:
        sampler = Sampler(mode=service.backend(IDEAL))

        def through_service(poll: float | None) -> Callable[[], Job]:
            def run() -> Job:
                job = sampler.run([circuit], shots=GHZ_SHOTS)
                if poll is not None:
                    job.wait(poll_interval=poll)
                result = job.result()
                assert result[0].data.meas.num_shots == GHZ_SHOTS
                return job

            return run

        (fast, fast_jobs), (default, _), (theirs, _) = _interleaved_medians(
            [through_service(FAST_POLL), through_service(None), aer_direct], repeat
        )
        # Where the service's time goes, from the worker's own clock (job metrics).
        worker = [
            job.metrics().get("worker_seconds", {}) for job in fast_jobs if isinstance(job, Job)
        ]
    label = f"GHZ-{GHZ_QUBITS} {GHZ_SHOTS // 1000}k shots, submit->result vs Aer direct"
    rows = [
        Row(f"{label} (poll {FAST_POLL * 1000:g} ms)", fast, theirs, "s", "<= 1.15"),
        Row(f"{label} (job.result(), default polling)", default, theirs, "s"),
    ]
    for phase in ("decode", "execute", "encode"):
        seconds = [float(w[phase]) for w in worker if phase in w]
        if seconds:
            rows.append(Row(f"  worker: {phase}", statistics.median(seconds), None, "s"))
    return rows


# -- (b) throughput ------------------------------------------------------------------------------


def _closed_loop(run_one: Callable[[], None], jobs: int, threads: int) -> tuple[float, list[float]]:
    """Run ``jobs`` calls of ``run_one`` from ``threads`` threads; (wall seconds, latencies)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    shares = [jobs // threads + (1 if i < jobs % threads else 0) for i in range(threads)]

    def work(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            try:
                run_one()
            except BaseException as exc:  # reported after the run; one failure spoils the row
                with lock:
                    errors.append(exc)
                return
            with lock:
                latencies.append(time.perf_counter() - started)

    workers = [threading.Thread(target=work, args=(share,)) for share in shares]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} of {jobs} jobs failed; first: {errors[0]!r}")
    return wall, latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def throughput_rows(env: dict[str, str], quick: bool) -> list[Row]:
    """Bell jobs from 8 threads, each waiting for its job before submitting the next."""
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

    from jupyter_qrt.runtime import RuntimeService, Sampler

    jobs = 40 if quick else 200
    bell = _ghz(2)

    with RuntimeService(env=env) as service:
        backend = service.backend(IDEAL)

        def ours_one() -> None:
            job = Sampler(mode=backend).run([bell], shots=BELL_SHOTS)
            job.wait(poll_interval=THROUGHPUT_POLL)
            assert sum(job.result()[0].data.meas.get_counts().values()) == BELL_SHOTS

        ours_one()  # warm-up: backend target, token, worker imports
        ours_wall, ours_latency = _closed_loop(ours_one, jobs, CLIENT_THREADS)

    with _environ(env), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SamplerV2's DeprecationWarning, once per job
        official_backend = QiskitRuntimeService().backend(IDEAL)

        def theirs_one() -> None:
            job = SamplerV2(mode=official_backend).run([bell], shots=BELL_SHOTS)
            job.wait_for_final_state(poll_interval=THROUGHPUT_POLL)
            assert sum(job.result()[0].data.meas.get_counts().values()) == BELL_SHOTS

        theirs_one()
        theirs_wall, theirs_latency = _closed_loop(theirs_one, jobs, CLIENT_THREADS)

    label = f"{jobs} Bell jobs, {CLIENT_THREADS} threads"
    return [
        Row(f"{label}: throughput", jobs / ours_wall, jobs / theirs_wall, "jobs/s", ">= 40"),
        Row(
            f"{label}: latency p50",
            statistics.median(ours_latency),
            statistics.median(theirs_latency),
            "s",
        ),
        Row(
            f"{label}: latency p95",
            _percentile(ours_latency, 0.95),
            _percentile(theirs_latency, 0.95),
            "s",
        ),
    ]


# -- (c) a fresh process -------------------------------------------------------------------------


def fresh_process_rows(env: dict[str, str], quick: bool) -> list[Row]:
    """Import + connect + submit + result in a fresh interpreter, with the service's env."""
    repeat = 3 if quick else 5
    with tempfile.TemporaryDirectory(prefix="qrt-bench-home-") as home:
        # A home of its own: neither client may find (or write) a real saved account.
        child_env = {**env, "HOME": home}
        rows = [
            Row(
                "Bell job from a fresh process to counts",
                fresh_process_seconds(_FRESH_OURS + _TO_COUNTS, repeat=repeat, env=child_env),
                fresh_process_seconds(_FRESH_THEIRS + _TO_COUNTS, repeat=repeat, env=child_env),
                "s",
                "<= 0.5",
            ),
            Row(
                "  the same up to submit (no wait for the result)",
                fresh_process_seconds(_FRESH_OURS, repeat=repeat, env=child_env),
                fresh_process_seconds(_FRESH_THEIRS, repeat=repeat, env=child_env),
                "s",
            ),
        ]
    return rows


def main(quick: bool = False) -> None:
    """Print the local service benchmark tables."""
    print(f"\nlocal service benchmarks; before: {_load()}")
    with running_service() as env:
        print_table(
            "local: service overhead (theirs = qiskit-aer SamplerV2 in-process, median)",
            overhead_rows(env, quick),
        )
        print_table(
            "local: throughput (theirs = qiskit-ibm-runtime, same service)",
            throughput_rows(env, quick),
        )
        print_table("local: fresh process (median)", fresh_process_rows(env, quick))
    print(f"after: {_load()}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
