"""Primitive options: what a person sets is what the job request carries, nothing more.

An option is checked once, by one set of rules: a value accepted when it is set is accepted when
the job is built (``run()`` builds its params from ``options.to_dict()`` with
``sampler_params``/``estimator_params``), and a value refused at ``run()`` is refused when set.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qiskit.circuit import QuantumCircuit

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.wire.encoding import estimator_params, sampler_params
from jupyter_qrt.runtime.wire.options import (
    EstimatorOptions,
    Options,
    SamplerOptions,
    runtime_fields,
)
from jupyter_qrt.runtime.wire.primitive_options import SCHEMAS, PrimitiveKind, Schema
from jupyter_qrt.runtime.wire.primitive_options import program_options as settle


def program_options(options: Options) -> dict[str, object]:
    """What ``params.options`` of the job will hold."""
    program, _ = settle("sampler", options.to_dict())
    return dict(program)


def _bell(*, measured: bool = True) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measured:
        circuit.measure_all()
    return circuit


def test_unset_options_send_nothing_but_the_default_log_level() -> None:
    options = SamplerOptions()
    assert program_options(options) == {}
    assert runtime_fields(options) == {"log_level": "WARNING"}


def test_nested_attributes_and_dicts_end_up_in_the_official_places() -> None:
    options = SamplerOptions({"default_shots": 2000, "environment": {"job_tags": ["t1"]}})
    options.twirling.enable_gates = True
    options.dynamical_decoupling.enable = True
    options.dynamical_decoupling.sequence_type = "XY4"
    options.simulator.seed_simulator = 42
    options.environment.log_level = "info"
    options.max_execution_time = 300
    assert program_options(options) == {
        "default_shots": 2000,
        "dynamical_decoupling": {"enable": True, "sequence_type": "XY4"},
        "twirling": {"enable_gates": True},
        "simulator": {"seed_simulator": 42},
    }
    assert list(program_options(options)) == [
        "default_shots",
        "dynamical_decoupling",
        "twirling",
        "simulator",
    ]
    assert runtime_fields(options) == {"log_level": "INFO", "tags": ["t1"], "cost": 300}


def test_an_experimental_image_is_the_jobs_runtime_not_a_program_option() -> None:
    """As in the official client: experimental.image goes to the body's runtime field."""
    options = SamplerOptions({"experimental": {"image": "sampler:dev", "foo": 1}})
    assert runtime_fields(options) == {"runtime": "sampler:dev", "log_level": "WARNING"}
    assert program_options(options) == {"experimental": {"foo": 1}}


def test_log_level_is_upper_cased_when_set() -> None:
    options = SamplerOptions()
    options.environment.log_level = "info"
    assert options.environment.log_level == "INFO"
    assert SamplerOptions({"environment": {"log_level": "debug"}}).environment.log_level == "DEBUG"
    with pytest.raises(InvalidInputError, match=r"'environment\.log_level' must be one of"):
        options.environment.log_level = "loud"
    assert options.environment.log_level == "INFO"


def test_reading_an_unset_group_does_not_send_it() -> None:
    options = EstimatorOptions()
    _ = options.resilience.zne_mitigation
    assert options.to_dict() == {}


def test_reading_an_unset_option_gives_none() -> None:
    options = EstimatorOptions()
    assert options.default_shots is None
    assert options.twirling.enable_gates is None
    assert options.resilience.zne.noise_factors is None
    assert options.experimental is None  # a dict option, not a section
    if options.max_execution_time:  # the usual test for "was it set?"
        pytest.fail("an unset option reads as true")
    assert isinstance(options.twirling, Options)  # sections read as their group, to set into
    assert options.to_dict() == {}


@pytest.mark.parametrize("name", ["default_shots", "max_execution_time"])
def test_assigning_none_unsets_and_run_accepts_it(name: str) -> None:
    options = SamplerOptions({name: 100})
    setattr(options, name, None)
    assert getattr(options, name) is None
    assert options.to_dict() == {}
    params = sampler_params([_bell()], options=options.to_dict())  # what Sampler.run() does
    assert params["options"] == {}
    assert "cost" not in runtime_fields(options)


def test_assigning_none_to_a_section_clears_it() -> None:
    options = SamplerOptions({"twirling": {"enable_gates": True}, "default_shots": 10})
    options.twirling = None
    assert options.to_dict() == {"default_shots": 10}


def test_none_means_no_limit_where_the_service_says_so() -> None:
    options = EstimatorOptions()
    options.resilience.pec.max_overhead = None
    options.resilience.layer_noise_learning.max_layers_to_learn = None
    expected = {
        "pec": {"max_overhead": None},
        "layer_noise_learning": {"max_layers_to_learn": None},
    }
    assert options.to_dict() == {"resilience": expected}
    params = estimator_params([(_bell(measured=False), "ZZ")], options=options.to_dict())
    assert params["options"] == {"resilience": expected}
    del options.resilience.pec.max_overhead
    assert "pec" not in options.to_dict()["resilience"]


def test_a_value_run_would_refuse_is_refused_when_set() -> None:
    options = SamplerOptions()
    with pytest.raises(InvalidInputError, match=r"'twirling\.enable_gates' must be True or False"):
        options.twirling.enable_gates = "yes"
    with pytest.raises(InvalidInputError, match=r"'environment\.job_tags'"):
        options.environment.job_tags = ["ok", ""]
    with pytest.raises(InvalidInputError, match="'twirling' must be a dict of options"):
        options.twirling = True
    assert options.to_dict() == {}


