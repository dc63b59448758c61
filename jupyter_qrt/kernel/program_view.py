"""Counts of an ``executor`` job, for the histogram: whatever client submitted it.

An executor job (our ``Executor``, or qiskit-ibm-runtime's executor-based ``Sampler``/``Estimator``
or ``Executor``) returns a ``QuantumProgramResult``: per program item, named boolean arrays. The
classical registers are arrays ``(*item shape, shots, bits)`` named like the register; a
samplex that twirls measurements adds ``measurement_flips.<register>``, the flips to undo.
That much is samplomatic's documented output, so the view relies on nothing else (not on the
``semantic_role``, which IBM reserves for its own clients): each register's bits, flips undone,
all randomizations and sweep elements together, become one ``BitArray``, and the items become
the pubs of a Sampler-like ``PrimitiveResult`` that :func:`.display.histogram` draws.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["FLIPS_PREFIX", "as_counts_result", "is_program_result"]

FLIPS_PREFIX = "measurement_flips."


def is_program_result(result: Any) -> bool:
    """Whether ``result`` is an executor job's ``QuantumProgramResult``."""
    try:
        from samplomatic.quantum_program import QuantumProgramResult
    except ImportError:  # pragma: no cover - samplomatic is a dependency
        return False
    return isinstance(result, QuantumProgramResult)


def as_counts_result(result: Iterable[Mapping[str, Any]]) -> Any:
    """A Sampler-like ``PrimitiveResult``: per item, one ``BitArray`` per register.

    Registers whose name is not a Python identifier (e.g. ``_meas`` of the executor-based
    Estimator) are shown under the name without leading underscores.
    """
    from qiskit.primitives import PrimitiveResult
    from qiskit.primitives.containers import BitArray, DataBin, SamplerPubResult

    pubs = []
    for index, item in enumerate(result):
        registers: dict[str, BitArray] = {}
        for name, value in item.items():
            array = np.asarray(value)
            if not _is_register(name, array):
                continue
            flips = item.get(FLIPS_PREFIX + name)
            if flips is not None:
                array = np.logical_xor(array, np.asarray(flips, dtype=np.bool_))
            bits = array.reshape(-1, array.shape[-1])
            registers[_field(name, registers)] = BitArray.from_bool_array(bits, order="little")
        pubs.append(SamplerPubResult(DataBin(**registers), metadata={"executor_item": index}))
    return PrimitiveResult(pubs, metadata={"program": "executor"})


def _is_register(name: str, array: np.ndarray) -> bool:
    return "." not in name and array.dtype == np.bool_ and array.ndim >= 2


def _field(name: str, taken: Mapping[str, Any]) -> str:
    field = name.lstrip("_") or "c"
    if not field.isidentifier() or keyword.iskeyword(field):
        field = f"c_{field}"
    while field in taken:
        field += "_"
    return field
