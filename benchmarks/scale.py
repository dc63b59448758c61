"""Device scale: ``python -m benchmarks scale [--quick]``.

The local service at the widths utility-scale tutorials use, side by side with qiskit-ibm-runtime's
local mode (``SamplerV2(mode=<IBM fake backend>)``, qiskit-aer with the fake device's noise) on
the IBM fake device of the same family, same circuits, same shots, in one run:

- a noisy GHZ over the whole device: ``qrt_pelican`` (127 qubits, Eagle-like) against
  ``FakeSherbrooke``, ``qrt_gannet`` (156 qubits, Heron-like) against ``FakeFez``; 4096 shots,
  submit -> counts; ours also at 1,000,000 shots (ten pubs of 100,000, the devices' maximum);
- the non-Clifford circuit of the issue (a GHZ chain on n qubits, one layer of ``rx(0.1)``,
  another ``cx`` chain, ``measure_all``, transpiled at optimization level 0), n = 16 and 20,
  1000 shots, on ``qrt_gannet`` against ``FakeFez``.

Ours runs through the in-process service (``LocalService``, one worker) and our ``Sampler``,
after a warm-up job. Each run of the anchor is a fresh subprocess with a time limit (it can run
for many minutes at these widths): a run that hits the limit is reported as the limit, marked
"stopped", so its ratio is a bound; a run that fails is reported with its error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks._table import Row, print_table
from benchmarks.clifford import MAX_SHOTS, ghz_circuit

FAMILIES = (("qrt_pelican", "FakeSherbrooke", 127), ("qrt_gannet", "FakeFez", 156))
"""Our device, the IBM fake device of its family, and the width."""

ANCHOR_LIMIT_S = {True: 60.0, False: 300.0}
"""How long one anchor run may take (quick, full)."""

_ANCHOR = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2
from qiskit_ibm_runtime import fake_provider

kind, fake_name, n, shots = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
backend = getattr(fake_provider, fake_name)()
n = n or backend.num_qubits
if kind == "ghz":
    # The same breadth-first GHZ over the coupling map as ours.
    neighbours = {}
    for a, b in backend.coupling_map.get_edges():
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    circuit = QuantumCircuit(n)
    circuit.h(0)
    seen, frontier = {0}, [0]
    while frontier:
        nxt = []
        for p in frontier:
            for c in sorted(neighbours[p] - seen):
                seen.add(c); circuit.cx(p, c); nxt.append(c)
        frontier = nxt
    circuit.measure_all()
    level, layout = 1, list(range(n))
else:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    for q in range(n):
        circuit.rx(0.1, q)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    level, layout = 0, None
isa = generate_preset_pass_manager(
    backend=backend, optimization_level=level, initial_layout=layout, seed_transpiler=1
).run(circuit)
start = time.perf_counter()
result = SamplerV2(mode=backend).run([isa], shots=shots).result()
counts = result[0].data.meas.get_counts()
assert sum(counts.values()) == shots
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def issue_circuit(n: int) -> Any:
    """The issue's non-Clifford circuit on ``n`` qubits (not transpiled)."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    for q in range(n):
        circuit.rx(0.1, q)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def anchor_seconds(
    kind: str, fake: str, n: int, shots: int, limit: float
) -> tuple[float | None, str]:
    """qiskit-ibm-runtime local mode's submit -> counts, in a fresh process.

    Returns the seconds and a note: ``""``, ``" (stopped)"`` when it hit ``limit`` (the seconds
    are then the limit), or ``" (theirs failed: ...)"`` with no seconds.
    """
    command = [sys.executable, "-c", _ANCHOR, kind, fake, str(n), str(shots)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return limit, f" (theirs stopped at {limit:.0f} s)"
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f" (theirs failed: {tail[:60]})"
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"]), ""


def rows(quick: bool) -> list[Row]:
    """The scale table's rows (see the module docstring)."""
    from qiskit.transpiler import generate_preset_pass_manager

    from jupyter_qrt.local.devices import builtin_catalog
    from jupyter_qrt.local.execution.inputs import device_target
    from jupyter_qrt.local.server import LocalService
    from jupyter_qrt.runtime import RuntimeService, Sampler

    limit = ANCHOR_LIMIT_S[quick]
    catalog = builtin_catalog()
    found: list[Row] = []
    with LocalService(workers=1) as local:
        service = RuntimeService(local.account())

        def ours(name: str, circuit: Any, shots: int) -> float:
            sampler = Sampler(mode=service.backend(name))
            sampler.options.simulator.seed_simulator = 1
            pubs = [(circuit, None, min(shots, MAX_SHOTS))] * max(1, shots // MAX_SHOTS)
            start = time.perf_counter()
            result = sampler.run(pubs).result(timeout=900)
            counted = sum(sum(r.data.meas.get_counts().values()) for r in result)
            assert counted == shots
            return time.perf_counter() - start

        for name, fake, width in (
            ("qrt_pelican", "FakeSherbrooke", 127),
            ("qrt_gannet", "FakeFez", 156),
        ):
            circuit = ghz_circuit(catalog.get(name))
            ours(name, circuit, 4096)  # warm-up: the worker imports stim and builds the noise
            theirs, mark = anchor_seconds("ghz", fake, 0, 4096, limit)
            found.append(
                Row(
                    f"GHZ-{width} {name} vs {fake}{mark}, 4096 shots",
                    ours(name, circuit, 4096),
                    theirs,
                    "s",
                    "< 0.5 s",
                )
            )
            found.append(
                Row(
                    f"GHZ-{width} {name}, 1,000,000 shots",
                    ours(name, circuit, 1_000_000),
                    None,
                    "s",
                    "< 3 s",
                )
            )
        gannet = catalog.get("qrt_gannet")
        for n, target in ((16, "<= 0.25 x theirs"), (20, "< 60 s")):
            isa = generate_preset_pass_manager(
                target=device_target(gannet), optimization_level=0, seed_transpiler=1
            ).run(issue_circuit(n))
            ours("qrt_gannet", isa, 100)  # warm-up: this width's noise model
            theirs, mark = anchor_seconds("issue", "FakeFez", n, 1000, limit)
            found.append(
                Row(
                    f"non-Clifford n={n} qrt_gannet vs FakeFez{mark}, 1000 shots",
                    ours("qrt_gannet", isa, 1000),
                    theirs,
                    "s",
                    target,
                )
            )
    return found


def main(quick: bool = False) -> None:
    """Print the scale benchmark table."""
    print(f"\nscale benchmarks; load average before: {os.getloadavg()}")
    print_table(
        "scale: the local service at device width vs qiskit-ibm-runtime local mode "
        "(SamplerV2 on the IBM fake device of the same family)",
        rows(quick),
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
