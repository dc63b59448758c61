"""The Target built from backend JSON is the one the official client builds from the same JSON."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from qiskit.transpiler import Target

from jupyter_qrt.runtime.backends.target import target_from_json
from jupyter_qrt.runtime.errors import InvalidInputError

_SPEC = importlib.util.find_spec("qiskit_ibm_runtime")
assert _SPEC is not None
assert _SPEC.submodule_search_locations
SNAPSHOTS = Path(_SPEC.submodule_search_locations[0]) / "fake_provider" / "backends"


def snapshot(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The real configuration and properties JSON of a (retired) IBM backend."""
    folder = SNAPSHOTS / name
    configuration = json.loads((folder / f"conf_{name}.json").read_text())
    properties = json.loads((folder / f"props_{name}.json").read_text())
    return configuration, properties


def official_target(
    configuration: dict[str, Any], properties: dict[str, Any] | None, *, fractional: bool = False
) -> Target:
    """The Target qiskit-ibm-runtime's ``IBMBackend`` builds from the same JSON."""
    from qiskit_ibm_runtime.utils.backend_converter import convert_to_target
    from qiskit_ibm_runtime.utils.backend_decoder import (
        configuration_from_server_data,
        properties_from_server_data,
    )

    config = configuration_from_server_data(
        copy.deepcopy(configuration), use_fractional_gates=fractional
    )
    assert config is not None, "the official client rejected the configuration"
    props = (
        properties_from_server_data(copy.deepcopy(properties), use_fractional_gates=fractional)
        if properties
        else None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "no gate definition for box"
        return convert_to_target(config, props)


def describe(target: Target) -> dict[str, Any]:
    """Everything the transpiler reads from a Target, as plain comparable data."""
    qubit_properties = target.qubit_properties
    instructions = {}
    for name in target.operation_names:
        operation = target.operation_from_name(name)
        shape = (
            ("class", operation.__name__)
            if isinstance(operation, type)
            else (type(operation).__name__, operation.num_qubits, len(operation.params))
        )
        qargs = {
            qarg: None if props is None else (props.error, props.duration)
            for qarg, props in target[name].items()
        }
        instructions[name] = (shape, qargs, target.gate_has_angle_bounds(name))
    return {
        "num_qubits": target.num_qubits,
        "dt": target.dt,
        "timing": (
            target.granularity,
            target.min_length,
            target.pulse_alignment,
            target.acquire_alignment,
        ),
        "qubit_properties": None
        if qubit_properties is None
        else [(q.t1, q.t2, q.frequency) for q in qubit_properties],
        "instructions": instructions,
    }


@pytest.fixture(scope="module")
def kingston() -> tuple[dict[str, Any], dict[str, Any]]:
    return snapshot("kingston")


@pytest.mark.parametrize(
    ("name", "fractional"),
    [
        ("manila", False),  # 5 qubits, cx, control flow
        ("lima", False),  # reset in basis_gates, no timing constraints
        ("almaden", False),  # no supported_instructions; u2/u3 count as fractional
        ("brisbane", False),  # 127 qubits, ecr
        ("kingston", False),  # 156 qubits, cz, measure_2 instruction signature
        ("fractional", False),
        ("fractional", True),
    ],
)
def test_target_equals_official(name: str, fractional: bool) -> None:
    configuration, properties = snapshot(name)

    ours = target_from_json(configuration, properties, include_fractional_gates=fractional)

    assert describe(ours) == describe(
        official_target(configuration, properties, fractional=fractional)
    )


def test_target_without_properties_is_ideal_like_official() -> None:
    configuration, _ = snapshot("manila")

    ours = target_from_json(configuration, None)

    assert describe(ours) == describe(official_target(configuration, None))
    assert ours.qubit_properties is None
    assert ours["cx"][(0, 1)] is None
    assert (1, 3) not in ours["cx"]


def test_input_json_is_not_modified(kingston: tuple[dict[str, Any], dict[str, Any]]) -> None:
    configuration, properties = kingston
    before = json.dumps([configuration, properties], sort_keys=True)

    target_from_json(configuration, properties)

    assert json.dumps([configuration, properties], sort_keys=True) == before


def test_units_are_converted_to_seconds_and_hertz(
    kingston: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    configuration, properties = kingston
    target = target_from_json(configuration, properties)
    qubit0 = {p["name"]: p for p in properties["qubits"][0]}
    cz01 = next(g for g in properties["gates"] if g["gate"] == "cz" and g["qubits"] == [0, 1])
    cz01_length = next(p for p in cz01["parameters"] if p["name"] == "gate_length")

    assert qubit0["T1"]["unit"] == "us"
    assert target.qubit_properties[0].t1 == pytest.approx(qubit0["T1"]["value"] * 1e-6)
    assert target.qubit_properties[0].t2 == pytest.approx(qubit0["T2"]["value"] * 1e-6)
    assert target["measure"][(0,)].error == qubit0["readout_error"]["value"]
    assert target["measure"][(0,)].duration == pytest.approx(
        qubit0["readout_length"]["value"] * 1e-9
    )
    assert target["cz"][(0, 1)].duration == pytest.approx(cz01_length["value"] * 1e-9)
    assert target.dt == pytest.approx(4e-9)
    assert target.num_qubits == 156
    assert target.min_length == configuration["timing_constraints"]["min_length"]


def test_qubit_frequency_is_in_hertz() -> None:
    configuration, properties = snapshot("manila")

    target = target_from_json(configuration, properties)

    assert properties["qubits"][0][2]["unit"] == "GHz"
    assert target.qubit_properties[0].frequency == pytest.approx(
        properties["qubits"][0][2]["value"] * 1e9
    )


def test_control_flow_and_signatures_are_instructions(
    kingston: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    manila = target_from_json(*snapshot("manila"))
    heron = target_from_json(*kingston)

    assert {"if_else", "for_loop", "switch_case"} <= set(manila.operation_names)
    assert "if_else" in heron.operation_names
    assert "for_loop" not in heron.operation_names
    assert heron.operation_from_name("measure_2").num_clbits == 1
    assert heron.instruction_supported("measure_2", (7,))
    assert heron["measure_2"][(7,)].error is not None


def test_fractional_gates_only_when_asked() -> None:
    configuration, properties = snapshot("fractional")

    plain = target_from_json(configuration, properties)
    fractional = target_from_json(configuration, properties, include_fractional_gates=True)

    assert not {"rzz", "rx"} & set(plain.operation_names)
    assert {"rzz", "rx"} <= set(fractional.operation_names)
    assert fractional.gate_has_angle_bounds("rzz")
    assert fractional.supported_angle_bound("rzz", [1.0])
    assert not fractional.supported_angle_bound("rzz", [2.0])


def _with_faults(properties: dict[str, Any]) -> dict[str, Any]:
    """Manila's properties with qubit 2 and the cx 3->4 direction reported as broken."""
    broken = copy.deepcopy(properties)
    broken["qubits"][2].append(
        {"date": "2024-05-27T04:30:14-03:00", "name": "operational", "unit": "", "value": 0}
    )
    for gate in broken["gates"]:
        if gate["gate"] == "cx" and gate["qubits"] == [3, 4]:
            gate["parameters"].append(
                {"date": "2024-05-27T04:30:14-03:00", "name": "operational", "unit": "", "value": 0}
            )
    return broken


def test_faulty_qubits_and_gates_are_left_out_like_official() -> None:
    configuration, properties = snapshot("manila")
    broken = _with_faults(properties)

    ours = target_from_json(configuration, broken)

    assert describe(ours) == describe(official_target(configuration, broken))
    assert not ours.instruction_supported("measure", (2,))
    assert not ours.instruction_supported("sx", (2,))
    assert not ours.instruction_supported("cx", (1, 2))
    assert not ours.instruction_supported("cx", (3, 4))
    assert ours.instruction_supported("cx", (4, 3))
    assert ours.instruction_supported("measure", (3,))


def test_qubits_missing_from_properties_count_as_uncalibrated() -> None:
    configuration, properties = snapshot("manila")
    short = copy.deepcopy(properties)
    short["qubits"] = short["qubits"][:4]

    target = target_from_json(configuration, short)

    assert target.qubit_properties[4].t1 is None
    assert target.instruction_supported("measure", (4,))
    assert target["measure"][(4,)].error is None
    assert target.qubit_properties[3].t1 is not None


@pytest.mark.parametrize("key", ["n_qubits", "basis_gates", "gates"])
def test_missing_configuration_key_is_named(key: str) -> None:
    configuration, properties = snapshot("manila")
    del configuration[key]

    with pytest.raises(InvalidInputError, match=rf"'{key}'.*missing") as caught:
        target_from_json(configuration, properties)

    assert "ibmq_manila" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(n_qubits="5"), "'n_qubits' is '5'"),
        (lambda c: c["gates"][4].update(coupling_map=[[0, 9]]), r"\[0, 9\] outside 0\.\.4"),
        (lambda c: c.update(basis_gates="cx id"), "'basis_gates' is not a list"),
        (lambda c: c.update(timing_constraints=[1]), "'timing_constraints'"),
    ],
)
def test_malformed_configuration_is_named(change: Any, expected: str) -> None:
    configuration, properties = snapshot("manila")
    change(configuration)

    with pytest.raises(InvalidInputError, match=expected):
        target_from_json(configuration, properties, backend_name="ibm_test")


