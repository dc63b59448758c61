"""The Pauli form of a device's calibration noise: what Pauli twirling makes of it.

:mod:`.noise` models each calibrated gate as thermal relaxation over the gate's length followed
by depolarizing noise sized to the gate's ``gate_error``, and each readout as an asymmetric bit
flip. Twirling a channel over the Pauli group keeps the diagonal of its Pauli transfer matrix
(PTM) and drops the rest, leaving a Pauli channel with the same average gate fidelity. This
module computes that channel, for the stabilizer simulator (:mod:`.stabilizer`, where only Pauli
noise can run) and for qiskit-aer when the job asks for twirling.

Derivation, one qubit, gate length ``t``:

- Thermal relaxation (amplitude damping ``gamma = 1 - exp(-t/T1)`` plus pure dephasing down to
  coherence ``exp(-t/T2)``; T2 capped at T1 for gate noise, as :mod:`.gate_errors` caps it for
  qiskit-aer, so both forms model the same channel) has PTM diagonal
  ``lambda_X = lambda_Y = exp(-t/T2)``, ``lambda_Z = exp(-t/T1)`` (its affine part, the decay
  towards ``|0>``, is off the diagonal and vanishes under twirling).
- A Pauli channel ``(p_I, p_X, p_Y, p_Z)`` has ``lambda_X = p_I + p_X - p_Y - p_Z`` and cyclic,
  so ``p_X = p_Y = (1 - exp(-t/T1)) / 4`` and ``p_Z = (1 + exp(-t/T1) - 2 exp(-t/T2)) / 4``
  (``>= 0`` because T2 <= 2 T1 gives ``exp(-t/T2) <= sqrt(exp(-t/T1))``).
- Several qubits relax independently: the channel is the product of the one-qubit channels.
- Twirling keeps the process fidelity ``Tr(PTM) / d^2``, so the depolarizing parameter that
  brings the average infidelity up to ``gate_error`` is the one :mod:`.noise` computes:
  ``p = d (error - r) / (d F - 1)`` with ``F = 1 - r`` the relaxation's average fidelity. In
  Pauli form, depolarizing ``p`` puts ``p / 4**n`` on every Pauli (stim's ``DEPOLARIZE1(3p/4)``,
  ``DEPOLARIZE2(15p/16)``).
- Readout: measurement twirling turns the asymmetric flips ``P(1|0) = a``, ``P(0|1) = b`` into
  a symmetric flip with their mean ``(a + b) / 2``; untwirled, the pair is kept (readout
  errors only change the recorded bit, so they need no Pauli form).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from jupyter_qrt.local.devices import Device

from .calibrated import calibrated_gates, readout_pairs

__all__ = ["GateNoise", "PauliNoise", "pauli_noise_for", "pauli_noise_model_for"]


_cache: dict[tuple[str, str], PauliNoise] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class GateNoise:
    """The Pauli-twirled error of one calibrated gate on its qubits.

    Parameters
    ----------
    relaxation
        Per qubit of the gate (in gate order), ``(p_X, p_Y, p_Z)`` of its twirled relaxation.
    depolarizing
        The depolarizing parameter ``p`` (``rho -> (1 - p) rho + p I / d``) over all the
        gate's qubits.
    """

    relaxation: tuple[tuple[float, float, float], ...]
    depolarizing: float

    def probabilities(self) -> np.ndarray:
        """The whole channel: probabilities of the ``4**n`` Paulis, qiskit's label order.

        Index ``i`` is the Pauli whose qubit ``k`` letter is ``"IXYZ"[(i >> 2k) & 3]`` (qubit
        0 the least significant), the order :func:`pauli_labels` returns.
        """
        probs = np.ones(1)
        for px, py, pz in self.relaxation:
            # The new qubit is more significant: np.kron(new, old).
            probs = np.kron(np.array([1.0 - px - py - pz, px, py, pz]), probs)
        size = probs.size
        return (1.0 - self.depolarizing) * probs + self.depolarizing / size


@dataclass(frozen=True)
class PauliNoise:
    """A device's calibration noise in Pauli form.

    Parameters
    ----------
    gates
        ``(gate name, qubits) -> GateNoise`` for every calibrated gate with an error.
    readout
        Per qubit, the symmetric (mean) readout flip probability: the twirled readout.
    readout_pairs
        Per qubit, the calibrated ``(P(1|0), P(0|1))``: the readout without twirling.
    """

    gates: dict[tuple[str, tuple[int, ...]], GateNoise]
    readout: tuple[float, ...]
    readout_pairs: tuple[tuple[float, float], ...]


def pauli_labels(num_qubits: int) -> list[str]:
    """Pauli labels in the order of :meth:`GateNoise.probabilities` (qubit 0 rightmost)."""
    labels = [""]
    for _ in range(num_qubits):
        labels = [letter + label for letter in "IXYZ" for label in labels]
    return labels


def relaxation_paulis(t1: float, t2: float, length: float) -> tuple[float, float, float]:
    """``(p_X, p_Y, p_Z)`` of thermal relaxation over ``length`` twirled (times in one unit)."""
    if length <= 0 or math.isinf(t1):
        return (0.0, 0.0, 0.0)
    lambda_z = math.exp(-length / t1)
    lambda_xy = math.exp(-length / min(t2, 2 * t1))
    pxy = (1.0 - lambda_z) / 4.0
    pz = max((1.0 + lambda_z - 2.0 * lambda_xy) / 4.0, 0.0)
    return (pxy, pxy, pz)


def _gate_noise(
    coherence: tuple[tuple[float, float], ...], error: float, length: float
) -> GateNoise | None:
    num_qubits = len(coherence)
    dim = 2**num_qubits
    # A gate touching a qubit without T1/T2 gets depolarizing noise only (as in .noise).
    if length > 0 and not any(math.isinf(t1) for t1, _ in coherence):
        relaxation = tuple(relaxation_paulis(t1, t2, length) for t1, t2 in coherence)
    else:
        relaxation = tuple((0.0, 0.0, 0.0) for _ in coherence)
    process_fidelity = math.prod(1.0 - sum(p) for p in relaxation)
    relax_fidelity = (dim * process_fidelity + 1) / (dim + 1)
    relax_infidelity = 1.0 - relax_fidelity
    depolarizing = 0.0
    if error > relax_infidelity and dim * relax_fidelity > 1:
        depolarizing = dim * (error - relax_infidelity) / (dim * relax_fidelity - 1)
        depolarizing = min(depolarizing, 4**num_qubits / (4**num_qubits - 1))
    elif relax_infidelity <= 0.0:
        return None
    return GateNoise(relaxation, depolarizing)


def _build(properties: dict[str, Any]) -> PauliNoise:
    gates: dict[tuple[str, tuple[int, ...]], GateNoise] = {}
    built: dict[tuple[Any, ...], GateNoise | None] = {}
    for name, on, key in calibrated_gates(properties):
        if key not in built:
            built[key] = _gate_noise(*key)
        noise = built[key]
        if noise is not None:
            gates[(name, on)] = noise
    pairs = readout_pairs(properties)
    return PauliNoise(gates, tuple((a + b) / 2.0 for a, b in pairs), tuple(pairs))


def pauli_noise_for(device: Device) -> PauliNoise | None:
    """The Pauli form of ``device``'s noise (cached), or ``None`` for the ideal simulator."""
    if device.simulator or not device.properties:
        return None
    key = (device.name, device.fingerprint)
    with _cache_lock:
        noise = _cache.get(key)
    if noise is None:
        noise = _build(device.properties)
        with _cache_lock:
            noise = _cache.setdefault(key, noise)
    return noise


