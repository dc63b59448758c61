"""Result types of the Runtime API that qiskit itself does not define.

IBM's sampler and estimator programs put *execution spans* in the result metadata
(``result.metadata["execution"]["execution_spans"]``): when each slice of the data was taken.
qiskit has no classes for them, so these are ours. They keep the behaviour a user relies on in
qiskit-ibm-runtime (``start``, ``stop``, ``duration``, ``size``, ``mask``, ``pub_idxs``,
``filter_by_pub``, sorting, equality); plotting is left to the kernel layer.

``EstimatorPubResult`` is the estimator's per-pub result; qiskit's ``PubResult`` already holds
everything, the subclass only keeps the wire type name so a result re-encodes as it came.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, overload

import numpy as np
import numpy.typing as npt
from qiskit.primitives.containers import PubResult

__all__ = [
    "DoubleSliceSpan",
    "EstimatorPubResult",
    "ExecutionSpan",
    "ExecutionSpans",
    "SliceSpan",
    "TwirledSliceSpan",
    "TwirledSliceSpanV2",
]

Shape = tuple[int, ...]


class EstimatorPubResult(PubResult):  # type: ignore[misc]  # qiskit has no type stubs
    """The result of one estimator pub, as IBM's estimator program labels it."""


def _pubs_filter(pub_idx: int | Iterable[int]) -> set[int]:
    return {pub_idx} if isinstance(pub_idx, int) else set(pub_idx)


def _slice_len(length: int, part: slice) -> int:
    return len(range(length)[part])


class ExecutionSpan(abc.ABC):
    """A time window of execution and which part of each pub's data it produced.

    Parameters
    ----------
    start, stop
        When the window opened and closed (UTC).
    data_slices
        Pub index to the slice description of the concrete span type.
    """

    wire_type: ClassVar[str] = ""

    def __init__(self, start: datetime, stop: datetime, data_slices: Mapping[int, Any]) -> None:
        self._start = start
        self._stop = stop
        self._data_slices: dict[int, tuple[Any, ...]] = {
            int(idx): tuple(value) for idx, value in data_slices.items()
        }

    @property
    def start(self) -> datetime:
        """When this span started (UTC)."""
        return self._start

    @property
    def stop(self) -> datetime:
        """When this span stopped (UTC)."""
        return self._stop

    @property
    def duration(self) -> float:
        """Length of the span in seconds."""
        return (self._stop - self._start).total_seconds()

    @property
    def data_slices(self) -> dict[int, tuple[Any, ...]]:
        """Pub index to slice description (a copy; the span itself is immutable)."""
        return dict(self._data_slices)

    @property
    def pub_idxs(self) -> list[int]:
        """Indices of the pubs with data from this span, sorted."""
        return sorted(self._data_slices)

    @property
    def size(self) -> int:
        """How many results (for the sampler: shots) came from this span, over all pubs."""
        return sum(self._slice_size(value) for value in self._data_slices.values())

    @abc.abstractmethod
    def _slice_size(self, value: tuple[Any, ...]) -> int:
        """How many results one pub's slice description covers."""

    def mask(self, pub_idx: int) -> npt.NDArray[np.bool_]:
        """Boolean array shaped like the pub's data: ``True`` where the data came from this span.

        Raises
        ------
        KeyError
            If the pub has no data from this span.
        """
        if pub_idx not in self._data_slices:
            raise KeyError(f"Pub {pub_idx} is not included in the span.")
        return self._mask(self._data_slices[pub_idx])

    @abc.abstractmethod
    def _mask(self, value: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        """The mask of one pub's slice description."""

    def contains_pub(self, pub_idx: int | Iterable[int]) -> bool:
        """Whether any of the given pubs has data from this span."""
        return not _pubs_filter(pub_idx).isdisjoint(self._data_slices)

    def filter_by_pub(self, pub_idx: int | Iterable[int]) -> ExecutionSpan:
        """A span like this one that only describes the given pubs."""
        keep = _pubs_filter(pub_idx)
        slices = {idx: value for idx, value in self._data_slices.items() if idx in keep}
        return type(self)(self._start, self._stop, slices)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, ExecutionSpan)
            and (self._start, self._stop, self._data_slices)
            == (other._start, other._stop, other._data_slices)
        )

    __hash__ = None  # type: ignore[assignment]

    def __lt__(self, other: ExecutionSpan) -> bool:
        return (self._start, self._stop) < (other._start, other._stop)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(<start='{self._start:%Y-%m-%d %H:%M:%S}', "
            f"stop='{self._stop:%Y-%m-%d %H:%M:%S}', size={self.size}>)"
        )


