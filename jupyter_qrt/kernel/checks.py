"""Checks of a primitive run's inputs before anything is submitted.

Each check raises :class:`~jupyter_qrt.runtime.errors.InvalidInputError` (or
:class:`~.errors.CellError`) with one line saying what to change; nothing reaches the service
until every check has passed.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from typing import Any

from jupyter_qrt.runtime.errors import InvalidInputError

from .errors import CellError

__all__ = [
    "check_fits",
    "check_identifier",
    "check_measured",
    "check_mode",
    "check_optimization_level",
    "check_precision",
    "check_shots",
    "parameter_values",
    "parse_observables",
]

_TERM = re.compile(r"^\s*(?:([-+]?[0-9.eE+-]*[0-9.])\s*\*\s*)?([IXYZixyz]+)\s*$")


def check_identifier(name: str | None, option: str) -> None:
    """``name`` must be a Python variable name."""
    if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
        raise InvalidInputError(
            f"{option} {name!r} is not a Python variable name: use letters, digits and _ "
            f"(not starting with a digit), e.g. {option} result."
        )


def check_optimization_level(level: int) -> None:
    """``-O`` is 0, 1, 2 or 3."""
    if isinstance(level, bool) or level not in (0, 1, 2, 3):
        raise InvalidInputError(f"-O must be 0, 1, 2 or 3 (the transpiler's levels), not {level}.")


def check_mode(session: bool, batch: bool) -> str | None:
    """``'session'``, ``'batch'`` or ``None``; not both."""
    if session and batch:
        raise InvalidInputError("--session and --batch exclude each other: give one of them.")
    return "session" if session else "batch" if batch else None


def check_shots(shots: int | None, backend: Any) -> None:
    """At least 1 and at most the backend's ``max_shots``."""
    if shots is None:
        return
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise InvalidInputError(f"--shots must be a whole number of at least 1, not {shots}.")
    most = backend.configuration().get("max_shots")
    if most and shots > int(most):
        raise InvalidInputError(
            f"{backend.name} runs at most {int(most)} shots per circuit, not {shots}: lower "
            "--shots (or split the work into several jobs)."
        )


def check_precision(precision: float | None) -> None:
    """A precision in (0, 1]."""
    if precision is not None and not 0 < precision <= 1:
        raise InvalidInputError(
            f"--precision must be above 0 and at most 1 (e.g. 0.01), not {precision}."
        )


def check_measured(circuits: Sequence[Any]) -> None:
    """The sampler returns measured bits: every circuit must measure something."""
    for circuit in circuits:
        if not any(i.operation.name == "measure" for i in circuit.data):
            raise CellError(
                f"Circuit {circuit.name!r} has no measurements, so the sampler would return "
                "nothing: add circuit.measure_all() (or measure the qubits you want)."
            )


def check_fits(circuits: Sequence[Any], backend: Any) -> None:
    """No circuit is wider than the backend."""
    for circuit in circuits:
        if circuit.num_qubits > backend.num_qubits:
            raise InvalidInputError(
                f"Circuit {circuit.name!r} has {circuit.num_qubits} qubits but {backend.name} "
                f"has {backend.num_qubits}: pick a larger backend (%qrt_backends --min-qubits "
                f"{circuit.num_qubits}) or use fewer qubits."
            )


def parameter_values(circuits: Sequence[Any], values: Any) -> Any:
    """``values`` as an array whose last axis runs over each circuit's parameters, or ``None``.

    A 1-D array for a circuit of one parameter is a sweep of that parameter.
    """
    import numpy as np

    widths = {c.num_parameters for c in circuits if c.num_parameters}
    if not widths:
        if values is not None:
            raise InvalidInputError(
                "--params was given but no circuit has parameters: drop --params, or use "
                "Parameter objects in the circuit."
            )
        return None
    if values is None:
        circuit = next(c for c in circuits if c.num_parameters)
        names = ", ".join(p.name for p in circuit.parameters)
        raise InvalidInputError(
            f"Circuit {circuit.name!r} has {circuit.num_parameters} parameter(s) ({names}): give "
            f"their values with --params VAR (an array of shape (..., {circuit.num_parameters}))."
        )
    if len(widths) > 1:
        raise InvalidInputError(
            "The circuits have different numbers of parameters: run them in separate cells."
        )
    (width,) = widths
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"--params must be numbers (an array of shape (..., {width})), not "
            f"{type(values).__name__}."
        ) from None
    if width == 1 and array.ndim == 1:
        array = array[:, None]
    if array.ndim == 0 or array.shape[-1] != width:
        raise InvalidInputError(
            f"--params has shape {array.shape} but the circuit has {width} parameter(s): give an "
            f"array of shape (..., {width}), one row per set of values."
        )
    return array


def _observable(text: str) -> Any:
    from qiskit.quantum_info import SparsePauliOp

    terms = []
    for part in re.split(r"(?<=[IXYZixyz])\s*(?=[+-])", text.strip()):
        match = _TERM.match(part.replace(" ", "")) if part.strip() else None
        if match is None:
            raise InvalidInputError(
                f"Cannot read the observable {text.strip()!r}: write Pauli strings with optional "
                'coefficients, e.g. --observables "ZZ, 0.5*XX + 0.5*YY".'
            )
        coeff = match.group(1)
        terms.append((match.group(2).upper(), float(coeff) if coeff not in (None, "+") else 1.0))
    widths = {len(p) for p, _ in terms}
    if len(widths) > 1:
        raise InvalidInputError(
            f"The terms of {text.strip()!r} have different lengths: every Pauli string of one "
            "observable has one letter per qubit."
        )
    return SparsePauliOp([p for p, _ in terms], [c for _, c in terms])


def parse_observables(spec: Any) -> list[Any]:
    """Observables from ``"ZZ, 0.5*XX"`` text, or a value (SparsePauliOp, str, list of them)."""
    from qiskit.quantum_info import SparsePauliOp

    if isinstance(spec, str):
        parts = [p for p in spec.split(",") if p.strip()]
        if not parts:
            raise InvalidInputError(
                'No observable given: --observables "ZZ, 0.5*XX" or --observables VAR.'
            )
        return [_observable(p) for p in parts]
    items = spec if isinstance(spec, (list, tuple)) else [spec]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(_observable(item))
        elif isinstance(item, SparsePauliOp):
            out.append(item)
        else:
            try:
                out.append(
                    SparsePauliOp.from_operator(item)
                    if hasattr(item, "data")
                    else SparsePauliOp(item)
                )
            except Exception:
                raise InvalidInputError(
                    f"--observables holds a {type(item).__name__}: give Pauli strings or "
                    "SparsePauliOp objects."
                ) from None
    return out
