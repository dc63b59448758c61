"""Counts for the histogram: read from Sampler results or dicts, then reduced to top-k + other.

A result with 65,536 distinct outcomes must not become 65,536 bars: everything here works on
numpy arrays and only the ``top_k`` outcomes shown ever become strings in the figure. Plain numpy;
qiskit objects are read by duck typing (``.data``, ``.array``, ``.num_bits``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["OTHER", "Aggregate", "Series", "aggregate", "outcome_counts", "read_series"]

#: Label of the bar that sums every outcome outside the top k.
OTHER = "other"


@dataclass(frozen=True)
class Series:
    """One result to plot: per PUB, per classical register, its counts.

    Attributes
    ----------
    label
        Legend name (``ideal``, ``noisy``, a job id...).
    pubs
        One mapping per PUB: register name -> counts source (a counts dict or a ``BitArray``).
    """

    label: str
    pubs: list[dict[str, Any]]


def _is_counts(value: Any) -> bool:
    # The first key decides: checking all 65,536 keys costs more than the whole histogram.
    return isinstance(value, Mapping) and (not value or isinstance(next(iter(value)), str))


def _pub_registers(pub_result: Any) -> dict[str, Any]:
    data = getattr(pub_result, "data", None)
    if data is None:
        raise TypeError(
            f"{type(pub_result).__name__} is not a Sampler pub result; pass a Sampler "
            "PrimitiveResult, a SamplerPubResult or a counts dict such as {'00': 510, '11': 490}."
        )
    registers = {
        name: value
        for name, value in data.items()
        if hasattr(value, "array") and hasattr(value, "num_bits")
    }
    if not registers:
        raise TypeError(
            "This result holds no measured bits (no BitArray register): is it an Estimator "
            "result? Use expectation_plot(result) for Estimator results."
        )
    return registers


def _one_series(item: Any, label: str) -> Series:
    if _is_counts(item):
        return Series(label, [{"counts": item}])
    if hasattr(item, "array") and hasattr(item, "num_bits"):  # one register's BitArray
        return Series(label, [{"bits": item}])
    if hasattr(item, "data"):  # one SamplerPubResult
        return Series(label, [_pub_registers(item)])
    try:
        pubs = list(item)
    except TypeError:
        pubs = None
    if not pubs:
        raise TypeError(
            f"Cannot draw a histogram of {type(item).__name__}; pass a Sampler PrimitiveResult, "
            "a SamplerPubResult or a counts dict such as {'00': 510, '11': 490}."
        )
    return Series(label, [_pub_registers(p) for p in pubs])


def read_series(results: Any, labels: Sequence[str] | None = None) -> list[Series]:
    """The series to plot: one result or counts dict, or a list of them side by side.

    Raises
    ------
    TypeError
        Something that is neither a Sampler result nor counts; the message says what to pass.
    ValueError
        ``labels`` does not name every result.
    """
    several = isinstance(results, list | tuple) and bool(results)
    several = several and all(_is_counts(r) or hasattr(r, "__iter__") for r in results)
    # A list of pub results is one PrimitiveResult-like series, not several.
    if several and all(hasattr(r, "data") for r in results):
        several = False
    items = list(results) if several else [results]
    if labels is not None and len(labels) != len(items):
        raise ValueError(
            f"labels names {len(labels)} result(s) but {len(items)} were given; pass one "
            "label per result, e.g. labels=['ideal', 'noisy']."
        )
    names = (
        list(labels)
        if labels is not None
        else ([f"result {n}" for n in range(len(items))] if several else ["counts"])
    )
    return [_one_series(item, name) for item, name in zip(items, names, strict=True)]


def outcome_counts(source: Any) -> tuple[np.ndarray, np.ndarray, int | None]:
    """``(outcomes, counts, num_bits)`` of one register.

    A ``BitArray`` of up to 64 bits is counted with numpy on its packed bytes and its outcomes
    stay integers (``num_bits`` says how wide), so only the bars shown become strings; wider
    ones and counts dicts give bitstrings (``num_bits`` None).
    """
    if _is_counts(source):
        keys = np.array(list(source.keys()), dtype=str)
        values = np.fromiter(source.values(), dtype=np.int64, count=len(source))
        return keys, values, None
    packed = np.asarray(source.array, dtype=np.uint8)
    num_bits = int(source.num_bits)
    rows = packed.reshape(-1, packed.shape[-1])  # every shot of every parameter set
    if rows.shape[-1] <= 8:
        # Big-endian bytes -> one integer per shot, then counted.
        weights = (256 ** np.arange(rows.shape[-1] - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)
        ints = rows.astype(np.uint64) @ weights
        unique, counts = np.unique(ints, return_counts=True)
        return unique, counts.astype(np.int64), num_bits
    unique_rows, counts = np.unique(rows, axis=0, return_counts=True)
    bits = np.unpackbits(unique_rows, axis=1)[:, -num_bits:]
    keys = np.array(["".join(map(str, r)) for r in bits], dtype=str)
    return keys, counts.astype(np.int64), None


def _as_text(keys: np.ndarray, num_bits: int | None) -> np.ndarray:
    if num_bits is None:
        return keys
    return np.array([format(int(k), f"0{num_bits}b") for k in keys], dtype=str)


@dataclass(frozen=True)
class Aggregate:
    """What the figure draws: the shown outcomes and, per series, their heights.

    Attributes
    ----------
    outcomes
        Bar labels, the top ``k`` outcomes then :data:`OTHER` when anything was left out.
    values
        Per series, one height per outcome (counts, or probabilities).
    totals
        Shots per series.
    distinct
        How many distinct outcomes the series hold together.
    """

    outcomes: list[str]
    values: list[list[float]]
    totals: list[int]
    distinct: int


def aggregate(
    per_series: Sequence[tuple[np.ndarray, np.ndarray, int | None]],
    *,
    top_k: int = 32,
    probabilities: bool = False,
    reverse_bits: bool = False,
    sort: str = "key",
) -> Aggregate:
    """Reduce counts to the top ``k`` outcomes (by probability summed over series) and "other".

    Parameters
    ----------
    per_series
        ``(outcomes, counts, num_bits)`` per series, as :func:`outcome_counts` gives.
    top_k
        Most bars besides "other" (at least 1).
    probabilities
        Heights as probabilities (each series sums to 1) instead of counts.
    reverse_bits
        Show bitstrings with bit 0 on the left (qiskit's default puts it on the right).
    sort
        ``"key"`` (bitstring order) or ``"value"`` (tallest first).
    """
    top_k = max(1, int(top_k))
    widths = {n for _, _, n in per_series}
    totals = [int(c.sum()) for _, c, _ in per_series]
    if len(per_series) == 1:  # outcomes already distinct and sorted: no union needed
        keys_all, counts, _ = per_series[0]
        matrix = counts[None, :].astype(np.float64)
    else:
        if len(widths) > 1:  # integers and bitstrings together: compare as bitstrings
            per_series = [(_as_text(k, n), c, None) for k, c, n in per_series]
        keys_all, inverse = np.unique(
            np.concatenate([k for k, _, _ in per_series]), return_inverse=True
        )
        matrix = np.zeros((len(per_series), len(keys_all)), dtype=np.float64)
        start = 0
        for row, (keys, counts, _) in enumerate(per_series):
            np.add.at(matrix[row], inverse[start : start + len(keys)], counts)
            start += len(keys)
    num_bits = per_series[0][2]
    weight = (matrix / np.maximum(1, np.array(totals, dtype=np.float64))[:, None]).sum(axis=0)
    if len(keys_all) > top_k:
        chosen = np.argpartition(-weight, top_k - 1)[:top_k]
    else:
        chosen = np.arange(len(keys_all))
    if sort == "value":
        chosen = chosen[np.lexsort((keys_all[chosen], -weight[chosen]))]
    else:
        chosen = chosen[np.argsort(keys_all[chosen], kind="stable")]
    shown = matrix[:, chosen]
    other = matrix.sum(axis=1) - shown.sum(axis=1)
    texts = _as_text(keys_all[chosen], num_bits)  # only the bars shown become strings
    labels = [str(k)[::-1] if reverse_bits else str(k) for k in texts]
    if reverse_bits and sort != "value":  # keep bitstring order in the order shown
        order = np.argsort(np.array(labels, dtype=str), kind="stable")
        labels = [labels[i] for i in order]
        shown = shown[:, order]
    heights = shown
    has_other = len(keys_all) > len(chosen)
    if has_other:
        labels.append(OTHER)
        heights = np.concatenate([shown, other[:, None]], axis=1)
    if probabilities:
        heights = heights / np.maximum(1, np.array(totals, dtype=np.float64))[:, None]
    values = [[round(float(v), 6) if probabilities else float(v) for v in row] for row in heights]
    return Aggregate(labels, values, totals, len(keys_all))
