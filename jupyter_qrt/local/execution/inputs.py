"""Turn a job's pubs and options into validated qiskit pubs and run settings.

Pubs arrive as the wire decoder leaves them (lists holding a circuit, an ndarray of parameter
values whose last axis runs over ``circuit.parameters``, observables as ``{pauli: coeff}`` dicts
or nested lists of them, and ``None`` for "use the default") or as qiskit pub objects. Every
problem becomes one :class:`~.report.ExecutionError` naming the pub and saying what to change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.observables_array import ObservablesArray
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.transpiler import Target

from jupyter_qrt.local.devices import Device
from jupyter_qrt.local.devices.configuration import IDEAL_SIMULATOR_BASIS
from jupyter_qrt.local.devices.profiles import CONTROL_FLOW
from jupyter_qrt.local.devices.timing import circuit_duration
from jupyter_qrt.runtime.backends.isa import check_isa
from jupyter_qrt.runtime.backends.target import target_from_json
from jupyter_qrt.runtime.errors import NotISAError

from .report import ExecutionError, JobLog

__all__ = [
    "RunSettings",
    "check_shots",
    "device_target",
    "estimator_pub",
    "positive_float",
    "positive_int",
    "pub_list",
    "runnable_circuit",
    "sampler_pub",
]

_targets: dict[tuple[str, str], Target] = {}
_targets_lock = threading.Lock()


def device_target(device: Device) -> Target:
    """The device's transpiler target, built once per process (fractional gates included)."""
    key = (device.name, device.fingerprint)
    with _targets_lock:
        target = _targets.get(key)
    if target is None:
        target = target_from_json(
            device.configuration, device.properties, include_fractional_gates=True
        )
        with _targets_lock:
            _targets[key] = target
    return target


def pub_list(pubs: Any) -> list[Any]:
    """The pubs of a job as a list; refuse anything else."""
    if not isinstance(pubs, list | tuple):
        raise ExecutionError(
            f"The job's 'pubs' must be a list of pubs, not {type(pubs).__name__}. "
            "Pass the primitive a list, e.g. sampler.run([circuit])."
        )
    if not pubs:
        raise ExecutionError("The job has no pubs. Pass at least one pub to run().")
    return list(pubs)


