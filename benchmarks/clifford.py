"""Clifford circuits at device width: ``python -m benchmarks clifford [--quick]``.

A noisy GHZ state over the whole device (grown breadth-first over the coupling map, transpiled
once with a fixed layout), ``qrt_pelican`` (127 qubits, ecr) and ``qrt_gannet`` (156 qubits,
cz), through the in-process service (``LocalService``, one worker) and our ``Sampler``:
submit -> counts, median of a few runs after a warm-up job (the worker's first job imports
stim and builds the device's noise). 1,000,000 shots are 10 pubs of 100,000 (the devices'
``max_shots``) in one job.

"theirs" is qiskit-aer's ``stabilizer`` method run directly in this process on the same circuit
with the same Pauli noise (``pauli_noise_model_for``), 4096 shots only: what the service would
cost without stim. The "target" column is the issue's: seconds, not tens of seconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

from benchmarks._table import Row, print_table

DEVICES = (("qrt_pelican", 127), ("qrt_gannet", 156))
MAX_SHOTS = 100_000


def ghz_circuit(device: Any) -> Any:
    """A GHZ state over every qubit of ``device``, as an ISA circuit measuring all of them."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.local.execution.inputs import device_target

    target = device_target(device)
    neighbours: dict[int, set[int]] = {}
    for a, b in target.build_coupling_map().get_edges():
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    circuit = QuantumCircuit(device.num_qubits)
    circuit.h(0)
    seen, frontier = {0}, [0]
    while frontier:
        following = []
        for parent in frontier:
            for child in sorted(neighbours[parent] - seen):
                seen.add(child)
                circuit.cx(parent, child)
                following.append(child)
        frontier = following
    circuit.measure_all()
    manager = generate_preset_pass_manager(
        target=target,
        optimization_level=1,
        initial_layout=list(range(device.num_qubits)),
        seed_transpiler=1,
    )
    return manager.run(circuit)


def _aer_stabilizer_seconds(device: Any, circuit: Any, shots: int) -> float:
    from qiskit_aer import AerSimulator

    from jupyter_qrt.local.execution.pauli_noise import pauli_noise_model_for

    model = pauli_noise_model_for(device)
    start = time.perf_counter()
    AerSimulator(method="stabilizer", noise_model=model).run(circuit, shots=shots).result()
    return time.perf_counter() - start


def rows(quick: bool) -> list[Row]:
    """Submit -> counts for GHZ over each device, 4096 and 1,000,000 shots."""
    from jupyter_qrt.local.devices import builtin_catalog
    from jupyter_qrt.local.server import LocalService
    from jupyter_qrt.runtime import RuntimeService, Sampler

    catalog = builtin_catalog()
    repeat = 1 if quick else 3
    found: list[Row] = []
    with LocalService(workers=1) as local:
        service = RuntimeService(local.account())
        for name, width in DEVICES:
            device = catalog.get(name)
            circuit = ghz_circuit(device)
            sampler = Sampler(mode=service.backend(name))
            sampler.options.simulator.seed_simulator = 1

            def submit_to_counts(
                shots: int, sampler: Any = sampler, circuit: Any = circuit
            ) -> tuple[float, float]:
                """Seconds to the ``PrimitiveResult``, and to its counts."""
                pubs = [(circuit, None, min(shots, MAX_SHOTS))] * max(1, shots // MAX_SHOTS)
                start = time.perf_counter()
                result = sampler.run(pubs).result(timeout=600)
                decoded = time.perf_counter()
                counted = sum(sum(r.data.meas.get_counts().values()) for r in result)
                assert counted == shots
                return decoded - start, time.perf_counter() - start

            submit_to_counts(4096)  # warm-up: the worker imports stim, builds the noise
            for shots in (4096, 1_000_000):
                times = [submit_to_counts(shots) for _ in range(repeat)]
                theirs = _aer_stabilizer_seconds(device, circuit, shots) if shots == 4096 else None
                label = f"GHZ-{width} {name}, {shots:,} shots"
                target = "< 1 s" if shots == 4096 else "a few s"
                found.append(
                    Row(
                        f"{label}, submit -> result",
                        statistics.median(t for t, _ in times),
                        theirs,
                        "s",
                        target,
                    )
                )
                found.append(
                    Row(
                        f"{label}, submit -> counts",
                        statistics.median(t for _, t in times),
                        None,
                        "s",
                        "(get_counts: qiskit)",
                    )
                )
    return found


def main(quick: bool = False) -> None:
    """Print the Clifford benchmark table."""
    print(f"\nclifford benchmarks; load average before: {os.getloadavg()}")
    print_table(
        "clifford: noisy GHZ at device width through the local service "
        "(theirs = qiskit-aer stabilizer method in-process, same Pauli noise)",
        rows(quick),
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
