"""The ``params`` of a V2 sampler or estimator job, from the pub-like inputs qiskit accepts.

Pubs are coerced with qiskit's own ``SamplerPub`` / ``EstimatorPub`` (so ``shots`` and
``precision`` land where the official client puts them: in each pub, ``null`` when not given)
and checked the way the official client checks them before it sends anything. Backend checks
(ISA, ``rzz`` angles, faulty qubits) belong to whoever knows the backend.
"""

from __future__ import annotations

import keyword
import warnings
from collections.abc import Iterable, Iterator, Mapping
from numbers import Real
from typing import Any

from qiskit.circuit import QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.primitives.containers.estimator_pub import EstimatorPub, EstimatorPubLike
from qiskit.primitives.containers.sampler_pub import SamplerPub, SamplerPubLike

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.wire.primitive_options import PrimitiveKind, program_options

__all__ = ["estimator_params", "sampler_params"]

# The version of the V2 primitives' input format.
_PARAMS_VERSION = 2

_PUB_FORMS: dict[PrimitiveKind, str] = {
    "sampler": "a circuit, (circuit, parameter_values) or (circuit, parameter_values, shots)",
    "estimator": (
        "(circuit, observables), (circuit, observables, parameter_values) or "
        "(circuit, observables, parameter_values, precision)"
    ),
}


def _pub_list(pubs: Any, kind: PrimitiveKind) -> list[Any]:
    single = isinstance(pubs, QuantumCircuit) or (
        isinstance(pubs, tuple) and bool(pubs) and isinstance(pubs[0], QuantumCircuit)
    )
    if single or not isinstance(pubs, Iterable) or isinstance(pubs, str | bytes | Mapping):
        raise InvalidInputError(
            f"pubs must be a list of {kind} pubs, each {_PUB_FORMS[kind]}; for one pub write "
            "[pub], e.g. [circuit]."
        )
    listed = list(pubs)
    if not listed:
        raise InvalidInputError(f"pubs is empty: give at least one {kind} pub.")
    return listed


def _pub_error(kind: PrimitiveKind, index: int, exc: Exception) -> InvalidInputError:
    return InvalidInputError(
        f"{kind.capitalize()} pub {index} is not valid: {str(exc).rstrip('.')}. "
        f"A {kind} pub is {_PUB_FORMS[kind]}."
    )


def _check_classical_registers(pubs: list[SamplerPub]) -> None:
    for index, pub in enumerate(pubs):
        if not pub.circuit.cregs:
            warnings.warn(
                f"The circuit of sampler pub {index} has no classical registers, so its result "
                "will be empty. Did you mean to measure (e.g. circuit.measure_all())?",
                UserWarning,
                stacklevel=3,
            )
        for register in pub.circuit.cregs:
            problem = None
            if register.size == 0:
                problem = "has no bits; remove it or give it bits"
            elif not register.name.isidentifier():
                problem = "is not a valid identifier; use letters, digits and underscores"
            elif keyword.iskeyword(register.name):
                problem = "is a Python keyword; rename it"
            if problem:
                raise InvalidInputError(
                    f"Classical register {register.name!r} of sampler pub {index} {problem} "
                    "(the result names its data after the registers)."
                )


def _check_dynamical_decoupling(circuits: Iterator[QuantumCircuit], settled: Any) -> None:
    if settled.get("dynamical_decoupling", {}).get("enable") is True and any(
        circuit.has_control_flow_op() for circuit in circuits
    ):
        raise InvalidInputError(
            "Dynamical decoupling cannot be used with dynamic circuits (control flow): set "
            "dynamical_decoupling.enable to False, or remove the control flow."
        )


def _observable_terms(observables: Any) -> Iterator[str]:
    if isinstance(observables, dict):
        yield from observables
    else:
        for item in observables:
            yield from _observable_terms(item)


def _check_estimator_pubs(pubs: list[EstimatorPub]) -> None:
    for index, pub in enumerate(pubs):
        if pub.precision is not None and pub.precision <= 0:
            raise InvalidInputError(
                f"Estimator pub {index} asks for precision {pub.precision}; it must be > 0."
            )
        if pub.observables.shape == (0,):
            raise InvalidInputError(
                f"Estimator pub {index} has an empty list of observables; give at least one."
            )
        for term in _observable_terms(pub.observables.tolist()):
            if any(letter not in "IXYZ" for letter in term):
                raise InvalidInputError(
                    f"Observable term {term!r} of estimator pub {index} is not a Pauli string: "
                    "the service takes only the letters I, X, Y and Z (expand projectors into "
                    "Paulis first, e.g. with SparsePauliOp)."
                )


