"""Rows and the printed table every benchmark suite shares."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of a comparison: the same work done by us and by qiskit-ibm-runtime."""

    benchmark: str
    ours: float
    theirs: float | None
    unit: str
    target: str = ""

    @property
    def ratio(self) -> float | None:
        if self.theirs is None or self.theirs == 0:
            return None
        return self.ours / self.theirs


def print_table(title: str, rows: Sequence[Row], *, baseline: str = "qiskit-ibm-runtime") -> None:
    """Print ``rows`` as a fixed-width table (stdout is the report of a benchmark run).

    ``baseline`` heads the "theirs" column (what "ours" is compared with).
    """
    headers = ("benchmark", "ours", baseline, "ours/theirs", "target")
    lines = [
        (
            r.benchmark,
            f"{r.ours:.4g} {r.unit}",
            "-" if r.theirs is None else f"{r.theirs:.4g} {r.unit}",
            "-" if r.ratio is None else f"{r.ratio:.3f}",
            r.target,
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


def median_seconds(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` discarded runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh_process_seconds(
    code: str, *, repeat: int = 5, env: dict[str, str] | None = None
) -> float:
    """Median wall time of ``python -c code`` in a fresh interpreter (startup included)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **(env or {})})
        times.append(time.perf_counter() - start)
    return statistics.median(times)
