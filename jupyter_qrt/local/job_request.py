"""Checking a ``POST /jobs`` body before a job is stored.

Only what can be checked cheaply, without qiskit, is checked here (the body's shape, the program,
tags, cost, log level, the size of the params); whether the circuits and pubs make sense is
learnt when the job runs, and a bad one ends the job Failed with reason code 1517.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .service_error import TOO_MANY_TAGS, ServiceError, bad_request, not_found

__all__ = [
    "DEFAULT_COST_SECONDS",
    "MAX_COST_SECONDS",
    "MAX_TAGS",
    "PROGRAMS",
    "JobRequest",
    "check_tags",
    "parse_job_request",
]

PROGRAMS = ("sampler", "estimator")
MAX_TAGS = 8
MAX_TAG_LENGTH = 100
MAX_COST_SECONDS = 10_800
DEFAULT_COST_SECONDS = 600
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_SHOTS = 4096


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
        raise bad_request("The job request needs a 'program_id': 'sampler' or 'estimator'.")
    if program_id not in PROGRAMS:
        raise not_found(
            f"Program not found: {program_id!r}. This service runs the programs "
            f"{' and '.join(repr(p) for p in PROGRAMS)} (SamplerV2 and EstimatorV2)."
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
    params_text = json.dumps(params, separators=(",", ":"))
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
        estimated_seconds=estimate_seconds(pubs, options or {}),
    )


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


def estimate_seconds(pubs: list[Any], options: Mapping[str, Any]) -> float:
    """A rough quantum-time estimate: ~250 microseconds a shot plus a second of set-up.

    Shots are read from the pubs without decoding them (the last element of a sampler pub is
    its shot count, or null for the default).
    """
    default = options.get("default_shots")
    default_shots = default if isinstance(default, int) and default > 0 else DEFAULT_SHOTS
    shots = 0
    for pub in pubs:
        last = pub[-1] if isinstance(pub, list) and len(pub) >= 2 else None
        shots += last if isinstance(last, int) and not isinstance(last, bool) else default_shots
    return round(1.0 + shots * 250e-6, 3)


def _checked_cost(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COST_SECONDS:
        raise bad_request(
            f"'cost' (the max execution time) must be a whole number of seconds from 1 to "
            f"{MAX_COST_SECONDS}; got {value!r}."
        )
    return value


def _checked_log_level(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
        raise bad_request(f"'log_level' must be one of {', '.join(LOG_LEVELS)}; got {value!r}.")
    return value.upper()


def _checked_runtime(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("'runtime' must be a string (an image name) or left out.")
    return value


def _checked_private(value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request("'private' must be true or false.")
    return value
