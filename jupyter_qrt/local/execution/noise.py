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

from .gate_errors import coherence_ns, gate_error

__all__ = ["noise_model_for"]

logger = logging.getLogger(__name__)

# Instructions whose calibration entries are not unitary gates: readout is modelled separately,
# and reset/delay are left ideal.
_NOT_GATES = frozenset({"measure", "reset", "delay"})
_DEVICES_CACHED = 16
_MODELS_CACHED_PER_DEVICE = 32

# What a gate's error is made from: (T1, T2) in ns per qubit, gate_error, gate_length in ns.
_GateKey = tuple[tuple[tuple[float, float], ...], float, float]

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
        self.errors: dict[_GateKey, QuantumError | None] = {}
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

    def _error(self, key: _GateKey) -> QuantumError | None:
        if key not in self.errors:
            self.errors[key] = gate_error(*key)
        return self.errors[key]


def _values(entries: list[dict[str, Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for entry in entries:
        value = entry.get("value")
        if isinstance(value, int | float):
            found[entry["name"]] = float(value)
    return found


def _device_errors(
    properties: dict[str, Any],
) -> tuple[list[tuple[str, tuple[int, ...], _GateKey]], list[tuple[int, ReadoutError]]]:
    """Every calibrated gate with what its error is made from, and every readout error."""
    qubits = [_values(entries) for entries in properties.get("qubits", [])]
    coherence = [coherence_ns(q.get("T1", 0.0), q.get("T2", 0.0)) for q in qubits]
    gates: list[tuple[str, tuple[int, ...], _GateKey]] = []
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
        gates.append((name, on, (tuple(coherence[q] for q in on), error, length)))
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
    return gates, readout_errors
