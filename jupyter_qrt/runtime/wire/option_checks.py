"""Checks of one option value: the building blocks of the option tables.

Each check takes the option's dotted name and a value, and returns the value to keep (normalised,
e.g. a numpy integer as ``int``) or raises :func:`option_error`: one clear message naming the
option and what it takes. :mod:`.primitive_options` builds the table of every option from them.
"""

from __future__ import annotations

import copy
import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

from jupyter_qrt.runtime.errors import InvalidInputError

Check = Callable[[str, Any], Any]
"""A check of one option value: ``check(dotted_name, value) -> value to keep``."""

# how many noise factors each extrapolator needs to fit
NOISE_FACTORS_NEEDED = {
    "linear": 2,
    "exponential": 2,
    "double_exponential": 4,
    "fallback": 2,
    **{f"polynomial_degree_{k}": k + 1 for k in range(1, 8)},
}


def option_error(name: str, expected: str, value: Any) -> InvalidInputError:
    """The error for option ``name`` (a dotted path) holding a ``value`` it does not take."""
    return InvalidInputError(f"Option {name!r} must be {expected}, not {value!r}.")


def numpy_types(*names: str) -> tuple[type, ...]:
    # A numpy value can only exist once numpy is imported, so there is no need to import it
    # here (this module is on the import path of ``jupyter_qrt.runtime``, which must stay light).
    numpy = sys.modules.get("numpy")
    return tuple(getattr(numpy, name) for name in names) if numpy is not None else ()


def is_bool(value: Any) -> bool:
    return isinstance(value, (bool, *numpy_types("bool_")))


def is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not is_bool(value)


def is_real(value: Any) -> bool:
    return isinstance(value, Real) and not is_bool(value)


def a_bool(name: str, value: Any) -> bool:
    if is_bool(value):
        return bool(value)
    raise option_error(name, "True or False", value)


def an_optional_bool(name: str, value: Any) -> bool | None:
    return None if value is None else a_bool(name, value)


def an_int(
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
            not is_int(value)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            raise option_error(name, expected, value)
        return int(value)

    return check


def a_float(
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
            not is_real(value)
            or (gt is not None and not value > gt)
            or (ge is not None and not value >= ge)
        ):
            raise option_error(name, expected, value)
        # the official client declares these as float: 1 goes on the wire as 1.0
        return float(value)

    return check


def one_of(*choices: str, none_ok: bool = False) -> Check:
    expected = "one of " + ", ".join(repr(c) for c in choices)

    def check(name: str, value: Any) -> Any:
        if (value is None and none_ok) or (isinstance(value, str) and value in choices):
            return value
        raise option_error(name, expected, value)

    return check


def is_sequence(value: Any) -> bool:
    sequences = (Sequence, *numpy_types("ndarray"))
    return isinstance(value, sequences) and not isinstance(value, str | bytes)


def a_sequence(item: Check, expected: str) -> Check:
    def check(name: str, value: Any) -> Any:
        if not is_sequence(value):
            raise option_error(name, expected, value)
        return [item(name, v) for v in value]

    return check


def an_extrapolator(name: str, value: Any) -> Any:
    check = one_of(*NOISE_FACTORS_NEEDED)
    if isinstance(value, str):
        return check(name, value)
    return a_sequence(check, "an extrapolator name or a list of them")(name, value)


def a_coupling_map(name: str, value: Any) -> Any:
    if hasattr(value, "get_edges"):  # a qiskit CouplingMap; the service wants its edges
        return [list(edge) for edge in value.get_edges()]
    edge = a_sequence(an_int(0), "a list of qubit indices")
    return a_sequence(edge, "a list of [qubit, qubit] edges")(name, value)


def any_value(name: str, value: Any) -> Any:
    return value


def a_gate_name(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise option_error(name, "a list of gate names", value)


def job_tags(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(tag, str) and tag for tag in value):
        return list(value)
    raise option_error(name, "a list of non-empty strings", value)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def a_log_level(name: str, value: Any) -> str:
    # the service takes upper case; "info" is what people type
    if isinstance(value, str) and value.upper() in LOG_LEVELS:
        return value.upper()
    raise option_error(name, "one of " + ", ".join(repr(level) for level in LOG_LEVELS), value)


def a_noise_model(name: str, value: Any) -> Any:
    if value is None or isinstance(value, dict) or hasattr(value, "to_dict"):
        return value
    raise option_error(name, "a dict or a qiskit_aer NoiseModel", value)


def a_dict(name: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return copy.deepcopy(dict(value))
    raise option_error(name, "a dict", value)


# The official EnvironmentOptions.image pattern, matched against the whole name.
_IMAGE = re.compile(r"[a-zA-Z0-9]+([/.\-_][a-zA-Z0-9]+)*:[a-zA-Z0-9]+([.\-_][a-zA-Z0-9]+)*")


def an_image(name: str, value: Any) -> str:
    """A runtime image such as ``"qiskit/runtime:0.40"`` (``name:tag``)."""
    if isinstance(value, str) and _IMAGE.fullmatch(value):
        return value
    raise option_error(name, 'a runtime image "name:tag"', value)


@functools.cache
def _json_dict_adapter() -> Any:
    # pydantic only when such an option is set: it is not on the import path of the runtime.
    from pydantic import JsonValue, TypeAdapter

    return TypeAdapter(dict[str, JsonValue])


def a_json_dict(name: str, value: Any) -> Any:
    """A dict of JSON values, as the executor's schema takes it (``dict[str, JsonValue]``).

    pydantic's own rule, so what is accepted here is what the schema accepts when the job is
    built (numpy floats and bools become Python ones; tuples and numpy integers are refused).
    """
    from pydantic import ValidationError

    if not isinstance(value, Mapping):
        raise option_error(name, "a dict", value)
    try:
        checked = _json_dict_adapter().validate_python(dict(value))
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"][:1])
        raise option_error(
            f"{name}.{where}" if where else name,
            "JSON: a str, int, float, bool, None, or a list or dict (str keys) of those",
            value.get(where, value) if where else value,
        ) from None
    return copy.deepcopy(checked)
