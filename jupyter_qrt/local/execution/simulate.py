"""One qiskit-aer run for a batch of (circuit, parameter values) pairs, returning shot bits.

Every binding of every circuit becomes one Aer experiment (parametric circuits share one
compiled circuit through ``parameter_binds``). Aer reports each shot's classical bits as a hex
string; they are turned into boolean arrays ``(bindings, shots, num_clbits)`` with column ``j``
holding clbit ``j``, from which registers are cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit, QuantumRegister
from qiskit.circuit import ControlFlowOp
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from jupyter_qrt.local.devices import Device
from jupyter_qrt.local.job_reasons import INTERNAL_ERROR

from .methods import MATRIX_PRODUCT_STATE, SimulationPlan, plan_simulation
from .noise import noise_model_for
from .report import ExecutionError

__all__ = [
    "ShotBits",
    "active_qubits",
    "pack_register",
    "plan_shots",
    "run_shots",
    "simulation_failure",
]

ShotBits = npt.NDArray[np.bool_]
"""Shot outcomes: ``(bindings, shots, num_clbits)``, column ``j`` is clbit ``j``."""

# Messages of qiskit-aer that mean "the circuit is too big for this machine", not a bug.
_TOO_BIG = ("insufficient memory", "required memory", "exceeds", "too many qubits")
# Instructions that neither need nor get noise, so they do not make a qubit "used".
_IDLE = frozenset({"barrier", "delay"})


def active_qubits(circuits: Sequence[QuantumCircuit]) -> set[int]:
    """Indices of the qubits the circuits act on (control flow counts its operands)."""
    used: set[int] = set()
    for circuit in circuits:
        for instruction in circuit.data:
            if instruction.operation.name not in _IDLE:
                used.update(circuit.find_bit(q).index for q in instruction.qubits)
    return used


def _experiments(
    batches: Sequence[tuple[QuantumCircuit, BindingsArray]],
) -> tuple[list[QuantumCircuit], list[dict[Any, Any]], list[int]]:
    circuits: list[QuantumCircuit] = []
    binds: list[dict[Any, Any]] = []
    counts: list[int] = []
    for circuit, bindings in batches:
        size = int(bindings.size)
        counts.append(size)
        if size == 0:
            continue
        if circuit.num_parameters:
            values = bindings.as_array(circuit.parameters).reshape(size, -1)
            circuits.append(circuit)
            binds.append({p: values[:, i] for i, p in enumerate(circuit.parameters)})
        else:
            # Broadcast pubs without parameters still want independent shots per element.
            circuits.extend([circuit] * size)
            binds.extend({} for _ in range(size))
    return circuits, binds, counts


def _mps_order(circuits: Sequence[QuantumCircuit]) -> list[int] | None:
    """Active qubits ordered so that two-qubit gates act on near neighbours (for MPS).

    Aer's matrix product state keeps qubits in index order and swaps qubits together for each
    two-qubit gate; on a heavy-hex device a routed chain jumps between distant indices.
    Reverse Cuthill-McKee (bandwidth reduction of the interaction graph) puts them close:
    100 shots of the issue's 20-qubit GHZ chain on qrt_gannet took 3.3 s instead of 72 s.
    ``None`` when a circuit cannot be relabelled simply (control flow, loose clbits).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    used = sorted(active_qubits(circuits))
    where = {q: i for i, q in enumerate(used)}
    graph = np.zeros((len(used), len(used)))
    for circuit in circuits:
        if len(circuit.clbits) != sum(r.size for r in circuit.cregs):
            return None
        for instruction in circuit.data:
            if isinstance(instruction.operation, ControlFlowOp):
                return None
            qubits = [circuit.find_bit(q).index for q in instruction.qubits]
            if len(qubits) == 2 and instruction.operation.name not in _IDLE:
                a, b = where[qubits[0]], where[qubits[1]]
                graph[a, b] = graph[b, a] = 1.0
    permutation = reverse_cuthill_mckee(csr_matrix(graph), symmetric_mode=True)
    return [used[int(i)] for i in permutation]


def _relabelled(circuit: QuantumCircuit, order: Sequence[int]) -> QuantumCircuit:
    """``circuit`` on ``len(order)`` qubits, device qubit ``order[i]`` becoming qubit ``i``."""
    new = {q: i for i, q in enumerate(order)}
    result = QuantumCircuit(QuantumRegister(len(order), "q"), *circuit.cregs)
    for instruction in circuit.data:
        indices = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.operation.name in _IDLE and not all(i in new for i in indices):
            continue
        result.append(
            instruction.operation,
            [result.qubits[new[i]] for i in indices],
            [result.clbits[circuit.find_bit(c).index] for c in instruction.clbits],
        )
    return result


