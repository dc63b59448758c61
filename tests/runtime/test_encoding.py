"""The JSON our client sends: circuits, arrays, parameters, and the params of V2 jobs."""

from __future__ import annotations

import base64
import json
import warnings
import zlib
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import qiskit.qpy
from qiskit.circuit import ClassicalRegister, IfElseOp, Parameter, QuantumCircuit
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import SparsePauliOp

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.wire.decoding import loads
from jupyter_qrt.runtime.wire.encoding import (
    QPY_VERSION_CAP,
    dumps,
    encode_circuit,
    estimator_params,
    sampler_params,
)


def _bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def _qpy_bytes(text: str) -> bytes:
    return zlib.decompress(base64.standard_b64decode(text))


def test_circuits_are_written_as_qpy_capped_at_the_version_the_service_reads() -> None:
    encoded = json.loads(dumps(_bell()))
    assert encoded["__type__"] == "QuantumCircuit"
    qpy = _qpy_bytes(encoded["__value__"])
    assert qpy[:6] == b"QISKIT"
    assert qpy[6] == min(QPY_VERSION_CAP, qiskit.qpy.QPY_VERSION) == 17


def test_an_older_qpy_version_can_be_asked_for_and_a_bad_one_is_refused() -> None:
    oldest = qiskit.qpy.QPY_COMPATIBILITY_VERSION
    assert _qpy_bytes(encode_circuit(_bell(), qpy_version=oldest))[6] == oldest
    assert _qpy_bytes(json.loads(dumps(_bell(), qpy_version=oldest))["__value__"])[6] == oldest
    with pytest.raises(InvalidInputError, match="qpy_version must be an integer from"):
        dumps(_bell(), qpy_version=99)


def test_arrays_are_npy_files_and_object_arrays_are_lists() -> None:
    values = np.arange(6.0).reshape(2, 3)
    encoded = json.loads(dumps(values))
    npy = _qpy_bytes(encoded["__value__"])
    assert npy.startswith(b"\x93NUMPY\x01\x00")
    assert b"'shape': (2, 3)" in npy
    np.testing.assert_array_equal(np.frombuffer(npy[-48:], dtype="<f8").reshape(2, 3), values)
    mixed = np.array([1, "x"], dtype=object)
    assert json.loads(dumps(mixed)) == {"__type__": "ndarray", "__value__": [1, "x"]}


def test_numpy_scalars_complex_sets_and_datetimes() -> None:
    document = {
        "i64": np.int64(3),
        "i32": np.int32(4),
        "f32": np.float32(0.5),
        "flag": np.bool_(True),
        "z": 1 + 2j,
        "z64": np.complex64(1 - 1j),
        "s": {7},
        "t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    assert json.loads(dumps(document)) == {
        "i64": 3,
        "i32": 4,
        "f32": 0.5,
        "flag": True,
        "z": {"__type__": "complex", "__value__": [1.0, 2.0]},
        "z64": {"__type__": "complex", "__value__": [1.0, -1.0]},
        "s": {"__type__": "set", "__value__": [7]},
        "t": {"__type__": "datetime", "__value__": "2026-01-02T03:04:05+00:00"},
    }


def test_parameters_are_their_qpy_record_and_expressions_are_refused() -> None:
    theta = Parameter("θ")
    record = base64.standard_b64decode(json.loads(dumps(theta))["__value__"])
    assert record == len("θ".encode()).to_bytes(2, "big") + theta.uuid.bytes + "θ".encode()
    assert loads(dumps(theta)) == theta
    with pytest.raises(InvalidInputError, match="ParameterExpression"):
        dumps(2 * theta)


def test_operators_travel_as_settings_with_integer_keys_flagged() -> None:
    op = SparsePauliOp(["XZ", "YY"], [1, 2])
    encoded = json.loads(dumps(op))
    assert encoded["__type__"] == "settings"
    assert encoded["__class__"] == "SparsePauliOp"
    assert loads(dumps(op)) == op

    class Keyed:
        settings = {"table": {1: "a", "b": 2}}

    assert json.loads(dumps(Keyed()))["__value__"] == {
        "table": {"1": "a", "b": 2, "__int_keys__": True}
    }


def test_unencodable_objects_get_one_clear_error_and_callables_become_null() -> None:
    with pytest.raises(InvalidInputError, match=r"Cannot send an object of type builtins\.object"):
        dumps({"x": object()})
    with pytest.warns(UserWarning, match="sent as null"):
        assert dumps({"f": print}) == '{"f": null}'


def test_sampler_params_put_shots_in_each_pub_and_null_when_not_given() -> None:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    with pytest.warns(UserWarning, match="different numbers of shots"):
        params = sampler_params([(circuit, [[0.1], [0.2]]), (circuit, [0.3], 50)])
    assert list(params) == ["pubs", "options", "version", "support_qiskit"]
    assert [pub.shots for pub in params["pubs"]] == [None, 50]
    assert params["options"] == {}
    wire = json.loads(dumps(params))
    assert wire["pubs"][0][2] is None
    assert wire["pubs"][1][2] == 50
    assert (wire["version"], wire["support_qiskit"]) == (2, True)
    with pytest.warns(UserWarning, match="different numbers of shots"):
        run_shots = sampler_params([_bell(), (_bell(), None, 7)], shots=100)
    assert [pub.shots for pub in run_shots["pubs"]] == [100, 7]


def test_sampler_params_of_a_bare_circuit_carry_an_empty_parameter_array() -> None:
    (pub,) = json.loads(dumps(sampler_params([_bell()])))["pubs"]
    values = loads(json.dumps(pub[1]))
    assert values.shape == (0,)
    assert values.dtype == np.float64


