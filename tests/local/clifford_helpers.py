"""Clifford circuits on a device's coupling map, and exact references for them.

- :func:`connected_qubits`, :func:`ghz_isa`: GHZ states grown breadth-first over the device's
  coupling map (every CNOT on an edge, so the ISA circuit needs no routing).
- :func:`random_clifford_isa`, :func:`mirror_isa`: random layers of ISA Clifford gates (``sx``,
  ``x``, ``rz(k pi/2)``, the device's 2-qubit gate on its native edges), and such a circuit
  followed by its inverse (ideal outcome: all zeros).
- :func:`exact_probabilities`: the outcome distribution from qiskit-aer's density matrix with a
  given gate noise model, readout applied exactly as a confusion matrix per qubit.
- :func:`pauli_expectation`: ``<Z_S>`` of a stim circuit with Pauli noise, exactly, by
  propagating the observable backwards (Heisenberg picture) through gates and channels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.devices import Device
from jupyter_qrt.local.execution.inputs import device_target


def _neighbours(device: Device) -> dict[int, list[int]]:
    found: dict[int, set[int]] = {}
    for a, b in device_target(device).build_coupling_map().get_edges():
        found.setdefault(a, set()).add(b)
        found.setdefault(b, set()).add(a)
    return {q: sorted(n) for q, n in found.items()}


def ghz_edges(device: Device, num_qubits: int, root: int = 0) -> list[tuple[int, int]]:
    """``(parent, child)`` CNOTs growing a GHZ state breadth-first from ``root``."""
    neighbours = _neighbours(device)
    seen, frontier, edges = {root}, [root], []
    while frontier and len(seen) < num_qubits:
        following = []
        for parent in frontier:
            for child in neighbours[parent]:
                if child not in seen and len(seen) < num_qubits:
                    seen.add(child)
                    edges.append((parent, child))
                    following.append(child)
        frontier = following
    return edges


def _isa(circuit: QuantumCircuit, device: Device) -> QuantumCircuit:
    manager = generate_preset_pass_manager(
        target=device_target(device),
        optimization_level=1,
        initial_layout=list(range(circuit.num_qubits)),
        seed_transpiler=7,
    )
    return manager.run(circuit)


def ghz_isa(device: Device, num_qubits: int, *, measure: bool = True) -> QuantumCircuit:
    """A GHZ state on ``num_qubits`` connected qubits (from 0), as an ISA circuit.

    Measurements go to register ``meas``, bit ``j`` holding the ``j``-th qubit of the GHZ in
    breadth-first order (the root first).
    """
    edges = ghz_edges(device, num_qubits)
    circuit = QuantumCircuit(device.num_qubits)
    circuit.h(0)
    for parent, child in edges:
        circuit.cx(parent, child)
    isa = _isa(circuit, device)
    if measure:
        qubits = [0, *(child for _, child in edges)]
        register = ClassicalRegister(len(qubits), "meas")
        isa.add_register(register)
        for j, qubit in enumerate(qubits):
            isa.measure(qubit, register[j])
    return isa


def random_clifford_isa(
    device: Device, num_qubits: int, layers: int, seed: int
) -> tuple[QuantumCircuit, list[int]]:
    """Random ISA Clifford layers on ``num_qubits`` connected qubits; returns them too."""
    rng = np.random.default_rng(seed)
    qubits = [0, *(child for _, child in ghz_edges(device, num_qubits))]
    target = device_target(device)
    two_qubit = next(name for name in ("ecr", "cz", "cx") if name in target.operation_names)
    native = [e for e in target[two_qubit] if e[0] in qubits and e[1] in qubits]
    circuit = QuantumCircuit(device.num_qubits)
    for _ in range(layers):
        for qubit in qubits:
            choice = rng.integers(4)
            if choice == 0:
                circuit.sx(qubit)
            elif choice == 1:
                circuit.x(qubit)
            else:
                circuit.rz(float(rng.integers(1, 4)) * math.pi / 2, qubit)
            if rng.integers(2):
                circuit.sx(qubit)
        used: set[int] = set()
        for index in rng.permutation(len(native)):
            a, b = native[index]
            if a not in used and b not in used and rng.integers(2):
                getattr(circuit, two_qubit)(a, b)
                used.update((a, b))
    return circuit, qubits


def mirror_isa(device: Device, num_qubits: int, layers: int, seed: int) -> QuantumCircuit:
    """A random Clifford circuit then its inverse, in ISA gates (ideal outcome: all zeros)."""
    forward, _ = random_clifford_isa(device, num_qubits, layers, seed)
    mirror = forward.copy()
    for instruction in reversed(forward.data):
        name, qubits = instruction.operation.name, instruction.qubits
        if name == "sx":  # sx^-1 = sx^3 up to a global phase
            for _ in range(3):
                mirror.sx(qubits[0])
        elif name == "rz":
            mirror.rz(-float(instruction.operation.params[0]), qubits[0])
        else:  # x, ecr, cz, cx are their own inverses
            mirror.append(instruction.operation, qubits)
    return mirror


def measured(circuit: QuantumCircuit, qubits: Sequence[int]) -> QuantumCircuit:
    """``circuit`` measuring ``qubits`` into register ``meas`` (bit ``j``: ``qubits[j]``)."""
    out = circuit.copy()
    register = ClassicalRegister(len(qubits), "meas")
    out.add_register(register)
    for j, qubit in enumerate(qubits):
        out.measure(qubit, register[j])
    return out


def readout_pairs(device: Device) -> list[tuple[float, float]]:
    """Per qubit ``(P(1|0), P(0|1))`` from the calibration."""
    pairs = []
    for entries in device.properties["qubits"]:  # type: ignore[index]
        values = {e["name"]: e["value"] for e in entries}
        pairs.append((values["prob_meas1_prep0"], values["prob_meas0_prep1"]))
    return pairs


def exact_probabilities(
    circuit: QuantumCircuit,
    qubits: Sequence[int],
    noise_model: Any,
    readout: Sequence[tuple[float, float]],
) -> np.ndarray:
    """Outcome probabilities (index bit ``j``: ``qubits[j]``) from the density matrix.

    ``circuit`` has no measurements; ``readout[j]`` is ``(P(1|0), P(0|1))`` of ``qubits[j]``.
    """
    from qiskit_aer import AerSimulator

    work = circuit.copy()
    work.save_probabilities(list(qubits), label="p")
    simulator = AerSimulator(method="density_matrix", noise_model=noise_model)
    probs = np.asarray(simulator.run(work, shots=1).result().data(0)["p"], dtype=float)
    n = len(qubits)
    for j, (a, b) in enumerate(readout):
        view = probs.reshape(2 ** (n - 1 - j), 2, 2**j)
        zero, one = view[:, 0, :].copy(), view[:, 1, :].copy()
        view[:, 0, :] = (1 - a) * zero + b * one
        view[:, 1, :] = a * zero + (1 - b) * one
    return probs


def histogram(bits: np.ndarray) -> np.ndarray:
    """Frequencies of the outcomes of boolean ``(shots, n)`` rows (index bit ``j``: column j)."""
    weights = 1 << np.arange(bits.shape[1])
    values = bits.astype(np.int64) @ weights
    return np.bincount(values, minlength=2 ** bits.shape[1]) / bits.shape[0]


def tvd_bound(probs: np.ndarray, shots: int, failure: float = 1e-6) -> float:
    """Bound on the TVD of ``shots`` samples of ``probs`` from ``probs`` (fails w.p. ``failure``).

    ``E[TVD] <= 1/2 sum_k sqrt(p_k (1 - p_k) / N)`` (Jensen per outcome), and TVD changes by at
    most ``1/N`` when one sample changes, so McDiarmid adds ``sqrt(ln(1/failure) / (2N))``.
    """
    mean = 0.5 * float(np.sum(np.sqrt(probs * (1 - probs) / shots)))
    return mean + math.sqrt(math.log(1 / failure) / (2 * shots))


def relaxation_bias(circuit: QuantumCircuit, device: Device) -> float:
    """Bound on the TVD the Pauli form of relaxation adds: the sum of ``gamma / 2``.

    Per gate and qubit, thermal relaxation and its Pauli twirl differ only by the decay
    towards ``|0>`` (``rho -> gamma Tr(rho) Z / 2``), whose trace distance is ``gamma / 2``
    on any input; channels contract, so over a circuit the distances add up.
    """
    props = device.properties or {}
    t1 = [{e["name"]: e["value"] for e in q}["T1"] * 1e3 for q in props["qubits"]]
    lengths = {}
    for gate in props["gates"]:
        values = {p["name"]: p["value"] for p in gate["parameters"]}
        lengths[(gate["gate"], tuple(gate["qubits"]))] = values.get("gate_length", 0.0)
    total = 0.0
    for instruction in circuit.data:
        on = tuple(circuit.find_bit(q).index for q in instruction.qubits)
        length = lengths.get((instruction.operation.name, on), 0.0)
        total += sum((1 - math.exp(-length / t1[q])) / 2 for q in on)
    return total


def pauli_expectation(program: Any, z_on: Sequence[int], num_qubits: int) -> float:
    """``<prod Z_q>`` over ``z_on`` of a stim circuit, measurements at its end, exactly.

    The observable is carried backwards: unitary gates conjugate it (``PauliString.before``);
    a Pauli channel multiplies it by ``1 - 2 P(a Pauli that anticommutes with it)``; a noisy
    measurement of a qubit in the support multiplies it by ``1 - 2 p``. At the start, ``|0...0>``
    gives its sign if it is made of ``Z`` and ``I`` only, else 0.
    """
    import stim

    observable = stim.PauliString(num_qubits)
    for qubit in z_on:
        observable[qubit] = "Z"
    factor = 1.0
    for instruction in reversed(list(program)):
        name = instruction.name
        targets = [t.value for t in instruction.targets_copy()]
        args = instruction.gate_args_copy()
        if name == "M":
            flip = args[0] if args else 0.0
            factor *= math.prod(1 - 2 * flip for q in targets if observable[q] != 0)
        elif name == "PAULI_CHANNEL_1":
            px, py, pz = args
            for q in targets:
                # Letter codes: 1 = X, 2 = Y, 3 = Z; the anticommuting pair of each.
                flip = {0: 0.0, 1: py + pz, 2: px + pz, 3: px + py}[observable[q]]
                factor *= 1 - 2 * flip
        elif name == "DEPOLARIZE1":
            factor *= math.prod(1 - 4 / 3 * args[0] for q in targets if observable[q] != 0)
        elif name == "DEPOLARIZE2":
            for a, b in zip(targets[::2], targets[1::2], strict=True):
                if observable[a] or observable[b]:
                    factor *= 1 - 16 / 15 * args[0]  # 8 of the 15 Paulis anticommute
        else:
            observable = observable.before(instruction)
    letters = [observable[q] for q in range(num_qubits)]
    if any(letter in (1, 2) for letter in letters):
        return 0.0
    return factor * float(observable.sign.real)
