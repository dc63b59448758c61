"""The magics in an IPython shell against a real local service: what a person sees."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qiskit.primitives import PrimitiveResult

from jupyter_qrt.local.server import LocalService

from .conftest import BELL, IDEAL, Shown, bars, job_count, save_account

SHOTS = 400


def run(shell: Any, capsys: pytest.CaptureFixture[str], text: str) -> tuple[Any, str, str]:
    result = shell.run_cell(text)
    captured = capsys.readouterr()
    return result, captured.out, captured.err


def assert_final_monitor(shown: Shown, job_id: str, state: str = "Completed") -> str:
    """The job's monitor, as a saved notebook keeps it, shows the end and the time in states."""
    (monitor,) = [m for m in shown.monitors() if job_id in m["text/plain"]]
    text, page = monitor["text/plain"], monitor["text/html"]
    assert text.splitlines()[0].endswith(f": {state}"), text
    assert "Queued" not in text.splitlines()[0]
    assert any(line.strip().startswith("Queued: ") for line in text.splitlines()), text
    assert state in page
    assert "Queued" in page
    return str(text)


def test_login_says_account_channel_instance_and_plan(shell: Any, capsys: Any) -> None:
    _, out, err = run(shell, capsys, "%qrt_login svc")
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == ["Logged in: account 'svc' (local), instance 'local', plan open."], (out, err)
    assert err == ""


def test_login_warns_when_the_instance_was_picked(
    shell: Any, capsys: Any, local_service: LocalService
) -> None:
    save_account(local_service, "noinst", instance=None)
    _, out, _ = run(shell, capsys, "%qrt_login noinst")
    (line,) = [line for line in out.splitlines() if line.strip()]
    assert "account 'noinst'" in line
    assert "Warning: the instance was picked automatically (choose with --instance NAME)" in line


def test_accounts_lists_names_with_the_default_marked(
    shell: Any, capsys: Any, local_service: LocalService
) -> None:
    save_account(local_service, "other")
    _, out, _ = run(shell, capsys, "%qrt_accounts")
    assert sorted(out.splitlines()) == ["  local", "  other", "* svc"]
    assert local_service.api_key not in out


def test_bell_counts_are_only_00_and_11(shell: Any, capsys: Any, shown: Shown) -> None:
    run(shell, capsys, "%qrt_login")
    shown.clear()
    result, _out, err = run(
        shell, capsys, f"%%sampler --backend {IDEAL} --shots {SHOTS} --out res\n{BELL}"
    )
    assert result.success, err
    value = shell.user_ns["res"]
    assert isinstance(value, PrimitiveResult)
    assert result.result is value  # the cell's value
    counts = value[0].data.meas.get_counts()
    # The ideal simulator is exact: a Bell pair never gives 01 or 10.
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == SHOTS
    # What the notebook shows: the histogram has exactly those bars ...
    (figure,) = shown.figures()
    assert bars(figure) == {k: float(v) for k, v in counts.items()}
    (histogram,) = [o for o in shown.outputs() if "application/vnd.plotly.v1+json" in o]
    for outcome, count in counts.items():
        assert f"<td>{outcome}</td><td>{count}</td>" in histogram["text/html"]
    # ... and the job monitor was updated in place to the end (first drawn while queued).
    assert shown.updates() >= 1
    assert_final_monitor(shown, _only_job(shown))


def _only_job(shown: Shown) -> str:
    (monitor,) = shown.monitors()
    return str(monitor["text/plain"].split()[1])


def test_qasm2_cell_runs(shell: Any, capsys: Any) -> None:
    run(shell, capsys, "%qrt_login")
    qasm = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nmeasure q -> c;\n'
    )
    result, _, err = run(shell, capsys, f"%%sampler --backend {IDEAL} --shots 50 --out r\n{qasm}")
    assert result.success, err
    # x on qubit 0 only: bit 0 (rightmost) is 1.
    assert shell.user_ns["r"][0].data.c.get_counts() == {"01": 50}


