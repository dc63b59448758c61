"""Primitive options: validate a plain dict and turn it into the ``options`` of a job.

The service takes ``params.options`` as nested JSON holding only what the user set. The
official client builds it from its option dataclasses, so key order follows the order the
fields are declared in, whatever order the user wrote them in; ``experimental`` entries that
name a known section are merged into it, the rest stay under ``experimental``; empty sections
vanish. We reproduce that from the field tables below (names and order are the API's facts, the
validation is ours: strict where the official client would coerce odd input such as
``"yes"`` for ``True``, and one clear message naming the option).

These tables are the only option rules: :class:`~jupyter_qrt.runtime.options.Options` checks each
value against them when it is set, and :func:`program_options` checks the whole tree again when
a job is built, so an option accepted on assignment is never refused at ``run()``.

The executor's options (:data:`SCHEMAS` ``["executor"]``, the names of qiskit-ibm-runtime's
``ExecutorOptions``) are checked by the same table; its job options are written by
:mod:`.program`, not by :func:`program_options`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from jupyter_qrt.runtime.errors import InvalidInputError

from .option_checks import (
    NOISE_FACTORS_NEEDED,
    Check,
    a_bool,
    a_coupling_map,
    a_dict,
    a_float,
    a_gate_name,
    a_json_dict,
    a_log_level,
    a_noise_model,
    a_sequence,
    an_extrapolator,
    an_image,
    an_int,
    an_optional_bool,
    any_value,
    job_tags,
    one_of,
    option_error,
)

__all__ = [
    "NONE_IS_A_VALUE",
    "SCHEMAS",
    "OptionsKind",
    "PrimitiveKind",
    "Schema",
    "option_error",
    "program_options",
    "unknown_option",
]

PrimitiveKind = Literal["sampler", "estimator"]
OptionsKind = Literal["sampler", "estimator", "executor"]
Schema = dict[str, "Check | Schema"]


class _UnsetMarker:
    """Stands for an option nobody set (``None`` is a value some options take)."""

    def __repr__(self) -> str:
        return "<unset>"

    def __deepcopy__(self, memo: dict[int, Any]) -> _UnsetMarker:
        return self  # one marker, so identity checks survive deep copies


_UNSET = _UnsetMarker()


def unknown_option(schema: Schema, name: str) -> InvalidInputError:
    """The error for an option ``name`` (a dotted path) that its section ``schema`` lacks."""
    prefix = name.rpartition(".")[0]
    prefix += "." if prefix else ""
    return InvalidInputError(
        f"Unknown option {name!r}. Known options here: {_section_names(schema, prefix)}."
    )


_ENVIRONMENT: Schema = {
    "log_level": a_log_level,
    "job_tags": job_tags,
    "private": an_optional_bool,
}
_SIMULATOR: Schema = {
    "noise_model": a_noise_model,
    "seed_simulator": an_int(),
    "coupling_map": a_coupling_map,
    "basis_gates": a_sequence(a_gate_name, "a list of gate names"),
}
_DYNAMICAL_DECOUPLING: Schema = {
    "enable": a_bool,
    "sequence_type": one_of("XX", "XpXm", "XY4"),
    "extra_slack_distribution": one_of("middle", "edges"),
    "scheduling_method": one_of("alap", "asap"),
    "skip_reset_qubits": a_bool,
}
_EXECUTION: Schema = {"init_qubits": a_bool, "rep_delay": a_float()}
_TWIRLING: Schema = {
    "enable_gates": a_bool,
    "enable_measure": a_bool,
    "num_randomizations": an_int(1, auto_ok=True),
    "shots_per_randomization": an_int(1, auto_ok=True),
    "strategy": one_of("active", "active-accum", "active-circuit", "all"),
}
_RESILIENCE: Schema = {
    "measure_mitigation": a_bool,
    "measure_noise_learning": {
        "num_randomizations": an_int(1),
        "shots_per_randomization": an_int(1, auto_ok=True),
    },
    "zne_mitigation": a_bool,
    "zne": {
        "amplifier": one_of("gate_folding", "gate_folding_front", "gate_folding_back", "pea"),
        "noise_factors": a_sequence(a_float(ge=1), "a list of numbers >= 1"),
        "extrapolator": an_extrapolator,
        "extrapolated_noise_factors": a_sequence(a_float(), "a list of numbers"),
    },
    "pec_mitigation": a_bool,
    "pec": {
        "max_overhead": a_float(gt=0, none_ok=True),
        "noise_gain": a_float(ge=0, auto_ok=True),
    },
    "layer_noise_learning": {
        "max_layers_to_learn": an_int(0, none_ok=True),
        "shots_per_randomization": an_int(1),
        "num_randomizations": an_int(1),
        "layer_pair_depths": a_sequence(an_int(0), "a list of integers >= 0"),
    },
    "layer_noise_model": any_value,
}


_COMMON_HEAD: Schema = {
    # whole seconds; the service refuses a ``cost`` above 10800
    "max_execution_time": an_int(1, maximum=10800),
    "environment": _ENVIRONMENT,
    "simulator": _SIMULATOR,
}
SCHEMAS: dict[OptionsKind, Schema] = {
    "sampler": {
        **_COMMON_HEAD,
        "default_shots": an_int(1),
        "dynamical_decoupling": _DYNAMICAL_DECOUPLING,
        "execution": {**_EXECUTION, "meas_type": one_of("classified", "kerneled", "avg_kerneled")},
        "twirling": _TWIRLING,
        "experimental": a_dict,
    },
    "estimator": {
        **_COMMON_HEAD,
        "default_precision": a_float(gt=0),
        "default_shots": an_int(0, none_ok=True),
        "resilience_level": an_int(0, maximum=2),
        "seed_estimator": an_int(),
        "dynamical_decoupling": _DYNAMICAL_DECOUPLING,
        "resilience": _RESILIENCE,
        "execution": _EXECUTION,
        "twirling": _TWIRLING,
        "experimental": a_dict,
    },
    # qiskit-ibm-runtime's ExecutorOptions, in its order (its ``simulator`` section only
    # configures that client's local mode and never reaches a service: it is left out).
    # ``environment`` and ``max_execution_time`` go to the job request; ``execution`` and
    # ``experimental`` (JSON, sent as given) to ``params.options``.
    "executor": {
        "environment": {**_ENVIRONMENT, "image": an_image},
        "execution": {
            "init_qubits": a_bool,
            "rep_delay": a_float(),
            "scheduler_timing": a_bool,
            "stretch_values": a_bool,
        },
        "experimental": a_json_dict,
        "max_execution_time": _COMMON_HEAD["max_execution_time"],
    },
}
# Options for which ``None`` is a setting of its own ("no limit", sent as null), not "unset".
NONE_IS_A_VALUE = frozenset(
    {"resilience.pec.max_overhead", "resilience.layer_noise_learning.max_layers_to_learn"}
)
# The sections that go to the service, in the order it receives them.
_PROGRAM_FIELDS = (
    "default_precision",
    "default_shots",
    "seed_estimator",
    "dynamical_decoupling",
    "resilience",
    "twirling",
    "simulator",
    "execution",
)


def _blank(schema: Schema) -> dict[str, Any]:
    return {k: _blank(v) if isinstance(v, dict) else _UNSET for k, v in schema.items()}


def _section_names(schema: Schema, prefix: str) -> str:
    return ", ".join(prefix + name for name in schema)


def _overlay(schema: Schema, tree: dict[str, Any], given: Mapping[str, Any], prefix: str) -> None:
    """Write the validated ``given`` values into ``tree`` (declaration order is kept)."""
    for key, value in given.items():
        name = f"{prefix}{key}"
        if key not in schema:
            raise unknown_option(schema, name)
        spec = schema[key]
        if isinstance(spec, dict):
            if value is None:  # the official client treats None as "leave the section alone"
                continue
            if not isinstance(value, Mapping):
                raise option_error(name, "a dict of options", value)
            _overlay(spec, tree[key], value, f"{name}.")
        else:
            tree[key] = spec(name, value)


def _merge_experimental(target: dict[str, Any], extra: dict[str, Any], prefix: str) -> None:
    """Merge ``experimental`` entries into known sections, as the service's client does."""
    for key, value in list(target.items()):
        if key not in extra:
            continue
        incoming = extra.pop(key)
        if isinstance(value, dict):
            if not incoming:
                continue
            if not isinstance(incoming, Mapping):
                raise option_error(f"experimental.{prefix}{key}", "a dict", incoming)
            _merge_experimental(value, dict(incoming), f"{prefix}{key}.")
        else:
            target[key] = incoming
    target.update(extra)


