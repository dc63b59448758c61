"""A notebook run in a real kernel keeps each widget's values for nbconvert without a kernel."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    "from jupyter_qrt.kernel.widgets import histogram, account_setup",
    "histogram([{'00': 510, '11': 490}, {'00': 470, '01': 31, '10': 27, '11': 472}],"
    " labels=['ideal', 'noisy'])",
    "account_setup()",
]
ROW = "<td>01</td><td>0</td><td>31</td>"  # outcome 01: 0 ideal, 31 noisy


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook after a real kernel ran it, as the file holds it (with widget state)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    root = str(Path(__file__).parents[3])  # the kernel imports this checkout, as the tests do
    env_path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path
    try:
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": tmp_path_factory.mktemp("nb")}},
            store_widget_state=True,
        ).execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return nbformat.reads(nbformat.writes(notebook), as_version=4)


@pytest.mark.slow
def test_the_saved_output_holds_the_figure_and_the_table(saved: Any) -> None:
    (output,) = saved.cells[1].outputs
    assert {"text/html", "application/vnd.plotly.v1+json"} <= set(output["data"])
    noisy = output["data"]["application/vnd.plotly.v1+json"]["data"][1]
    assert noisy["y"] == [470.0, 31.0, 27.0, 472.0]
    assert ROW in output["data"]["text/html"]


@pytest.mark.slow
def test_nbconvert_without_widget_state_shows_the_fallback_table(saved: Any) -> None:
    from nbconvert import HTMLExporter

    plain = copy.deepcopy(saved)
    plain.metadata.pop("widgets", None)  # JupyterLab saves no widget state unless asked
    html, _ = HTMLExporter().from_notebook_node(plain)
    assert ROW in html
    assert "%qrt_login" in html  # plain kernel: the setup widget points to %qrt_login


@pytest.mark.slow
def test_saved_widget_state_shows_the_table_where_plotly_cannot_draw(saved: Any) -> None:
    # With widget state, nbconvert's page draws the widgets from that state; the histogram's
    # Output carries the HTML table beside the plotly JSON for renderers without plotly.
    state = json.dumps(saved.metadata["widgets"])
    assert json.dumps(ROW)[1:-1] in state
