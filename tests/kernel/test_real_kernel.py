"""One real IPython kernel runs a notebook through nbclient, as a fresh notebook would:
``%load_ext jupyter_qrt``, ``%qrt_login local``, a ``%%sampler`` Bell cell, and a
``--no-wait`` cell whose job ends while a later cell runs. The saved notebook is checked: the
histogram's bars and each job monitor's final state, not the "Queued" of its first render."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import BELL, IDEAL, PLOTLY

ROOT = Path(__file__).resolve().parents[2]
CELL_TIMEOUT_SECONDS = 120
SHOTS = 200

CELLS = [
    "%load_ext jupyter_qrt",
    "%qrt_login local",
    f"%%sampler --backend {IDEAL} --shots {SHOTS} --out result\n{BELL}",
    "print(sorted(result[0].data.meas.get_counts().items()))",
    f"%%sampler --backend {IDEAL} --shots 100 --no-wait --out job\n{BELL}",
    # A later cell runs while the job ends; the first cell's monitor is updated in place.
    "import time\n"
    "from jupyter_qrt.kernel.widgets.poller import shared_poller\n"
    "job.wait(timeout=120)\n"
    "deadline = time.monotonic() + 60\n"
    "while shared_poller().watched and time.monotonic() < deadline:\n"
    "    time.sleep(0.1)\n"
    "print(job.status().value)",
]


def _kernelspec(where: Path) -> Path:
    # A kernelspec of this interpreter, so the kernel runs the code under test.
    spec = where / "kernels" / "qrt-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    return where


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook after a real kernel ran it, as the saved file holds it."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    tmp_path = tmp_path_factory.mktemp("real-kernel")
    spec_dir = _kernelspec(tmp_path / "jupyter")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QISKIT_IBM_", "QRT_")) and k not in {"IAM_URL", "JUPYTER_PATH"}
    }
    env.update(PYTHONPATH=str(ROOT), QRT_DATA_DIR=str(tmp_path / "data"))
    manager = KernelManager(
        kernel_name="qrt-test",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")]),
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(
        notebook, km=manager, timeout=CELL_TIMEOUT_SECONDS, kernel_name="qrt-test"
    ).execute(env=env, cwd=str(tmp_path))
    return nbformat.reads(nbformat.writes(notebook), as_version=4)


def _text(cell: Any) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def _monitor(cell: Any) -> Any:
    (output,) = [
        o
        for o in cell.outputs
        if "data" in o and str(o.data.get("text/plain", "")).startswith("Job ")
    ]
    return output.data


def _assert_final(monitor: Any) -> None:
    first, *rest = monitor["text/plain"].splitlines()
    assert first.endswith(": Completed"), monitor["text/plain"]
    assert any(line.strip().startswith("Queued: ") for line in rest)
    assert "Completed" in monitor["text/html"]


@pytest.mark.slow
def test_the_login_says_which_account(saved: Any) -> None:
    assert "Logged in: account 'local' (local)" in _text(saved.cells[1])


@pytest.mark.slow
def test_the_sampler_cell_keeps_the_bell_histogram_and_the_final_monitor(saved: Any) -> None:
    counts = dict(eval(_text(saved.cells[3])))  # our own printed list of (bitstring, count)
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == SHOTS
    cell = saved.cells[2]
    (figure,) = [o.data[PLOTLY] for o in cell.outputs if "data" in o and PLOTLY in o.data]
    (trace,) = figure["data"]
    assert dict(zip(trace["x"], trace["y"], strict=True)) == {
        k: float(v) for k, v in counts.items()
    }
    _assert_final(_monitor(cell))


@pytest.mark.slow
def test_a_no_wait_cells_monitor_is_saved_at_the_jobs_end(saved: Any) -> None:
    assert _text(saved.cells[5]).strip() == "DONE"
    cell = saved.cells[4]
    assert not [o for o in cell.outputs if "data" in o and PLOTLY in o.data]  # no result yet
    _assert_final(_monitor(cell))
