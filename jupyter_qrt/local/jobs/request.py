"""Checking a ``POST /jobs`` body before a job is stored.

Only what can be checked cheaply, without qiskit, is checked here (the body's shape, the program,
tags, cost, log level, the size of the params, and that shot counts and precisions given as
plain numbers are within sane ranges); whether the circuits and pubs make sense is learnt when
the job runs, and a bad one ends the job Failed with reason code 1517.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from jupyter_qrt.local.service_error import TOO_MANY_TAGS, ServiceError, bad_request, not_found

__all__ = [
    "DEFAULT_COST_SECONDS",
    "MAX_COST_SECONDS",
    "MAX_SHOTS",
    "MAX_TAGS",
    "PROGRAMS",
    "JobRequest",
    "check_tags",
    "parse_job_request",
    "shown_value",
]

PROGRAMS = ("sampler", "estimator", "executor")
EXECUTOR_SCHEMA = "v2.0"
EXECUTOR_ITEM_TYPES = ("circuit", "samplex")
MAX_TAGS = 8
MAX_TAG_LENGTH = 100
MAX_COST_SECONDS = 10_800
DEFAULT_COST_SECONDS = 600
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_SHOTS = 4096
#: Most shots a job may ask for per pub (a sane bound; each device allows fewer, which the run
#: checks against the device's ``max_shots``).
MAX_SHOTS = 10**9
#: Largest estimator precision accepted (a precision is a standard error, normally below 1).
MAX_PRECISION = 1e9


@dataclass(frozen=True)
class JobRequest:
    """A checked job submission (params still in wire form, as JSON text)."""

    program_id: str
    backend: str | None
    params_text: str
    session_id: str | None
    tags: tuple[str, ...]
    cost: int
    log_level: str | None
    runtime: str
    private: bool
    estimated_seconds: float
    calibration_id: str | None = None
    fixed_chunks: bool = False
    """An executor job with whole-number ``chunk_size`` values: IBM allows them in a session
    only (checked where sessions are known, when the job is stored)."""


def parse_job_request(
    body: object, *, max_params_bytes: int, default_cost: int = DEFAULT_COST_SECONDS
) -> JobRequest:
    """Check a ``POST /jobs`` body.

    Raises
    ------
    ServiceError
        400 for a malformed field, 404 for an unknown program, 413 for params that are too large.
    """
    if not isinstance(body, Mapping):
        raise bad_request("The job request body must be a JSON object.")
    program_id = body.get("program_id")
    if not isinstance(program_id, str) or not program_id:
        raise bad_request(
            "The job request needs a 'program_id': 'sampler', 'estimator' or 'executor'."
        )
    if program_id not in PROGRAMS:
        raise not_found(
            f"Program not found: {program_id!r}. This service runs the programs "
            "'sampler' and 'estimator' (SamplerV2 and EstimatorV2) and 'executor' (samplomatic "
            "quantum programs, the Executor and the executor-based primitives)."
        )
    backend = body.get("backend")
    if backend is not None and (not isinstance(backend, str) or not backend):
        raise bad_request("'backend' must be the name of a backend, e.g. 'qrt_wren'.")
    session_id = body.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or not session_id):
        raise bad_request("'session_id' must be the id of a session from POST /sessions.")
    if backend is None and session_id is None:
        raise bad_request("The job request needs a 'backend' (the name of a device to run on).")
    params = body.get("params")
    fixed_chunks = False
    if program_id == "executor":
        estimated, fixed_chunks = _checked_executor_params(params)
    else:
        estimated = _checked_primitive_params(program_id, params)
    try:
        params_text = json.dumps(params, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise bad_request(
            f"'params' cannot be stored as JSON ({exc}). Send the pubs and options in wire form, "
            "as the primitives of qiskit-ibm-runtime or jupyter_qrt.runtime do."
        ) from exc
    if len(params_text) > max_params_bytes:
        raise ServiceError(
            413,
            f"The job's params are {len(params_text)} bytes, more than this service accepts "
            f"({max_params_bytes}). Split the pubs over several jobs.",
        )
    return JobRequest(
        program_id=program_id,
        backend=backend,
        params_text=params_text,
        session_id=session_id,
        tags=check_tags(body.get("tags")),
        cost=_checked_cost(body.get("cost"), default_cost),
        log_level=_checked_log_level(body.get("log_level")),
        runtime=_checked_runtime(body.get("runtime")),
        private=_checked_private(body.get("private")),
        estimated_seconds=estimated,
        fixed_chunks=fixed_chunks,
        calibration_id=_checked_calibration_id(body.get("calibration_id")),
    )


def _checked_primitive_params(program_id: str, params: object) -> float:
    """Check a sampler or estimator job's params; return its estimated quantum seconds."""
    if not isinstance(params, Mapping):
        raise bad_request(
            "'params' must be a JSON object with 'pubs' (the list of pubs to run) and 'options'."
        )
    pubs = params.get("pubs")
    if not isinstance(pubs, list) or not pubs:
        raise bad_request(
            "'params.pubs' must be a non-empty list of pubs, e.g. [[circuit, parameter_values, "
            "shots]] for the sampler."
        )
    options = params.get("options", {})
    if options is not None and not isinstance(options, Mapping):
        raise bad_request("'params.options' must be a JSON object.")
    options = options or {}
    _check_shots_and_precisions(program_id, pubs, options)
    return estimate_seconds(program_id, pubs, options)


