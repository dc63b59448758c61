"""A backend's calibration, read from its properties JSON and converted to SI units.

The service sends the calibration as ``GET /backends/{name}/properties`` (see the REST reference,
section 5.1): per qubit and per gate, a list of name-date-unit-value entries. This module reads
the values a transpiler ``Target`` needs (T1, T2, frequency, readout error and length, gate error
and length, operational flags) into a :class:`Calibration`, in seconds and hertz;
:mod:`.target` builds the ``Target`` from it. Plain Python: it imports no qiskit.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jupyter_qrt.runtime.errors import InvalidInputError

__all__ = ["Calibration", "calibration_from_json"]

# The only calibration values the Target needs; other entries (and their units) are not read.
_QUBIT_KEYS = frozenset({"T1", "T2", "frequency", "readout_error", "readout_length", "operational"})
_GATE_KEYS = frozenset({"gate_error", "gate_length", "operational"})
_PREFIX_EXPONENT = {
    "f": 15, "p": 12, "n": 9, "u": 6, "µ": 6, "μ": 6, "m": 3,
    "k": -3, "M": -6, "G": -9, "T": -12, "P": -15,
}  # fmt: skip


def malformed_backend_json(document: str, backend: str, problem: str) -> InvalidInputError:
    """The error for a malformed backend document from the service.

    Parameters
    ----------
    document
        Which document: ``"configuration"`` or ``"properties"``.
    backend
        The backend's name.
    problem
        What is wrong, as a clause (no final full stop).
    """
    return InvalidInputError(
        f"Malformed {document} for backend {backend!r}: {problem}. The service sent data this "
        "client cannot use; refresh the backend later, or report it to the service's operator."
    )


_bad_properties = functools.partial(malformed_backend_json, "properties")


def qubit_index_list(value: Any, num_qubits: int) -> tuple[int, ...] | None:
    """``value`` as a tuple of in-range qubit indices, or None when it is not one."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return None
    in_range = (
        isinstance(q, int) and not isinstance(q, bool) and 0 <= q < num_qubits for q in value
    )
    return tuple(value) if all(in_range) else None


@dataclass(frozen=True)
class Calibration:
    """The calibration values of a backend that matter for transpiling, in SI units.

    Attributes
    ----------
    qubits
        Per qubit (by index), ``T1``/``T2``/``readout_length`` in seconds, ``frequency`` in hertz,
        ``readout_error`` and ``operational`` as numbers. A qubit the properties do not describe
        has an empty mapping.
    gates
        Per gate name, per qubit tuple: ``gate_error``, ``gate_length`` (seconds),
        ``operational``.
    """

    qubits: tuple[Mapping[str, float], ...]
    gates: Mapping[str, Mapping[tuple[int, ...], Mapping[str, float]]]

    @functools.cached_property
    def faulty_qubits(self) -> frozenset[int]:
        """Qubits the properties report as not operational."""
        return frozenset(q for q, values in enumerate(self.qubits) if not _operational(values))

    def is_gate_operational(self, name: str, qargs: tuple[int, ...]) -> bool:
        """False when the properties report gate ``name`` on ``qargs`` as not operational."""
        return _operational(self.gates.get(name, {}).get(qargs, {}))


def _operational(values: Mapping[str, float]) -> bool:
    return bool(values.get("operational", 1))


def _read_values(
    entries: Any, wanted: frozenset[str], backend: str, where: str
) -> dict[str, float]:
    """Read a list of name-date-unit-value entries into ``{name: value in SI units}``."""
    if not isinstance(entries, list):
        raise _bad_properties(backend, f"{where} is not a list")
    values: dict[str, float] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or "name" not in entry:
            raise _bad_properties(backend, f"{where} has an entry without 'name'")
        name = entry["name"]
        if name not in wanted or entry.get("value") is None:
            continue
        value, unit = entry["value"], entry.get("unit") or ""
        if not isinstance(value, int | float):
            raise _bad_properties(backend, f"{where} {name!r} is {value!r}")
        prefix = unit
        for base in ("Hz", "s"):
            if unit.endswith(base):
                prefix = unit[: -len(base)]
                break
        if prefix and (len(prefix) > 1 or prefix not in _PREFIX_EXPONENT):
            raise _bad_properties(backend, f"{where} {name!r} has unknown unit {unit!r}")
        exponent = _PREFIX_EXPONENT.get(prefix, 0)
        # Divide by an exact power of ten rather than multiply by 1e-9 & co, as the official
        # client does: the same float comes out, so error-aware layouts agree bit for bit.
        values[name] = value / 10**exponent if exponent > 0 else value * 10**-exponent
    return values


def calibration_from_json(
    properties: Mapping[str, Any], *, num_qubits: int, backend_name: str = "<unnamed backend>"
) -> Calibration:
    """Read the properties JSON of a backend into a :class:`Calibration`.

    Only the values a ``Target`` needs are read (T1, T2, frequency, readout error and length,
    gate error and length, operational flags); dates and other entries are skipped.

    Raises
    ------
    InvalidInputError
        If ``qubits`` or ``gates`` is missing or malformed, or a value has an unknown unit.
    """
    if not isinstance(properties, Mapping):
        raise _bad_properties(backend_name, "expected a JSON object")
    for key in ("qubits", "gates"):
        if not isinstance(properties.get(key), list):
            raise _bad_properties(backend_name, f"required list {key!r} is missing")
    qubit_entries = properties["qubits"]
    qubits = tuple(
        _read_values(qubit_entries[q], _QUBIT_KEYS, backend_name, f"qubits[{q}]")
        if q < len(qubit_entries)
        else {}
        for q in range(num_qubits)
    )
    gates: dict[str, dict[tuple[int, ...], Mapping[str, float]]] = {}
    for index, gate in enumerate(properties["gates"]):
        if not isinstance(gate, Mapping) or not isinstance(gate.get("gate"), str):
            raise _bad_properties(backend_name, f"gates[{index}] has no 'gate' name")
        qargs = qubit_index_list(gate.get("qubits"), num_qubits)
        if qargs is None:
            raise _bad_properties(
                backend_name,
                f"gates[{index}] ({gate['gate']}) has qubits {gate.get('qubits')!r}, "
                f"not a list of qubits in 0..{num_qubits - 1}",
            )
        where = f"gates[{index}] ({gate['gate']} on {list(qargs)})"
        gates.setdefault(gate["gate"], {})[qargs] = _read_values(
            gate.get("parameters", []), _GATE_KEYS, backend_name, where
        )
    return Calibration(qubits=qubits, gates=gates)
