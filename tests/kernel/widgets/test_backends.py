"""The backend browser on the local service's simulated devices."""

from __future__ import annotations

import base64
import csv
import io
import statistics
from typing import Any

import pytest
import traitlets

from jupyter_qrt.kernel.widgets._static import PLOTLY_MIME
from jupyter_qrt.kernel.widgets.backends import BackendBrowser


@pytest.fixture(scope="module")
def browser(service: Any) -> BackendBrowser:
    return BackendBrowser(service)


def test_the_table_lists_every_backend_with_medians_from_its_properties(
    browser: BackendBrowser, service: Any
) -> None:
    names = {d["name"] for d in service.api.backends()}
    assert {r.name for r in browser.rows} == names
    robin = next(r for r in browser.rows if r.name == "qrt_robin")
    props = service.api.backend_properties("qrt_robin")
    readout = [next(e["value"] for e in q if e["name"] == "readout_error") for q in props["qubits"]]
    assert robin.qubits == 7
    assert robin.median_readout_error == pytest.approx(statistics.median(readout))
    assert robin.median_2q_error is not None
    ideal = next(r for r in browser.rows if r.simulator)
    assert ideal.median_2q_error is None
    html = browser._repr_mimebundle_()["text/html"]
    assert "<td>qrt_robin</td><td>7</td>" in html


def test_sorting_on_a_column_reorders_the_table(browser: BackendBrowser) -> None:
    browser.sort_by, browser.descending = "qubits", True
    qubits = [r.qubits for r in browser.sorted_rows()]
    assert qubits == sorted(qubits, reverse=True)
    browser.sort_by, browser.descending = "median_2q_error", False
    errors = [r.median_2q_error for r in browser.sorted_rows()]
    known = [e for e in errors if e is not None]
    assert errors[: len(known)] == sorted(known)  # simulators (no value) last
    # The table the browser draws shows the rows in that order.
    assert [r["name"] for r in browser._table.rows] == [r.name for r in browser.sorted_rows()]


def test_a_click_on_a_header_sorts_and_a_click_on_a_row_opens_the_details(
    service: Any,
) -> None:
    browser = BackendBrowser(service)
    table = browser._table
    assert [c[0] for c in table.columns][:2] == ["name", "qubits"]
    # What backend_table.js sets on its model when a header, then a row, is clicked.
    table.sort_by, table.descending = "qubits", True
    assert (browser.sort_by, browser.descending) == ("qubits", True)
    shown = [row["cells"][1] for row in table.rows]
    assert shown == sorted(shown, reverse=True)
    assert browser._detail.children == ()
    table.selected = "qrt_wren"
    assert browser.selected == "qrt_wren"
    out, tables = browser._detail.children
    assert "qrt-coupling-map" in out._dom_classes
    assert "qrt-device-detail" in browser._detail._dom_classes
    assert 'data-qrt="device-tables" data-qrt-device="qrt_wren"' in tables.value
    assert 'data-qrt="qubit-table"' in tables.value
    assert 'data-qrt="gate-table"' in tables.value
    with pytest.raises(traitlets.TraitError, match="choose one of"):
        table.selected = "no_such_device"
    with pytest.raises(traitlets.TraitError, match="sort_by must be one of"):
        browser.sort_by = "simulator"


def test_detail_view_has_the_coupling_map_coloured_by_error_and_csv(
    browser: BackendBrowser, service: Any
) -> None:
    browser.selected = "qrt_robin"
    figure = browser._repr_mimebundle_()[PLOTLY_MIME]
    config = service.api.backend_configuration("qrt_robin")
    pairs = {tuple(sorted(p)) for p in config["coupling_map"]}
    # The title names the device (not the legend of the last edge colour).
    assert figure["layout"]["title"]["text"].startswith("qrt_robin: coupling map")
    lines = [t for t in figure["data"] if t["mode"] == "lines"]
    assert sum(t["x"].count(None) for t in lines) == len(pairs)  # every edge drawn once
    assert len({t["line"]["color"] for t in lines}) > 1  # coloured by error, not uniform
    (hover,) = [t for t in figure["data"] if t.get("name") == "edges"]
    assert len(hover["hovertext"]) == len(pairs)
    assert all("2q error" in text for text in hover["hovertext"])
    (qubits,) = [t for t in figure["data"] if t["mode"] == "markers+text"]
    assert len(qubits["x"]) == 7

    rows = list(csv.reader(io.StringIO(browser.to_csv("qrt_robin"))))
    assert rows[0][0] == "qubit"
    assert len(rows) == 8
    browser.offer_csv()
    link = browser._csv_link.value
    assert 'download="qrt_robin_gates.csv"' in link
    encoded = link.split("base64,")[1].split('"')[0]
    assert base64.b64decode(encoded).decode() == browser.to_csv()
    with pytest.raises(ValueError, match="choose one of"):
        browser.to_csv("no_such_device")