def _checked_executor_params(params: object) -> tuple[float, bool]:
    """Check the outline of an executor job's params.

    Returns its estimated quantum seconds, and whether an item has a whole-number
    ``chunk_size`` (which needs a session).

    Only the outline is checked here (the schema version, shots, the item list, meas_level):
    the whole ``ParamsModel`` is validated by the worker, which fails the job with 1517 and
    the field's path when it does not follow the schema.
    """
    hint = (
        "Build it with samplomatic's QuantumProgram and an Executor (qiskit-ibm-runtime or "
        "jupyter_qrt.runtime)."
    )
    if not isinstance(params, Mapping):
        raise bad_request(f"'params' of an executor job must be a JSON object. {hint}")
    version = params.get("schema_version")
    if version != EXECUTOR_SCHEMA:
        raise bad_request(
            f"'params.schema_version' must be {EXECUTOR_SCHEMA!r} (the executor schema of "
            f"qiskit-ibm-runtime 0.51), not {shown_value(version)}. {hint}"
        )
    program = params.get("quantum_program")
    if not isinstance(program, Mapping):
        raise bad_request(f"'params.quantum_program' must be a JSON object. {hint}")
    shots = program.get("shots")
    if not (_is_int(shots) and 1 <= shots <= MAX_SHOTS):
        raise bad_request(
            f"'params.quantum_program.shots' must be a whole number of shots from 1 to "
            f"{MAX_SHOTS}; got {shown_value(shots)}."
        )
    items = program.get("items")
    if not isinstance(items, list) or not items:
        raise bad_request(f"'params.quantum_program.items' must be a non-empty list. {hint}")
    meas_level = program.get("meas_level", "classified")
    if meas_level != "classified":
        raise bad_request(
            f"'params.quantum_program.meas_level' {shown_value(meas_level)} returns the IQ data "
            "of measurement hardware; the local service's devices return classified bits only. "
            "Use meas_level='classified'."
        )
    options = params.get("options")
    if not isinstance(options, Mapping):
        raise bad_request(f"'params.options' of an executor job must be a JSON object. {hint}")
    elements = 0
    fixed_chunks = False
    for index, item in enumerate(items):
        kind = item.get("item_type") if isinstance(item, Mapping) else None
        if kind not in EXECUTOR_ITEM_TYPES:
            raise bad_request(
                f"'params.quantum_program.items[{index}].item_type' must be 'circuit' or "
                f"'samplex', not {shown_value(kind)}. {hint}"
            )
        assert isinstance(item, Mapping)
        elements += _item_elements(item)
        fixed_chunks = fixed_chunks or _is_int(item.get("chunk_size"))
    return round(1.0 + elements * shots * 250e-6, 3), fixed_chunks


def _item_elements(item: Mapping[str, Any]) -> int:
    """How many bindings an executor item runs, read from shapes only (for the estimate)."""
    shape = item.get("shape")
    count = _product(shape) if isinstance(shape, list) else 1
    arguments = item.get("circuit_arguments")
    if isinstance(arguments, Mapping) and isinstance(arguments.get("shape"), list):
        count = max(count, _product(arguments["shape"][:-1]))
    return count