def positive_int(value: Any, what: str) -> int:
    """``value`` as a positive int, or an :class:`ExecutionError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) <= 0:
        raise ExecutionError(f"{what} must be a positive whole number, not {value!r}.")
    return int(value)


def positive_float(value: Any, what: str) -> float:
    """``value`` as a positive float, or an :class:`ExecutionError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Real) or not float(value) > 0:
        raise ExecutionError(f"{what} must be a positive number, not {value!r}.")
    return float(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 0:
        raise ExecutionError(f"A simulator seed must be a whole number >= 0, not {value!r}.")
    return int(value)


def check_shots(shots: int, device: Device, index: int, why: str = "") -> None:
    """Refuse more shots per circuit than the device's ``max_shots``."""
    if shots > device.max_shots:
        because = f" (needed for {why})" if why else ""
        raise ExecutionError(
            f"Pub {index} needs {shots} shots per circuit{because}, but {device.name} allows "
            f"at most {device.max_shots}. Ask for fewer shots (or a coarser precision)."
        )


def _bindings(circuit: QuantumCircuit, values: Any, index: int) -> BindingsArray | None:
    """Parameter values of a pub as a ``BindingsArray`` (last axis: ``circuit.parameters``)."""
    if values is None:
        return None
    if isinstance(values, BindingsArray | Mapping):
        bindings = BindingsArray.coerce(values)
        _check_parameter_names(circuit, bindings, index)
        return bindings
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ExecutionError(
            f"Pub {index}: the parameter values are not an array of numbers ({exc})."
        ) from None
    count = circuit.num_parameters
    if count == 0:
        if array.size:
            raise ExecutionError(
                f"Pub {index}: the circuit has no parameters, but parameter values of shape "
                f"{array.shape} were given. Leave them out (or pass an empty array)."
            )
        # The wire form of "no parameters" is an empty array of shape (*pub_shape, 0).
        return BindingsArray(shape=array.shape[:-1] if array.ndim else ())
    if array.ndim == 0:
        array = array.reshape(1)
    if array.shape[-1] != count:
        names = ", ".join(p.name for p in circuit.parameters)
        raise ExecutionError(
            f"Pub {index}: parameter values of shape {array.shape} do not fit a circuit with "
            f"{count} parameter(s): the last axis must have length {count}, one column per "
            f"parameter in the order of circuit.parameters ({names})."
        )
    return BindingsArray({tuple(circuit.parameters): array})


def _check_parameter_names(circuit: QuantumCircuit, bindings: BindingsArray, index: int) -> None:
    """Refuse parameter values keyed by names that are not exactly the circuit's parameters."""
    wanted = [parameter.name for parameter in circuit.parameters]
    given = [name for names in bindings.data for name in names]
    missing = [name for name in wanted if name not in given]
    unknown = [name for name in given if name not in wanted]
    if not missing and not unknown:
        return
    problems = []
    if unknown:
        problems.append(f"values for {', '.join(unknown)}, which the circuit does not have")
    if missing:
        problems.append(f"no values for {', '.join(missing)}")
    have = ", ".join(wanted) or "none"
    raise ExecutionError(
        f"Pub {index}: the parameter values give {' and '.join(problems)}. The circuit's "
        f"parameters are: {have}. Give values for exactly the parameters of circuit.parameters, "
        "keyed by the parameter or its name."
    )


def _circuit_of(pub: Sequence[Any], index: int, lengths: str) -> QuantumCircuit:
    if not 1 <= len(pub) <= 4:
        raise ExecutionError(f"Pub {index} has {len(pub)} elements; a pub has {lengths}.")
    circuit = pub[0]
    if not isinstance(circuit, QuantumCircuit):
        raise ExecutionError(
            f"Pub {index} starts with a {type(circuit).__name__}, not a QuantumCircuit."
        )
    return circuit


def sampler_pub(index: int, pub: Any, default_shots: int, device: Device) -> SamplerPub:
    """A validated ``SamplerPub`` from a wire pub, a circuit or a ``SamplerPub``."""
    try:
        if isinstance(pub, SamplerPub | QuantumCircuit):
            coerced = SamplerPub.coerce(pub, default_shots)
            _check_parameter_names(coerced.circuit, coerced.parameter_values, index)
        elif isinstance(pub, list | tuple):
            circuit = _circuit_of(pub, index, "1 to 3: [circuit, parameter_values, shots]")
            if len(pub) > 3:
                raise ExecutionError(
                    f"Pub {index} has 4 elements; a Sampler pub is "
                    "[circuit, parameter_values, shots]. Was it meant for the Estimator?"
                )
            values = _bindings(circuit, pub[1] if len(pub) > 1 else None, index)
            shots = pub[2] if len(pub) > 2 and pub[2] is not None else default_shots
            shots = positive_int(shots, f"Pub {index}: shots")
            coerced = SamplerPub(circuit, values, shots, validate=True)
        else:
            raise ExecutionError(
                f"Pub {index} is a {type(pub).__name__}; a Sampler pub is a circuit or "
                "[circuit, parameter_values, shots]."
            )
    except (TypeError, ValueError) as exc:
        raise ExecutionError(f"Pub {index} is not a valid Sampler pub: {exc}") from None
    check_shots(int(coerced.shots), device, index)
    return coerced


def _observables(value: Any, circuit: QuantumCircuit, index: int) -> ObservablesArray:
    try:
        observables = ObservablesArray.coerce(value)
    except (TypeError, ValueError) as exc:
        raise ExecutionError(
            f"Pub {index}: the observables are not valid ({exc}). Give a {{pauli: coeff}} "
            "dict, a SparsePauliOp, or (nested) lists of them."
        ) from None
    if observables.num_qubits != circuit.num_qubits:
        raise ExecutionError(
            f"Pub {index}: the observables act on {observables.num_qubits} qubit(s) but the "
            f"circuit has {circuit.num_qubits}. An ISA circuit spans the whole device: map the "
            "observables onto it with `observable.apply_layout(isa_circuit.layout)`."
        )
    for observable in observables.ravel().tolist():
        for label, coeff in observable.items():
            if set(label) - set("IXYZ"):
                raise ExecutionError(
                    f"Pub {index}: observable term {label!r} is not a Pauli string; the "
                    "Estimator measures sums of Paulis (I, X, Y, Z) only."
                )
            if abs(complex(coeff).imag) > 1e-12:
                raise ExecutionError(
                    f"Pub {index}: observable term {label!r} has the complex coefficient "
                    f"{coeff}; observables must be Hermitian (real coefficients)."
                )
    return observables


def estimator_pub(index: int, pub: Any, default_precision: float) -> EstimatorPub:
    """A validated ``EstimatorPub`` from a wire pub or an ``EstimatorPub``."""
    try:
        if isinstance(pub, EstimatorPub):
            coerced = EstimatorPub.coerce(pub, default_precision)
            _check_parameter_names(coerced.circuit, coerced.parameter_values, index)
            _observables(coerced.observables, coerced.circuit, index)
        elif isinstance(pub, list | tuple):
            lengths = "2 to 4: [circuit, observables, parameter_values, precision]"
            circuit = _circuit_of(pub, index, lengths)
            if len(pub) < 2:
                raise ExecutionError(f"Pub {index} has no observables; a pub has {lengths}.")
            observables = _observables(pub[1], circuit, index)
            values = _bindings(circuit, pub[2] if len(pub) > 2 else None, index)
            precision = pub[3] if len(pub) > 3 and pub[3] is not None else default_precision
            precision = positive_float(precision, f"Pub {index}: precision")
            coerced = EstimatorPub(circuit, observables, values, precision, validate=True)
        else:
            raise ExecutionError(
                f"Pub {index} is a {type(pub).__name__}; an Estimator pub is "
                "[circuit, observables, parameter_values, precision]."
            )
    except (TypeError, ValueError) as exc:
        raise ExecutionError(f"Pub {index} is not a valid Estimator pub: {exc}") from None
    return coerced


def runnable_circuit(
    circuit: QuantumCircuit, device: Device, target: Target, index: int, *, what: str = "Pub"
) -> QuantumCircuit:
    """``circuit`` if the device can run it; the ideal simulator decomposes other gates.

    ``what`` names the part of the job in the error (``"Pub"``, or ``"Item"`` of a program).
    """
    try:
        check_isa(circuit, target, backend_name=device.name)
        return circuit
    except NotISAError as exc:
        problem = str(exc)
    if device.simulator and circuit.num_qubits <= device.num_qubits:
        basis = [*IDEAL_SIMULATOR_BASIS, "measure", "reset", "delay", *CONTROL_FLOW]
        try:
            decomposed = transpile(circuit, basis_gates=basis, optimization_level=0)
            check_isa(decomposed, target, backend_name=device.name)
            return decomposed
        except Exception:  # any failure: report the original problem
            pass
    raise ExecutionError(f"{what} {index}: {problem}")


def _mapping(options: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = options.get(key) or {}
    if not isinstance(value, Mapping):
        raise ExecutionError(f"Option {key!r} must be an object, not {value!r}.")
    return value


@dataclass(frozen=True)
class RunSettings:
    """Per-job simulation settings read from the primitive options.

    Parameters
    ----------
    seed
        Seed of the simulator runs of the job, or ``None`` for fresh randomness.
    rep_delay
        Seconds between shots (for the quantum seconds model).
    simulator
        The device is the ideal simulator (no device time is modelled).
    """

    seed: int | None
    rep_delay: float
    simulator: bool

    @classmethod
    def from_options(
        cls, device: Device, options: Mapping[str, Any], seed: int | None, log: JobLog
    ) -> RunSettings:
        """Read the options that matter to a simulation; log those that are not simulated."""
        simulator = _mapping(options, "simulator")
        execution = _mapping(options, "execution")
        chosen = simulator.get("seed_simulator", options.get("seed_estimator"))
        if chosen is not None:
            seed = _seed(chosen)
        for ignored in ("noise_model", "coupling_map", "basis_gates"):
            if simulator.get(ignored) is not None:
                log.record(
                    f"Option simulator.{ignored} is ignored: {device.name} simulates its own "
                    "calibration.",
                    logging.WARNING,
                )
        meas_type = execution.get("meas_type", "classified")
        if meas_type != "classified":
            raise ExecutionError(
                f"execution.meas_type {meas_type!r} is not available on {device.name}: the "
                "local service returns classified bits only. Use meas_type='classified'."
            )
        rep_delay = _rep_delay(device, execution.get("rep_delay"))
        for name, requested in _unsimulated(options):
            if requested:
                log.record(
                    f"Option {name} is accepted but not simulated; results are unmitigated.",
                    logging.WARNING,
                )
        return cls(seed, rep_delay, device.simulator)

    def seed_for(self, run: int) -> int | None:
        """Seed of the ``run``-th simulator call of the job (independent streams)."""
        if self.seed is None:
            return None
        return int(np.random.default_rng([self.seed, run]).integers(2**31))

    def shot_seconds(self, circuit: QuantumCircuit, target: Target) -> float:
        """Device time of one shot of ``circuit`` (0 on the ideal simulator)."""
        if self.simulator:
            return 0.0
        return circuit_duration(circuit, target) + self.rep_delay


def _rep_delay(device: Device, requested: Any) -> float:
    configuration = device.configuration
    default = float(configuration.get("default_rep_delay") or 0.0) * 1e-6
    if requested is None:
        return default
    if isinstance(requested, bool) or not isinstance(requested, Real) or requested < 0:
        raise ExecutionError(f"execution.rep_delay must be seconds >= 0, not {requested!r}.")
    delay = float(requested)
    low, high = (configuration.get("rep_delay_range") or [0.0, float("inf")])[:2]
    if not low * 1e-6 <= delay <= high * 1e-6:
        raise ExecutionError(
            f"execution.rep_delay {delay} s is outside {device.name}'s range "
            f"[{low * 1e-6}, {high * 1e-6}] s. Choose a delay within it."
        )
    return delay


def _unsimulated(options: Mapping[str, Any]) -> list[tuple[str, bool]]:
    # Twirling is simulated by its effect on the noise (see .twirling), so it is not listed.
    decoupling = _mapping(options, "dynamical_decoupling")
    resilience = _mapping(options, "resilience")
    level = options.get("resilience_level")
    return [
        ("dynamical_decoupling.enable", bool(decoupling.get("enable"))),
        (f"resilience_level={level}", isinstance(level, int) and level > 0),
        ("resilience.measure_mitigation", bool(resilience.get("measure_mitigation"))),
        ("resilience.zne_mitigation", bool(resilience.get("zne_mitigation"))),
        ("resilience.pec_mitigation", bool(resilience.get("pec_mitigation"))),
    ]
