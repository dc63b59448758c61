"""What the noise models are made from, read once from a device's calibration properties.

Both forms of the device noise, qiskit-aer's (:mod:`.noise`) and the Pauli form of the stabilizer
path (:mod:`.pauli_noise`), read the calibration through these functions, so they model the same
gates with the same T1/T2 (:func:`.gate_errors.coherence_ns`), error and length.
"""

from __future__ import annotations

from typing import Any

from .gate_errors import coherence_ns

__all__ = ["GateKey", "calibrated_gates", "qubit_values", "readout_pairs"]

GateKey = tuple[tuple[tuple[float, float], ...], float, float]
"""What a gate's error is made from: (T1, T2) in ns per qubit, gate_error, gate_length in ns."""

# Calibration entries that are not unitary gates: readout is modelled separately, and
# reset/delay are left ideal.
_NOT_GATES = frozenset({"measure", "reset", "delay"})


def qubit_values(entries: list[dict[str, Any]]) -> dict[str, float]:
    """The numeric ``{name: value}`` of one qubit's (or gate's) calibration entries."""
    return {
        entry["name"]: float(entry["value"])
        for entry in entries
        if isinstance(entry.get("value"), int | float)
    }


def calibrated_gates(properties: dict[str, Any]) -> list[tuple[str, tuple[int, ...], GateKey]]:
    """Every calibrated gate with any error or length: ``(name, qubits, what its error is made
    from)``."""
    qubits = [qubit_values(entries) for entries in properties.get("qubits", [])]
    coherence = [coherence_ns(q.get("T1", 0.0), q.get("T2", 0.0)) for q in qubits]
    gates: list[tuple[str, tuple[int, ...], GateKey]] = []
    for gate in properties.get("gates", []):
        name = gate.get("gate", "")
        if name in _NOT_GATES or name.startswith("measure"):
            continue
        values = qubit_values(gate.get("parameters", []))
        error = max(values.get("gate_error", 0.0), 0.0)
        length = max(values.get("gate_length", 0.0), 0.0)
        on = tuple(int(q) for q in gate["qubits"])
        if (error == 0.0 and length == 0.0) or any(q >= len(coherence) for q in on):
            continue
        gates.append((name, on, (tuple(coherence[q] for q in on), error, length)))
    return gates


def readout_pairs(properties: dict[str, Any]) -> list[tuple[float, float]]:
    """Per qubit, ``(p(1|0), p(0|1))`` clipped to [0, 1] (the symmetric ``readout_error`` when
    the asymmetric ones are not given)."""
    pairs = []
    for entries in properties.get("qubits", []):
        qubit = qubit_values(entries)
        symmetric = qubit.get("readout_error", 0.0)
        p1_given_0 = min(max(qubit.get("prob_meas1_prep0", symmetric), 0.0), 1.0)
        p0_given_1 = min(max(qubit.get("prob_meas0_prep1", symmetric), 0.0), 1.0)
        pairs.append((p1_given_0, p0_given_1))
    return pairs
