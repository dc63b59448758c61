"""The Estimator program: expectation values of Pauli sums, with standard errors.

Two ways to estimate, chosen per pub:

- **Sampled** (noisy devices, or circuits with measurements/resets/control flow): the Pauli terms
  are grouped into qubit-wise commuting sets; each set is measured in its own basis (an ``sx``,
  preceded by ``rz(pi/2)`` for X, before measuring; the device's noise applies to those gates
  too) with ``ceil(1 / precision**2)`` shots per parameter binding, IBM's rule. ``stds`` is the
  standard error of the mean over the shots (groups are independent, so variances add).
- **Exact** (the ideal simulator): expectation values from the statevector; ``stds`` is 0.

Sampled bases run on stim when the circuit is Clifford (:mod:`.engines`). Twirling sets the shot
count (IBM's ``num_randomizations * shots_per_randomization``, :mod:`.twirling`) and the noise
(its Pauli-twirled form); no error mitigation or dynamical decoupling is applied, and the result
metadata says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, ControlFlowOp
from qiskit.primitives import PrimitiveResult
from qiskit.primitives.containers import DataBin, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.quantum_info import Pauli
from qiskit_aer import AerSimulator
from qiskit_aer.library import SaveExpectationValue

from jupyter_qrt.local.devices import Device

from .engines import sample_batches
from .idle_qubits import drop_idle_qubits, simulation_metadata
from .inputs import (
    RunSettings,
    check_shots,
    device_target,
    estimator_pub,
    positive_float,
    positive_int,
    runnable_circuit,
)
from .report import ExecutionReport, JobLog, completed_report
from .simulate import simulation_failure
from .twirling import Twirling, explicit_size

__all__ = ["DEFAULT_PRECISION", "execute_estimator", "run_estimator"]

DEFAULT_PRECISION = 0.015625
_NON_UNITARY = frozenset({"measure", "reset", "initialize"})
FloatArray = npt.NDArray[np.float64]


def _has_non_unitary(circuit: QuantumCircuit) -> bool:
    return any(
        instruction.operation.name in _NON_UNITARY
        or isinstance(instruction.operation, ControlFlowOp)
        for instruction in circuit.data
    )


def _terms(pub: EstimatorPub) -> tuple[list[dict[str, float]], list[str]]:
    """The pub's observables as dicts (flat), and their distinct non-identity Pauli labels."""
    observables = [
        {label: float(complex(coeff).real) for label, coeff in observable.items()}
        for observable in pub.observables.ravel().tolist()
    ]
    labels = sorted({label for obs in observables for label in obs if set(label) != {"I"}})
    return observables, labels


def _combine(
    pub: EstimatorPub,
    observables: list[dict[str, float]],
    term_value: dict[str, Any],
    term_variance: Callable[[int, dict[str, float]], float],
) -> tuple[FloatArray, FloatArray]:
    """Broadcast parameters against observables and sum each observable's terms."""
    shape = tuple(pub.shape)
    bindings = np.arange(pub.parameter_values.size).reshape(pub.parameter_values.shape)
    which = np.arange(len(observables)).reshape(pub.observables.shape)
    bindings = np.broadcast_to(bindings, shape)
    which = np.broadcast_to(which, shape)
    evs = np.zeros(shape)
    stds = np.zeros(shape)
    for index in np.ndindex(*shape):
        binding = int(bindings[index])
        observable = observables[int(which[index])]
        value = 0.0
        for label, coeff in observable.items():
            value += coeff if label not in term_value else coeff * float(term_value[label][binding])
        evs[index] = value
        stds[index] = math.sqrt(max(term_variance(binding, observable), 0.0))
    return evs, stds


def _exact_expectations(
    circuit: QuantumCircuit, pub: EstimatorPub, seed: int | None, device: Device
) -> tuple[FloatArray, FloatArray]:
    observables, labels = _terms(pub)
    values: dict[str, Any] = {}
    size = int(pub.parameter_values.size)
    if labels and size:
        work = circuit.copy()
        n = circuit.num_qubits
        for i, label in enumerate(labels):
            # Save each term on its own support only, so idle qubits of a wide ISA circuit
            # stay out of the statevector.
            support = [q for q in range(n) if label[n - 1 - q] != "I"]
            pauli = Pauli("".join(label[n - 1 - q] for q in reversed(support)))
            work.append(
                SaveExpectationValue(pauli, label=f"t{i}"), [work.qubits[q] for q in support]
            )
        binds = None
        if circuit.num_parameters:
            array = pub.parameter_values.as_array(circuit.parameters).reshape(size, -1)
            binds = [{p: array[:, j] for j, p in enumerate(circuit.parameters)}]
        try:
            job = AerSimulator().run(work, shots=1, parameter_binds=binds, seed_simulator=seed)
            data = job.result()
        except Exception as exc:  # qiskit-aer raises several unrelated types
            raise simulation_failure(device, str(exc)) from None
        if not data.success:
            raise simulation_failure(device, str(data.status))
        for i, label in enumerate(labels):
            values[label] = [float(np.real(data.data(b)[f"t{i}"])) for b in range(size)]
    return _combine(pub, observables, values, lambda binding, observable: 0.0)


