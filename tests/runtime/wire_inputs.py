"""Generated job inputs (pubs and options) for the wire-parity tests, as hypothesis strategies.

Circuits use a few gates on up to 3 qubits, parameters (one with a non-ASCII name) in several
binding forms and sweep shapes; sampler pubs have optional per-pub shots; estimator pubs have
observables as Pauli strings, ``SparsePauliOp``s or dicts, alone or in lists, and an optional
per-pub precision; options cover shots/precision, twirling, dynamical decoupling, resilience
(measure mitigation, ZNE, PEC), execution, simulator, experimental and environment fields.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import CouplingMap

PARAMETER_NAMES = ["a", "b", "theta", "φ"]  # a non-ASCII name exercises QPY and JSON escaping

angles = st.floats(-7, 7, allow_nan=False, width=64)
ALL_GATES = ("h", "x", "sx", "cx", "rz", "ry", "rz(p)", "ry(2p+1)")
# The local ideal simulator's basis has no ry: the same circuits with p are ISA circuits there.
IDEAL_SIMULATOR_GATES = ("h", "x", "sx", "cx", "rz", "p", "rz(p)", "p(2p+1)")


@st.composite
def circuits(
    draw: st.DrawFn, num_qubits: int | None = None, gates: tuple[str, ...] = ALL_GATES
) -> QuantumCircuit:
    n = num_qubits or draw(st.integers(1, 3))
    circuit = QuantumCircuit(n)
    known: dict[str, Parameter] = {}
    for _ in range(draw(st.integers(0, 6))):
        gate = draw(st.sampled_from(gates))
        qubit = draw(st.integers(0, n - 1))
        if gate == "cx" and n > 1:
            circuit.cx(qubit, (qubit + 1) % n)
        elif gate in ("rz", "ry", "p"):
            getattr(circuit, gate)(draw(angles), qubit)
        elif "(" in gate:
            name = draw(st.sampled_from(PARAMETER_NAMES))
            parameter = known.setdefault(name, Parameter(name))
            angle = parameter if gate == "rz(p)" else 2 * parameter + 1
            getattr(circuit, gate.split("(")[0])(angle, qubit)
        elif gate in ("h", "x", "sx"):
            getattr(circuit, gate)(qubit)
    if draw(st.booleans()):
        circuit.measure_all()
    else:
        register = ClassicalRegister(n, draw(st.sampled_from(["c", "alpha", "out_1"])))
        circuit.add_register(register)
        circuit.measure(range(n), register)
    if draw(st.booleans()):
        circuit.metadata = {"label": draw(st.text(max_size=5)), "n": n}
    return circuit


@st.composite
def parameter_values(draw: st.DrawFn, circuit: QuantumCircuit, shape: tuple[int, ...]) -> Any:
    k = circuit.num_parameters
    values = draw(hnp.arrays(np.float64, (*shape, k), elements=angles))
    form = draw(st.sampled_from(["array", "list", "tuple-key", "per-parameter"]))
    if form == "list":
        return values.tolist()
    if form == "tuple-key":
        return {tuple(circuit.parameters): values}
    if form == "per-parameter" and k:
        return {p: values[..., i] for i, p in enumerate(circuit.parameters)}
    return values


@st.composite
def sampler_pubs(draw: st.DrawFn, gates: tuple[str, ...] = ALL_GATES) -> Any:
    circuit = draw(circuits(gates=gates))
    shape = draw(st.sampled_from([(), (2,), (2, 3)]))
    shots = draw(st.none() | st.integers(1, 10_000))
    if circuit.num_parameters == 0 and draw(st.booleans()):
        return circuit if shots is None else (circuit, None, shots)
    values = draw(parameter_values(circuit, shape if circuit.num_parameters else ()))
    return (circuit, values) if shots is None else (circuit, values, shots)


def _shuffled(draw: st.DrawFn, options: dict[str, Any]) -> dict[str, Any]:
    # the official client orders options by declaration, whatever order they were given in
    keys = draw(st.permutations(list(options)))
    return {
        k: _shuffled(draw, options[k]) if isinstance(options[k], dict) else options[k] for k in keys
    }


@st.composite
def sampler_options(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "default_shots": st.integers(1, 100_000),
                "dynamical_decoupling": st.fixed_dictionaries(
                    {"enable": st.booleans()},
                    optional={"sequence_type": st.sampled_from(["XX", "XpXm", "XY4"])},
                ),
                "twirling": st.fixed_dictionaries(
                    {},
                    optional={
                        "enable_gates": st.booleans(),
                        "num_randomizations": st.integers(1, 64) | st.just("auto"),
                        "strategy": st.sampled_from(["active", "all"]),
                    },
                ),
                "execution": st.fixed_dictionaries(
                    {},
                    optional={
                        "init_qubits": st.booleans(),
                        "rep_delay": st.integers(1, 5) | st.floats(1e-6, 1e-3),
                        "meas_type": st.sampled_from(["classified", "kerneled"]),
                    },
                ),
                "simulator": st.fixed_dictionaries({"seed_simulator": st.integers(0, 99)}),
                "experimental": st.sampled_from(
                    [{"foo": 1}, {"twirling": {"strategy": "all"}}, {"image": "x:y", "bar": [1]}]
                ),
                "environment": st.fixed_dictionaries(
                    {"log_level": st.sampled_from(["INFO", "ERROR"])},
                    optional={"job_tags": st.lists(st.text("abc", min_size=1), max_size=2)},
                ),
                "max_execution_time": st.integers(1, 10_000),
            },
        )
    )
    return _shuffled(draw, chosen)


pauli_strings = st.text("IXYZ", min_size=3, max_size=3)


@st.composite
def observables(draw: st.DrawFn, count: int | None) -> Any:
    def one() -> Any:
        form = draw(st.sampled_from(["str", "op", "dict"]))
        if form == "str":
            return draw(pauli_strings)
        # distinct terms, coefficients away from 0: qiskit refuses an observable that is zero
        terms = draw(st.lists(pauli_strings, min_size=1, max_size=3, unique=True))
        coeff = st.floats(0.1, 2) | st.floats(-2, -0.1)
        coeffs = draw(st.lists(coeff, min_size=len(terms), max_size=len(terms)))
        if form == "dict":
            return dict(zip(terms, coeffs, strict=True))
        return SparsePauliOp(terms, coeffs)

    return one() if count is None else [one() for _ in range(count)]


@st.composite
def estimator_pubs(draw: st.DrawFn, gates: tuple[str, ...] = ALL_GATES) -> Any:
    circuit = draw(circuits(num_qubits=3, gates=gates))
    circuit.remove_final_measurements()
    count = draw(st.none() | st.integers(1, 3))
    obs = draw(observables(count))
    pub: tuple[Any, ...] = (circuit, obs)
    if circuit.num_parameters or draw(st.booleans()):
        shapes = [(), (2,), (2, 3)] if count is None else [(), (count,), (2, 1)]
        shape = draw(st.sampled_from(shapes)) if circuit.num_parameters else ()
        pub += (draw(parameter_values(circuit, shape)),)
        if draw(st.booleans()):
            pub += (draw(st.floats(0.001, 0.5)),)
    return pub


@st.composite
def estimator_options(draw: st.DrawFn) -> dict[str, Any]:
    zne = st.fixed_dictionaries(
        {},
        optional={
            "noise_factors": st.lists(st.integers(1, 9), min_size=2, max_size=4),
            "extrapolator": st.sampled_from(["linear", "exponential", ("exponential", "linear")]),
        },
    )
    resilience = st.one_of(
        st.fixed_dictionaries(
            {"measure_mitigation": st.just(True)},
            optional={
                "measure_noise_learning": st.fixed_dictionaries(
                    {"num_randomizations": st.integers(1, 40)}
                )
            },
        ),
        st.fixed_dictionaries({"zne_mitigation": st.booleans()}, optional={"zne": zne}),
        st.fixed_dictionaries(
            {"pec_mitigation": st.booleans()},
            optional={"pec": st.fixed_dictionaries({"max_overhead": st.integers(1, 200)})},
        ),
    )
    chosen = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "default_precision": st.floats(0.001, 0.5) | st.just(1),
                "default_shots": st.integers(0, 10_000) | st.none(),
                "resilience_level": st.integers(0, 2),
                "seed_estimator": st.integers(0, 99),
                "resilience": resilience,
                "twirling": st.fixed_dictionaries({"enable_measure": st.booleans()}),
                "experimental": st.just({"execution": {"fast_parity": True}}),
            },
        )
    )
    if chosen.get("resilience", {}).get("pec_mitigation"):
        # on a simulator the official client insists on a coupling map for PEC
        edges = [[0, 1], [1, 2]]
        chosen["simulator"] = {"coupling_map": draw(st.sampled_from([edges, CouplingMap(edges)]))}
    return _shuffled(draw, chosen)
