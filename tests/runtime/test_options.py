"""Primitive options: what a person sets is what the job request carries, nothing more."""

from __future__ import annotations

import pytest

from jupyter_qrt.runtime._primitive_options import program_options as settle
from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.options import EstimatorOptions, Options, SamplerOptions, runtime_fields


def program_options(options: Options) -> dict[str, object]:
    """What ``params.options`` of the job will hold."""
    program, _ = settle("sampler", options.to_dict())
    return dict(program)


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


def test_reading_an_unset_group_does_not_send_it() -> None:
    options = EstimatorOptions()
    _ = options.resilience.zne_mitigation
    assert options.to_dict() == {}


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("default_shots", 0, "positive integer"),
        ("default_shots", 1.5, "positive integer"),
        ("max_execution_time", 99999, "10800"),
        ("resilience_level", 3, "0, 1 or 2"),
        ("default_precision", -1, "> 0"),
    ],
)
def test_bad_values_are_refused_with_the_accepted_range(
    key: str, value: object, words: str
) -> None:
    options = EstimatorOptions()
    with pytest.raises(InvalidInputError, match=words):
        setattr(options, key, value)
    assert options.to_dict() == {}


def test_unknown_option_names_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match="default_shots") as info:
        SamplerOptions({"shots": 10})
    assert "no option 'shots'" in str(info.value)
    with pytest.raises(InvalidInputError, match="job_tags"):
        SamplerOptions().environment.tag = ["x"]


def test_sampler_has_no_precision() -> None:
    with pytest.raises(InvalidInputError, match="no option 'default_precision'"):
        SamplerOptions().default_precision = 0.1
