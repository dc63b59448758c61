"""What the backend browser shows, read from the REST API: rows, calibrations, CSV, the map.

Plain Python over the service's JSON (``GET /backends``, ``/configuration``, ``/properties``,
``/status``): no qiskit Target is built, so listing a 156-qubit device stays cheap. Medians leave
out values of 1 or more (IBM marks broken gates and qubits that way).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = [
    "BackendRow",
    "coupling_figure",
    "gate_rows",
    "qubit_rows",
    "read_rows",
    "rows_to_csv",
]


@dataclass(frozen=True)
class BackendRow:
    """One line of the backend table."""

    name: str
    qubits: int
    status: str
    pending_jobs: int
    median_2q_error: float | None
    median_readout_error: float | None
    simulator: bool


def _value(entries: Sequence[Mapping[str, Any]], name: str) -> float | None:
    for entry in entries:
        if entry.get("name") == name and isinstance(entry.get("value"), int | float):
            return float(entry["value"])
    return None


def _median(values: list[float | None]) -> float | None:
    good = [v for v in values if v is not None and math.isfinite(v) and v < 1]
    return statistics.median(good) if good else None


def two_qubit_errors(properties: Mapping[str, Any] | None) -> dict[tuple[int, int], float]:
    """The error of each two-qubit gate, by qubit pair (the lowest when several gates share it)."""
    out: dict[tuple[int, int], float] = {}
    for gate in (properties or {}).get("gates") or []:
        qubits = gate.get("qubits") or []
        error = _value(gate.get("parameters") or [], "gate_error")
        if len(qubits) == 2 and error is not None:
            pair = (int(qubits[0]), int(qubits[1]))
            out[pair] = min(error, out.get(pair, error))
    return out


def _status(summary: Mapping[str, Any]) -> str:
    status = summary.get("status")
    if isinstance(status, Mapping):
        return str(status.get("name") or "unknown")
    return str(status or "unknown")


def read_rows(api: Any) -> list[BackendRow]:
    """A row per backend of the instance (one listing, then properties per device)."""
    rows = []
    for summary in api.backends():
        name = str(summary["name"])
        simulator = bool(summary.get("is_simulator"))
        properties = None if simulator else api.backend_properties(name)
        readout = [_value(q, "readout_error") for q in (properties or {}).get("qubits") or []]
        rows.append(
            BackendRow(
                name=name,
                qubits=int(summary.get("qubits") or 0),
                status=_status(summary),
                pending_jobs=int(summary.get("queue_length") or 0),
                median_2q_error=_median(list(two_qubit_errors(properties).values())),
                median_readout_error=_median(readout),
                simulator=simulator,
            )
        )
    return rows


def rows_to_csv(rows: Sequence[Any], header: Sequence[str] | None = None) -> str:
    """CSV text of dataclass rows (or of lists, with ``header``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows and not isinstance(rows[0], list | tuple):
        writer.writerow([f.name for f in fields(rows[0])])
        writer.writerows([list(asdict(r).values()) for r in rows])
    else:
        writer.writerow(list(header or []))
        writer.writerows(rows)
    return buffer.getvalue()


QUBIT_HEADER = ["qubit", "T1 (us)", "T2 (us)", "frequency (GHz)", "readout_error"]
GATE_HEADER = ["gate", "qubits", "gate_error", "gate_length (ns)"]


def qubit_rows(properties: Mapping[str, Any] | None) -> list[list[Any]]:
    """A row per qubit: T1, T2, frequency, readout error."""
    return [
        [n, _value(q, "T1"), _value(q, "T2"), _value(q, "frequency"), _value(q, "readout_error")]
        for n, q in enumerate((properties or {}).get("qubits") or [])
    ]


def gate_rows(properties: Mapping[str, Any] | None) -> list[list[Any]]:
    """A row per calibrated gate: name, qubits, error, length."""
    out = []
    for gate in (properties or {}).get("gates") or []:
        params = gate.get("parameters") or []
        qubits = " ".join(str(q) for q in gate.get("qubits") or [])
        out.append(
            [gate.get("gate"), qubits, _value(params, "gate_error"), _value(params, "gate_length")]
        )
    return out


#: Colour bins of the coupling map's edges, from the lowest to the highest two-qubit error.
_EDGE_BINS = 8


def _positions(configuration: Mapping[str, Any], num_qubits: int) -> list[tuple[float, float]]:
    coords = configuration.get("coords")
    if isinstance(coords, list) and len(coords) == num_qubits:
        # Device coordinates are (row, column): column to the right, rows downwards.
        return [(float(c[1]), -float(c[0])) for c in coords]
    import rustworkx as rx

    graph = rx.PyGraph()
    graph.add_nodes_from(range(num_qubits))
    for a, b in configuration.get("coupling_map") or []:
        if a < b:
            graph.add_edge(a, b, None)
    layout = rx.spring_layout(graph, seed=1)
    return [(float(layout[n][0]), float(layout[n][1])) for n in range(num_qubits)]


def coupling_figure(
    name: str, configuration: Mapping[str, Any], properties: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Plotly JSON: qubits coloured by readout error, edges coloured by two-qubit error."""
    num_qubits = int(configuration.get("n_qubits") or 0)
    xy = _positions(configuration, num_qubits)
    errors = two_qubit_errors(properties)
    pairs = sorted({tuple(sorted(p)) for p in configuration.get("coupling_map") or []})
    known = [e for e in errors.values() if e < 1]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    # Edges go into a few colour bins, one trace each (None breaks the line between edges), so a
    # 156-qubit map is a dozen traces, not one per edge; hover text sits on edge midpoints.
    bins: dict[int, tuple[list[float | None], list[float | None]]] = {}
    mid_x, mid_y, mid_text = [], [], []
    for a, b in pairs:
        error = errors.get((a, b), errors.get((b, a)))
        share = 0.0 if error is None or high == low else min(1.0, (error - low) / (high - low))
        index = -1 if error is None else min(_EDGE_BINS - 1, int(share * _EDGE_BINS))
        xs, ys = bins.setdefault(index, ([], []))
        xs += [xy[a][0], xy[b][0], None]
        ys += [xy[a][1], xy[b][1], None]
        mid_x.append((xy[a][0] + xy[b][0]) / 2)
        mid_y.append((xy[a][1] + xy[b][1]) / 2)
        mid_text.append(f"{a}-{b}: 2q error {'-' if error is None else f'{error:.2e}'}")
    traces: list[dict[str, Any]] = []
    for index, (xs, ys) in sorted(bins.items()):
        if index < 0:
            colour, legend = "rgb(170,170,170)", "2q error unknown"
        else:
            share = (index + 0.5) / _EDGE_BINS
            colour = f"rgb({int(40 + 215 * share)},{int(160 - 120 * share)},{int(90 - 60 * share)})"
            edge_low = low + (high - low) * index / _EDGE_BINS
            edge_high = low + (high - low) * (index + 1) / _EDGE_BINS
            legend = f"2q error {edge_low:.1e}-{edge_high:.1e}"
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": legend,
                "x": xs,
                "y": ys,
                "line": {"color": colour, "width": 4},
                "hoverinfo": "skip",
            }
        )
    traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "edges",
            "x": mid_x,
            "y": mid_y,
            "marker": {"size": 10, "opacity": 0},
            "hovertext": mid_text,
            "hoverinfo": "text",
            "showlegend": False,
        }
    )
    readout = [r[4] for r in qubit_rows(properties)] or [None] * num_qubits
    traces.append(
        {
            "type": "scatter",
            "mode": "markers+text",
            "x": [p[0] for p in xy],
            "y": [p[1] for p in xy],
            "text": [str(n) for n in range(num_qubits)],
            "textposition": "middle center",
            "textfont": {"size": 8, "color": "white"},
            "marker": {
                "size": 16,
                "color": [r if r is not None else 0 for r in readout],
                "colorscale": "Viridis",
                "colorbar": {"title": {"text": "readout error"}},
                "showscale": any(r is not None for r in readout),
            },
            "hovertext": [f"qubit {n}: readout error {r}" for n, r in enumerate(readout)],
            "hoverinfo": "text",
            "showlegend": False,
        }
    )
    return {
        "data": traces,
        "layout": {
            "title": {"text": f"{name}: coupling map (edges coloured by two-qubit error)"},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "scaleanchor": "x"},
            # The edge colours' legend goes below the map: on the right it covered the title
            # of the qubits' colour bar.
            "legend": {"orientation": "h", "x": 0, "y": 0, "yanchor": "top"},
            "margin": {"t": 40, "l": 10, "r": 10, "b": 40},
            "plot_bgcolor": "white",
        },
        "config": {"displaylogo": False},
    }