def _strip(tree: dict[str, Any]) -> None:
    """Drop unset values, then empty sections (recursively), like the official client."""
    for key, value in list(tree.items()):
        if value is _UNSET:
            del tree[key]
        elif isinstance(value, dict):
            _strip(value)
            if not value:
                del tree[key]


def _check_resilience(resilience: dict[str, Any]) -> None:
    learning_set = any(v is not _UNSET for v in resilience["measure_noise_learning"].values())
    if learning_set and resilience["measure_mitigation"] is not True:
        raise InvalidInputError(
            "Options 'resilience.measure_noise_learning' are set but "
            "'resilience.measure_mitigation' is not True: set it to True, or drop them."
        )
    if resilience["pec_mitigation"] is True and resilience["zne_mitigation"] is True:
        raise InvalidInputError(
            "Options 'resilience.pec_mitigation' and 'resilience.zne_mitigation' cannot both be "
            "True: choose one."
        )
    zne = resilience["zne"]
    factors = zne["noise_factors"] if zne["noise_factors"] is not _UNSET else [1, 3, 5]
    extrapolators = zne["extrapolator"]
    if extrapolators is _UNSET:
        extrapolators = ["exponential", "linear"]
    elif isinstance(extrapolators, str):
        extrapolators = [extrapolators]
    for name in extrapolators:
        needed = NOISE_FACTORS_NEEDED[name]
        if len(factors) < needed:
            raise InvalidInputError(
                f"Extrapolator {name!r} needs at least {needed} 'resilience.zne.noise_factors', "
                f"got {len(factors)}: add noise factors or choose another extrapolator."
            )