def test_estimator_takes_zero_default_shots_and_sampler_does_not() -> None:
    estimator = EstimatorOptions()
    estimator.default_shots = 0  # the official client's rule: 0 means "use the precision"
    params = estimator_params([(_bell(measured=False), "ZZ")], options=estimator.to_dict())
    assert params["options"] == {"default_shots": 0}
    sampler = SamplerOptions()
    with pytest.raises(InvalidInputError, match="'default_shots' must be an integer >= 1"):
        sampler.default_shots = 0


def test_values_are_stored_as_the_service_receives_them() -> None:
    options = EstimatorOptions({"default_precision": 1, "execution": {"rep_delay": 1}})
    options.environment.job_tags = ("a", "b")
    assert options.to_dict() == {
        "default_precision": 1.0,
        "execution": {"rep_delay": 1.0},
        "environment": {"job_tags": ["a", "b"]},
    }


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("default_shots", -1, "integer >= 0"),
        ("default_shots", 1.5, "integer >= 0"),
        ("max_execution_time", 99999, "10800"),
        ("max_execution_time", 0, ">= 1"),
        ("resilience_level", 3, "<= 2"),
        ("default_precision", -1, "> 0"),
        ("seed_estimator", True, "an integer"),
    ],
)
def test_bad_values_are_refused_with_the_accepted_range(
    key: str, value: object, words: str
) -> None:
    options = EstimatorOptions()
    with pytest.raises(InvalidInputError, match=words):
        setattr(options, key, value)
    assert options.to_dict() == {}


def test_an_array_is_refused_where_a_number_or_auto_is_wanted() -> None:
    import numpy as np

    with pytest.raises(InvalidInputError, match="default_shots"):
        SamplerOptions().default_shots = np.array([1, 2])
    with pytest.raises(InvalidInputError, match="default_precision"):
        EstimatorOptions().default_precision = np.array([0.1, 0.2])


def test_deleting_a_mistyped_option_says_so() -> None:
    options = SamplerOptions({"default_shots": 10})
    with pytest.raises(InvalidInputError, match="Unknown option 'defualt_shots'"):
        del options.defualt_shots
    del options.default_shots
    assert options.to_dict() == {}


def test_a_bad_update_changes_nothing() -> None:
    options = SamplerOptions({"default_shots": 10})
    with pytest.raises(InvalidInputError, match=r"'twirling\.strategy'"):
        options.update({"default_shots": 20, "twirling": {"strategy": "most"}})
    with pytest.raises(InvalidInputError, match="Unknown option 'shots'"):
        SamplerOptions().update({"default_shots": 20, "shots": 5})
    assert options.to_dict() == {"default_shots": 10}
    options.update({"twirling": {"enable_gates": True}})
    options.update({"twirling": {"strategy": "all"}})  # merged into the section, not replacing it
    assert options.to_dict()["twirling"] == {"enable_gates": True, "strategy": "all"}


def test_unknown_option_names_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match="default_shots") as info:
        SamplerOptions({"shots": 10})
    assert "Unknown option 'shots'" in str(info.value)
    with pytest.raises(InvalidInputError, match=r"environment\.job_tags"):
        SamplerOptions().environment.tag = ["x"]
    with pytest.raises(InvalidInputError, match=r"twirling\.enable_gates"):
        _ = SamplerOptions().twirling.enable_gate


def test_sampler_has_no_precision() -> None:
    with pytest.raises(InvalidInputError, match="Unknown option 'default_precision'"):
        SamplerOptions().default_precision = 0.1


# -- one validator: setting an option and building the job agree on every value ------------------


def _leaves(schema: Schema, prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, spec in schema.items():
        if isinstance(spec, dict):
            out += _leaves(spec, f"{prefix}{key}.")
        else:
            out.append(prefix + key)
    return out


def _nested(path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {head: _nested(rest, value) if rest else value}


# resilience options also have rules between them (checked at run): leave them to their own tests
_KINDS: list[PrimitiveKind] = ["sampler", "estimator"]
_PATHS = [
    (kind, path) for kind in _KINDS for path in _leaves(SCHEMAS[kind]) if "resilience." not in path
]
_VALUES = st.one_of(
    st.booleans(),
    st.integers(-2, 20_000),
    st.floats(-2, 3, allow_nan=False),
    st.sampled_from(["auto", "yes", "INFO", "info", "XY4", "all", "alap", "middle", "classified"]),
    st.lists(st.sampled_from(["t1", "", "cx", 1, [0, 1]]), max_size=3),
    st.dictionaries(st.sampled_from(["foo", "image"]), st.integers(0, 3), max_size=2),
)


@given(target=st.sampled_from(_PATHS), value=_VALUES)
def test_what_is_accepted_when_set_is_accepted_at_run(
    target: tuple[PrimitiveKind, str], value: Any
) -> None:
    kind, path = target
    options: Options = SamplerOptions() if kind == "sampler" else EstimatorOptions()
    *sections, name = path.split(".")
    group: Any = options
    for section in sections:
        group = getattr(group, section)
    try:
        settled = settle(kind, _nested(path, value))
    except InvalidInputError:
        with pytest.raises(InvalidInputError):
            setattr(group, name, value)
        assert options.to_dict() == {}
        return
    setattr(group, name, value)
    assert settle(kind, options.to_dict()) == settled
