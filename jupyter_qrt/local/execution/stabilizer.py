"""Clifford ISA circuits on stim, with the device's noise in Pauli form.

A circuit whose every instruction (after parameter binding) is a Clifford gate of the device's
basis (``ecr``, ``cz``, ``cx``, ``sx``, ``x``, ``id``, ``rz``/``rx`` at multiples of pi/2,
``rzz`` at multiples of pi/2), ``measure``, ``reset``, ``barrier`` or ``delay`` is converted
instruction by instruction into a ``stim.Circuit``; each calibrated gate is followed by its
Pauli-twirled error (:mod:`.pauli_noise`: one ``PAULI_CHANNEL_1`` per qubit for relaxation, then
``DEPOLARIZE1``/``DEPOLARIZE2``), each measurement flips its result with the qubit's
readout error: both ways with the mean when measurements are twirled (``M(p)``), else exactly
the calibrated asymmetric pair (flips drawn on the noiseless records after sampling). stim's
detector-free sampler then draws the shots: milliseconds for a 127-qubit GHZ at 4096 shots,
where a state-vector or density-matrix method cannot run at all and qiskit-aer's stabilizer
method with the same noise takes tens of seconds.

Sampling from this stim circuit is exact for the Pauli noise model: the only approximations are
those of the Pauli form of the gate errors (see :mod:`.pauli_noise` and the README), which is
exact when the job twirls its gates. Control flow, classical conditions and non-Clifford angles
are not handled here: :func:`stim_circuit` returns ``None`` and the caller uses qiskit-aer.

This module imports stim inside its functions; only worker processes run them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives.containers.bindings_array import BindingsArray

from .pauli_noise import PauliNoise

__all__ = ["ANGLE_TOLERANCE", "StimProgram", "clifford_bits", "stim_circuit"]

logger = logging.getLogger(__name__)

#: How far (radians) an angle may be from a multiple of pi/2 and still count as that multiple.
ANGLE_TOLERANCE = 1e-9

_Steps = tuple[tuple[str, tuple[int, ...]], ...]
# Fixed Clifford gates: qiskit name -> stim instructions (name, which of the gate's qubits).
# ECR(a, b) equals X a; CX a b; S_DAG a; SQRT_X_DAG b up to a global phase (checked by a test
# against the tableau of qiskit's ECR matrix).
_FIXED: dict[str, _Steps] = {
    "id": (),
    "x": (("X", (0,)),),
    "y": (("Y", (0,)),),
    "z": (("Z", (0,)),),
    "h": (("H", (0,)),),
    "s": (("S", (0,)),),
    "sdg": (("S_DAG", (0,)),),
    "sx": (("SQRT_X", (0,)),),
    "sxdg": (("SQRT_X_DAG", (0,)),),
    "cx": (("CX", (0, 1)),),
    "cz": (("CZ", (0, 1)),),
    "cy": (("CY", (0, 1)),),
    "swap": (("SWAP", (0, 1)),),
    "ecr": (("X", (0,)), ("CX", (0, 1)), ("S_DAG", (0,)), ("SQRT_X_DAG", (1,))),
}
# Rotations at k * pi/2: the stim instructions of k = 0, 1, 2, 3 (mod 4), up to global phase.
_ROTATIONS: dict[str, tuple[_Steps, _Steps, _Steps, _Steps]] = {
    "rz": ((), (("S", (0,)),), (("Z", (0,)),), (("S_DAG", (0,)),)),
    "rx": ((), (("SQRT_X", (0,)),), (("X", (0,)),), (("SQRT_X_DAG", (0,)),)),
    "ry": ((), (("SQRT_Y", (0,)),), (("Y", (0,)),), (("SQRT_Y_DAG", (0,)),)),
    "rzz": (
        (),
        (("SQRT_ZZ", (0, 1)),),
        (("Z", (0,)), ("Z", (1,))),
        (("SQRT_ZZ_DAG", (0, 1)),),
    ),
}
_IGNORED = frozenset({"barrier", "delay"})


def _quarter_turns(angle: Any) -> int | None:
    """``k mod 4`` when ``angle`` is ``k * pi/2`` within :data:`ANGLE_TOLERANCE`, else None."""
    try:
        value = float(angle)
    except (TypeError, ValueError):  # an unbound parameter
        return None
    turns = value / (math.pi / 2)
    nearest = round(turns)
    if abs(turns - nearest) * (math.pi / 2) > ANGLE_TOLERANCE:
        return None
    return int(nearest) % 4


@dataclass(frozen=True)
class StimProgram:
    """A circuit as stim runs it, and how its measurement records become clbits.

    Parameters
    ----------
    circuit
        The ``stim.Circuit``.
    clbits
        Per measurement of the qiskit circuit, in order: the clbit it writes and the index of
        its record.
    readout
        Asymmetric readout, applied exactly after sampling: ``(record, a, b)`` flips the
        noiselessly measured ``record`` with ``P(1|0) = a`` where it is 0 and ``P(0|1) = b``
        where it is 1. (Readout errors only change the recorded bit, never the state, so
        this is the calibrated model, not an approximation.)
    """

    circuit: Any
    clbits: tuple[tuple[int, int], ...]
    readout: tuple[tuple[int, float, float], ...]


def _args(*values: float) -> str:
    return "(" + ",".join(repr(float(v)) for v in values) + ")"


def stim_circuit(
    circuit: QuantumCircuit, noise: PauliNoise | None, *, twirled_measure: bool = False
) -> StimProgram | None:
    """``circuit`` (parameters bound) as a stim program with ``noise``, or None if not Clifford.

    Parameters
    ----------
    circuit
        An ISA circuit with no unbound parameters.
    noise
        The device's noise in Pauli form (``None``: noiseless).
    twirled_measure
        Measurements are twirled: stim flips readouts both ways with the mean error
        (``M(p)``). Otherwise each qubit keeps its calibrated asymmetric pair
        (:attr:`StimProgram.readout`).

    Returns
    -------
    StimProgram or None
        ``None`` when an instruction is not a Clifford gate stim can run (a non-Clifford angle,
        control flow, a classical condition, ...).
    """
    import stim

    # Built as text and parsed once: much faster than one append() per instruction.
    lines: list[str] = []
    clbits: list[tuple[int, int]] = []
    readout: list[tuple[int, float, float]] = []
    gates = noise.gates if noise is not None else {}
    for instruction in circuit.data:
        operation = instruction.operation
        name = operation.name
        if name in _IGNORED:
            continue
        if getattr(operation, "condition", None) is not None:
            return None
        qubits = tuple(circuit.find_bit(q).index for q in instruction.qubits)
        if name == "measure":
            qubit, record = qubits[0], len(clbits)
            clbits.append((circuit.find_bit(instruction.clbits[0]).index, record))
            if noise is not None and qubit < len(noise.readout) and twirled_measure:
                flip = noise.readout[qubit]
                lines.append(f"M{_args(flip) if flip > 0 else ''} {qubit}")
                continue
            lines.append(f"M {qubit}")
            if noise is not None and qubit < len(noise.readout_pairs):
                a, b = noise.readout_pairs[qubit]
                if a > 0 or b > 0:
                    readout.append((record, a, b))
            continue
        if name == "reset":
            lines.append("R " + " ".join(map(str, qubits)))
            continue
        if name in _FIXED:
            steps = _FIXED[name]
        elif name in _ROTATIONS and len(operation.params) == 1:
            turns = _quarter_turns(operation.params[0])
            if turns is None:
                return None
            steps = _ROTATIONS[name][turns]
        else:
            return None
        for gate_name, which in steps:
            lines.append(gate_name + " " + " ".join(str(qubits[i]) for i in which))
        error = gates.get((name, qubits))
        if error is not None:
            for qubit, (px, py, pz) in zip(qubits, error.relaxation, strict=True):
                if px or py or pz:
                    lines.append(f"PAULI_CHANNEL_1{_args(px, py, pz)} {qubit}")
            targets = " ".join(map(str, qubits))
            if error.depolarizing > 0 and len(qubits) == 1:
                lines.append(f"DEPOLARIZE1{_args(0.75 * error.depolarizing)} {targets}")
            elif error.depolarizing > 0 and len(qubits) == 2:
                lines.append(f"DEPOLARIZE2{_args(15 / 16 * error.depolarizing)} {targets}")
    return StimProgram(stim.Circuit("\n".join(lines)), tuple(clbits), tuple(readout))


def _bound_circuits(circuit: QuantumCircuit, bindings: BindingsArray) -> list[QuantumCircuit]:
    size = int(bindings.size)
    if not circuit.num_parameters:
        return [circuit] * size
    values = bindings.as_array(circuit.parameters).reshape(size, -1)
    return [circuit.assign_parameters(row, inplace=False) for row in values]


def clifford_bits(
    batches: Sequence[tuple[QuantumCircuit, BindingsArray]],
    shots: int,
    seed: int | None,
    noise: PauliNoise | None,
    *,
    twirled_measure: bool = False,
) -> list[np.ndarray | None]:
    """Sample each batch whose every binding is a Clifford circuit with stim.

    Parameters
    ----------
    batches
        ``(circuit, bindings)`` pairs, as :func:`.simulate.run_shots` takes them.
    shots
        Shots per binding.
    seed
        Seed of the call; each binding samples with its own stream derived from it.
    noise
        The device's noise in Pauli form, or ``None`` for none.
    twirled_measure
        Measurements are twirled (symmetric readout flips, see :func:`stim_circuit`).

    Returns
    -------
    list
        Per batch, the bits ``(bindings, shots, num_clbits)`` (column ``j`` is clbit ``j``), or
        ``None`` when the batch is not Clifford (the caller simulates it another way).
    """
    out: list[np.ndarray | None] = []
    experiment = 0
    converted: dict[int, StimProgram | None] = {}  # pubs often repeat one circuit object
    for circuit, bindings in batches:
        programs = []
        for bound in _bound_circuits(circuit, bindings):
            if id(bound) not in converted:
                converted[id(bound)] = stim_circuit(bound, noise, twirled_measure=twirled_measure)
            program = converted[id(bound)]
            if program is None:
                break
            programs.append(program)
        else:
            rows = []
            for program in programs:
                # One independent stream per binding (stim's sampler and numpy's flips).
                rng = np.random.default_rng(None if seed is None else [seed, experiment])
                experiment += 1
                sampler = program.circuit.compile_sampler(seed=int(rng.integers(2**62)))
                measured = (
                    sampler.sample(shots) if program.clbits else np.zeros((shots, 0), np.bool_)
                )
                _flip_readout(measured, program.readout, rng)
                rows.append(_clbits(measured, program.clbits, circuit.num_clbits))
            shape = (0, shots, circuit.num_clbits)
            if len(rows) == 1:
                out.append(rows[0][np.newaxis])  # a view: no copy of a million shots
            else:
                out.append(np.stack(rows) if rows else np.zeros(shape, dtype=np.bool_))
            continue
        out.append(None)
    return out


def _flip_readout(
    measured: np.ndarray, readout: tuple[tuple[int, float, float], ...], rng: np.random.Generator
) -> None:
    """Flip noiseless records in place: 0 -> 1 with ``a``, 1 -> 0 with ``b`` (per record)."""
    shots = measured.shape[0]
    for record, a, b in readout:
        column = measured[:, record]
        up = _bernoulli_rows(rng, shots, a)
        down = _bernoulli_rows(rng, shots, b)
        # Choose on the true values first, then flip: a shot flips at most once.
        up, down = up[~column[up]], down[column[down]]
        measured[up, record] = True
        measured[down, record] = False


def _bernoulli_rows(rng: np.random.Generator, count: int, probability: float) -> np.ndarray:
    """The rows (of ``count``) hit by independent events of ``probability``, in order.

    Drawn as geometric gaps between hits, so the cost follows the number of hits (about 1% of
    the rows for readout asymmetries), not the number of shots.
    """
    if probability <= 0 or count == 0:
        return np.zeros(0, dtype=np.int64)
    if probability >= 0.25:
        return np.flatnonzero(rng.random(count) < probability)
    expected = count * probability
    hits = np.cumsum(rng.geometric(probability, int(expected + 8 * math.sqrt(expected) + 16)))
    while hits[-1] < count:  # rarely more than one round: the first covers 8 sigma
        more = rng.geometric(probability, int(expected / 4 + 16))
        hits = np.concatenate([hits, hits[-1] + np.cumsum(more)])
    rows: np.ndarray = hits[hits <= count] - 1
    return rows


def _clbits(
    measured: np.ndarray, clbits: tuple[tuple[int, int], ...], num_clbits: int
) -> np.ndarray:
    """Measurement records to clbit columns; a clbit measured twice keeps its last record."""
    last = dict(clbits)
    if list(last.items()) == [(j, j) for j in range(num_clbits)]:
        return measured  # record j is clbit j (measure_all): no copy
    bits = np.zeros((measured.shape[0], num_clbits), dtype=np.bool_)
    if last:
        bits[:, list(last)] = measured[:, list(last.values())]
    return bits