def test_options_follow_the_services_order_not_the_callers() -> None:
    options = {
        "twirling": {"strategy": "all", "enable_gates": True},
        "default_shots": 2000.0,
        "execution": {"rep_delay": 1},
        "environment": {"log_level": "INFO"},
        "max_execution_time": 300,
        "experimental": {"twirling": {"enable_measure": True}, "custom": 1, "image": "i:1"},
    }
    params = sampler_params([_bell()], options=options)
    assert json.dumps(params["options"]) == json.dumps(
        {
            "default_shots": 2000,
            "twirling": {"enable_gates": True, "enable_measure": True, "strategy": "all"},
            "execution": {"rep_delay": 1.0},
            "experimental": {"custom": 1},
        }
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bogus": 1}, "Unknown option 'bogus'. Known options here: max_execution_time"),
        ({"twirling": {"strategy": "most"}}, "Option 'twirling.strategy' must be one of"),
        ({"twirling": 5}, "Option 'twirling' must be a dict of options"),
        ({"default_shots": "many"}, "Option 'default_shots' must be an integer >= 1"),
        ({"dynamical_decoupling": {"enable": "yes"}}, "must be True or False"),
        ({"resilience_level": 1}, "Unknown option 'resilience_level'"),
        ([("default_shots", 1)], "options must be a dict"),
    ],
)
def test_bad_sampler_options_are_refused_with_the_option_named(options: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        sampler_params([_bell()], options=options)


@pytest.mark.parametrize(
    ("pubs", "kwargs", "message"),
    [
        (_bell(), {}, "pubs must be a list of sampler pubs"),
        ((_bell(), None, 5), {}, "pubs must be a list of sampler pubs"),
        ([], {}, "pubs is empty"),
        ([_bell()], {"shots": 0}, "Sampler pub 0 is not valid: shots must be positive"),
        ([_bell(), (_bell(), [1.0])], {}, "Sampler pub 1 is not valid"),
        ([(_bell(), None, 1, 2)], {}, "The length of pub must be 1, 2 or 3"),
    ],
)
def test_bad_sampler_pubs_are_refused_with_the_pub_named(
    pubs: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        sampler_params(pubs, **kwargs)


def test_classical_registers_the_service_cannot_name_are_refused() -> None:
    circuit = QuantumCircuit(1)
    circuit.add_register(ClassicalRegister(1, "class"))
    with pytest.raises(InvalidInputError, match="'class' of sampler pub 0 is a Python keyword"):
        sampler_params([circuit])
    unmeasured = QuantumCircuit(1)
    with pytest.warns(UserWarning, match="no classical registers"):
        sampler_params([unmeasured])


def test_pubs_with_different_shots_warn() -> None:
    with pytest.warns(UserWarning, match="different numbers of shots"):
        sampler_params([(_bell(), None, 10), (_bell(), None, 20)])


def test_dynamical_decoupling_is_refused_for_dynamic_circuits() -> None:
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(0)
    assert any(isinstance(i.operation, IfElseOp) for i in circuit.data)
    with pytest.raises(InvalidInputError, match="Dynamical decoupling cannot be used"):
        sampler_params([circuit], options={"dynamical_decoupling": {"enable": True}})
    sampler_params([circuit], options={"dynamical_decoupling": {"enable": False}})


def test_estimator_params_carry_observables_precision_and_resilience_level() -> None:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    with pytest.warns(UserWarning, match="different precisions"):
        params = estimator_params(
            [(circuit, ["ZZ", "XX"]), (circuit, SparsePauliOp(["ZZ", "XI"], [1, 0.5]), None, 0.1)],
            precision=0.02,
            resilience_level=1,
            options={"default_shots": None},
        )
    assert list(params) == ["pubs", "options", "version", "support_qiskit", "resilience_level"]
    assert params["resilience_level"] == 1
    assert params["options"] == {"default_shots": None}
    wire = json.loads(dumps(params))
    assert wire["pubs"][0][1] == [{"ZZ": 1.0}, {"XX": 1.0}]
    assert wire["pubs"][1][1] == {"ZZ": 1.0, "XI": 0.5}
    assert [pub[3] for pub in wire["pubs"]] == [0.02, 0.1]


@pytest.mark.parametrize(
    ("pubs", "kwargs", "message"),
    [
        ([(_bell(), "ZZ")], {"precision": 0}, "precision must be a number > 0"),
        ([(_bell(), [])], {}, "empty list of observables"),
        ([(_bell(), "Z+")], {}, "'Z\\+' of estimator pub 0 is not a Pauli string"),
        ([(_bell(), "ZZ")], {"resilience_level": 3}, "'resilience_level' must be an integer"),
        (
            [(_bell(), "ZZ")],
            {"resilience_level": 1, "options": {"resilience_level": 2}},
            "contradicts",
        ),
        (
            [(_bell(), "ZZ")],
            {"options": {"resilience": {"measure_noise_learning": {"num_randomizations": 2}}}},
            "'resilience.measure_mitigation' is not True",
        ),
        (
            [(_bell(), "ZZ")],
            {"options": {"resilience": {"zne": {"noise_factors": [1], "extrapolator": "linear"}}}},
            "needs at least 2",
        ),
        (
            [(_bell(), "ZZ")],
            {"options": {"resilience": {"pec_mitigation": True, "zne_mitigation": True}}},
            "cannot both be True",
        ),
    ],
)
def test_bad_estimator_input_is_refused(pubs: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        estimator_params(pubs, **kwargs)


def test_coerced_pubs_pass_through_unchanged() -> None:
    pub = SamplerPub.coerce(_bell(), 123)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sampler_params([pub])["pubs"] == [pub]
