"""Every notebook in notebooks/ runs top to bottom in a real kernel, and leaks no secret."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

LOCAL_KEY = re.compile(r"qrt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_to_run() -> None:
    assert NOTEBOOKS, "notebooks/ should hold at least the getting-started notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_its_outputs_hold_no_key(path: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name} is committed with outputs; clear them before committing"
    )
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    text = nbformat.writes(notebook)
    assert "qrt_robin" in text  # the device names appear: the cells ran and printed something
    # Local API keys look like qrt_<12 hex>_<43 url-safe characters>.
    assert not LOCAL_KEY.search(text), f"{path.name} shows an API key in its outputs"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"{path.name}: {output.get('evalue')}"