def test_malformed_properties_are_named() -> None:
    configuration, properties = snapshot("manila")
    no_qubits = {k: v for k, v in properties.items() if k != "qubits"}
    bad_unit = copy.deepcopy(properties)
    bad_unit["qubits"][1][0]["unit"] = "fortnights"
    outside = copy.deepcopy(properties)
    outside["gates"][0]["qubits"] = [7]

    with pytest.raises(InvalidInputError, match="'qubits' is missing"):
        target_from_json(configuration, no_qubits)
    with pytest.raises(InvalidInputError, match=r"qubits\[1\] 'T1' has unknown unit 'fortnights'"):
        target_from_json(configuration, bad_unit)
    with pytest.raises(InvalidInputError, match=r"ibmq_manila.*\[7\]"):
        target_from_json(configuration, outside)


def test_configuration_must_be_an_object() -> None:
    with pytest.raises(InvalidInputError, match="expected a JSON object"):
        target_from_json([], None, backend_name="ibm_test")  # type: ignore[arg-type]


def test_rzz_bounds_match_a_quarter_turn() -> None:
    configuration, properties = snapshot("fractional")

    target = target_from_json(configuration, properties, include_fractional_gates=True)

    assert target.supported_angle_bound("rzz", [math.pi / 2])
    assert not target.supported_angle_bound("rzz", [-0.1])
