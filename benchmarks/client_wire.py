"""Wire encoding: ``jupyter_qrt.runtime.wire.encoding``/``decoding`` against qiskit-ibm-runtime's
``RuntimeEncoder``/``RuntimeDecoder`` on the same inputs.

``decode_rows``: a sampler result of 1,000,000 shots x 127 bits (quick: 100,000), time and
peak memory. ``encode_rows``: a 156-qubit ISA circuit (GHZ transpiled for a heavy-hex device
with basis cz, rz, sx, x, measure) and the whole sampler job body around it.

Run directly for the numbers: ``python -m benchmarks.client_wire [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._table import Row, median_seconds, print_table

_NUM_BITS = 127
_NUM_QUBITS = 156

# Peak memory of one decode, measured in a fresh interpreter per side so neither decoder sees
# the other's caches or freed arenas. Two views, printed as two rows:
#  - tracemalloc: every Python object and every numpy buffer (numpy reports its data
#    allocations to tracemalloc), i.e. exactly what the decoder allocates, independent of
#    allocator caching; it misses only zlib's small internal state (a few hundred KB).
#  - RSS: the kernel's high-water mark, reset through /proc/self/clear_refs just before the
#    decode (so the input text, the imports and their transient peaks are excluded); this is
#    the OS view including allocator overhead. Where the reset is unavailable it falls back to
#    ru_maxrss growth, a lower bound.
# The text is read from a file, so building it costs the measured process nothing.
_MEMORY_PROBE = r"""
import gc, json, resource, sys, tracemalloc, warnings
side, path = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")
if side == "ours":
    from jupyter_qrt.runtime.wire.decoding import loads as decode
else:
    from qiskit_ibm_runtime import RuntimeDecoder
    def decode(text):
        return json.loads(text, cls=RuntimeDecoder)
text = open(path, encoding="ascii").read()
gc.collect()

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return None

try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
except OSError:
    before = None
