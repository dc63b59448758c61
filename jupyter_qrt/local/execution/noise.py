"""qiskit-aer noise models built from a device's calibration properties.

For every calibrated gate the model applies thermal relaxation over the gate's length (from the
T1/T2 of the qubits it acts on) followed by depolarizing noise sized so that the gate's total
average infidelity equals its reported ``gate_error``; every qubit gets its asymmetric readout
error (``prob_meas1_prep0``/``prob_meas0_prep1``). Idle qubits and ``delay`` do not decay: the
model covers the gates that run, as qiskit-aer's device models do. Each gate error is a mixture
of small circuits, never a Kraus channel (:mod:`.gate_errors` says why).

Per device (keyed by name and content fingerprint) the calibration is read once and cached;
gate errors are built when a model first needs them; models cut down to the qubits a circuit
uses are assembled on demand, and cached too.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from qiskit_aer.noise import NoiseModel, QuantumError, ReadoutError

from jupyter_qrt.local.devices import Device

from .calibrated import GateKey, calibrated_gates, readout_pairs
from .gate_errors import gate_error

__all__ = ["noise_model_for"]

logger = logging.getLogger(__name__)

_DEVICES_CACHED = 16
_MODELS_CACHED_PER_DEVICE = 32


_cache: OrderedDict[tuple[str, str], _DeviceNoise] = OrderedDict()
_cache_lock = threading.Lock()


def noise_model_for(
    device: Device, qubits: Iterable[int] | None = None, order: Sequence[int] | None = None
) -> NoiseModel | None:
    """Return the noise model of ``device``, or ``None`` for an ideal simulator.

    Parameters
    ----------
    device
        A device whose ``properties`` follow the IBM ``BackendProperties`` JSON format.
    qubits
        Only model these qubits (the ones a circuit uses). qiskit-aer hands the whole model to
        its simulator on every run, so a model cut to a circuit's qubits makes runs on large
        devices much cheaper. ``None``: every qubit.

    order
        Device qubits in the order of a relabelled circuit: device qubit ``order[i]`` is the
        circuit's qubit ``i`` (overrides ``qubits``). ``None``: device numbering.

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
    if order is not None:
        return noise.model(tuple(order))
    return noise.model(None if qubits is None else frozenset(qubits))


class _DeviceNoise:
    """The errors of one device's gates and readouts, and the models assembled from them.

    Gate errors are built when a model first needs them (a 20-qubit circuit on a 156-qubit
    device needs a tenth of them), and shared by every gate of the same calibration.
    """

    def __init__(self, properties: dict[str, Any]) -> None:
        self.gates, self.readout_errors = _device_errors(properties)
        self.errors: dict[GateKey, QuantumError | None] = {}
        self.models: OrderedDict[frozenset[int] | tuple[int, ...] | None, NoiseModel] = (
            OrderedDict()
        )
        self.lock = threading.Lock()

    def model(self, keep: frozenset[int] | tuple[int, ...] | None) -> NoiseModel:
        # A tuple is an order: keep those qubits, and number them by their position in it.
        label = {q: i for i, q in enumerate(keep)} if isinstance(keep, tuple) else None
        with self.lock:
            model = self.models.get(keep)
            if model is not None:
                self.models.move_to_end(keep)
                return model
        model = NoiseModel()
        for name, on, key in self.gates:
            if keep is None or set(keep).issuperset(on):
                error = self._error(key)
                if error is not None:
                    where = [label[q] for q in on] if label is not None else list(on)
                    model.add_quantum_error(error, name, where, warnings=False)
        for qubit, readout in self.readout_errors:
            if keep is None or qubit in keep:
                spot = label[qubit] if label is not None else qubit
                model.add_readout_error(readout, [spot], warnings=False)
        with self.lock:
            self.models[keep] = model
            while len(self.models) > _MODELS_CACHED_PER_DEVICE:
                self.models.popitem(last=False)
        return model

    def _error(self, key: GateKey) -> QuantumError | None:
        if key not in self.errors:
            self.errors[key] = gate_error(*key)
        return self.errors[key]


def _device_errors(
    properties: dict[str, Any],
) -> tuple[list[tuple[str, tuple[int, ...], GateKey]], list[tuple[int, ReadoutError]]]:
    """Every calibrated gate with what its error is made from, and every readout error."""
    gates = calibrated_gates(properties)
    readout_errors: list[tuple[int, ReadoutError]] = []
    readout_built: dict[tuple[float, float], ReadoutError] = {}
    for index, pair in enumerate(readout_pairs(properties)):
        if pair[0] <= 0.0 and pair[1] <= 0.0:
            continue
        if pair not in readout_built:
            readout_built[pair] = ReadoutError([[1.0 - pair[0], pair[0]], [pair[1], 1.0 - pair[1]]])
        readout_errors.append((index, readout_built[pair]))
    logger.debug("Built the noise of %s", properties.get("backend_name"))
    return gates, readout_errors
