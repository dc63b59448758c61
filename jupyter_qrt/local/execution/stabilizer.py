"""Clifford ISA circuits on stim, with the device's noise in Pauli form.

A circuit whose every instruction (after parameter binding) is a Clifford gate of the device's
basis (``ecr``, ``cz``, ``cx``, ``sx``, ``x``, ``id``, ``rz``/``rx`` at multiples of pi/2,
``rzz`` at multiples of pi/2), ``measure``, ``reset``, ``barrier`` or ``delay`` is converted
instruction by instruction into a ``stim.Circuit``; each calibrated gate is followed by its
Pauli-twirled error (:mod:`.pauli_noise`: one ``PAULI_CHANNEL_1`` per qubit for relaxation, then
``DEPOLARIZE1``/``DEPOLARIZE2``), each measurement flips its result with the qubit's
readout error: both ways with the mean when measurements are twirled, else exactly the
calibrated asymmetric pair (``M(min)`` plus a one-sided flip drawn after sampling). stim's
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
    extra_flips
        Asymmetric readout, exactly: ``(record, value record, value, probability)`` flips
        ``record`` with ``probability`` in the shots whose true outcome (``value record``, an
        extra noiseless measurement right after) equals ``value``.
    """

    circuit: Any
    clbits: tuple[tuple[int, int], ...]
    extra_flips: tuple[tuple[int, int, bool, float], ...]


def _append_measure(
    program: Any, qubit: int, pair: tuple[float, float] | None, records: int
) -> tuple[int, list[tuple[int, int, bool, float]]]:
    """Measure ``qubit`` with readout flips ``pair``; return the record count and extra flips.

    ``pair = (a, b)``: ``P(1|0) = a``, ``P(0|1) = b``. stim flips both ways with one
    probability, so the result is measured with ``M(min(a, b))`` and, when ``a != b``, the true
    outcome once more without noise; the shots whose outcome is on the worse side are then
    flipped again with ``c = |b - a| / (1 - 2 min(a, b))``, which makes the total flip
    probability on that side ``min + c - 2 min c = max(a, b)``: exactly the calibrated pair.
    """
    if pair is None or max(pair) <= 0:
        program.append("M", [qubit])
        return records + 1, []
    a, b = pair
    low = min(a, b)
    program.append("M", [qubit], low) if low > 0 else program.append("M", [qubit])
    if a == b or low >= 0.5:
        return records + 1, []
    program.append("M", [qubit])
    extra = abs(b - a) / (1 - 2 * low)
    return records + 2, [(records, records + 1, b > a, extra)]


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
        Measurements are twirled: readout flips both ways with the mean error. Otherwise each
        qubit keeps its calibrated asymmetric pair (see :class:`StimProgram`).

    Returns
    -------
    StimProgram or None
        ``None`` when an instruction is not a Clifford gate stim can run (a non-Clifford angle,
        control flow, a classical condition, ...).
    """
    import stim

    program = stim.Circuit()
    clbits: list[tuple[int, int]] = []
    flips: list[tuple[int, int, bool, float]] = []
    records = 0
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
            qubit = qubits[0]
            pair: tuple[float, float] | None = None
            if noise is not None and qubit < len(noise.readout):
                mean = noise.readout[qubit]
                pair = (mean, mean) if twirled_measure else noise.readout_pairs[qubit]
            clbits.append((circuit.find_bit(instruction.clbits[0]).index, records))
            records, extra = _append_measure(program, qubit, pair, records)
            flips.extend(extra)
            continue
        if name == "reset":
            program.append("R", list(qubits))
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
            program.append(gate_name, [qubits[i] for i in which])
        error = gates.get((name, qubits))
        if error is not None:
            for qubit, (px, py, pz) in zip(qubits, error.relaxation, strict=True):
                if px or py or pz:
                    program.append("PAULI_CHANNEL_1", [qubit], [px, py, pz])
            if error.depolarizing > 0:
                if len(qubits) == 1:
                    program.append("DEPOLARIZE1", list(qubits), 0.75 * error.depolarizing)
                elif len(qubits) == 2:
                    program.append("DEPOLARIZE2", list(qubits), 15 / 16 * error.depolarizing)
    return StimProgram(program, tuple(clbits), tuple(flips))


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
    for circuit, bindings in batches:
        programs = []
        for bound in _bound_circuits(circuit, bindings):
            converted = stim_circuit(bound, noise, twirled_measure=twirled_measure)
            if converted is None:
                break
            programs.append(converted)
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
                for record, value_record, value, probability in program.extra_flips:
                    candidates = _bernoulli_rows(rng, shots, probability)
                    chosen = candidates[measured[candidates, value_record] == value]
                    measured[chosen, record] ^= True
                rows.append(_clbits(measured, program.clbits, circuit.num_clbits))
            shape = (0, shots, circuit.num_clbits)
            out.append(np.stack(rows) if rows else np.zeros(shape, dtype=np.bool_))
            continue
        out.append(None)
    return out


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
    bits = np.zeros((measured.shape[0], num_clbits), dtype=np.bool_)
    last = dict(clbits)
    if last:
        bits[:, list(last)] = measured[:, list(last.values())]
    return bits