def simulation_failure(device: Device, status: str) -> ExecutionError:
    """The error to raise when qiskit-aer reports ``status`` instead of a result."""
    if any(token in status.lower() for token in _TOO_BIG):
        return ExecutionError(
            f"The circuit is too large to simulate on this machine ({status}). The local "
            f"service simulates {device.name} in memory: use fewer active qubits, or run on "
            "an IBM device."
        )
    return ExecutionError(
        f"The simulator failed: {status}. If the circuit is valid, please report this.",
        INTERNAL_ERROR,
    )


def _bits_of(memory: list[str], num_clbits: int) -> ShotBits:
    num_bytes = max(1, math.ceil(num_clbits / 8))
    text = "".join(value[2:].rjust(2 * num_bytes, "0") for value in memory)
    raw = np.frombuffer(bytes.fromhex(text), dtype=np.uint8).reshape(len(memory), num_bytes)
    # unpackbits is most-significant first; reverse so that column j is clbit j.
    return np.unpackbits(raw, axis=1)[:, ::-1][:, :num_clbits].astype(np.bool_)


def plan_shots(
    batches: Sequence[tuple[QuantumCircuit, BindingsArray]], shots: int, device: Device
) -> SimulationPlan:
    """The Aer method for :func:`run_shots` of ``batches`` (see :mod:`.methods`).

    Raises
    ------
    ExecutionError
        (1517) The run cannot fit in this machine's memory; nothing ran.
    """
    noisy = not device.simulator and bool(device.properties)
    return plan_simulation([c for c, _ in batches], shots, noisy)


def run_shots(
    batches: Sequence[tuple[QuantumCircuit, BindingsArray]],
    shots: int,
    seed: int | None,
    device: Device,
    plan: SimulationPlan | None = None,
    *,
    noise_model: NoiseModel | None = None,
) -> list[ShotBits]:
    """Run every binding of every circuit with ``shots`` shots; return the bits per batch.

    The device's noise model (none on the ideal simulator) is cut to the qubits the circuits
    use. ``plan`` is the simulation method to use (the stabilizer path of Clifford circuits
    runs elsewhere); default :func:`plan_shots`. ``noise_model`` replaces the device's
    model (the twirled model of :mod:`.pauli_noise`); qubits are then not reordered.

    Raises
    ------
    ExecutionError
        The run cannot fit in memory (1517, before anything runs); the simulation failed
        (too big for memory: 1517; anything else: 1500).
    """
    circuits, binds, counts = _experiments(batches)
    bits: list[ShotBits] = []
    if not circuits:
        return [np.zeros((0, shots, c.num_clbits), dtype=np.bool_) for c, _ in batches]
    plan = plan or plan_shots(batches, shots, device)
    order = None
    if noise_model is None and plan.method == MATRIX_PRODUCT_STATE:
        order = _mps_order([c for c, _ in batches])
    if order is not None:
        circuits = [_relabelled(c, order) for c in circuits]
    if noise_model is None:
        noise_model = noise_model_for(device, active_qubits([c for c, _ in batches]), order)
    options = plan.aer_options()
    simulator = AerSimulator(noise_model=noise_model, **options) if noise_model else None
    simulator = simulator or AerSimulator(**options)
    try:
        result = simulator.run(
            circuits,
            shots=shots,
            memory=True,
            seed_simulator=seed,
            parameter_binds=binds if any(binds) else None,
        ).result()
    except Exception as exc:  # qiskit-aer raises several unrelated types
        raise simulation_failure(device, str(exc)) from None
    experiments = iter(result.results)
    for (circuit, _), count in zip(batches, counts, strict=True):
        rows: list[ShotBits] = []
        for _ in range(count):
            experiment = next(experiments)
            status = str(getattr(experiment, "status", ""))
            if not experiment.success:
                raise simulation_failure(device, status or str(result.status))
            memory = getattr(experiment.data, "memory", None) or ["0x0"] * shots
            rows.append(_bits_of(memory, circuit.num_clbits))
        stacked = np.stack(rows) if rows else np.zeros((0, shots, circuit.num_clbits), bool)
        bits.append(stacked)
    return bits


def pack_register(bits: ShotBits, clbits: Sequence[int]) -> npt.NDArray[np.uint8]:
    """Pack the columns ``clbits`` (register bit 0 first) as ``BitArray`` bytes, big-endian."""
    selected = bits[..., list(clbits)][..., ::-1]
    padding = (-len(clbits)) % 8
    if padding:
        zeros = np.zeros((*selected.shape[:-1], padding), dtype=np.bool_)
        selected = np.concatenate([zeros, selected], axis=-1)
    return np.packbits(selected, axis=-1)
