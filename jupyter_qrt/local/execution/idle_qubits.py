"""Qubits an Estimator pub's circuit never touches: left out of the simulation, exactly.

An ISA circuit is as wide as its device, and observables are written over all of its qubits, so
an observable easily names qubits the circuit never acts on (a 3-qubit circuit on a 27-qubit
device, measured with a 27-qubit Pauli string). Simulating them costs memory and time
exponential in their number, for nothing: a qubit no instruction acts on (barriers and delays
aside) stays in ``|0>``, where ``<I> = <Z> = 1`` and ``<X> = <Y> = 0``. So every Pauli term
factorises into its part on the touched qubits times a known number, and
:func:`drop_idle_qubits` rewrites each term that way: the letters on untouched qubits become
``I`` and the coefficient is multiplied by the factor (a term with X or Y there drops out).

On a hardware-like device the Estimator measures each term, readout errors included (it mitigates
nothing), so an untouched qubit's Z reads ``1 - 2 p(1|0)`` on average rather than 1: that is the
factor used there, so results keep the mean they had when such qubits were simulated (with less
spread: the factor is exact, not sampled). On the ideal simulator the factor is 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.quantum_info import SparseObservable

from jupyter_qrt.local.devices import Device

from .simulate import active_qubits

__all__ = ["drop_idle_qubits", "simulated_qubits", "simulation_metadata"]

# Gates qiskit-aer's stabilizer method takes (a Clifford circuit without noise runs on it).
_CLIFFORD = frozenset(
    {"x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cy", "cz", "ecr", "swap", "id"}
    | {"measure", "reset", "barrier", "delay"}
)
_DEVICE_NOISE = "device calibration: thermal relaxation + depolarizing per gate, readout errors"


def drop_idle_qubits(
    pub: EstimatorPub, circuit: QuantumCircuit, device: Device, *, twirled_measure: bool = False
) -> EstimatorPub:
    """``pub`` with its observables cut to the qubits ``circuit`` acts on (see the module doc).

    Parameters
    ----------
    pub
        A validated Estimator pub.
    circuit
        The circuit that will run (the pub's, or its runnable form: same qubits).
    device
        Where it runs (the factor of Z on an untouched qubit depends on its readout error).
    twirled_measure
        Whether measurements are twirled: the readout error of a twirled measurement is the
        mean of its two flip probabilities, whatever the state.

    Returns
    -------
    EstimatorPub
        ``pub`` itself when no observable names an untouched qubit; otherwise the same circuit,
        parameter values and precision with the rewritten observables (same shape).
    """
    active = active_qubits([circuit])
    idle = [q for q in range(circuit.num_qubits) if q not in active]
    observables = pub.observables.ravel().tolist()
    if not idle or not any(_names_any(label, idle) for o in observables for label in o):
        return pub
    z_factor = _z_factors(device, idle, twirled_measure)
    width = circuit.num_qubits
    reduced = np.empty(len(observables), dtype=object)
    for i, observable in enumerate(observables):
        terms = _reduced(observable, idle, z_factor)
        # SparseObservable is ObservablesArray's own form; built directly, because qiskit refuses
        # a zero observable on input, and one whose terms all dropped out is exactly that.
        reduced[i] = (
            SparseObservable.from_list(list(terms.items()), num_qubits=width)
            if terms
            else SparseObservable.zero(width)
        )
    array = ObservablesArray(
        reduced.reshape(pub.observables.shape), num_qubits=width, validate=False
    )
    return EstimatorPub(pub.circuit, array, pub.parameter_values, pub.precision, validate=False)


def simulated_qubits(circuit: QuantumCircuit, pub: EstimatorPub) -> int:
    """How many qubits running ``pub`` on ``circuit`` simulates: those acted on or measured."""
    used = set(active_qubits([circuit]))
    for observable in pub.observables.ravel().tolist():
        for label in observable:
            n = len(label)
            used.update(q for q in range(n) if label[n - 1 - q] != "I")
    return len(used)


def simulation_metadata(
    device: Device, circuit: QuantumCircuit, pub: EstimatorPub, shots: int | None
) -> dict[str, Any]:
    """The pub's ``"simulation"`` metadata for a qiskit-aer run (``shots`` None: exact)."""
    qubits = simulated_qubits(circuit, pub)
    noisy = not device.simulator
    if not noisy and _is_clifford(circuit):
        method = "stabilizer"
    elif noisy and shots is not None and qubits < 64 and shots > 2**qubits:
        # qiskit-aer's automatic choice for noisy runs with more shots than basis states.
        method = "density_matrix"
    else:
        method = "statevector"
    return {
        "method": method,
        "engine": "qiskit-aer",
        "noise": _DEVICE_NOISE if noisy else "none: ideal simulator",
        "qubits": qubits,
    }


def _names_any(label: str, qubits: list[int]) -> bool:
    n = len(label)
    return any(label[n - 1 - q] != "I" for q in qubits)


def _reduced(
    observable: Mapping[str, float], idle: list[int], z_factor: Mapping[int, float]
) -> dict[str, float]:
    terms: dict[str, float] = {}
    for label, coeff in observable.items():
        n = len(label)
        letters = list(label)
        factor = 1.0
        for q in idle:
            letter = letters[n - 1 - q]
            if letter == "I":
                continue
            if letter != "Z":  # X or Y on |0>: the term averages to 0
                factor = 0.0
                break
            factor *= z_factor[q]
            letters[n - 1 - q] = "I"
        if factor != 0.0:
            key = "".join(letters)
            terms[key] = terms.get(key, 0.0) + float(coeff) * factor
    return terms


def _z_factors(device: Device, qubits: list[int], twirled_measure: bool) -> dict[int, float]:
    """``<Z>`` read on each of ``qubits`` in ``|0>``: 1 minus twice its p(1|0) on a device (the
    mean of p(1|0) and p(0|1) when measurements are twirled)."""
    if device.simulator or device.properties is None:
        return dict.fromkeys(qubits, 1.0)
    calibrated = device.properties.get("qubits", [])
    factors: dict[int, float] = {}
    for q in qubits:
        values = {
            str(entry.get("name")): float(entry.get("value", 0.0))
            for entry in (calibrated[q] if q < len(calibrated) else [])
        }
        # As the noise model reads it: the asymmetric probability, else the symmetric one.
        p1_given_0 = values.get("prob_meas1_prep0", values.get("readout_error", 0.0))
        flip = p1_given_0
        if twirled_measure:
            p0_given_1 = values.get("prob_meas0_prep1", values.get("readout_error", 0.0))
            flip = (p1_given_0 + p0_given_1) / 2
        factors[q] = 1.0 - 2.0 * min(max(flip, 0.0), 1.0)
    return factors


def _is_clifford(circuit: QuantumCircuit) -> bool:
    if circuit.num_parameters:
        return False
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name in _CLIFFORD:
            continue
        # rz by a multiple of pi/2 is a Clifford gate (ISA circuits are full of them).
        if operation.name != "rz" or not _quarter_turn(operation.params[0]):
            return False
    return True


def _quarter_turn(angle: Any) -> bool:
    try:
        turns = float(angle) / (np.pi / 2)
    except (TypeError, ValueError):
        return False
    return abs(turns - round(turns)) < 1e-9
