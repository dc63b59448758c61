"""V2 primitive options: validate a plain dict and turn it into the ``options`` of a job.

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
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, Literal

from jupyter_qrt.runtime.errors import InvalidInputError

__all__ = [
    "NONE_IS_A_VALUE",
    "SCHEMAS",
    "PrimitiveKind",
    "Schema",
    "option_error",
    "program_options",
    "unknown_option",
]

PrimitiveKind = Literal["sampler", "estimator"]
Check = Callable[[str, Any], Any]
Schema = dict[str, "Check | Schema"]


class _UnsetMarker:
    """Stands for an option nobody set (``None`` is a value some options take)."""

    def __repr__(self) -> str:
        return "<unset>"

    def __deepcopy__(self, memo: dict[int, Any]) -> _UnsetMarker:
        return self  # one marker, so identity checks survive deep copies


_UNSET = _UnsetMarker()


def option_error(name: str, expected: str, value: Any) -> InvalidInputError:
    """The error for option ``name`` (a dotted path) holding a ``value`` it does not take."""
    return InvalidInputError(f"Option {name!r} must be {expected}, not {value!r}.")


def unknown_option(schema: Schema, name: str) -> InvalidInputError:
    """The error for an option ``name`` (a dotted path) that its section ``schema`` lacks."""
    prefix = name.rpartition(".")[0]
    prefix += "." if prefix else ""
    return InvalidInputError(
        f"Unknown option {name!r}. Known options here: {_section_names(schema, prefix)}."
    )


def _numpy_types(*names: str) -> tuple[type, ...]:
    # A numpy value can only exist once numpy is imported, so there is no need to import it
    # here (this module is on the import path of ``jupyter_qrt.runtime``, which must stay light).
    numpy = sys.modules.get("numpy")
    return tuple(getattr(numpy, name) for name in names) if numpy is not None else ()


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, *_numpy_types("bool_")))


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not _is_bool(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not _is_bool(value)


def _bool(name: str, value: Any) -> bool:
    if _is_bool(value):
        return bool(value)
    raise option_error(name, "True or False", value)


def _optional_bool(name: str, value: Any) -> bool | None:
    return None if value is None else _bool(name, value)


def _int(
    minimum: int | None = None,
    *,
    maximum: int | None = None,
    none_ok: bool = False,
    auto_ok: bool = False,
) -> Check:
    expected = "an integer" + (f" >= {minimum}" if minimum is not None else "")
    expected += f" <= {maximum}" if maximum is not None else ""
    expected += " or None" if none_ok else ""
    expected += ' or "auto"' if auto_ok else ""

    def check(name: str, value: Any) -> Any:
        if (value is None and none_ok) or (auto_ok and isinstance(value, str) and value == "auto"):
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if (
            not _is_int(value)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            raise option_error(name, expected, value)
        return int(value)

    return check


def _float(
    *,
    gt: float | None = None,
    ge: float | None = None,
    none_ok: bool = False,
    auto_ok: bool = False,
) -> Check:
    expected = "a number"
    expected += f" > {gt}" if gt is not None else ""
    expected += f" >= {ge}" if ge is not None else ""
    expected += " or None" if none_ok else ""
    expected += ' or "auto"' if auto_ok else ""

    def check(name: str, value: Any) -> Any:
        if (value is None and none_ok) or (auto_ok and isinstance(value, str) and value == "auto"):
            return value
        if (
            not _is_real(value)
            or (gt is not None and not value > gt)
            or (ge is not None and not value >= ge)
        ):
            raise option_error(name, expected, value)
        # the official client declares these as float: 1 goes on the wire as 1.0
        return float(value)

    return check


def _one_of(*choices: str, none_ok: bool = False) -> Check:
    expected = "one of " + ", ".join(repr(c) for c in choices)

    def check(name: str, value: Any) -> Any:
        if (value is None and none_ok) or (isinstance(value, str) and value in choices):
            return value
        raise option_error(name, expected, value)

    return check


def _is_sequence(value: Any) -> bool:
    sequences = (Sequence, *_numpy_types("ndarray"))
    return isinstance(value, sequences) and not isinstance(value, str | bytes)


def _sequence(item: Check, expected: str) -> Check:
    def check(name: str, value: Any) -> Any:
        if not _is_sequence(value):
            raise option_error(name, expected, value)
        return [item(name, v) for v in value]

    return check


def _extrapolator(name: str, value: Any) -> Any:
    check = _one_of(*_NOISE_FACTORS_NEEDED)
    if isinstance(value, str):
        return check(name, value)
    return _sequence(check, "an extrapolator name or a list of them")(name, value)


def _coupling_map(name: str, value: Any) -> Any:
    if hasattr(value, "get_edges"):  # a qiskit CouplingMap; the service wants its edges
        return [list(edge) for edge in value.get_edges()]
    edge = _sequence(_int(0), "a list of qubit indices")
    return _sequence(edge, "a list of [qubit, qubit] edges")(name, value)


def _any(name: str, value: Any) -> Any:
    return value


def _gate_name(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise option_error(name, "a list of gate names", value)


def _job_tags(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(tag, str) and tag for tag in value):
        return list(value)
    raise option_error(name, "a list of non-empty strings", value)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(name: str, value: Any) -> str:
    # the service takes upper case; "info" is what people type
    if isinstance(value, str) and value.upper() in _LOG_LEVELS:
        return value.upper()
    raise option_error(name, "one of " + ", ".join(repr(level) for level in _LOG_LEVELS), value)


def _noise_model(name: str, value: Any) -> Any:
    if value is None or isinstance(value, dict) or hasattr(value, "to_dict"):
        return value
    raise option_error(name, "a dict or a qiskit_aer NoiseModel", value)


# how many noise factors each extrapolator needs to fit
_NOISE_FACTORS_NEEDED = {
    "linear": 2,
    "exponential": 2,
    "double_exponential": 4,
    "fallback": 2,
    **{f"polynomial_degree_{k}": k + 1 for k in range(1, 8)},
}

_ENVIRONMENT: Schema = {
    "log_level": _log_level,
    "job_tags": _job_tags,
    "private": _optional_bool,
}
_SIMULATOR: Schema = {
    "noise_model": _noise_model,
    "seed_simulator": _int(),
    "coupling_map": _coupling_map,
    "basis_gates": _sequence(_gate_name, "a list of gate names"),
}
_DYNAMICAL_DECOUPLING: Schema = {
    "enable": _bool,
    "sequence_type": _one_of("XX", "XpXm", "XY4"),
    "extra_slack_distribution": _one_of("middle", "edges"),
    "scheduling_method": _one_of("alap", "asap"),
    "skip_reset_qubits": _bool,
}
_EXECUTION: Schema = {"init_qubits": _bool, "rep_delay": _float()}
_TWIRLING: Schema = {
    "enable_gates": _bool,
    "enable_measure": _bool,
    "num_randomizations": _int(1, auto_ok=True),
    "shots_per_randomization": _int(1, auto_ok=True),
    "strategy": _one_of("active", "active-accum", "active-circuit", "all"),
}
_RESILIENCE: Schema = {
    "measure_mitigation": _bool,
    "measure_noise_learning": {
        "num_randomizations": _int(1),
        "shots_per_randomization": _int(1, auto_ok=True),
    },
    "zne_mitigation": _bool,
    "zne": {
        "amplifier": _one_of("gate_folding", "gate_folding_front", "gate_folding_back", "pea"),
        "noise_factors": _sequence(_float(ge=1), "a list of numbers >= 1"),
        "extrapolator": _extrapolator,
        "extrapolated_noise_factors": _sequence(_float(), "a list of numbers"),
    },
    "pec_mitigation": _bool,
    "pec": {
        "max_overhead": _float(gt=0, none_ok=True),
        "noise_gain": _float(ge=0, auto_ok=True),
    },
    "layer_noise_learning": {
        "max_layers_to_learn": _int(0, none_ok=True),
        "shots_per_randomization": _int(1),
        "num_randomizations": _int(1),
        "layer_pair_depths": _sequence(_int(0), "a list of integers >= 0"),
    },
    "layer_noise_model": _any,
}


def _experimental(name: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    raise option_error(name, "a dict", value)


_COMMON_HEAD: Schema = {
    # whole seconds; the service refuses a ``cost`` above 10800
    "max_execution_time": _int(1, maximum=10800),
    "environment": _ENVIRONMENT,
    "simulator": _SIMULATOR,
}
SCHEMAS: dict[PrimitiveKind, Schema] = {
    "sampler": {
        **_COMMON_HEAD,
        "default_shots": _int(1),
        "dynamical_decoupling": _DYNAMICAL_DECOUPLING,
        "execution": {**_EXECUTION, "meas_type": _one_of("classified", "kerneled", "avg_kerneled")},
        "twirling": _TWIRLING,
        "experimental": _experimental,
    },
    "estimator": {
        **_COMMON_HEAD,
        "default_precision": _float(gt=0),
        "default_shots": _int(0, none_ok=True),
        "resilience_level": _int(0, maximum=2),
        "seed_estimator": _int(),
        "dynamical_decoupling": _DYNAMICAL_DECOUPLING,
        "resilience": _RESILIENCE,
        "execution": _EXECUTION,
        "twirling": _TWIRLING,
        "experimental": _experimental,
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
        needed = _NOISE_FACTORS_NEEDED[name]
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
