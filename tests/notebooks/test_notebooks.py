"""Every notebook in notebooks/ runs top to bottom in a real kernel, and leaks no secret.

What is checked is what the cells *printed*: the outputs of the executed notebook, never its
source text. Each notebook prints its values as one JSON line, and those values must be the
physics: a Bell pair gives only ``00``/``11`` on the ideal simulator and ``<ZZ> = 1``, a Y
rotation gives ``<Z> = cos(theta)``; a class's instance refuses jobs past its usage limit.

Each notebook runs in a kernel of its own with a fresh HOME and local data dir, and none of the
variables that would point it at a Jupyter server or an IBM account (as ``tests/conftest.py``
does for the other tests), so it runs against the local default, offline.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

LOCAL_KEY = re.compile(r"qrt_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))
FIRST_CIRCUIT = "01-first-circuit-offline.ipynb"
MAGICS = "02-getting-started-magics.ipynb"
ACCOUNTS = "03-accounts-and-instances.ipynb"
DEVICES = "04-browsing-devices.ipynb"
SWEEP = "05-estimator-sweep.ipynb"
SESSIONS = "06-sessions-and-batches.ipynb"
CLASSROOM = "07-classroom.ipynb"
TUTORIAL = "08-ibm-tutorial-code.ipynb"

_CLIENT_VARIABLES = ("QISKIT_IBM_", "QRT_", "IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL")


def _executed(path: Path, workdir: Path) -> Any:
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name} is committed with outputs; clear them before committing"
    )
    with pytest.MonkeyPatch.context() as env:  # the kernel inherits this environment
        for name in [n for n in os.environ if n.startswith(_CLIENT_VARIABLES)]:
            env.delenv(name)
        (workdir / "home").mkdir()
        env.setenv("HOME", str(workdir / "home"))
        env.setenv("QRT_DATA_DIR", str(workdir / "qrt-data"))
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        env.setenv("no_proxy", "127.0.0.1,localhost")
        NotebookClient(
            notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": workdir}}
        ).execute()
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each notebook, executed once for all tests of this module (keyed by file name)."""
    return {path.name: _executed(path, tmp_path_factory.mktemp(path.stem)) for path in NOTEBOOKS}


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


def _shown(notebook: Any) -> str:
    """Everything the notebook's cells showed, as text."""
    return "".join(_output_text(output) for output in _outputs(notebook))


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

    # The executor program: 16 twirled randomizations of 64 shots on the noisy device; with
    # the measurement flips undone the two qubits mostly agree, as without twirling.
    assert values["executor_shape"] == [16, 64, 2]
    assert 0.8 < values["executor_agree"] < 1.0


def _assert_ideal_bell(counts: dict[str, int], shots: int) -> None:
    assert set(counts) == {"00", "11"}, counts
    assert sum(counts.values()) == shots
    assert min(counts.values()) > 0.3 * shots  # about half each (0.3: far beyond shot noise)


def test_magics_notebook_runs_a_bell_pair_ideal_and_noisy(executed: dict[str, Any]) -> None:
    """%qrt_login local says so; %%sampler's ideal Bell counts are only 00/11 (its histogram
    says 2 outcomes); on qrt_wren they sum to the shots and mostly agree."""
    notebook = executed[MAGICS]
    shown = _shown(notebook)
    assert "Logged in: account 'local' (local)" in shown
    assert "500 shots, 2 distinct outcomes" in shown  # the ideal histogram's text
    assert "('PrimitiveResult', 500)" in shown  # what --out stored
    values = _printed_values(notebook)
    assert values["shots"] == 500
    _assert_ideal_bell(values["ideal_counts"], 500)
    noisy = values["noisy_counts"]
    assert set(noisy) <= {"00", "01", "10", "11"}
    assert sum(noisy.values()) == 500
    assert noisy.get("00", 0) + noisy.get("11", 0) > 0.8 * 500


def test_accounts_notebook_shows_local_account_instance_usage_versions(
    executed: dict[str, Any],
) -> None:
    """%qrt_accounts lists local; %qrt_usage says no limit; %qrt_version shows the packages."""
    notebook = executed[ACCOUNTS]
    shown = _shown(notebook)
    assert re.search(r"^[ *] local$", shown, re.MULTILINE), "%qrt_accounts should list local"
    assert "Instance 'local': 0.0 s used this period, no limit." in shown
    for package in ("jupyter-qrt", "qiskit-aer", "qiskit-ibm-runtime"):
        assert package in shown
    values = _printed_values(notebook)
    assert values == {
        "account": "local",
        "instance": "local",
        "plan": "open",
        "usage_limit_seconds": None,
    }


def test_devices_notebook_filters_backends_and_shows_a_coupling_map(
    executed: dict[str, Any],
) -> None:
    """The filtered list has the wide devices only; qrt_robin's couplers join its 7 qubits."""
    notebook = executed[DEVICES]
    tables = [_output_text(output) for output in _outputs(notebook)]
    wide = next(t for t in tables if "qrt_kestrel" in t and "qrt_robin" not in t)
    assert all(name in wide for name in ("qrt_gannet", "qrt_pelican"))
    assert "qrt_ideal_simulator" not in wide
    assert "qrt_wren" not in wide
    assert any("qrt_ideal_simulator" in t and "qrt_kestrel" not in t for t in tables)
    values = _printed_values(notebook)
    assert values["device"] == "qrt_robin"
    assert values["num_qubits"] == 7
    couplers = values["couplers"]
    assert len(couplers) == 6  # a tree on 7 qubits: all connected, no loop
    reached, frontier = {0}, [0]
    while frontier:
        qubit = frontier.pop()
        for a, b in couplers:
            for near in (b,) if a == qubit else (a,) if b == qubit else ():
                if near not in reached:
                    reached.add(near)
                    frontier.append(near)
    assert reached == set(range(7))
    shown = _shown(notebook)
    assert len(re.findall(r"^\s+\d\s+\d+\.\d\s+\d+\.\d\s+0\.\d{4}$", shown, re.MULTILINE)) == 7


