"""Kernel widgets: building a histogram of 65,536 distinct outcomes.

``python -m benchmarks.kernel_widgets [--quick]``; the ``kernel`` suite (benchmarks/kernel.py)
can add :func:`rows` to its table. Targets: the widget is built in under 100 ms and sends the
browser under 200 KB, because it aggregates (top k + "other") before plotting. For scale, the
last rows build a plotly figure with one bar per outcome, as a histogram without aggregation
would.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from ._table import Row, median_seconds, print_table

_OUTCOMES = 2**16


def _counts(rng: np.random.Generator) -> dict[str, int]:
    return {format(n, "016b"): int(c) for n, c in enumerate(rng.integers(1, 50, _OUTCOMES))}


def _bitarray(rng: np.random.Generator, shots: int) -> Any:
    from qiskit.primitives import BitArray

    # Every 16-bit outcome at least once, then random shots: 65,536 distinct outcomes.
    values = np.concatenate([np.arange(_OUTCOMES), rng.integers(0, _OUTCOMES, shots - _OUTCOMES)])
    packed = np.stack([(values >> 8) & 0xFF, values & 0xFF], axis=1).astype(np.uint8)
    return BitArray(packed, 16)


def rows(quick: bool = False) -> list[Row]:
    """The histogram rows: build time and payload, from a counts dict and from a BitArray."""
    import ipywidgets  # noqa: F401  (imported once, outside the timings)
    import plotly.graph_objects as go

    from jupyter_qrt.kernel.widgets.histogram_view import Histogram

    repeat = 3 if quick else 7
    rng = np.random.default_rng(11)
    counts = _counts(rng)
    bits = _bitarray(rng, 2**17 if quick else 2**18)
    out: list[Row] = []
    cases: list[tuple[str, Any]] = [
        ("counts dict", counts),
        (f"BitArray, {bits.num_shots} shots", bits),
    ]
    for what, data in cases:

        def build(data: Any = data) -> object:
            return Histogram(data)._repr_mimebundle_()

        seconds = median_seconds(build, repeat=repeat)
        payload = len(json.dumps(build()))
        out.append(
            Row(
                f"histogram + bundle, 65,536 outcomes ({what})",
                seconds * 1e3,
                None,
                "ms",
                "< 100 ms",
            )
        )
        out.append(Row(f"payload to the browser ({what})", payload / 1024, None, "KB", "< 200 KB"))
    xs, ys = list(counts), list(counts.values())
    naive = median_seconds(
        lambda: go.Figure(go.Bar(x=xs, y=ys)).to_json(), repeat=max(1, repeat // 2)
    )
    size = len(go.Figure(go.Bar(x=xs, y=ys)).to_json())
    out.append(Row("for scale: plotly figure, one bar per outcome", naive * 1e3, None, "ms"))
    out.append(Row("for scale: its payload", size / 1024, None, "KB"))
    return out


def main(quick: bool = False) -> None:
    """Print the table."""
    print_table("kernel widgets: histogram of 65,536 outcomes", rows(quick))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    main(quick=parser.parse_args().quick)