class SliceSpan(ExecutionSpan):
    """A span whose data is one slice of the pub's row-major flattened data.

    ``data_slices`` maps a pub index to ``(shape, slice)``. On the wire it is ``ExecutionSpan``.
    """

    wire_type = "ExecutionSpan"

    def _slice_size(self, value: tuple[Any, ...]) -> int:
        shape, part = value
        return _slice_len(math.prod(shape), part)

    def _mask(self, value: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        shape, part = value
        mask = np.zeros(shape, dtype=np.bool_)
        mask.reshape(-1)[part] = True
        return mask


def _args_shots_size(shape: tuple[int, ...], args: slice, shots: slice) -> int:
    """Entries of ``shape`` (last axis: shots) in the flattened-args slice x the shots slice."""
    return _slice_len(math.prod(shape[:-1]), args) * _slice_len(shape[-1], shots)


def _args_shots_mask(shape: tuple[int, ...], args: slice, shots: slice) -> npt.NDArray[np.bool_]:
    """The mask of those entries, shaped like ``shape``."""
    mask = np.zeros(shape, dtype=np.bool_)
    mask.reshape(math.prod(shape[:-1]), shape[-1])[args, shots] = True
    return mask


class DoubleSliceSpan(ExecutionSpan):
    """A span given by a slice of the flattened parameter axes and a slice of the shots axis.

    ``data_slices`` maps a pub index to ``(shape, args_slice, shots_slice)`` where the last
    axis of ``shape`` is the shots.
    """

    wire_type = "DoubleSliceSpan"

    def _slice_size(self, value: tuple[Any, ...]) -> int:
        shape, args, shots = value[:3]
        return _args_shots_size(shape, args, shots)

    def _mask(self, value: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        shape, args, shots = value[:3]
        return _args_shots_mask(shape, args, shots)


class TwirledSliceSpan(ExecutionSpan):
    """A span of a twirled experiment: the data carries an extra randomisation axis.

    ``data_slices`` maps a pub index to ``(twirled_shape, at_front, args_slice, shots_slice)``:
    ``twirled_shape`` ends with shots per randomisation, ``at_front`` says whether the
    randomisation axis is first (else it is just before the shots axis).
    """

    wire_type = "TwirledSliceSpan"

    def _slice_size(self, value: tuple[Any, ...]) -> int:
        shape, _, args, shots = value[:4]
        return _args_shots_size(shape, args, shots)

    def _mask(self, value: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        shape, at_front, args, shots = value[:4]
        mask = _args_shots_mask(shape, args, shots)
        if at_front:
            # the pub's data has randomisations next to the shots, not in front
            mask = np.moveaxis(mask, 0, -2)
        return mask.reshape(*mask.shape[:-2], mask.shape[-2] * mask.shape[-1])


class TwirledSliceSpanV2(TwirledSliceSpan):
    """A :class:`TwirledSliceSpan` that also knows how many shots the pub asked for.

    ``data_slices`` maps a pub index to ``(twirled_shape, at_front, args_slice, shots_slice,
    pub_shots)``; the mask is cut to ``pub_shots`` along the shots axis.
    """

    wire_type = "TwirledSliceSpanV2"

    def _mask(self, value: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        return super()._mask(value)[..., : value[4]]


class ExecutionSpans:
    """The execution spans of one job: a sequence of :class:`ExecutionSpan`.

    Parameters
    ----------
    spans
        The spans, in the order the service reported them.
    """

    def __init__(self, spans: Iterable[ExecutionSpan]) -> None:
        self._spans = list(spans)

    def __len__(self) -> int:
        return len(self._spans)

    @overload
    def __getitem__(self, index: int) -> ExecutionSpan: ...

    @overload
    def __getitem__(self, index: slice | list[int]) -> ExecutionSpans: ...

    def __getitem__(self, index: int | slice | list[int]) -> ExecutionSpan | ExecutionSpans:
        if isinstance(index, int):
            return self._spans[index]
        if isinstance(index, slice):
            return ExecutionSpans(self._spans[index])
        return ExecutionSpans(self._spans[i] for i in index)

    def __iter__(self) -> Iterator[ExecutionSpan]:
        return iter(self._spans)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecutionSpans) and self._spans == other._spans

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ExecutionSpans({self._spans!r})"

    @property
    def pub_idxs(self) -> list[int]:
        """Indices of the pubs with data in any span, sorted."""
        return sorted({idx for span in self._spans for idx in span.pub_idxs})

    @property
    def start(self) -> datetime:
        """When the first span started."""
        return min(span.start for span in self._spans)

    @property
    def stop(self) -> datetime:
        """When the last span stopped."""
        return max(span.stop for span in self._spans)

    @property
    def duration(self) -> float:
        """Seconds from the first start to the last stop."""
        return (self.stop - self.start).total_seconds()

    def filter_by_pub(self, pub_idx: int | Iterable[int]) -> ExecutionSpans:
        """The spans, each cut down to the given pubs."""
        return ExecutionSpans(span.filter_by_pub(pub_idx) for span in self._spans)

    def sort(self, inplace: bool = True) -> ExecutionSpans:
        """Sort by ``(start, stop)``; in place unless ``inplace=False`` (then a sorted copy)."""
        target = self if inplace else ExecutionSpans(self._spans)
        target._spans.sort()
        return target