SWEEP_IDEAL_TOLERANCE = 1e-6  # the ideal simulator's Estimator is exact
SWEEP_DEVICE_SIGMAS, SWEEP_DEVICE_BIAS = 5.0, 0.05  # shot noise, plus what noise leaves


def test_estimator_notebook_bell_and_sweep_follow_cos_theta(executed: dict[str, Any]) -> None:
    """<ZZ> = <XX> = 1 on the Bell pair; <Z> = cos(theta) within 1e-6 on the ideal simulator
    (9 points from 0 to pi); on qrt_wren within 5 standard errors + 0.05, with error bars."""
    values = _printed_values(executed[SWEEP])
    assert math.isclose(values["bell"]["ZZ"], 1.0, abs_tol=SWEEP_IDEAL_TOLERANCE)
    assert math.isclose(values["bell"]["XX"], 1.0, abs_tol=SWEEP_IDEAL_TOLERANCE)
    thetas = values["thetas"]
    assert len(thetas) == 9
    assert math.isclose(thetas[0], 0.0)
    assert math.isclose(thetas[-1], math.pi, abs_tol=1e-6)
    for theta, value in zip(thetas, values["z"], strict=True):
        assert math.isclose(value, math.cos(theta), abs_tol=SWEEP_IDEAL_TOLERANCE), theta
    device = zip(thetas, values["device_z"], values["device_stds"], strict=True)
    for theta, value, std in device:
        # 400 shots at theta = 0 or pi can all read the same outcome (p ~ 2% on qrt_wren's
        # readout errors), and then the sample's standard error is honestly 0; away from the
        # poles a sample of 400 with both outcomes likely has a positive error bar.
        assert 0 <= std < 0.1
        if abs(math.cos(theta)) < 0.9:
            assert std > 0, theta
        bound = SWEEP_DEVICE_SIGMAS * std + SWEEP_DEVICE_BIAS
        assert abs(value - math.cos(theta)) <= bound, (theta, value, std)


def test_sessions_notebook_groups_jobs_in_sessions_and_batches(executed: dict[str, Any]) -> None:
    """Both --session cells ran in one session, --batch in another; the API's session and
    batch hold their jobs with the shots asked; %qrt_jobs lists all 8 jobs."""
    notebook = executed[SESSIONS]
    values = _printed_values(notebook)
    assert values["magic_session_jobs"] == 2
    [magic_session] = values["magic_session_ids"]
    [magic_batch] = values["magic_batch_ids"]
    assert magic_session
    assert magic_batch
    assert magic_session != magic_batch
    assert values["api_session_shots"] == [200, 200]
    assert values["api_batch_ids"] == [values["api_batch_id"]]
    assert values["api_batch_shots"] == [100, 200, 300]
    listed = next(t for t in map(_output_text, _outputs(notebook)) if t.startswith("Jobs:"))
    assert len(re.findall(r"^  [0-9a-f]{20}, DONE, qrt_wren, sampler,", listed, re.MULTILINE)) == 8


def test_classroom_notebook_refuses_a_job_past_the_usage_limit(executed: dict[str, Any]) -> None:
    """On a 2-second instance, jobs run until the allocation is used, then one is refused with
    the service's message; after a reset the usage is back to 0."""
    notebook = executed[CLASSROOM]
    shown = _shown(notebook)
    assert re.search(
        r"refused: Instance \S+ has used its allocation \([\d.]+ of 2\.0 seconds\)", shown
    ), "the usage-limit refusal should be shown"
    values = _printed_values(notebook)
    assert values["limit_seconds"] == 2
    assert values["refused"] is True
    assert values["jobs_before_refusal"] >= 1
    assert len(re.findall(r"^job \d+: ", shown, re.MULTILINE)) == values["jobs_before_refusal"]
    assert "used 0.00 s of 2 s" in shown[shown.index("refused: ") :], "usage after the reset"


def test_tutorial_notebook_runs_the_official_client_keyless(executed: dict[str, Any]) -> None:
    """QiskitRuntimeService() + SamplerV2, and the executor-based Sampler, unmodified, sample
    a Bell pair on the ideal simulator (here through the in-process service the first cell
    started)."""
    notebook = executed[TUTORIAL]
    shown = _shown(notebook)
    assert "No Jupyter server: using an in-process local runtime service." in shown
    assert re.search(r">>> Job ID: [0-9a-f]{20}", shown)
    values = _printed_values(notebook)
    assert values["backend"] == "qrt_ideal_simulator"
    _assert_ideal_bell(values["counts"], values["shots"])
    assert values["shots"] == 500
    # IBM's executor-based Sampler, measurement twirling on: the flips are undone, so the
    # ideal Bell pair still reads 00 and 11 only (8 randomizations of 64 shots: 512 shots).
    assert values["executor_program"] == "executor"
    _assert_ideal_bell(values["executor_counts"], 512)