def _qubit_wise_groups(labels: list[str]) -> list[dict[int, str]]:
    """Greedy qubit-wise commuting groups: qubit -> measurement basis letter."""
    groups: list[dict[int, str]] = []
    for label in labels:
        n = len(label)
        letters = {q: label[n - 1 - q] for q in range(n) if label[n - 1 - q] != "I"}
        for group in groups:
            if all(group.get(q, letter) == letter for q, letter in letters.items()):
                group.update(letters)
                break
        else:
            groups.append(dict(letters))
    return groups


def _measurement_circuit(circuit: QuantumCircuit, basis: dict[int, str]) -> QuantumCircuit:
    """``circuit`` followed by a measurement of the qubits of ``basis`` in their bases."""
    measured = circuit.copy()
    taken = {register.name for register in circuit.cregs}
    name = "qrt_basis"
    while name in taken:
        name += "_"
    register = ClassicalRegister(len(basis), name)
    measured.add_register(register)
    for j, qubit in enumerate(sorted(basis)):
        # rz(pi/2) then sx maps X onto Z; sx alone maps Y onto Z (up to a global phase).
        if basis[qubit] == "X":
            measured.rz(math.pi / 2, qubit)
        if basis[qubit] in "XY":
            measured.sx(qubit)
        measured.measure(qubit, register[j])
    return measured


def _sampled_expectations(
    circuit: QuantumCircuit,
    pub: EstimatorPub,
    shots: int,
    seed: int | None,
    device: Device,
    twirling: Twirling,
) -> tuple[FloatArray, FloatArray, list[QuantumCircuit], dict[str, Any] | None]:
    observables, labels = _terms(pub)
    groups = _qubit_wise_groups(labels)
    measured = [_measurement_circuit(circuit, group) for group in groups]
    # signs[label]: (bindings, shots) array of +-1 eigenvalues of that Pauli term.
    signs: dict[str, npt.NDArray[np.int8]] = {}
    group_of: dict[str, int] = {}
    simulation: dict[str, Any] | None = None
    if measured and pub.parameter_values.size:
        batches = [(c, pub.parameter_values) for c in measured]
        bits, simulations = sample_batches(batches, shots, seed, device, twirling)
        # The groups' circuits differ only by Cliffords: one method ran them all.
        simulation = simulations[0]
        for g, (group, work, group_bits) in enumerate(zip(groups, measured, bits, strict=True)):
            register = work.cregs[-1]
            columns = {q: work.find_bit(register[j]).index for j, q in enumerate(sorted(group))}
            for label in labels:
                n = len(label)
                support = [q for q in range(n) if label[n - 1 - q] != "I"]
                if label in group_of or any(group.get(q) != label[n - 1 - q] for q in support):
                    continue
                parity = group_bits[..., [columns[q] for q in support]].sum(axis=-1) % 2
                signs[label] = (1 - 2 * parity).astype(np.int8)
                group_of[label] = g
    means = {label: sign.mean(axis=-1) for label, sign in signs.items()}

    def variance(binding: int, observable: dict[str, float]) -> float:
        total = 0.0
        for g in range(len(groups)):
            members = [label for label in observable if group_of.get(label) == g]
            if not members:
                continue
            per_shot = sum(observable[label] * signs[label][binding] for label in members)
            total += float(np.var(per_shot, ddof=1 if shots > 1 else 0)) / shots
        return total

    evs, stds = _combine(pub, observables, means, variance)
    return evs, stds, measured, simulation


