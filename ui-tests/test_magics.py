"""The magics in a real JupyterLab, as a person uses them: no labextension needed.

A notebook with ``%load_ext jupyter_qrt``, ``%qrt_login local`` and a ``%%sampler`` Bell cell on
``qrt_ideal_simulator`` runs in the browser; the counts the page renders (the histogram widget's
plotly data when the widgets are there, the text/HTML table otherwise) hold 00 and 11 only,
summing to the shots. That is exact on the ideal simulator: no statistics involved.
"""

from __future__ import annotations

import re

from lab_page import (
    bell_cell,
    cell_outputs_text,
    new_notebook,
    open_notebook,
    rendered_counts,
    run_all_cells,
    save_notebook,
    wait_prompts,
)
from lab_server import LabServer
from playwright.sync_api import Page

SHOTS = 200
IDEAL = "qrt_ideal_simulator"


def test_bell_on_the_ideal_simulator_shows_00_and_11_only(page: Page, lab: LabServer) -> None:
    path = new_notebook(
        lab.notebook_dir / "ui-bell.ipynb",
        "%load_ext jupyter_qrt",
        "%qrt_login local",
        bell_cell(IDEAL, SHOTS),
    )
    open_notebook(page, lab.url, path.name)
    run_all_cells(page)

    assert wait_prompts(page) == [1, 2, 3]
    login = cell_outputs_text(page, 1)
    assert "local" in login, login
    counts = rendered_counts(page, 2)
    assert counts, "the %%sampler cell shows no counts:\n" + cell_outputs_text(page, 2)
    assert set(counts) <= {"00", "11"}, counts
    assert sum(counts.values()) == SHOTS, counts
    # The job's status line/monitor names the device and the job's end.
    assert re.search(rf"{IDEAL}.*(DONE|Completed)", cell_outputs_text(page, 2), re.DOTALL)

    saved = save_notebook(page, path)
    assert saved["cells"][2]["outputs"], "the saved notebook keeps the result"
