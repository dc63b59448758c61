"""qiskit-aer noise models built from a device's calibration properties.

For every calibrated gate the model applies thermal relaxation over the gate's length (from the
T1/T2 of the qubits it acts on) followed by depolarizing noise sized so that the gate's total
average infidelity equals its reported ``gate_error``; every qubit gets its asymmetric readout
error (``prob_meas1_prep0``/``prob_meas0_prep1``). Idle qubits and ``delay`` do not decay: the
model covers the gates that run, as qiskit-aer's device models do.

Errors are computed once per device (keyed by name and content fingerprint) and cached; models
cut down to the qubits a circuit uses are assembled from them on demand, and cached too.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np
from qiskit.quantum_info import Kraus
from qiskit_aer.noise import NoiseModel, QuantumError, ReadoutError

from jupyter_qrt.local.devices import Device

__all__ = ["noise_model_for"]

logger = logging.getLogger(__name__)

# Instructions whose calibration entries are not unitary gates: readout is modelled separately,
# and reset/delay are left ideal.
_NOT_GATES = frozenset({"measure", "reset", "delay"})
_DEVICES_CACHED = 16
_MODELS_CACHED_PER_DEVICE = 32

_cache: OrderedDict[tuple[str, str], _DeviceNoise] = OrderedDict()
_cache_lock = threading.Lock()


def noise_model_for(device: Device, qubits: Iterable[int] | None = None) -> NoiseModel | None:
    """Return the noise model of ``device``, or ``None`` for an ideal simulator.

    Parameters
    ----------
    device
        A device whose ``properties`` follow the IBM ``BackendProperties`` JSON format.
    qubits
        Only model these qubits (the ones a circuit uses). qiskit-aer hands the whole model to
        its simulator on every run, so a model cut to a circuit's qubits makes runs on large
        devices much cheaper. ``None``: every qubit.

    Returns
    -------
    NoiseModel or None
        A cached model (do not modify it); ``None`` when the device has no properties.
    """
    if device.simulator or not device.properties:
        return None
    key = (device.name, device.fingerprint)
    with _cache_lock:
        noise = _cache.get(key)
        if noise is not None:
            _cache.move_to_end(key)
    if noise is None:
        # Built outside the lock: a second builder of the same device only wastes time.
        noise = _DeviceNoise(device.properties)
        with _cache_lock:
            noise = _cache.setdefault(key, noise)
            while len(_cache) > _DEVICES_CACHED:
                _cache.popitem(last=False)
    return noise.model(None if qubits is None else frozenset(qubits))


class _DeviceNoise:
    """The errors of one device's gates and readouts, and the models assembled from them."""

    def __init__(self, properties: dict[str, Any]) -> None:
        self.gate_errors, self.readout_errors = _device_errors(properties)
        self.models: OrderedDict[frozenset[int] | None, NoiseModel] = OrderedDict()
        self.lock = threading.Lock()

    def model(self, keep: frozenset[int] | None) -> NoiseModel:
        with self.lock:
            model = self.models.get(keep)
            if model is not None:
                self.models.move_to_end(keep)
                return model
        model = NoiseModel()
        for name, on, error in self.gate_errors:
            if keep is None or keep.issuperset(on):
                model.add_quantum_error(error, name, list(on), warnings=False)
        for qubit, readout in self.readout_errors:
            if keep is None or qubit in keep:
                model.add_readout_error(readout, [qubit], warnings=False)
        with self.lock:
            self.models[keep] = model
            while len(self.models) > _MODELS_CACHED_PER_DEVICE:
                self.models.popitem(last=False)
        return model


