"""check_isa refuses what the backend cannot run, and accepts what the official client accepts."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.transpiler import Target, generate_preset_pass_manager

from jupyter_qrt.runtime.backends.isa import check_isa
from jupyter_qrt.runtime.backends.target import target_from_json
from jupyter_qrt.runtime.errors import NotISAError

_SPEC = importlib.util.find_spec("qiskit_ibm_runtime")
assert _SPEC is not None
assert _SPEC.submodule_search_locations
SNAPSHOTS = Path(_SPEC.submodule_search_locations[0]) / "fake_provider" / "backends"


def snapshot(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = SNAPSHOTS / name
    return (
        json.loads((folder / f"conf_{name}.json").read_text()),
        json.loads((folder / f"props_{name}.json").read_text()),
    )


def official_verdict(circuit: QuantumCircuit, target: Target) -> str:
    """The official client's ISA check: an empty string when the circuit is accepted."""
    from qiskit_ibm_runtime.utils.utils import is_isa_circuit

    return str(is_isa_circuit(circuit, target))


def our_verdict(circuit: QuantumCircuit, target: Target) -> str:
    try:
        check_isa(circuit, target, backend_name="ibm_test")
    except NotISAError as error:
        return str(error)
    return ""


@pytest.fixture(scope="module")
def kingston() -> Target:
    return target_from_json(*snapshot("kingston"))


@pytest.fixture(scope="module")
def manila() -> Target:
    return target_from_json(*snapshot("manila"))


@pytest.fixture(scope="module")
def fractional() -> Target:
    return target_from_json(*snapshot("fractional"), include_fractional_gates=True)


def ghz(width: int) -> QuantumCircuit:
    circuit = QuantumCircuit(width)
    circuit.h(0)
    for qubit in range(width - 1):
        circuit.cx(qubit, qubit + 1)
    circuit.barrier()
    circuit.measure_all()
    return circuit


def dynamic_circuit() -> QuantumCircuit:
    """Mid-circuit measurement, a conditional flip and a reset."""
    qubits, bits = QuantumRegister(2, "q"), ClassicalRegister(2, "c")
    circuit = QuantumCircuit(qubits, bits)
    circuit.h(0)
    circuit.measure(0, bits[0])
    with circuit.if_test((bits[0], 1)):
        circuit.x(1)
    circuit.reset(0)
    circuit.measure(1, bits[1])
    return circuit


@pytest.mark.parametrize("make", [lambda: ghz(5), dynamic_circuit], ids=["ghz", "dynamic"])
@pytest.mark.parametrize("device", ["kingston", "manila"])
def test_transpiled_circuits_pass_ours_and_official(
    make: Any, device: str, request: pytest.FixtureRequest
) -> None:
    target = request.getfixturevalue(device)
    circuit = generate_preset_pass_manager(target=target, optimization_level=1).run(make())

    check_isa(circuit, target, backend_name=device)

    assert official_verdict(circuit, target) == ""


def test_delays_and_barriers_on_an_isa_circuit_pass(kingston: Target) -> None:
    circuit = generate_preset_pass_manager(target=kingston, optimization_level=1).run(ghz(3))
    circuit.barrier()
    for qubit in range(circuit.num_qubits):
        circuit.delay(160, qubit, unit="dt")

    check_isa(circuit, kingston, backend_name="ibm_kingston")

    assert official_verdict(circuit, kingston) == ""


def test_gate_the_backend_lacks_is_named(kingston: Target) -> None:
    circuit = QuantumCircuit(2, name="bell")
    circuit.h(0)
    circuit.cz(0, 1)

    with pytest.raises(NotISAError) as caught:
        check_isa(circuit, kingston, backend_name="ibm_kingston")

    message = str(caught.value)
    assert "'h' on qubits (0,)" in message
    assert "'bell'" in message
    assert "ibm_kingston" in message
    assert "cz, delay, id" in message  # what the backend does support
    assert "generate_preset_pass_manager(backend=backend, optimization_level=1)" in message


def test_two_qubit_gate_on_uncoupled_qubits_is_named(manila: Target) -> None:
    circuit = QuantumCircuit(5)
    circuit.cx(0, 2)

    with pytest.raises(NotISAError) as caught:
        check_isa(circuit, manila, backend_name="ibmq_manila")

    message = str(caught.value)
    assert "'cx' is not supported on qubits (0, 2)" in message
    assert "(0, 1)" in message  # where cx is possible from qubit 0
    assert "generate_preset_pass_manager" in message


def test_circuit_wider_than_the_backend(manila: Target) -> None:
    with pytest.raises(NotISAError, match="has 6 qubits but backend ibmq_manila has only 5"):
        check_isa(ghz(6), manila, backend_name="ibmq_manila")


