"""Bad input to the magics: ONE line saying what to do, no traceback, no job submitted.

Each row is: how the shell is connected first, the cell, and words the one line must contain
(what to do). For every row the test also checks that the local service holds as many jobs
after the cell as before, and that ``--out`` did not overwrite the variable it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_qrt.local.server import LocalService

from .conftest import BELL, IDEAL, job_count, save_account

NO_MEASURE = BELL.replace("bell.measure_all()\n", "")
WIDE = "from qiskit import QuantumCircuit\nqc = QuantumCircuit(40)\nqc.h(0)\nqc.measure_all()\nqc\n"
PARAMETRIC = (
    "from qiskit import QuantumCircuit\nfrom qiskit.circuit import Parameter\n"
    "t = Parameter('t')\nqc = QuantumCircuit(1)\nqc.rx(t, 0)\nqc.measure_all()\nqc\n"
)
BAD_QASM = "OPENQASM 2.0;\nqreg q[2];\ncreg c[2];\nfrobnicate q[0];\nmeasure q -> c;\n"
S = f"%%sampler --backend {IDEAL}"
E = f"%%estimator --backend {IDEAL}"

# (id, connected as, cell, words the one line must contain)
CASES: list[tuple[str, str, str, list[str]]] = [
    ("syntax error", "svc", f"{S}\nqc = QuantumCircuit(2\n", ["syntax error", "fix the cell"]),
    ("cell raises", "svc", f"{S}\nundefined_name\n", ["NameError on line 1", "fix the cell"]),
    ("no circuit", "svc", f"{S}\nx = 1\nx\n", ["not a QuantumCircuit", "--circuit VAR"]),
    ("no circuit value", "svc", f"{S}\nx = 1\n", ["is None", "end the cell with the circuit"]),
    ("no measurements", "svc", f"{S}\n{NO_MEASURE}", ["no measurements", "measure_all()"]),
    ("bad qasm", "svc", f"{S}\n{BAD_QASM}", ["does not parse", "fix the cell"]),
    (
        "unknown backend",
        "svc",
        f"%%sampler --backend nope\n{BELL}",
        ["available:", "--backend NAME", "%qrt_backends"],
    ),
    ("too many qubits", "svc", f"{S}\n{WIDE}", ["has 32", "pick a larger backend"]),
    ("shots 0", "svc", f"{S} --shots 0\n{BELL}", ["--shots must be", "at least 1"]),
    ("shots negative", "svc", f"{S} --shots -5\n{BELL}", ["--shots must be", "at least 1"]),
    ("shots huge", "svc", f"{S} --shots 1000000000\n{BELL}", ["at most", "lower --shots"]),
    ("unknown option", "svc", f"{S} --frobnicate\n{BELL}", ["unrecognized", "%%sampler?"]),
    ("not logged in", "", f"{S}\n{BELL}", ["not logged in", "%qrt_login"]),
    (
        "unknown account",
        "",
        "%qrt_login nosuch",
        ["no account named 'nosuch'", "'svc'", "%qrt_login local"],
    ),
    ("revoked key", "revoked", f"{S}\n{BELL}", ["rejected", "log in again"]),
    ("usage exhausted", "broke", f"{S}\n{BELL}", ["used its allocation", "another instance"]),
    ("network down", "down", f"{S}\n{BELL}", ["check"]),
    ("observable width", "svc", f'{E} --observables "ZZZ"\n{NO_MEASURE}', ["one pauli letter"]),
    ("bad observable", "svc", f'{E} --observables "ZQ"\n{NO_MEASURE}', ["cannot read", "e.g."]),
    ("params missing", "svc", f"{S}\n{PARAMETRIC}", ["1 parameter", "--params VAR"]),
    ("params shape", "svc", f"{S} --params wrong\n{PARAMETRIC}", ["shape (1, 3)", "(..., 1)"]),
    ("params undefined", "svc", f"{S} --params nothere\n{PARAMETRIC}", ["define it"]),
    ("out not identifier", "svc", f"{S} --out 1bad\n{BELL}", ["not a python variable name"]),
    ("-O 4", "svc", f"{S} -O 4\n{BELL}", ["-O must be 0, 1, 2 or 3"]),
    ("session and batch", "svc", f"{S} --session --batch\n{BELL}", ["give one of them"]),
    ("empty cell", "svc", f"{S}\n   \n", ["cell is empty", "OPENQASM 2.0;"]),
    ("precision 0", "svc", f'{E} --observables "ZZ" --precision 0\n{NO_MEASURE}', ["above 0"]),
    ("estimator no observables", "svc", f"{E}\n{NO_MEASURE}", ["--observables", "%%estimator?"]),
    ("unknown job", "svc", "%qrt_job nosuchjob", ["nosuchjob"]),
    ("min qubits 0", "svc", "%qrt_backends --min-qubits 0", ["at least 1"]),
]


@pytest.fixture(scope="module")
def special_accounts(local_service: LocalService) -> dict[str, dict[str, Any]]:
    """Keys and instances for the rows that need them (made once per module)."""
    runtime = local_service.runtime
    revoked_key = runtime.create_key(local_service.instance, "to-revoke")
    broke = runtime.create_instance("broke", usage_limit_seconds=0)
    broke_key = runtime.create_key(broke.crn, "broke-key")
    return {
        "revoked": {"key": revoked_key},
        "broke": {"key": broke_key, "instance": broke.crn},
    }


@pytest.fixture
def connect(
    shell: Any,
    local_service: LocalService,
    special_accounts: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """``connect(how)``: log the shell in as a row needs."""
    started: list[LocalService] = []

    def connect_as(how: str) -> None:
        if not how:
            return
        if how == "down":
            other = LocalService(tmp_path_factory.mktemp("down"), workers=1).start()
            started.append(other)
            save_account(other, "down")
            assert shell.run_cell("%qrt_login down").success
            other.stop()  # the service goes away after login: the network is "down"
            # The client retries a refused connection for ~15 s (its policy, not the kernel's);
            # this row checks the line the person gets, so it retries once, briefly.
            from jupyter_qrt.kernel import connection
            from jupyter_qrt.runtime.http.retry import RetryPolicy

            service = connection.current().service
            service._transport.retry = RetryPolicy(max_retries=1, backoff_base=0.05)
            return
        if how in special_accounts:
            save_account(local_service, how, **special_accounts[how])
        assert shell.run_cell(f"%qrt_login {how}").success
        if how == "revoked":
            local_service.runtime.revoke_key("to-revoke")

    yield connect_as
    for service in started:
        service.stop()


@pytest.mark.parametrize(
    ("how", "cell", "hints"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gets_one_line(
    shell: Any,
    connect: Any,
    capsys: pytest.CaptureFixture[str],
    local_service: LocalService,
    how: str,
    cell: str,
    hints: list[str],
) -> None:
    connect(how)
    shell.user_ns["wrong"] = [[0.1, 0.2, 0.3]]
    shell.user_ns["res"] = "before"
    if cell.startswith("%%") and "--out" not in cell.splitlines()[0]:
        first, _, rest = cell.partition("\n")
        cell = f"{first} --out res\n{rest}"
    capsys.readouterr()
    before = job_count(local_service)
    result = shell.run_cell(cell)
    out, err = capsys.readouterr()
    assert not result.success
    assert "Traceback" not in out + err
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("UsageError: "), line
    for hint in hints:
        assert hint.lower() in line.lower(), (hint, line)
    assert job_count(local_service) == before
    assert shell.user_ns["res"] == "before"