def test_zz_is_one_on_the_ideal_simulator(shell: Any, capsys: Any, shown: Shown) -> None:
    run(shell, capsys, "%qrt_login")
    shown.clear()
    body = BELL.replace("bell.measure_all()\n", "")
    result, _out, err = run(
        shell, capsys, f'%%estimator --backend {IDEAL} --observables "ZZ, 0.5*XX" --out ev\n{body}'
    )
    assert result.success, err
    evs = shell.user_ns["ev"][0].data.evs
    # Exact expectation values of the Bell state: <ZZ> = 1, <0.5 XX> = 0.5.
    np.testing.assert_allclose(evs, [1.0, 0.5], atol=1e-9)
    # The plot shows one point per observable with those values.
    (figure,) = shown.figures()
    (trace,) = figure["data"]
    np.testing.assert_allclose(trace["y"], [1.0, 0.5], atol=1e-9)
    assert len(trace["error_y"]["array"]) == 2
    assert_final_monitor(shown, _only_job(shown))


def test_estimator_sweep_gives_one_value_per_observable_and_point(
    shell: Any, capsys: Any, shown: Shown
) -> None:
    run(shell, capsys, "%qrt_login")
    thetas = np.linspace(0, np.pi, 5)
    shell.user_ns["thetas"] = thetas
    body = (
        "from qiskit import QuantumCircuit\nfrom qiskit.circuit import Parameter\n"
        "t = Parameter('t'); qc = QuantumCircuit(1); qc.ry(t, 0)\nqc\n"
    )
    shown.clear()
    result, _, err = run(
        shell, capsys, f'%%estimator --backend {IDEAL} --observables "Z, X" --params thetas\n{body}'
    )
    assert result.success, err
    evs = result.result[0].data.evs
    assert evs.shape == (2, 5)
    np.testing.assert_allclose(evs[0], np.cos(thetas), atol=1e-9)
    np.testing.assert_allclose(evs[1], np.sin(thetas), atol=1e-9)
    # The plot: one line per observable over the swept angle, one point per angle.
    (figure,) = shown.figures()
    lines = [t for t in figure["data"] if t.get("mode") == "lines+markers"]
    assert len(lines) == 2
    for line, expected in zip(lines, (np.cos(thetas), np.sin(thetas)), strict=True):
        np.testing.assert_allclose(line["x"], thetas)
        np.testing.assert_allclose(line["y"], expected, atol=1e-9)