def _params(kind: PrimitiveKind, pubs: list[Any], options: Mapping[str, Any] | None) -> Any:
    program, settled = program_options(kind, options)
    _check_dynamical_decoupling((pub.circuit for pub in pubs), settled)
    params: dict[str, Any] = {
        "pubs": pubs,
        "options": program,
        "version": _PARAMS_VERSION,
        "support_qiskit": True,
    }
    if "resilience_level" in settled:
        params["resilience_level"] = settled["resilience_level"]
    return params


def sampler_params(
    pubs: Iterable[SamplerPubLike],
    *,
    shots: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the ``params`` of a sampler job, as the official ``SamplerV2.run`` sends them.

    Parameters
    ----------
    pubs
        Sampler pubs: circuits, ``(circuit, parameter_values)`` or
        ``(circuit, parameter_values, shots)`` tuples, or ``SamplerPub`` objects.
    shots
        Shots for every pub that does not name its own; ``None`` leaves it to
        ``options["default_shots"]`` or the service (4096).
    options
        Sampler options as a nested dict, e.g. ``{"default_shots": 2000,
        "twirling": {"enable_gates": True}}``. ``environment`` and ``max_execution_time`` are
        validated but are job settings, not part of ``params``.

    Returns
    -------
    dict
        ``{"pubs": [SamplerPub, ...], "options": {...}, "version": 2, "support_qiskit": True}``;
        :func:`jupyter_qrt.runtime.wire.encoding.dumps` turns it into the wire text.

    Raises
    ------
    InvalidInputError
        A pub, ``shots`` or an option is invalid (the message says which).
    """
    listed = _pub_list(pubs, "sampler")
    coerced: list[SamplerPub] = []
    for index, pub in enumerate(listed):
        try:
            coerced.append(SamplerPub.coerce(pub, shots))
        except (TypeError, ValueError, QiskitError) as exc:
            raise _pub_error("sampler", index, exc) from exc
    if len({pub.shots for pub in coerced}) > 1:
        warnings.warn(
            "The pubs ask for different numbers of shots; IBM is phasing this out. Submit one "
            "job per shot count (a batch keeps the overhead low).",
            UserWarning,
            stacklevel=2,
        )
    _check_classical_registers(coerced)
    params: dict[str, Any] = _params("sampler", coerced, options)
    return params


def estimator_params(
    pubs: Iterable[EstimatorPubLike],
    *,
    precision: float | None = None,
    options: Mapping[str, Any] | None = None,
    resilience_level: int | None = None,
) -> dict[str, Any]:
    """Return the ``params`` of an estimator job, as the official ``EstimatorV2.run`` sends them.

    Parameters
    ----------
    pubs
        Estimator pubs: ``(circuit, observables[, parameter_values[, precision]])`` tuples or
        ``EstimatorPub`` objects. Observables may be Pauli strings, ``SparsePauliOp``, dicts or
        (nested) lists of them.
    precision
        Target precision for every pub that does not name its own (> 0).
    options
        Estimator options as a nested dict (see :func:`sampler_params`).
    resilience_level
        0, 1 or 2; the same as ``options["resilience_level"]``.

    Returns
    -------
    dict
        ``{"pubs": [EstimatorPub, ...], "options": {...}, "version": 2, "support_qiskit": True}``
        plus ``"resilience_level"`` when one is set.

    Raises
    ------
    InvalidInputError
        A pub, ``precision``, ``resilience_level`` or an option is invalid.
    """
    if precision is not None and (not isinstance(precision, Real) or not precision > 0):
        raise InvalidInputError(f"precision must be a number > 0, not {precision!r}.")
    if resilience_level is not None:
        given = dict(options or {})
        if given.get("resilience_level", resilience_level) != resilience_level:
            raise InvalidInputError(
                f"resilience_level={resilience_level} contradicts options['resilience_level']="
                f"{given['resilience_level']}; give it once."
            )
        options = {**given, "resilience_level": resilience_level}
    listed = _pub_list(pubs, "estimator")
    coerced: list[EstimatorPub] = []
    for index, pub in enumerate(listed):
        try:
            coerced.append(EstimatorPub.coerce(pub, precision))
        except (TypeError, ValueError, QiskitError) as exc:
            raise _pub_error("estimator", index, exc) from exc
    if len({pub.precision for pub in coerced}) > 1:
        warnings.warn(
            "The pubs ask for different precisions; IBM is phasing this out. Submit one job per "
            "precision (a batch keeps the overhead low).",
            UserWarning,
            stacklevel=2,
        )
    _check_estimator_pubs(coerced)
    params: dict[str, Any] = _params("estimator", coerced, options)
    return params
