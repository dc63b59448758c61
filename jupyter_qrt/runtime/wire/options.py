"""Primitive options: what a person sets, and how it splits into the job request.

Options are nested like qiskit-ibm-runtime's (``options.default_shots``,
``options.environment.job_tags``, ``options.twirling.enable_gates``, ...). Only values a person set
are sent, exactly as the official client sends them, so the service applies its own defaults.

Every value is checked when it is set, by the same rules (the tables of
:mod:`~jupyter_qrt.runtime.wire.primitive_options`) that check the options again when a job is
built: what is accepted here is accepted by ``run()``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from jupyter_qrt.runtime.errors import InvalidInputError

from .primitive_options import (
    NONE_IS_A_VALUE,
    SCHEMAS,
    OptionsKind,
    Schema,
    option_error,
    unknown_option,
)

__all__ = ["EstimatorOptions", "ExecutorOptions", "Options", "SamplerOptions"]


class Options:
    """A nested set of options in which only explicitly set values exist.

    Read and write with attributes (``opts.twirling.enable_gates = True``) or build from a dict
    (``SamplerOptions({"default_shots": 2000})``). :meth:`to_dict` returns what was set.

    Each value is checked as it is set; a bad one raises
    :class:`~jupyter_qrt.runtime.errors.InvalidInputError` naming the option and changes nothing.
    Assigning ``None`` unsets an option (the service then applies its default), except for the
    two options where ``None`` means "no limit" (``resilience.pec.max_overhead`` and
    ``resilience.layer_noise_learning.max_layers_to_learn``): unset those with ``del``. Reading an
    option that is not set gives ``None``; reading a section (``twirling``, ``environment``,
    ``resilience``, ...) gives its group of options, to set values in.
    """

    _kind: ClassVar[OptionsKind | None] = None
    """The primitive whose options these are; set by the subclasses."""

    # Instance state, set with object.__setattr__ because __setattr__ means "set an option".
    _values: dict[str, Any]
    _schema: Schema
    _path: str

    def __init__(self, values: Mapping[str, Any] | Options | None = None) -> None:
        if self._kind is None:
            raise TypeError(
                "Options is the common base: use SamplerOptions, EstimatorOptions or "
                "ExecutorOptions."
            )
        self._start(SCHEMAS[self._kind], "")
        if values is not None:
            self._merge(_as_mapping(values, type(self).__name__))

    def _start(self, schema: Schema, path: str) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_schema", schema)
        object.__setattr__(self, "_path", path)

    def _section(self, name: str, schema: Schema) -> Options:
        """A new, empty group for the section ``name`` of these options."""
        group = object.__new__(Options)
        group._start(schema, self._option_name(name))
        return group

    def _option_name(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name

    def _spec(self, name: str) -> Any:
        """The rule of option ``name`` here: a check, or a dict for a section."""
        if name not in self._schema:
            raise unknown_option(self._schema, self._option_name(name))
        return self._schema[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        values = self._values
        if name in values:
            return values[name]
        spec = self._spec(name)
        if not isinstance(spec, dict):
            return None
        group = self._section(name, spec)
        values[name] = group
        return group

    def __setattr__(self, name: str, value: Any) -> None:
        spec = self._spec(name)
        option = self._option_name(name)
        if isinstance(value, Options):
            value = value.to_dict()
        if value is None and option not in NONE_IS_A_VALUE:
            self._values.pop(name, None)
            return
        if isinstance(spec, dict):
            if not isinstance(value, Mapping):
                raise option_error(option, "a dict of options", value)
            group = self._section(name, spec)
            group._merge(value)  # a bad value raises here, before anything is replaced
            value = group
        else:
            value = spec(option, value)
        self._values[name] = value

    def __delattr__(self, name: str) -> None:
        self._spec(name)  # an unknown (mistyped) name says so, as when setting it
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

    def update(self, values: Mapping[str, Any] | Options) -> None:
        """Set several options at once from a (nested) mapping; sections are merged.

        Raises
        ------
        InvalidInputError
            An unknown option or a bad value; then no option was changed.
        """
        given = _as_mapping(values, "update()")
        trial = object.__new__(Options)
        trial._start(self._schema, self._path)
        trial._merge(given)  # check everything first: bad input changes nothing
        self._merge(given)

    def _merge(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            current = self._values.get(key)
            if isinstance(current, Options) and isinstance(value, Mapping | Options):
                current._merge(_as_mapping(value, key))
            else:
                setattr(self, key, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


def _as_mapping(values: object, where: str) -> Mapping[str, Any]:
    if isinstance(values, Options):
        return values.to_dict()
    if isinstance(values, Mapping):
        return values
    raise InvalidInputError(
        f"{where} takes a dict of options such as {{'default_shots': 1000}}, not "
        f"{type(values).__name__}."
    )


class SamplerOptions(Options):
    """Options of :class:`~jupyter_qrt.runtime.Sampler`."""

    _kind = "sampler"


class EstimatorOptions(Options):
    """Options of :class:`~jupyter_qrt.runtime.Estimator`."""

    _kind = "estimator"


class ExecutorOptions(Options):
    """Options of :class:`~jupyter_qrt.runtime.Executor`, named as qiskit-ibm-runtime's
    ``ExecutorOptions``: ``execution.init_qubits``, ``execution.rep_delay``,
    ``execution.scheduler_timing``, ``execution.stretch_values``, ``experimental`` (a dict of
    JSON values, sent to the program as given), ``environment.job_tags``/``log_level``/
    ``private``/``image`` and ``max_execution_time``.
    """

    _kind = "executor"


def runtime_fields(options: Options) -> dict[str, Any]:
    """Top-level job request fields derived from options (image, log level, tags, cost, private).

    The runtime image goes to the request's ``runtime`` field, never into the program's options:
    for Sampler and Estimator it is ``experimental.image`` (as the official client reads it), for
    the executor ``environment.image`` (its ``experimental`` goes to the program untouched).
    """
    values = options.to_dict()
    environment = values.get("environment", {})
    fields: dict[str, Any] = {}
    experimental = values.get("experimental")
    if environment.get("image"):
        fields["runtime"] = environment["image"]
    elif (
        options._kind != "executor" and isinstance(experimental, dict) and experimental.get("image")
    ):
        fields["runtime"] = experimental["image"]
    fields["log_level"] = environment.get("log_level", "WARNING")
    if environment.get("job_tags"):
        fields["tags"] = list(environment["job_tags"])
    if values.get("max_execution_time"):
        fields["cost"] = values["max_execution_time"]
    if environment.get("private"):
        fields["private"] = True
    return fields