def program_options(
    kind: PrimitiveKind, options: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``options`` of a ``kind`` primitive and return ``(program, settled)``.

    ``program`` is what goes into ``params.options`` (only what was set, in the service's
    order). ``settled`` is the whole validated tree, for what depends on an option
    (``resilience_level``, ``dynamical_decoupling.enable``); unset values in it are absent.
    The settings that travel outside ``params`` (tags, ``max_execution_time``, ...) are
    :func:`jupyter_qrt.runtime.options.runtime_fields`.

    Raises
    ------
    InvalidInputError
        Unknown option, a value of the wrong type or range, or options that contradict each
        other.
    """
    if options is not None and not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options must be a dict such as {{'default_shots': 1000}}, not {type(options)}."
        )
    schema = SCHEMAS[kind]
    tree = _blank(schema)
    _overlay(schema, tree, options or {}, "")
    if kind == "estimator":
        _check_resilience(tree["resilience"])

    program = copy.deepcopy({name: tree[name] for name in _PROGRAM_FIELDS if name in tree})
    experimental = tree["experimental"]
    if isinstance(experimental, dict):
        extra = copy.deepcopy(experimental)
        unknown = {key: extra.pop(key) for key in list(extra) if key not in program}
        _merge_experimental(program, extra, "")
        if unknown:
            program["experimental"] = unknown
    # the runtime image is a job setting, never a program option
    if isinstance(program.get("experimental"), dict):
        program["experimental"].pop("image", None)
    _strip(program)
    _strip(tree)
    return program, tree
