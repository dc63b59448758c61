"""The backend browser: a sortable table of backends and a detail view with CSV export.

The table (name, qubits, status, pending jobs, median two-qubit and readout errors) sorts on any
column (click its header). Clicking a backend's row shows its coupling map coloured by error, its
qubit and gate tables, and a button that offers the tables as CSV files (a download link;
``to_csv()`` gives the text).

DOM contract (the browser tests rely on it): the table is :class:`BackendTable`
(``backend_table.js``: ``table[data-qrt="backend-table"]``, rows ``tr[data-qrt-device=NAME]``);
the detail view is ``.qrt-device-detail``, its coupling map (plotly) ``.qrt-coupling-map``, its
tables ``[data-qrt="qubit-table"]`` and ``[data-qrt="gate-table"]`` inside
``[data-qrt="device-tables"][data-qrt-device=NAME]``.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import traitlets

from ._static import StaticFallback, esc, figure_output, fmt_number, html_table
from .backend_data import (
    GATE_HEADER,
    QUBIT_HEADER,
    BackendRow,
    coupling_figure,
    gate_rows,
    qubit_rows,
    read_rows,
    rows_to_csv,
)

__all__ = ["BackendBrowser", "BackendTable"]

_HEADER = ["name", "qubits", "status", "pending jobs", "median 2q error", "median readout error"]
#: The columns one can sort on: :class:`BackendRow` fields, in the order of :data:`_HEADER`.
_COLUMNS = [f.name for f in fields(BackendRow) if f.name != "simulator"]


def _cells(row: BackendRow) -> list[Any]:
    return [
        row.name,
        row.qubits,
        row.status,
        row.pending_jobs,
        fmt_number(row.median_2q_error),
        fmt_number(row.median_readout_error),
    ]


def download_link(text: str, filename: str, label: str) -> str:
    """An HTML link that offers ``text`` as a CSV file (a data: URI, no server round trip)."""
    data = base64.b64encode(text.encode()).decode()
    return (
        f'<a download="{esc(filename)}" href="data:text/csv;base64,{data}" '
        f'target="_blank">{esc(label)}</a>'
    )


class BackendTable(anywidget.AnyWidget):
    """The clickable, sortable table of :class:`BackendBrowser` (``backend_table.js``).

    The kernel sorts and formats :attr:`rows`; the browser draws them and sets :attr:`sort_by`,
    :attr:`descending` (a click on a header) and :attr:`selected` (a click on a row).
    """

    _esm = Path(__file__).with_name("backend_table.js")

    columns: traitlets.List[list[str]] = traitlets.List().tag(sync=True)  # [[key, label], ...]
    #: The rows as shown: ``[{"name": ..., "cells": [...]}, ...]``.
    rows: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    sort_by = traitlets.Unicode("name").tag(sync=True)
    descending = traitlets.Bool(False).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)


class BackendBrowser(StaticFallback, w.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """The service's backends (use :func:`...widgets.backend_browser`).

    Attributes
    ----------
    sort_by
        Column the table is sorted on (a :class:`BackendRow` field).
    descending
        Sort order.
    selected
        Name of the backend in the detail view ("" for none).
    """

    sort_by = traitlets.Unicode("name")
    descending = traitlets.Bool(False)
    selected = traitlets.Unicode("")

    def __init__(self, service: Any) -> None:
        self._api = service.api
        self.rows = read_rows(self._api)
        self._details: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        self._table = BackendTable(columns=[list(c) for c in zip(_COLUMNS, _HEADER, strict=True)])
        self._detail = w.VBox()
        self._detail.add_class("qrt-device-detail")
        self._csv_button = w.Button(description="CSV", icon="download", tooltip="Offer as CSV")
        self._csv_link = w.HTML()
        self._csv_button.on_click(lambda _b: self.offer_csv())
        super().__init__(
            children=[w.HBox([self._csv_button, self._csv_link]), self._table, self._detail]
        )
        self.add_class("qrt-backend-browser")
        for name in ("sort_by", "descending", "selected"):
            w.link((self._table, name), (self, name))
        self.observe(lambda _c: self._render_table(), ["sort_by", "descending"])
        self.observe(lambda _c: self._render_detail(), "selected")
        self._render_table()

    @traitlets.validate("sort_by")
    def _known_column(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if value not in _COLUMNS:
            raise traitlets.TraitError(
                f"sort_by must be one of {', '.join(_COLUMNS)}, not {value!r}."
            )
        return value

    @traitlets.validate("selected")
    def _known_backend(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if value and value not in {r.name for r in self.rows}:
            names = ", ".join(r.name for r in self.rows)
            raise traitlets.TraitError(f"No backend named {value!r} here; choose one of: {names}.")
        return value

    # -- data ---------------------------------------------------------------------------------

    def sorted_rows(self) -> list[BackendRow]:
        """The rows in the order shown (missing values last)."""
        key = self.sort_by

        def rank(row: BackendRow) -> tuple[bool, Any]:
            value = asdict(row)[key]
            return (value is None) != self.descending, value if value is not None else 0

        return sorted(self.rows, key=rank, reverse=self.descending)

    def _calibration(self, name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        if name not in self._details:
            row = next(r for r in self.rows if r.name == name)
            configuration = self._api.backend_configuration(name)
            properties = None if row.simulator else self._api.backend_properties(name)
            self._details[name] = (configuration, properties)
        return self._details[name]

    def to_csv(self, backend: str | None = None, table: str = "qubits") -> str:
        """CSV text: the backend table, or a backend's ``qubits`` or ``gates`` table."""
        if backend is None:
            return rows_to_csv(self.sorted_rows())
        if backend not in {r.name for r in self.rows}:
            names = ", ".join(r.name for r in self.rows)
            raise ValueError(f"No backend named {backend!r} here; choose one of: {names}.")
        _, properties = self._calibration(backend)
        if table == "gates":
            return rows_to_csv(gate_rows(properties), GATE_HEADER)
        if table != "qubits":
            raise ValueError(f"table must be 'qubits' or 'gates', not {table!r}.")
        return rows_to_csv(qubit_rows(properties), QUBIT_HEADER)

    def offer_csv(self) -> None:
        """Show download links for the table (and the selected backend's qubits and gates)."""
        links = [download_link(self.to_csv(), "backends.csv", "backends.csv")]
        if self.selected:
            for table in ("qubits", "gates"):
                name = f"{self.selected}_{table}.csv"
                links.append(download_link(self.to_csv(self.selected, table), name, name))
        self._csv_link.value = " · ".join(links)

    # -- rendering ----------------------------------------------------------------------------

    def _overview_html(self) -> str:
        return html_table(_HEADER, [_cells(r) for r in self.sorted_rows()], caption="Backends")

    def _render_table(self) -> None:
        self._table.rows = [{"name": r.name, "cells": _cells(r)} for r in self.sorted_rows()]

    def _detail_figure(self) -> dict[str, Any] | None:
        if not self.selected:
            return None
        configuration, properties = self._calibration(self.selected)
        return coupling_figure(self.selected, configuration, properties)

    def _detail_tables(self) -> str:
        _, properties = self._calibration(self.selected)
        qubits = [[q, *(fmt_number(v) for v in rest)] for q, *rest in qubit_rows(properties)]
        gates = [[g, q, fmt_number(e), fmt_number(n)] for g, q, e, n in gate_rows(properties)]
        return (
            f'<div data-qrt="device-tables" data-qrt-device="{esc(self.selected)}">'
            f'<div data-qrt="qubit-table">'
            f"{html_table(QUBIT_HEADER, qubits, caption=f'{self.selected}: qubits')}</div>"
            f'<div data-qrt="gate-table">'
            f"{html_table(GATE_HEADER, gates, caption=f'{self.selected}: gates')}</div></div>"
        )

    def _render_detail(self) -> None:
        self._csv_link.value = ""
        figure = self._detail_figure()
        if figure is None:
            self._detail.children = []
            return
        out = w.Output()
        out.add_class("qrt-coupling-map")
        out.outputs = figure_output(
            figure, f"coupling map of {self.selected}", self._detail_tables()
        )
        tables = w.HTML(
            f"<div style='max-height:320px;overflow:auto'>{self._detail_tables()}</div>"
        )
        self._detail.children = [out, tables]

    def _fallback_text(self) -> str:
        lines = ["Backends: " + ", ".join(_HEADER)]
        lines += ["  " + ", ".join(str(c) for c in _cells(r)) for r in self.sorted_rows()]
        return "\n".join(lines)

    def _fallback_html(self) -> str:
        html = self._overview_html()
        return html + (self._detail_tables() if self.selected else "")

    def _fallback_figure(self) -> Any:
        return self._detail_figure()