def _values(entries: list[dict[str, Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for entry in entries:
        value = entry.get("value")
        if isinstance(value, int | float):
            found[entry["name"]] = float(value)
    return found


def _coherence_ns(qubit: dict[str, float]) -> tuple[float, float]:
    """Return ``(T1, T2)`` in ns; ``inf`` when not calibrated. T2 is capped at 2 * T1."""
    # Snapshots of real devices hold the odd zero, negative or T2 > 2 * T1 value.
    t1 = qubit.get("T1", 0.0) * 1e3
    t2 = qubit.get("T2", 0.0) * 1e3
    t1 = t1 if t1 > 0 else math.inf
    t2 = t2 if t2 > 0 else math.inf
    return t1, min(t2, 2 * t1)


def _relaxation_kraus(t1: float, t2: float, length: float) -> np.ndarray:
    """Kraus operators (stacked) of amplitude damping (T1), then the remaining dephasing (T2)."""
    decay = 1.0 - math.exp(-length / t1)
    # Amplitude damping alone keeps coherences at exp(-t / 2T1); dephase the rest down to
    # exp(-t / T2) (T2 <= 2 * T1 makes the ratio at most 1).
    ratio = min(math.exp(-length / t2) / math.sqrt(1.0 - decay), 1.0)
    keep = math.sqrt((1.0 + ratio) / 2.0)
    flip = math.sqrt((1.0 - ratio) / 2.0)
    damped = math.sqrt(1.0 - decay)
    jump = math.sqrt(decay)
    return np.array(
        [
            [[keep, 0.0], [0.0, keep * damped]],
            [[0.0, keep * jump], [0.0, 0.0]],
            [[flip, 0.0], [0.0, -flip * damped]],
            [[0.0, flip * jump], [0.0, 0.0]],
        ]
    )


def _superop(kraus: np.ndarray) -> np.ndarray:
    """Sum of conj(K) (x) K over the stacked Kraus operators (qiskit's column-stacking SuperOp)."""
    dim = kraus.shape[1]
    channel: np.ndarray = np.einsum("kab,kce->acbe", kraus.conj(), kraus)
    return channel.reshape(dim * dim, dim * dim)


def _gate_error(
    coherence: tuple[tuple[float, float], ...], error: float, length: float
) -> QuantumError | None:
    """One channel per gate: relaxation over ``length`` ns, then depolarizing up to ``error``.

    The two are composed numerically into a single Kraus channel; qiskit-aer then applies one
    noise instruction per gate (cheaper to build and to simulate than a composed mixture).
    """
    num_qubits = len(coherence)
    dim = 2**num_qubits
    channel = np.eye(dim * dim, dtype=complex)
    # A gate touching a qubit without T1/T2 gets depolarizing noise only.
    if length > 0 and not any(math.isinf(t1) for t1, _ in coherence):
        kraus = np.ones((1, 1, 1))
        for t1, t2 in coherence:
            # Qubit i of the gate is factor i from the right (qiskit's little-endian order):
            # every new qubit's operator goes to the left of the Kronecker product.
            one = _relaxation_kraus(t1, t2, length)
            size = kraus.shape[1] * 2
            kraus = np.einsum("jab,icd->jiacbd", one, kraus).reshape(-1, size, size)
        channel = _superop(kraus)
    # Process fidelity = Tr(S) / d^2; average gate fidelity = (d F_pro + 1) / (d + 1).
    relax_fidelity = (np.trace(channel).real / dim + 1) / (dim + 1)
    relax_infidelity = 1.0 - relax_fidelity
    if error > relax_infidelity and dim * relax_fidelity > 1:
        # Average fidelity is linear in the channel: F(D o R) = (1 - p) F(R) + p / d.
        param = dim * (error - relax_infidelity) / (dim * relax_fidelity - 1)
        param = min(param, 4**num_qubits / (4**num_qubits - 1))
        identity = np.eye(dim).reshape(-1, order="F")
        depolarizing = (1 - param) * np.eye(dim * dim) + param * np.outer(identity / dim, identity)
        channel = depolarizing @ channel
    elif relax_infidelity <= 0.0:
        return None
    return _CalibratedGateError(Kraus(_minimal_kraus(channel, dim)))


def _minimal_kraus(channel: np.ndarray, dim: int) -> list[np.ndarray]:
    """Kraus operators of a superoperator, fewest first-by-weight (via its Choi matrix)."""
    # Reshuffle the column-stacked superoperator into the Choi matrix, then diagonalise it:
    # each eigenpair (w, v) gives one Kraus operator sqrt(w) * unvec(v), most probable first.
    choi = channel.reshape(dim, dim, dim, dim).transpose(3, 1, 2, 0).reshape(dim * dim, -1)
    weights, vectors = np.linalg.eigh((choi + choi.conj().T) / 2)
    order = np.argsort(weights)[::-1]
    return [
        math.sqrt(weights[i]) * vectors[:, i].reshape(dim, dim, order="F")
        for i in order
        if weights[i] > 1e-12
    ]


class _CalibratedGateError(QuantumError):  # type: ignore[misc]
    """A gate error known to be non-ideal.

    qiskit-aer checks every error it is given for being the identity; for a Kraus channel that
    check formats the matrices into an exception message, which costs milliseconds per gate and
    seconds for a 156-qubit device. These errors are never ideal, so the check is skipped.
    """

    def ideal(self) -> bool:
        return False


def _device_errors(
    properties: dict[str, Any],
) -> tuple[list[tuple[str, tuple[int, ...], QuantumError]], list[tuple[int, ReadoutError]]]:
    """Every calibrated gate's error, and every qubit's readout error."""
    qubits = [_values(entries) for entries in properties.get("qubits", [])]
    coherence = [_coherence_ns(qubit) for qubit in qubits]
    gate_errors: list[tuple[str, tuple[int, ...], QuantumError]] = []
    built: dict[tuple[Any, ...], QuantumError | None] = {}
    for gate in properties.get("gates", []):
        name = gate.get("gate", "")
        if name in _NOT_GATES or name.startswith("measure"):
            continue
        values = _values(gate.get("parameters", []))
        error = max(values.get("gate_error", 0.0), 0.0)
        length = max(values.get("gate_length", 0.0), 0.0)
        on = tuple(int(q) for q in gate["qubits"])
        if (error == 0.0 and length == 0.0) or any(q >= len(coherence) for q in on):
            continue
        key = (tuple(coherence[q] for q in on), error, length)
        if key not in built:
            built[key] = _gate_error(key[0], error, length)
        quantum_error = built[key]
        if quantum_error is not None:
            gate_errors.append((name, on, quantum_error))
    readout_errors: list[tuple[int, ReadoutError]] = []
    readout_built: dict[tuple[float, float], ReadoutError] = {}
    for index, qubit in enumerate(qubits):
        symmetric = qubit.get("readout_error", 0.0)
        p1_given_0 = qubit.get("prob_meas1_prep0", symmetric)
        p0_given_1 = qubit.get("prob_meas0_prep1", symmetric)
        if p1_given_0 <= 0.0 and p0_given_1 <= 0.0:
            continue
        pair = (min(p1_given_0, 1.0), min(p0_given_1, 1.0))
        if pair not in readout_built:
            readout_built[pair] = ReadoutError([[1.0 - pair[0], pair[0]], [pair[1], 1.0 - pair[1]]])
        readout_errors.append((index, readout_built[pair]))
    logger.debug("Built the noise of %s", properties.get("backend_name"))
    return gate_errors, readout_errors
