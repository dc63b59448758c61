"""Primitive options: what a person sets, and how it splits into the job request.

Options are nested like qiskit-ibm-runtime's (``options.default_shots``,
``options.environment.job_tags``, ``options.twirling.enable_gates``, ...). Only values a person set
are sent, exactly as the official client sends them, so the service applies its own defaults.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import InvalidInputError

__all__ = ["EstimatorOptions", "Options", "SamplerOptions"]

ENVIRONMENT_KEYS = frozenset({"log_level", "job_tags", "private", "callback"})
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


class Options:
    """A nested set of options in which only explicitly set values exist.

    Read and write with attributes (``opts.twirling.enable_gates = True``) or build from a dict
    (``SamplerOptions({"default_shots": 2000})``). :meth:`to_dict` returns what was set.
    """

    _top_level: frozenset[str] = frozenset()

    def __init__(self, values: Mapping[str, Any] | None = None, *, _path: str = "") -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_path", _path)
        for key, value in (values or {}).items():
            setattr(self, key, value)

    def _check_key(self, name: str) -> None:
        if not self._path and self._top_level and name not in self._top_level:
            known = ", ".join(sorted(self._top_level))
            raise InvalidInputError(
                f"{type(self).__name__} has no option {name!r}. Known options: {known}."
            )
        if self._path == "environment" and name not in ENVIRONMENT_KEYS:
            known = ", ".join(sorted(ENVIRONMENT_KEYS))
            raise InvalidInputError(f"environment has no option {name!r}. Known: {known}.")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        values: dict[str, Any] = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        self._check_key(name)
        path = f"{self._path}.{name}" if self._path else name
        child = Options(_path=path)
        values[name] = child
        return child

    def __setattr__(self, name: str, value: Any) -> None:
        self._check_key(name)
        path = f"{self._path}.{name}" if self._path else name
        if isinstance(value, Mapping):
            value = Options(value, _path=path)
        elif path == "environment.log_level" and isinstance(value, str):
            value = value.upper()  # the service takes upper case; "info" is what people type
        _validate(path, value)
        self._values[name] = value

    def __delattr__(self, name: str) -> None:
        self._values.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Options):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """The options that were set, as plain nested dicts (empty groups left out)."""
        out: dict[str, Any] = {}
        for key, value in self._values.items():
            if isinstance(value, Options):
                nested = value.to_dict()
                if nested:
                    out[key] = nested
            else:
                out[key] = copy.deepcopy(value)
        return out

    def update(self, values: Mapping[str, Any]) -> None:
        """Set several options at once from a (nested) mapping."""
        for key, value in values.items():
            current = self._values.get(key)
            if isinstance(current, Options) and isinstance(value, Mapping):
                current.update(value)
            else:
                setattr(self, key, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


def _validate(path: str, value: Any) -> None:
    """Check the few options whose wrong values would otherwise fail only on the service."""
    if path == "default_shots" and value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError(f"default_shots must be a positive integer, got {value!r}.")
    elif path == "default_precision" and value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise InvalidInputError(f"default_precision must be a number > 0, got {value!r}.")
    elif path == "max_execution_time" and value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10800:
            raise InvalidInputError(
                f"max_execution_time must be whole seconds from 1 to 10800, got {value!r}."
            )
    elif path == "resilience_level" and value is not None and value not in (0, 1, 2):
        raise InvalidInputError(f"resilience_level must be 0, 1 or 2, got {value!r}.")
    elif path == "environment.log_level" and str(value).upper() not in LOG_LEVELS:
        raise InvalidInputError(
            f"log_level must be one of {', '.join(sorted(LOG_LEVELS))}, got {value!r}."
        )
    elif (
        path == "environment.job_tags"
        and value is not None
        and (isinstance(value, str) or not all(isinstance(t, str) and t for t in value))
    ):
        raise InvalidInputError("job_tags must be a list of non-empty strings.")


class SamplerOptions(Options):
    """Options of :class:`~jupyter_qrt.runtime.Sampler`."""

    _top_level = frozenset(
        {
            "default_shots",
            "dynamical_decoupling",
            "execution",
            "twirling",
            "simulator",
            "experimental",
            "environment",
            "max_execution_time",
        }
    )


class EstimatorOptions(Options):
    """Options of :class:`~jupyter_qrt.runtime.Estimator`."""

    _top_level = frozenset(
        {
            "default_precision",
            "default_shots",
            "seed_estimator",
            "resilience_level",
            "resilience",
            "dynamical_decoupling",
            "execution",
            "twirling",
            "simulator",
            "experimental",
            "environment",
            "max_execution_time",
        }
    )


def runtime_fields(options: Options) -> dict[str, Any]:
    """Top-level job request fields derived from options (log level, tags, cost, private)."""
    values = options.to_dict()
    environment = values.get("environment", {})
    fields: dict[str, Any] = {"log_level": str(environment.get("log_level", "WARNING")).upper()}
    if environment.get("job_tags"):
        fields["tags"] = list(environment["job_tags"])
    if values.get("max_execution_time"):
        fields["cost"] = values["max_execution_time"]
    if environment.get("private"):
        fields["private"] = True
    return fields