def test_sampler_with_params(shell: Any, capsys: Any) -> None:
    run(shell, capsys, "%qrt_login")
    shell.user_ns["angles"] = [0.0, np.pi]
    body = (
        "from qiskit import QuantumCircuit\nfrom qiskit.circuit import Parameter\n"
        "t = Parameter('t'); qc = QuantumCircuit(1); qc.rx(t, 0); qc.measure_all()\nqc\n"
    )
    result, _, err = run(
        shell, capsys, f"%%sampler --backend {IDEAL} --shots 20 --params angles\n{body}"
    )
    assert result.success, err
    bits = result.result[0].data.meas
    assert bits.shape == (2,)
    assert bits[0].get_counts() == {"0": 20}
    assert bits[1].get_counts() == {"1": 20}


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_no_wait_returns_the_job_and_job_reopens_it_after_a_restart(
    shell: Any, capsys: Any, shown: Shown
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from jupyter_qrt.kernel import connection
    from jupyter_qrt.runtime import Job

    run(shell, capsys, "%qrt_login")
    shown.clear()
    result, _, err = run(
        shell, capsys, f"%%sampler --backend {IDEAL} --shots 30 --no-wait --tags mine\n{BELL}"
    )
    assert result.success, err
    job = result.result
    assert isinstance(job, Job)
    job_id = job.job_id()
    (monitor,) = shown.monitors()
    assert job_id in monitor["text/plain"]
    assert shown.figures() == []  # no result yet: the cell returned at once
    job.wait(timeout=120)
    # The monitor follows the job after its cell ended and shows the end in place.
    _wait_for(lambda: "Completed" in shown.monitors()[0]["text/plain"].splitlines()[0])
    assert_final_monitor(shown, job_id)
    # A "kernel restart": a new shell and no connection; the job is fetched by id.
    connection._current.close()
    connection._current = None
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.enabled = False
    fresh = InteractiveShell.instance(config=config)
    fresh.run_line_magic("load_ext", "jupyter_qrt")
    reshown = Shown(fresh)
    run(fresh, capsys, "%qrt_login")
    reopened, out, err = run(fresh, capsys, f"%qrt_job {job_id}")
    assert reopened.success, err
    assert f"Job {job_id} (sampler) on {IDEAL}" in out
    counts = reopened.result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 30
    # Shown again: the monitor at its end, and the histogram of those counts.
    assert_final_monitor(reshown, job_id)
    (figure,) = reshown.figures()
    assert bars(figure) == {k: float(v) for k, v in counts.items()}
    _, table, _ = run(fresh, capsys, "%qrt_jobs --limit 3")
    assert job_id in table
    assert "DONE" in table


def test_backends_usage_and_version(shell: Any, capsys: Any) -> None:
    run(shell, capsys, "%qrt_login")
    _, out, err = run(shell, capsys, "%qrt_backends --min-qubits 30 --simulator")
    assert err == ""
    rows = [line.split()[0] for line in out.splitlines()[1:] if line.strip()]
    assert rows == [IDEAL]
    _, out, _ = run(shell, capsys, "%qrt_usage")
    assert out.startswith("Instance 'local': ")
    assert "no limit" in out
    _, out, _ = run(shell, capsys, "%qrt_version")
    for package in ("jupyter-qrt", "qiskit", "qiskit-aer"):
        assert f"\n{package} " in out
    _, out, _ = run(shell, capsys, "%qrt_instances")
    assert "local" in out
    assert "open" in out


def test_logout_then_sampler_says_to_log_in(
    shell: Any, capsys: Any, local_service: LocalService
) -> None:
    run(shell, capsys, "%qrt_login")
    _, out, _ = run(shell, capsys, "%qrt_logout")
    assert out.strip() == "Logged out of 'svc'."
    before = job_count(local_service)
    _, out, err = run(shell, capsys, f"%%sampler\n{BELL}")
    assert err.strip() == (
        "UsageError: Not logged in: run %qrt_login (or %qrt_login local for the local runtime) "
        "first."
    )
    assert job_count(local_service) == before


def test_login_warns_on_a_paid_plan(shell: Any, capsys: Any, local_service: LocalService) -> None:
    runtime = local_service.runtime
    paid = runtime.create_instance("paid", plan="paygo")
    save_account(local_service, "payer", key=runtime.create_key(paid.crn, "payer"), instance=None)
    _, out, _ = run(shell, capsys, "%qrt_login payer --instance paid")
    (line,) = [line for line in out.splitlines() if line.strip()]
    assert line == (
        "Logged in: account 'payer' (local), instance 'paid', plan paygo. "
        "Warning: paygo is a paid plan: jobs cost money."
    )


def test_session_cells_share_one_session(shell: Any, capsys: Any) -> None:
    run(shell, capsys, "%qrt_login")
    jobs = []
    for _ in range(2):
        result, _, err = run(
            shell, capsys, f"%%sampler --backend {IDEAL} --shots 10 --session --no-wait\n{BELL}"
        )
        assert result.success, err
        jobs.append(result.result)
    assert jobs[0].session_id is not None
    assert jobs[0].session_id == jobs[1].session_id
    for job in jobs:
        job.wait(timeout=120)


def test_default_backend_is_the_least_busy_device_and_several_circuits_run(
    shell: Any, capsys: Any, shown: Shown
) -> None:
    from ipywidgets.widgets.widget import _instances

    run(shell, capsys, "%qrt_login")
    body = (
        BELL.replace("\nbell\n", "\n") + "ones = QuantumCircuit(1); ones.x(0); ones.measure_all()\n"
    )
    shown.clear()
    result, _out, err = run(shell, capsys, f"%%sampler --shots 50\n{body}[bell, ones]\n")
    assert result.success, err
    # A noisy device: counts of every pub sum to the shots; the monitor names the device.
    assert [sum(r.data.meas.get_counts().values()) for r in result.result] == [50, 50]
    (monitor,) = shown.monitors()
    assert IDEAL not in monitor["text/plain"]
    # One histogram; PUB 0 is drawn, the PUB picker shows the other circuit's counts.
    (figure,) = shown.figures()
    assert sum(bars(figure).values()) == 50
    (histogram,) = [o for o in shown.outputs() if "application/vnd.plotly.v1+json" in o]
    model = histogram["application/vnd.jupyter.widget-view+json"]["model_id"]
    widget = _instances[model]
    widget.pub = 1
    ones = bars(widget.figure_json())
    assert sum(ones.values()) == 50
    assert max(ones, key=lambda k: ones[k]) == "1"  # mostly |1> on a noisy device
    # A saved notebook has no picker: its table holds both circuits' counts.
    for pub in result.result:
        for outcome, count in pub.data.meas.get_counts().items():
            assert f"<td>{outcome}</td><td>{count}</td>" in histogram["text/html"]


def test_qasm3_cell_circuit_variable_and_observables_variable(shell: Any, capsys: Any) -> None:
    run(shell, capsys, "%qrt_login")
    qasm3 = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[1];\nc = measure q;\n'
    )
    result, _, err = run(shell, capsys, f"%%sampler --backend {IDEAL} --shots 25\n{qasm3}")
    assert result.success, err
    assert result.result[0].data.c.get_counts() == {"10": 25}
    # --circuit names the variable; the cell's last line is not a circuit.
    body = BELL.replace("\nbell\n", "\n") + "print('built')\n"
    result, out, err = run(shell, capsys, f"%%sampler --backend {IDEAL} --circuit bell\n{body}")
    assert result.success, err
    assert "built" in out
    from qiskit.quantum_info import SparsePauliOp

    shell.user_ns["obs"] = [SparsePauliOp("ZZ"), SparsePauliOp("XX")]
    body = BELL.replace("bell.measure_all()\n", "")
    result, _, err = run(
        shell, capsys, f"%%estimator --backend {IDEAL} --observables obs -O 1\n{body}"
    )
    assert result.success, err
    np.testing.assert_allclose(result.result[0].data.evs, [1.0, 1.0], atol=1e-9)