def execute_estimator(
    device: Device,
    pubs: Sequence[Any],
    *,
    default_precision: float = DEFAULT_PRECISION,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> ExecutionReport:
    """Estimate the expectation values of every pub on ``device``.

    Parameters
    ----------
    device
        Where to run.
    pubs
        Estimator pubs: ``[circuit, observables, parameter_values, precision|None]`` with
        observables a ``{pauli: coeff}`` dict or nested lists of them (Paulis over all circuit
        qubits, qubit 0 rightmost), or an ``EstimatorPub``.
    default_precision
        Precision of pubs that name none, unless ``options["default_precision"]`` is set.
    options
        Estimator options as the official client sends them (``default_precision``,
        ``default_shots`` (overrides the precision), ``seed_estimator``, ``simulator``, ...).
    seed
        Simulator seed when the options set none.

    Returns
    -------
    ExecutionReport
        ``result`` holds one ``PubResult`` per pub with ``evs``, ``stds`` and
        ``ensemble_standard_error`` shaped like the broadcast of observables and parameters.

    Raises
    ------
    ExecutionError
        A pub or option cannot run on ``device``; nothing ran.
    """
    options = options or {}
    log = JobLog()
    given = options.get("default_precision")  # null, like absent, means the default
    precision = positive_float(default_precision if given is None else given, "default_precision")
    fixed_shots = options.get("default_shots")
    if fixed_shots is not None:
        fixed_shots = positive_int(fixed_shots, "default_shots")
    settings = RunSettings.from_options(device, options, seed, log)
    twirling = Twirling.from_options(options, estimator=True)
    target = device_target(device)
    coerced = [estimator_pub(i, pub, precision) for i, pub in enumerate(pubs)]
    circuits = [runnable_circuit(pub.circuit, device, target, i) for i, pub in enumerate(coerced)]
    # Qubits the circuits never touch are |0>: their factor is known, they are not simulated.
    coerced = [
        drop_idle_qubits(p, c, device, twirled_measure=twirling.measure)
        for p, c in zip(coerced, circuits, strict=True)
    ]
    exact = [device.simulator and not _has_non_unitary(c) for c in circuits]
    # IBM's rule: ceil(1 / precision**2) shots, or default_shots; twirling runs
    # num_randomizations * shots_per_randomization of them (a pub's own precision is covered).
    plans = [
        None
        if exact[i]
        else twirling.plan(
            fixed_shots or math.ceil(1.0 / pub.precision**2),
            fixed_shots is None and explicit_size(pubs[i], 3),
        )
        for i, pub in enumerate(coerced)
    ]
    shots_of = [None if plan is None else plan[0] * plan[1] or plan[1] for plan in plans]
    randomizations = [0 if plan is None else plan[0] for plan in plans]
    for i, shots in enumerate(shots_of):
        if shots is not None:
            check_shots(shots, device, i, f"precision {coerced[i].precision}")
    twirling.log_to(log)
    log.record(
        f"Estimating {len(coerced)} pub(s) on {device.name} "
        + ("exactly (ideal simulator)." if device.simulator else "by sampling with noise.")
    )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    results: list[PubResult] = []
    device_seconds = 0.0
    total_shots = 0
    for i, (pub, circuit) in enumerate(zip(coerced, circuits, strict=True)):
        shots = shots_of[i]
        simulation: dict[str, Any] | None = None
        if shots is None:
            evs, stds = _exact_expectations(circuit, pub, settings.seed_for(i), device)
        else:
            evs, stds, run, simulation = _sampled_expectations(
                circuit, pub, shots, settings.seed_for(i), device, twirling
            )
            executions = shots * int(pub.parameter_values.size)
            device_seconds += executions * sum(settings.shot_seconds(c, target) for c in run)
            total_shots += executions * len(run)
        data = DataBin(evs=evs, stds=stds, ensemble_standard_error=stds.copy(), shape=pub.shape)
        metadata: dict[str, Any] = {
            "shots": shots,
            "target_precision": pub.precision,
            "circuit_metadata": pub.circuit.metadata,
            "resilience": {},
            "num_randomizations": randomizations[i],
            "simulation": simulation or simulation_metadata(device, circuit, pub, shots),
        }
        results.append(PubResult(data, metadata=metadata))
    metadata = {
        "dynamical_decoupling": {"enable": False},
        "twirling": twirling.metadata(),
        "resilience": {
            "measure_mitigation": False,
            "zne_mitigation": False,
            "pec_mitigation": False,
        },
        "version": 2,
    }
    return completed_report(
        results,
        metadata,
        device=device,
        device_seconds=device_seconds,
        started=started,
        clock=clock,
        log=log,
        shots=total_shots,
    )


def run_estimator(
    device: Device,
    pubs: Sequence[Any],
    *,
    default_precision: float = DEFAULT_PRECISION,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> PrimitiveResult:
    """Estimate every pub on ``device`` and return the result (see :func:`execute_estimator`)."""
    return execute_estimator(
        device, pubs, default_precision=default_precision, options=options, seed=seed
    ).result
