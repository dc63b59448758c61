"""The expectation plot: Estimator expectation values with error bars; sweeps as lines with bands.

Without ``parameter_values`` every expectation value of every PUB is a point with its standard
error as an error bar. With ``parameter_values`` (the swept values, one per parameter set), each
PUB's values become lines over them, with a band of one standard error either side.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import numpy as np

from ._static import StaticFallback, figure_output, fmt_number, html_table

__all__ = ["ExpectationPlot", "read_estimates"]


def read_estimates(result: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(evs, stds)`` per PUB of an Estimator result (or of one pub result).

    Raises
    ------
    TypeError
        Not an Estimator result; the message says what to pass.
    """
    pubs = [result] if hasattr(result, "data") else None
    if pubs is None:
        try:
            pubs = list(result)
        except TypeError:
            pubs = []
    out = []
    for pub in pubs:
        data = getattr(pub, "data", None)
        evs = getattr(data, "evs", None)
        if evs is None:
            raise TypeError(
                f"{type(pub).__name__} holds no expectation values (no data.evs): pass an "
                "Estimator PrimitiveResult; for Sampler results use histogram(result)."
            )
        stds = getattr(data, "stds", None)
        evs_a = np.asarray(evs, dtype=float)
        stds_a = np.zeros_like(evs_a) if stds is None else np.asarray(stds, dtype=float)
        out.append((evs_a, np.broadcast_to(stds_a, evs_a.shape)))
    if not out:
        raise TypeError(
            f"Cannot plot {type(result).__name__}: pass an Estimator PrimitiveResult "
            "(job.result()) or one of its pub results."
        )
    return out


def _lines(evs: np.ndarray, stds: np.ndarray, n: int, pub: int) -> list[tuple[np.ndarray, ...]]:
    """A PUB's values as lines over the ``n`` swept values: the last axis is the sweep.

    Parameter sets broadcast along the last axis of the values when observables are given as a
    column (shape ``(m, 1)``) against parameter values of shape ``(n, k)``.
    """
    if evs.ndim == 0 or evs.shape[-1] != n:
        raise ValueError(
            f"PUB {pub} has expectation values of shape {evs.shape}, whose last axis is not the "
            f"{n} parameter values given; pass one value per parameter set of the sweep "
            "(observables as a column, e.g. [[Z], [X]], put the sweep last)."
        )
    return list(zip(evs.reshape(-1, n), stds.reshape(-1, n), strict=True))


class ExpectationPlot(StaticFallback, w.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """Expectation values with error bars (use :func:`...widgets.expectation_plot`).

    Parameters
    ----------
    result
        An Estimator ``PrimitiveResult`` or one pub result.
    parameter_values
        The swept values (one per parameter set) for a line plot with error bands.
    labels
        One name per PUB (default ``PUB 0``, ``PUB 1``...).
    """

    def __init__(
        self, result: Any, *, parameter_values: Any = None, labels: list[str] | None = None
    ) -> None:
        self._estimates = read_estimates(result)
        if labels is not None and len(labels) != len(self._estimates):
            raise ValueError(
                f"labels names {len(labels)} PUB(s) but the result has {len(self._estimates)}; "
                "pass one label per PUB."
            )
        self._labels = labels or [f"PUB {n}" for n in range(len(self._estimates))]
        self._x = None if parameter_values is None else np.asarray(parameter_values, dtype=float)
        if self._x is not None and self._x.ndim != 1:
            raise ValueError(
                "parameter_values must be one value per parameter set (a 1-D list or array), "
                f"not an array of shape {self._x.shape}; pass e.g. the swept angle."
            )
        self._rows = self._table_rows()  # validates the sweep's shape before any drawing
        out = w.Output()
        out.outputs = figure_output(
            self.figure_json(), self._fallback_text(), self._fallback_html()
        )
        super().__init__(children=[out])

    def _series(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, values, standard errors) per line or per PUB."""
        out = []
        for pub, ((evs, stds), label) in enumerate(zip(self._estimates, self._labels, strict=True)):
            if self._x is None:
                out.append((label, evs.reshape(-1), stds.reshape(-1)))
                continue
            lines = _lines(evs, stds, len(self._x), pub)
            for n, (ev, sd) in enumerate(lines):
                out.append((label if len(lines) == 1 else f"{label} [{n}]", ev, sd))
        return out

    def _table_rows(self) -> list[list[Any]]:
        rows = []
        for name, evs, stds in self._series():
            xs = self._x if self._x is not None else range(len(evs))
            for x, ev, sd in zip(xs, evs, stds, strict=True):
                rows.append([name, fmt_number(float(x)), f"{ev:.4f}", f"{sd:.4f}"])
        return rows

    def figure_json(self) -> dict[str, Any]:
        """The plotly figure as JSON."""
        traces: list[dict[str, Any]] = []
        for name, evs, stds in self._series():
            if self._x is None:
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "name": name,
                        "x": [f"{name}[{n}]" if len(evs) > 1 else name for n in range(len(evs))],
                        "y": evs.tolist(),
                        "error_y": {"type": "data", "array": stds.tolist(), "visible": True},
                    }
                )
                continue
            x = self._x.tolist()
            upper, lower = (evs + stds).tolist(), (evs - stds).tolist()
            traces.append(
                {
                    "type": "scatter",
                    "x": x + x[::-1],
                    "y": upper + lower[::-1],
                    "fill": "toself",
                    "opacity": 0.25,
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "name": f"{name} ± 1 std",
                }
            )
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": name,
                    "x": x,
                    "y": evs.tolist(),
                }
            )
        return {
            "data": traces,
            "layout": {
                "title": {
                    "text": "Expectation values" + (" (sweep)" if self._x is not None else "")
                },
                "xaxis": {"title": {"text": "parameter value" if self._x is not None else ""}},
                "yaxis": {"title": {"text": "expectation value"}},
                "margin": {"t": 40, "l": 50, "r": 10, "b": 50},
            },
            "config": {"displaylogo": False},
        }

    def _fallback_text(self) -> str:
        head = "x" if self._x is not None else "index"
        lines = [f"Expectation values ({head}: value ± std)"]
        lines += [f"  {n} {x}: {ev} ± {sd}" for n, x, ev, sd in self._rows]
        return "\n".join(lines)

    def _fallback_html(self) -> str:
        head = "parameter" if self._x is not None else "index"
        return html_table(["series", head, "value", "std"], self._rows)

    def _fallback_figure(self) -> Any:
        return self.figure_json()