if before is None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
result = decode(text)
after = status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
rss_growth = after - before
del result
gc.collect()
tracemalloc.start()
result = decode(text)
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps({"traced_peak": traced_peak, "rss_growth": rss_growth}))
"""


def _quiet_official() -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder
    return RuntimeEncoder, RuntimeDecoder


def sampler_result_text(shots: int, num_bits: int = _NUM_BITS, seed: int = 7) -> str:
    """A sampler ``PrimitiveResult`` as the service sends it: random outcomes, one register."""
    import numpy as np
    from qiskit.primitives.containers import BitArray, DataBin, PrimitiveResult, SamplerPubResult

    from jupyter_qrt.runtime.wire.encoding import dumps

    rng = np.random.default_rng(seed)
    packed = rng.integers(0, 256, size=(shots, (num_bits + 7) // 8), dtype=np.uint8)
    packed[:, 0] &= (1 << (num_bits % 8 or 8)) - 1
    pub = SamplerPubResult(
        DataBin(meas=BitArray(packed, num_bits)), metadata={"circuit_metadata": {}}
    )
    return dumps(PrimitiveResult([pub], metadata={"version": 2}))


def _peak_memory(side: str, path: Path) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path])}
    completed = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, side, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    measured: dict[str, int] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


def decode_rows(quick: bool) -> list[Row]:
    """Decoding a large sampler result: ours vs ``RuntimeDecoder``, time and peak memory."""
    from jupyter_qrt.runtime.wire.decoding import loads

    _, runtime_decoder = _quiet_official()
    shots = 100_000 if quick else 1_000_000
    text = sampler_result_text(shots)
    repeat = 3 if quick else 5
    ours_s = median_seconds(lambda: loads(text), repeat=repeat)
    theirs_s = median_seconds(lambda: json.loads(text, cls=runtime_decoder), repeat=repeat)
    with tempfile.TemporaryDirectory(prefix="qrt-bench-") as tmp:
        path = Path(tmp) / "result.json"
        path.write_text(text, encoding="ascii")
        ours_mem = _peak_memory("ours", path)
        theirs_mem = _peak_memory("theirs", path)
    label = f"decode sampler result {shots:,} shots x {_NUM_BITS} bits ({len(text) / 1e6:.1f} MB)"
    mb = 1e6
    return [
        Row(label, ours_s, theirs_s, "s", "<= 1"),
        Row(
            "  peak traced memory (tracemalloc)",
            ours_mem["traced_peak"] / mb,
            theirs_mem["traced_peak"] / mb,
            "MB",
            "<= 1",
        ),
        Row(
            "  peak RSS growth",
            ours_mem["rss_growth"] / mb,
            theirs_mem["rss_growth"] / mb,
            "MB",
            "<= 1",
        ),
    ]


def heavy_hex_isa_circuit(num_qubits: int = _NUM_QUBITS) -> Any:
    """A GHZ circuit transpiled for a ``num_qubits`` heavy-hex device (cz, rz, sx, x)."""
    from qiskit.circuit import QuantumCircuit
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit.transpiler import CouplingMap, generate_preset_pass_manager

    lattice = CouplingMap.from_heavy_hex(9)  # 193 qubits; keep a connected 156 of them
    neighbours: dict[int, set[int]] = {}
    for a, b in lattice.get_edges():
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    kept, frontier = [0], 0  # breadth-first from qubit 0: any prefix is connected
    while len(kept) < num_qubits:
        for node in sorted(neighbours[kept[frontier]]):
            if node not in kept:
                kept.append(node)
        frontier += 1
    coupling = lattice.reduce(sorted(kept[:num_qubits]))
    backend = GenericBackendV2(
        num_qubits, basis_gates=["cz", "rz", "sx", "x"], coupling_map=coupling, seed=1
    )
    ghz = QuantumCircuit(num_qubits)
    ghz.h(0)
    for qubit in range(num_qubits - 1):
        ghz.cx(qubit, qubit + 1)
    ghz.measure_all()
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1)
    return manager.run(ghz)


def encode_rows(quick: bool) -> list[Row]:
    """Encoding a 156-qubit ISA circuit and its sampler job body: ours vs ``RuntimeEncoder``."""
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    from jupyter_qrt.runtime.wire.encoding import dumps, sampler_params

    runtime_encoder, _ = _quiet_official()
    circuit = heavy_hex_isa_circuit()
    repeat = 5 if quick else 15

    def ours_body() -> str:
        return dumps({"program_id": "sampler", "params": sampler_params([circuit], shots=4096)})

    def theirs_body() -> str:
        params = {
            "pubs": [SamplerPub.coerce(circuit, 4096)],
            "options": {},
            "version": 2,
            "support_qiskit": True,
        }
        return json.dumps({"program_id": "sampler", "params": params}, cls=runtime_encoder)

    def theirs_circuit() -> str:
        return json.dumps(circuit, cls=runtime_encoder)

    # Compared decoded: qiskit's QPY writer orders a transpiled circuit's layout registers by set
    # iteration, so even one client's bytes for this circuit can differ from dump to dump.
    from jupyter_qrt.runtime.wire.decoding import loads

    if loads(dumps(circuit)) != loads(theirs_circuit()) or len(ours_body()) != len(theirs_body()):
        raise AssertionError("our encoding differs from RuntimeEncoder's: fix that first")
    size = len(circuit.data)
    timings: list[tuple[str, Callable[[], str], Callable[[], str]]] = [
        (
            f"encode {_NUM_QUBITS}-qubit ISA circuit ({size} instructions)",
            lambda: dumps(circuit),
            theirs_circuit,
        ),
        ("  whole sampler job body around it", ours_body, theirs_body),
    ]
    return [
        Row(
            label,
            median_seconds(ours, repeat=repeat),
            median_seconds(theirs, repeat=repeat),
            "s",
            "<= 1",
        )
        for label, ours, theirs in timings
    ]


def main(quick: bool = False) -> None:
    """Print both tables."""
    print_table("client wire: decoding", decode_rows(quick))
    print_table("client wire: encoding", encode_rows(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