def pauli_noise_model_for(
    device: Device, qubits: Iterable[int] | None = None, *, gates: bool = True, measure: bool = True
) -> Any:
    """A qiskit-aer ``NoiseModel`` of the twirled noise of ``device`` (``None``: no noise).

    Parameters
    ----------
    device
        The device.
    qubits
        Only model these qubits (the ones the circuits use); ``None``: all.
    gates, measure
        Which parts are twirled (``twirling.enable_gates`` / ``enable_measure``): a part not
        twirled keeps its full form from :mod:`.noise` (relaxation as Kraus operators,
        asymmetric readout).
    """
    from qiskit_aer.noise import NoiseModel, ReadoutError, pauli_error

    from .noise import noise_model_for

    pauli = pauli_noise_for(device)
    if pauli is None:
        return None
    keep = None if qubits is None else frozenset(qubits)
    full = noise_model_for(device, keep)
    model = NoiseModel()
    if gates:
        built: dict[GateNoise, Any] = {}
        for (name, on), noise in pauli.gates.items():
            if keep is not None and not keep.issuperset(on):
                continue
            if noise not in built:
                probs = noise.probabilities()
                labels = pauli_labels(len(on))
                terms = [(labels[i], float(p)) for i, p in enumerate(probs) if p > 0]
                built[noise] = pauli_error(terms)
            model.add_quantum_error(built[noise], name, list(on), warnings=False)
    elif full is not None:
        # Copy the full gate errors: everything of the full model but its readout errors.
        for name, errors in full._local_quantum_errors.items():
            for on, error in errors.items():
                model.add_quantum_error(error, name, list(on), warnings=False)
    if measure:
        for qubit, flip in enumerate(pauli.readout):
            if flip > 0 and (keep is None or qubit in keep):
                readout = ReadoutError([[1.0 - flip, flip], [flip, 1.0 - flip]])
                model.add_readout_error(readout, [qubit], warnings=False)
    elif full is not None:
        for on, readout in full._local_readout_errors.items():
            model.add_readout_error(readout, list(on), warnings=False)
    return model
