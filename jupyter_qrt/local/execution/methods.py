"""Which qiskit-aer method simulates a run, and refusing runs that cannot fit in memory.

For circuits that are not Clifford (Clifford circuits go to the stabilizer path before this)
:func:`plan_simulation` picks, from the circuits and the noise:

- ``density_matrix`` for noisy runs of at most :data:`DENSITY_MATRIX_MAX_QUBITS` qubits with
  ``2**n <= 2 * shots``: its cost is one 4^n evolution, against one 2^n trajectory per shot for a
  statevector (measured on qrt_gannet, 10 qubits, 1000 shots: 1.0 s against 3.0 s).
- ``matrix_product_state`` for circuits of at least :data:`MPS_MIN_QUBITS` qubits whose
  entanglement is provably low: a cz/cx/ecr at most doubles the Schmidt rank across every cut
  between its qubits (in qubit order, as Aer's MPS orders them), so the bond dimension across a
  cut is at most 2^(two-qubit gates crossing it), and never more than 2^min(left, right). When
  that bound, ``2**k``, has ``k <= n / 2 - MPS_MARGIN`` a matrix product state is cheaper than
  a 2^n statevector per shot (measured on qrt_gannet's GHZ chain, 16 qubits, 1000 shots: 4.6 s
  against 10 s for a statevector with shot branching, 42.8 s before). The bound is loose for
  routed circuits (a swap counts three gates), so a circuit with few two-qubit gates (at most
  :data:`MPS_GATES_PER_QUBIT` per qubit) goes to MPS as well: the 20-qubit GHZ chain routed on
  qrt_gannet (143 cz, bound 2^10) runs 100 shots in 17 s as MPS against 121 s as statevector.
  Noiseless runs take MPS only above :data:`IDEAL_STATEVECTOR_MAX_QUBITS` qubits: without noise
  a statevector is evolved once and every shot is sampled from it, which MPS cannot beat while
  the state is small (GHZ-20 at 100,000 shots on the ideal simulator: 0.9 s against 7 s).
- ``statevector`` otherwise (with shot branching for noisy runs).

A run whose method needs more memory than the machine has is refused before it starts
(reason 1517), with the bytes it needs and the widest statevector that fits.
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qiskit import QuantumCircuit

from .report import ExecutionError

__all__ = [
    "DENSITY_MATRIX",
    "MATRIX_PRODUCT_STATE",
    "STATEVECTOR",
    "SimulationPlan",
    "bond_exponent",
    "memory_limit_bytes",
    "plan_simulation",
]

STATEVECTOR = "statevector"
DENSITY_MATRIX = "density_matrix"
MATRIX_PRODUCT_STATE = "matrix_product_state"

DENSITY_MATRIX_MAX_QUBITS = 12
MPS_MIN_QUBITS = 14
MPS_MARGIN = 1
MPS_GATES_PER_QUBIT = 8
#: Widest noiseless run that always uses a statevector (one evolution, shots sampled from it:
#: 2^24 amplitudes are 256 MiB).
IDEAL_STATEVECTOR_MAX_QUBITS = 24
#: Share of the memory limit a simulation may take: the worker, qiskit and the result need
#: the rest (Aer's own default is half of the physical memory too).
MEMORY_SHARE = 0.5
_AMPLITUDE_BYTES = 16  # complex128
_IDLE = frozenset({"barrier", "delay"})
_NOISE = "device calibration: thermal relaxation + depolarizing per gate, readout errors"


@dataclass(frozen=True)
class SimulationPlan:
    """How one run is simulated: the Aer method and the qubits it simulates.

    Parameters
    ----------
    method
        ``"statevector"``, ``"density_matrix"`` or ``"matrix_product_state"``.
    qubits
        Active qubits of the widest circuit (Aer drops the idle ones).
    noisy
        Whether the device's noise model applies.
    """

    method: str
    qubits: int
    noisy: bool

    def aer_options(self) -> dict[str, Any]:
        """Options for ``AerSimulator`` that go with the method."""
        options: dict[str, Any] = {"method": self.method}
        if self.method == STATEVECTOR and self.noisy:
            # Shots share one state until a noise event tells them apart (3x faster measured
            # on a 16-qubit noisy GHZ chain).
            options["shot_branching_enable"] = True
        return options

    def metadata(self) -> dict[str, Any]:
        """The ``"simulation"`` entry of a pub result's metadata."""
        return {
            "method": self.method,
            "engine": "qiskit-aer",
            "noise": _NOISE if self.noisy else "none: ideal simulator",
            "qubits": self.qubits,
        }