def test_bad_instruction_inside_control_flow_is_found(kingston: Target) -> None:
    qubits, bits = QuantumRegister(3, "q"), ClassicalRegister(1, "c")
    circuit = QuantumCircuit(qubits, bits)
    circuit.measure(0, 0)
    with circuit.if_test((bits[0], 1)):
        circuit.h(2)

    with pytest.raises(
        NotISAError, match=r"inside the if_else block: instruction 'h' on qubits \(2,\)"
    ):
        check_isa(circuit, kingston, backend_name="ibm_kingston")
    assert official_verdict(circuit, kingston) != ""


def test_rzz_angle_outside_quarter_turn_is_refused(fractional: Target) -> None:
    theta = Parameter("theta")
    inside, outside, parametric = QuantumCircuit(5), QuantumCircuit(5), QuantumCircuit(5)
    inside.rzz(math.pi / 2, 0, 1)
    outside.rzz(-0.3, 0, 1)
    parametric.rzz(theta, 0, 1)

    check_isa(inside, fractional, backend_name="fractional")
    check_isa(parametric, fractional, backend_name="fractional")
    with pytest.raises(NotISAError, match=r"rzz on qubits \(0, 1\) has angle -0.3"):
        check_isa(outside, fractional, backend_name="fractional")
    assert official_verdict(outside, fractional) != ""


def test_transpiler_folds_rzz_into_the_allowed_range(fractional: Target) -> None:
    circuit = QuantumCircuit(2)
    circuit.rzz(2.5, 0, 1)

    isa = generate_preset_pass_manager(target=fractional, optimization_level=1).run(circuit)

    check_isa(isa, fractional, backend_name="fractional")


def test_measure_on_a_faulty_qubit_is_refused() -> None:
    configuration, properties = snapshot("manila")
    broken = copy.deepcopy(properties)
    broken["qubits"][2].append({"date": "", "name": "operational", "unit": "", "value": 0})
    target = target_from_json(configuration, broken)
    circuit = QuantumCircuit(5, 1)
    circuit.measure(2, 0)

    with pytest.raises(NotISAError, match=r"'measure' is not supported on qubits \(2,\)"):
        check_isa(circuit, target, backend_name="ibmq_manila")
    assert official_verdict(circuit, target) != ""


def test_large_isa_circuit_passes_and_one_bad_gate_is_found(kingston: Target) -> None:
    pairs = sorted(kingston.qargs_for_operation_name("cz"))
    circuit = QuantumCircuit(156)
    for layer in range(6):
        for a, b in pairs:
            circuit.rz(0.1 * layer, a)
            circuit.sx(b)
            circuit.cz(a, b)
    circuit.barrier()
    circuit.measure_all()
    assert circuit.size() > 5000

    check_isa(circuit, kingston, backend_name="ibm_kingston")

    circuit.cz(0, 155)
    with pytest.raises(NotISAError, match=r"'cz' is not supported on qubits \(0, 155\)"):
        check_isa(circuit, kingston, backend_name="ibm_kingston")


_GATES = {"h": 1, "x": 1, "sx": 1, "rz": 1, "cx": 2, "ecr": 2, "measure": 1, "delay": 1}


@st.composite
def random_circuits(draw: st.DrawFn) -> QuantumCircuit:
    """Small circuits on up to 6 qubits, some ISA for manila, most not."""
    width = draw(st.integers(min_value=1, max_value=6))
    qubits, bits = QuantumRegister(width, "q"), ClassicalRegister(1, "c")
    circuit = QuantumCircuit(qubits, bits)
    names = st.sampled_from([*sorted(_GATES), "barrier", "if_else"])
    for name in draw(st.lists(names, max_size=6)):
        if name == "barrier":
            circuit.barrier()
            continue
        if name == "if_else":
            inner = draw(st.sampled_from(["x", "h", "cx"]))
            targets = draw(st.permutations(range(width)))[: 2 if inner == "cx" else 1]
            if len(targets) < (2 if inner == "cx" else 1):
                continue
            with circuit.if_test((bits[0], 1)):
                getattr(circuit, inner)(*targets)
            continue
        arity = _GATES[name]
        if arity > width:
            continue
        targets = draw(st.permutations(range(width)))[:arity]
        if name == "measure":
            circuit.measure(targets[0], 0)
        elif name == "delay":
            circuit.delay(64, targets[0], unit="dt")
        elif name == "rz":
            circuit.rz(0.5, targets[0])
        else:
            getattr(circuit, name)(*targets)
    return circuit


@settings(max_examples=150, deadline=None)
@given(circuit=random_circuits())
def test_accepts_exactly_what_the_official_check_accepts(
    circuit: QuantumCircuit, manila: Target
) -> None:
    assert (our_verdict(circuit, manila) == "") == (official_verdict(circuit, manila) == "")
