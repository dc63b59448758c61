"""``%qrt_job ID`` on a job still running (a paced device holds it for seconds), in a fresh shell
as after a kernel restart: the monitor shows it, follows it and is updated in place to its end;
reopened again, the job shows its histogram."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_qrt.local.server import LocalService

from .conftest import BELL, Shown, bars
from .test_magics import _wait_for, assert_final_monitor, run

WREN = "qrt_wren"


@pytest.fixture(scope="module")
def local_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    """A service whose ``qrt_wren`` holds each job for three times its device time."""
    with LocalService(
        tmp_path_factory.mktemp("kernel-paced"), workers=1, pacing={WREN: 3.0}
    ) as service:
        yield service


@pytest.mark.slow
def test_qrt_job_follows_a_running_job_to_its_end(shell: Any, capsys: Any) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from jupyter_qrt.kernel import connection
    from jupyter_qrt.runtime import Job

    run(shell, capsys, "%qrt_login")
    result, _, err = run(shell, capsys, f"%%sampler --backend {WREN} --shots 100 --no-wait\n{BELL}")
    assert result.success, err
    job_id = result.result.job_id()
    # A "kernel restart" while the job runs.
    connection._current.close()
    connection._current = None
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.enabled = False
    fresh = InteractiveShell.instance(config=config)
    fresh.run_line_magic("load_ext", "jupyter_qrt")
    shown = Shown(fresh)
    run(fresh, capsys, "%qrt_login")
    reopened, _, err = run(fresh, capsys, f"%qrt_job {job_id}")
    assert reopened.success, err
    assert isinstance(reopened.result, Job)  # not ended yet: the job, no result
    (monitor,) = shown.monitors()
    first = monitor["text/plain"].splitlines()[0]
    assert first.endswith((": Queued", ": Running")) or "(position" in first, first
    assert shown.figures() == []
    reopened.result.wait(timeout=120)
    _wait_for(lambda: "Completed" in shown.monitors()[0]["text/plain"].splitlines()[0], 60)
    assert_final_monitor(shown, job_id)
    shown.clear()
    again, _, err = run(fresh, capsys, f"%qrt_job {job_id}")
    assert again.success, err
    counts = again.result[0].data.meas.get_counts()
    assert sum(counts.values()) == 100
    assert_final_monitor(shown, job_id)
    (figure,) = shown.figures()
    assert bars(figure) == {k: float(v) for k, v in counts.items()}
