"""What an executor job returns: samplomatic's ``QuantumProgramResult`` with the job's metadata.

samplomatic's ``QuantumProgramResult`` and ``QuantumProgramItemResult`` hold the arrays (one
mapping of named arrays per program item) and the ``passthrough_data``; the executor's result also
carries metadata: the chunk timing of the whole job, per item the scheduler timing and stretch
values, and the ``semantic_role`` that says which client-side post-processing applies. The
subclasses here add exactly those, under the names and attributes qiskit-ibm-runtime's own
subclasses use (``metadata.chunk_timing``, ``result[i].metadata.scheduler_timing``, ``timing``,
``_semantic_role``), so code written against the official client reads them unchanged.

Importing this module imports samplomatic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast, overload

import numpy as np
from samplomatic.quantum_program import ChunkSpan, ChunkTiming
from samplomatic.quantum_program import QuantumProgramItemResult as _BaseItemResult
from samplomatic.quantum_program import QuantumProgramResult as _BaseResult

__all__ = [
    "ItemMetadata",
    "Metadata",
    "QuantumProgramItemResult",
    "QuantumProgramResult",
    "SchedulerTiming",
    "StretchValues",
]


@dataclass
class SchedulerTiming:
    """The timing of a scheduled circuit, in multiples of the backend's ``dt``."""

    timing: str
    """The circuit's timing, in a comma-separated text format."""

    circuit_duration: int
    """The duration of the circuit in ``dt`` steps."""


@dataclass
class StretchValues:
    """How one stretch of a circuit was resolved, in multiples of the backend's ``dt``."""

    name: str
    """The name of the stretch."""

    value: int
    """The resolved stretch value, up to the remainder."""

    remainder: int
    """The time left over if ``value`` were used for each stretch."""

    expanded_values: list[tuple[int, int]]
    """``(time, duration)`` of each delay the stretch became."""


@dataclass
class ItemMetadata:
    """Metadata of one item's execution (set when ``execution.scheduler_timing`` or
    ``execution.stretch_values`` asked for it)."""

    scheduler_timing: SchedulerTiming | None = None
    stretch_values: list[StretchValues] | None = None


@dataclass
class Metadata:
    """Metadata of the whole executor job."""

    chunk_timing: list[ChunkSpan] = field(default_factory=list)
    """When each chunk of the job ran (UTC) and which parts of which items it held."""


class QuantumProgramItemResult(_BaseItemResult):  # type: ignore[misc]  # samplomatic is untyped
    """The arrays of one program item by name (classical registers, samplex outputs), and its
    :class:`ItemMetadata`."""

    def __init__(self, result: dict[str, np.ndarray], metadata: ItemMetadata | None = None) -> None:
        super().__init__(result=result)
        self.metadata = metadata or ItemMetadata()


class QuantumProgramResult(_BaseResult):  # type: ignore[misc]  # samplomatic is untyped
    """The result of an executor job: one :class:`QuantumProgramItemResult` per program item, in
    the program's order, with the job's :class:`Metadata`, the ``passthrough_data`` the program
    was sent with (arrays as numpy arrays) and its ``semantic_role``.

    An instance of samplomatic's ``QuantumProgramResult``.
    """

    def __init__(
        self,
        data: Sequence[dict[str, np.ndarray] | QuantumProgramItemResult],
        metadata: Metadata | None = None,
        passthrough_data: Any = None,
        semantic_role: str | None = None,
    ) -> None:
        super().__init__(
            data=[
                item
                if isinstance(item, QuantumProgramItemResult)
                else QuantumProgramItemResult(item)
                for item in data
            ],
            passthrough_data=passthrough_data,
        )
        self.metadata = metadata or Metadata()
        # The attribute name of qiskit-ibm-runtime's result, which its post-processing reads.
        self._semantic_role = semantic_role

    @property
    def semantic_role(self) -> str | None:
        """How clients post-process this result (``"sampler-v2"``, ...), or ``None``."""
        return self._semantic_role

    @property
    def timing(self) -> ChunkTiming:
        """The chunk timing as samplomatic's ``ChunkTiming`` (``.start``, ``.duration``,
        ``.draw()``)."""
        return ChunkTiming(self.metadata.chunk_timing)

    @overload
    def __getitem__(self, idx: int) -> QuantumProgramItemResult: ...

    @overload
    def __getitem__(self, idx: slice) -> list[QuantumProgramItemResult]: ...

    def __getitem__(
        self, idx: int | slice
    ) -> QuantumProgramItemResult | list[QuantumProgramItemResult]:
        return cast(
            "QuantumProgramItemResult | list[QuantumProgramItemResult]", super().__getitem__(idx)
        )

    def __iter__(self) -> Iterator[QuantumProgramItemResult]:
        return cast("Iterator[QuantumProgramItemResult]", super().__iter__())