def _product(values: list[Any]) -> int:
    count = 1
    for value in values:
        count *= value if _is_int(value) and value > 0 else 1
    return count


def check_tags(tags: object) -> tuple[str, ...]:
    """Check job tags: a list of at most 8 non-empty strings."""
    if tags is None:
        return ()
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag for tag in tags):
        raise bad_request("'tags' must be a list of non-empty strings.")
    if len(tags) > MAX_TAGS:
        raise bad_request(
            f"A job can have at most {MAX_TAGS} tags; {len(tags)} were given. Remove some.",
            TOO_MANY_TAGS,
        )
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise bad_request(f"A job tag is at most {MAX_TAG_LENGTH} characters long.")
    return tuple(dict.fromkeys(tags))


def estimate_seconds(program_id: str, pubs: list[Any], options: Mapping[str, Any]) -> float:
    """A rough quantum-time estimate: ~250 microseconds a shot plus a second of set-up.

    Shots are read from the pubs without decoding them: the third element of a sampler pub is
    its shot count, or null for the default; an estimator pub counts the default shots. Call it
    on checked pubs and options (see :func:`parse_job_request`).
    """
    default = options.get("default_shots")
    default_shots = default if _is_int(default) else DEFAULT_SHOTS
    shots = 0
    for pub in pubs:
        given = _sampler_shots(pub) if program_id == "sampler" else None
        shots += given if given is not None else default_shots
    return round(1.0 + shots * 250e-6, 3)


def _check_shots_and_precisions(
    program_id: str, pubs: list[Any], options: Mapping[str, Any]
) -> None:
    """400 for a shot count or precision, given as a plain number, outside its sane range."""
    default = options.get("default_shots")
    if default is not None and not (_is_int(default) and 1 <= default <= MAX_SHOTS):
        raise bad_request(
            f"'params.options.default_shots' must be a whole number of shots from 1 to "
            f"{MAX_SHOTS}; got {shown_value(default)}."
        )
    for index, pub in enumerate(pubs):
        if program_id == "sampler":
            shots = _sampler_shots(pub)
            if shots is not None and not 1 <= shots <= MAX_SHOTS:
                raise bad_request(
                    f"Pub {index} asks for {shown_value(shots)} shots; a pub runs from 1 to "
                    f"{MAX_SHOTS} shots. Ask for fewer shots, or leave them out for the "
                    "default."
                )
        else:
            precision = pub[3] if isinstance(pub, list) and len(pub) > 3 else None
            if _is_number(precision) and not 0 < precision <= MAX_PRECISION:
                raise bad_request(
                    f"Pub {index} asks for a precision of {shown_value(precision)}; a precision "
                    "is a positive number such as 0.015625 (smaller means more shots)."
                )


def _sampler_shots(pub: object) -> int | None:
    """The shot count of a sampler pub in wire form, when it is given as a whole number."""
    shots = pub[2] if isinstance(pub, list) and len(pub) > 2 else None
    return shots if _is_int(shots) else None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def shown_value(value: object) -> str:
    """``repr(value)`` for an error message, cut short: a huge integer is described, not printed.

    Use it wherever a 400 message echoes a value the client sent, so that a huge value never
    comes back whole (nor fails: ``repr`` refuses integers of more than 4300 digits).
    """
    if _is_int(value) and abs(value) >= 10**18:
        digits = int(abs(value).bit_length() * 0.30103) + 1
        return f"a number of about {digits} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _checked_cost(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COST_SECONDS:
        raise bad_request(
            f"'cost' (the max execution time) must be a whole number of seconds from 1 to "
            f"{MAX_COST_SECONDS}; got {shown_value(value)}."
        )
    return value


def _checked_log_level(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
        raise bad_request(
            f"'log_level' must be one of {', '.join(LOG_LEVELS)}; got {shown_value(value)}."
        )
    return value.upper()


def _checked_runtime(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("'runtime' must be a string (an image name) or left out.")
    return value


def _checked_calibration_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise bad_request(
            "'calibration_id' must be the calibration_id of the backend's properties, or left out "
            "to use its current calibration."
        )
    return value


def _checked_private(value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request("'private' must be true or false.")
    return value