def _active(circuit: QuantumCircuit) -> list[int]:
    used: set[int] = set()
    for instruction in circuit.data:
        if instruction.operation.name not in _IDLE:
            used.update(circuit.find_bit(q).index for q in instruction.qubits)
    return sorted(used)


def bond_exponent(circuit: QuantumCircuit) -> int:
    """Upper bound ``k`` on log2 of the MPS bond dimension, over every cut of the active qubits.

    Each multi-qubit instruction crossing a cut counts once (cz, cx, ecr double the Schmidt
    rank at most); a cut with ``l`` qubits on one side never needs more than ``2**l``.
    """
    active = _active(circuit)
    position = {qubit: i for i, qubit in enumerate(active)}
    crossing = [0] * max(len(active) - 1, 0)
    for instruction in circuit.data:
        if instruction.operation.name in _IDLE or len(instruction.qubits) < 2:
            continue
        places = [position[circuit.find_bit(q).index] for q in instruction.qubits]
        for cut in range(min(places), max(places)):
            crossing[cut] += 1
    bound = 0
    for cut, count in enumerate(crossing):
        bound = max(bound, min(count, cut + 1, len(active) - cut - 1))
    return bound


def _two_qubit_gates(circuit: QuantumCircuit) -> int:
    return sum(1 for i in circuit.data if len(i.qubits) > 1 and i.operation.name not in _IDLE)


def memory_limit_bytes() -> int:
    """Memory this process may use: its address-space limit if set, else available memory."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and soft > 0:
        return int(soft)
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _bytes_needed(method: str, qubits: int, bond: int) -> int:
    if method == DENSITY_MATRIX:
        return _AMPLITUDE_BYTES << (2 * qubits)
    if method == MATRIX_PRODUCT_STATE:
        # Two (chi x chi) matrices per qubit, chi = 2**bond at most.
        return (_AMPLITUDE_BYTES * 2 * max(qubits, 1)) << (2 * bond)
    return _AMPLITUDE_BYTES << qubits


def plan_simulation(
    circuits: Sequence[QuantumCircuit],
    shots: int,
    noisy: bool,
    *,
    limit: int | None = None,
) -> SimulationPlan:
    """Choose the method of one Aer run of ``circuits`` (not Clifford) with ``shots`` shots.

    Parameters
    ----------
    circuits
        The circuits of the run (ISA circuits; idle qubits do not count).
    shots
        Shots per circuit.
    noisy
        Whether the device's noise model applies.
    limit
        Memory limit in bytes; default :func:`memory_limit_bytes`.

    Raises
    ------
    ExecutionError
        (1517) No method fits in memory; the message names the bytes needed and the widest
        circuit that fits.
    """
    widths = [len(_active(c)) for c in circuits] or [0]
    qubits = max(widths)
    bond = max((bond_exponent(c) for c in circuits), default=0)
    sparse = all(_two_qubit_gates(c) <= MPS_GATES_PER_QUBIT * qubits for c in circuits)
    budget = int((memory_limit_bytes() if limit is None else limit) * MEMORY_SHARE)
    if noisy and qubits <= DENSITY_MATRIX_MAX_QUBITS and (1 << qubits) <= 2 * shots:
        method = DENSITY_MATRIX
    elif (
        qubits >= MPS_MIN_QUBITS
        and (noisy or qubits > IDEAL_STATEVECTOR_MAX_QUBITS)
        and (bond <= qubits / 2 - MPS_MARGIN or sparse)
    ):
        method = MATRIX_PRODUCT_STATE
    else:
        method = STATEVECTOR
    if _bytes_needed(method, qubits, bond) > budget:
        fallback = [STATEVECTOR, MATRIX_PRODUCT_STATE]
        fits = [m for m in fallback if _bytes_needed(m, qubits, bond) <= budget]
        if not fits:
            widest = math.floor(math.log2(max(budget, 1) / _AMPLITUDE_BYTES))
            needed = _bytes_needed(STATEVECTOR, qubits, bond)
            raise ExecutionError(
                f"The circuit acts on {qubits} qubits and is too entangled for a matrix "
                f"product state: simulating it needs {needed} bytes of memory (statevector), "
                f"and this machine has {budget} bytes for a simulation, enough for at most "
                f"{widest} qubits. Use at most {widest} active qubits (or a Clifford circuit), "
                "or run on an IBM device."
            )
        method = fits[0]
    return SimulationPlan(method, qubits, noisy)