def test_load_ext_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'jupyter_qrt')\n"
        "print(sorted(m for m in ('qiskit', 'plotly', 'ipywidgets', 'requests', 'numpy',"
        " 'jupyter_qrt.local', 'jupyter_server') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    # IPython itself imports none of these either; the magics load qiskit on first use.
    assert out.strip().splitlines()[-1] == "[]"


def test_without_the_widgets_plain_text_shows_the_same_values(
    shell: Any, capsys: Any, shown: Shown, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_qrt.kernel import display

    monkeypatch.setattr(display, "_widget", lambda name: None)  # no ipywidgets in this kernel
    run(shell, capsys, "%qrt_login")
    shown.clear()
    result, _, err = run(shell, capsys, f"%%sampler --backend {IDEAL} --shots {SHOTS}\n{BELL}")
    assert result.success, err
    counts = result.result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    (table,) = [o["text/html"] for o in shown.outputs() if "<td>" in o.get("text/html", "")]
    for outcome, count in counts.items():
        assert f"<td>{outcome}</td><td>{count}</td>" in table
    (monitor,) = shown.monitors()
    assert monitor["text/plain"].endswith(": DONE")
    shown.clear()
    result, _, err = run(shell, capsys, f"%%sampler --backend {IDEAL} --no-wait\n{BELL}")
    assert result.success, err
    result.result.wait(timeout=120)
    _wait_for(lambda: shown.monitors()[0]["text/plain"].endswith(": DONE"))
