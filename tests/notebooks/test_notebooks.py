"""Every notebook in notebooks/ runs top to bottom in a real kernel, and leaks no secret.

What is checked is what the cells *printed*: the outputs of the executed notebook, never its
source text. The getting-started notebook prints its values as one JSON line, and those values
must be the physics: a Bell pair gives only ``00``/``11`` on the ideal simulator and ``<ZZ> = 1``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

LOCAL_KEY = re.compile(r"qrt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
FIRST_CIRCUIT = "01-first-circuit-offline.ipynb"


def _executed(path: Path, workdir: Path) -> Any:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name} is committed with outputs; clear them before committing"
    )
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": workdir}}
    ).execute()
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each notebook, executed once for all tests of this module (keyed by file name)."""
    return {
        path.name: _executed(path, tmp_path_factory.mktemp(path.stem)) for path in NOTEBOOKS
    }


def _outputs(notebook: Any) -> list[dict[str, Any]]:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    ]


def _output_text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    data = output.get("data", {})
    return str(data.get("text/plain", "")) + str(data.get("text/html", ""))


def _printed_values(notebook: Any) -> dict[str, Any]:
    """The JSON object the notebook printed on a line of its own (stdout)."""
    found = []
    for output in _outputs(notebook):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            for line in str(output["text"]).splitlines():
                if line.startswith("{") and line.endswith("}"):
                    found.append(json.loads(line))
    assert len(found) == 1, f"expected one JSON line of values in the outputs, found {found}"
    values: dict[str, Any] = found[0]
    return values


def test_there_are_notebooks_to_run() -> None:
    assert NOTEBOOKS, "notebooks/ should hold at least the getting-started notebook"
    assert FIRST_CIRCUIT in [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_its_outputs_hold_no_key(path: Path, executed: dict[str, Any]) -> None:
    """Every code cell ran without an error output and no output shows a local API key."""
    notebook = executed[path.name]
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code_cells), "a code cell did not run"
    outputs = _outputs(notebook)
    assert outputs, f"{path.name} printed nothing"
    for output in outputs:
        assert output.get("output_type") != "error", f"{path.name}: {output.get('evalue')}"
        # Local API keys look like qrt_<12 hex>_<43 url-safe characters>.
        assert not LOCAL_KEY.search(_output_text(output)), f"{path.name} shows an API key"


def test_first_circuit_shows_the_devices_it_lists(executed: dict[str, Any]) -> None:
    """The first cell's output lists the simulated devices by name, with their qubit counts."""
    shown = "".join(_output_text(output) for output in _outputs(executed[FIRST_CIRCUIT]))
    assert "('qrt_robin', 7)" in shown
    assert "'qrt_ideal_simulator'" in shown


def test_first_circuit_bell_pair_values_are_the_physics(executed: dict[str, Any]) -> None:
    """Ideal Bell counts are only 00/11, both present, summing to the shots; <ZZ> is 1; the
    noisy device's counts sum to the shots and are mostly 00/11."""
    values = _printed_values(executed[FIRST_CIRCUIT])
    shots = values["shots"]
    assert shots == 1000

    ideal = values["ideal_counts"]
    assert set(ideal) == {"00", "11"}
    assert sum(ideal.values()) == shots
    assert min(ideal.values()) > 0

    assert math.isclose(values["ideal_zz"], 1.0, abs_tol=1e-6)

    device = values["device_counts"]
    assert set(device) <= {"00", "01", "10", "11"}
    assert sum(device.values()) == shots
    assert device.get("00", 0) + device.get("11", 0) > 0.8 * shots
