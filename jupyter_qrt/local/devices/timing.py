"""How long a circuit keeps a device busy: the basis of the quantum seconds a job is charged.

:func:`circuit_duration` schedules a circuit as soon as possible on its qubits, with each
instruction lasting what the device's calibration says (``gate_length``, ``readout_length``,
``delay`` durations), and returns the length of the schedule. Control flow counts its longest
branch; a ``for_loop`` its body once per iteration; a ``while_loop`` its body once (the number of
rounds is only known at run time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qiskit.circuit import ControlFlowOp, ForLoopOp, WhileLoopOp

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit, Qubit
    from qiskit.transpiler import Target

__all__ = ["circuit_duration"]

_SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "ps": 1e-12}


class _DurationTable:
    """Instruction durations of one target, looked up once per (name, qubits)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.known: dict[tuple[str, tuple[int, ...]], float] = {}

    def duration(self, name: str, qargs: tuple[int, ...]) -> float:
        key = (name, qargs)
        found = self.known.get(key)
        if found is None:
            found = 0.0
            if name in self.target.operation_names:
                properties = self.target[name].get(qargs) or self.target[name].get(None)
                if properties is not None and properties.duration:
                    found = float(properties.duration)
            self.known[key] = found
        return found


def _delay_seconds(duration: float, unit: str, dt: float | None) -> float:
    if unit == "dt":
        return duration * (dt or 0.0)
    return duration * _SECONDS_PER_UNIT.get(unit, 0.0)


def _schedule(
    circuit: QuantumCircuit,
    qubit_index: dict[Qubit, int],
    table: _DurationTable,
    start: dict[int, float],
) -> float:
    """Advance the per-qubit clocks in ``start`` through ``circuit``; return the latest clock."""
    for instruction in circuit.data:
        operation = instruction.operation
        qargs = tuple(qubit_index[q] for q in instruction.qubits)
        begin = max((start.get(q, 0.0) for q in qargs), default=0.0)
        if isinstance(operation, ControlFlowOp):
            longest = 0.0
            for block in operation.blocks:
                inner = {
                    inner_qubit: qubit_index[outer_qubit]
                    for outer_qubit, inner_qubit in zip(
                        instruction.qubits, block.qubits, strict=False
                    )
                }
                clocks = dict.fromkeys(qargs, 0.0)
                longest = max(longest, _schedule(block, inner, table, clocks))
            if isinstance(operation, ForLoopOp):
                longest *= max(len(operation.params[0]), 1)
            elif isinstance(operation, WhileLoopOp):
                pass  # one round: the real count is decided by the measurements
            length = longest
        elif operation.name == "delay":
            length = _delay_seconds(float(operation.duration), operation.unit, table.target.dt)
        elif operation.name == "barrier":
            length = 0.0
        else:
            length = table.duration(operation.name, qargs)
        for q in qargs:
            start[q] = begin + length
    return max(start.values(), default=0.0)


def circuit_duration(circuit: QuantumCircuit, target: Target) -> float:
    """Return the seconds one shot of ``circuit`` takes on the device described by ``target``.

    Instructions the target gives no duration (ideal simulators, ``rz``) take no time.
    """
    qubit_index = {qubit: index for index, qubit in enumerate(circuit.qubits)}
    return _schedule(circuit, qubit_index, _DurationTable(target), {})
