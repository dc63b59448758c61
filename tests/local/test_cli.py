"""``jupyter-qrt``: serve prints the client environment and stops cleanly; keys and instances."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from jupyter_qrt.local.cli import main
from jupyter_qrt.local.core import LocalRuntime
from jupyter_qrt.local.server import LocalService, default_data_dir, service_env

from .core_helpers import IDEAL, sampler_body
from .serve_process import alive, cli, read_lines, workers_of

EXPORTED = [
    "QISKIT_IBM_URL",
    "QISKIT_IBM_TOKEN",
    "QISKIT_IBM_INSTANCE",
    "QISKIT_IBM_CHANNEL",
    "IAM_URL",
    "GLOBAL_SEARCH_URL",
    "GLOBAL_CATALOG_URL",
    "NO_PROXY",
    "no_proxy",
]


def test_serve_prints_exports_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        cli("serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--workers", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = read_lines(process.stdout, len(EXPORTED), timeout=60)
        assert [line.split("=", 1)[0] for line in lines] == [f"export {n}" for n in EXPORTED]
        # The lines are shell: eval them and read the values back.
        shown = subprocess.run(
            [
                "bash",
                "-c",
                "\n".join(lines) + '\nfor n in "$@"; do printf "%s\\n" "${!n}"; done',
                "bash",
                *EXPORTED,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.splitlines()
        env = dict(zip(EXPORTED, shown, strict=True))
        assert env["QISKIT_IBM_CHANNEL"] == "ibm_quantum_platform"
        assert env["QISKIT_IBM_URL"] == env["IAM_URL"] + "/experimental/api/v1"
        assert env["IAM_URL"].startswith("http://127.0.0.1:")
        assert env["IAM_URL"].rsplit(":", 1)[1] != "0"
        assert "127.0.0.1" in env["NO_PROXY"].split(",")
        assert "localhost" in env["no_proxy"].split(",")
        token = requests.post(
            env["IAM_URL"] + "/identity/token",
            data={
                "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                "apikey": env["QISKIT_IBM_TOKEN"],
            },
            timeout=30,
        ).json()["access_token"]
        usage = requests.get(
            env["QISKIT_IBM_URL"] + "/instances/usage",
            headers={"Authorization": f"Bearer {token}", "Service-CRN": env["QISKIT_IBM_INSTANCE"]},
            timeout=30,
        )
        assert usage.status_code == 200
        workers = workers_of(process.pid)
        for _ in range(300):  # the worker process starts in the background
            if workers:
                break
            time.sleep(0.1)
            workers = workers_of(process.pid)
        assert workers
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert not [pid for pid in workers if alive(pid)]
        with pytest.raises(requests.ConnectionError):
            requests.get(env["IAM_URL"] + "/openapi.json", timeout=5)
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_serve_refuses_a_remote_host_and_a_taken_port(tmp_path: Path) -> None:
    remote = subprocess.run(
        cli("serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert remote.returncode == 2
    assert remote.stdout == ""
    assert remote.stderr.count("\n") == 1
    assert "--allow-remote" in remote.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run(
            cli("serve", "--port", str(port), "--data-dir", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert busy.returncode == 2
    assert busy.stderr.startswith("jupyter-qrt: error: Cannot listen on")
    assert "Traceback" not in busy.stderr


def test_instances_and_keys_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    assert main(["instances", "create", "class-a", "--limit", "60", "--data-dir", data]) == 0
    crn = capsys.readouterr().out.strip()
    assert crn.startswith("crn:v1:bluemix:public:quantum-computing:local:a/")
    assert (
        main(["keys", "create", "--instance", "class-a", "--name", "s1", "--data-dir", data]) == 0
    )
    captured = capsys.readouterr()
    key = captured.out.strip()
    assert "shown only now" in captured.err
    assert main(["instances", "list", "--data-dir", data]) == 0
    listing = capsys.readouterr().out
    assert "class-a" in listing
    assert "60s" in listing
    assert main(["keys", "list", "--data-dir", data]) == 0
    keys = capsys.readouterr().out
    assert "s1" in keys
    assert key not in keys  # the secret is never listed

    # The key works against a service on the same data dir, for its own instance.
    with LocalService(data, workers=1) as service:
        bound = service.runtime.verify_api_key(key)
        assert bound is not None
        assert bound.instance_crn == crn
        assert service.runtime.usage(crn)["usage_limit_seconds"] == 60

    assert main(["instances", "set-limit", crn, "none", "--data-dir", data]) == 0
    assert "usage limit none" in capsys.readouterr().out
    assert main(["keys", "revoke", "s1", "--data-dir", data]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--data-dir", data]) == 0
    assert "s1" not in capsys.readouterr().out


def test_keys_revoke_takes_the_key_itself_and_never_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert main(["keys", "create", "--instance", "local", "--name", "s1", "--data-dir", data]) == 0
    key = capsys.readouterr().out.strip()
    secret = key.split("_", 2)[2]
    assert main(["keys", "revoke", key, "--data-dir", data]) == 0
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert "Revoked key" in captured.err
    assert main(["keys", "list", "--data-dir", data]) == 0
    assert "s1" not in capsys.readouterr().out

    unknown = "qrt_0123456789ab_" + "S3cretS3cretS3cretS3cretS3cretS3cretWxyz"
    assert main(["keys", "revoke", unknown, "--data-dir", data]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("jupyter-qrt: error: No key has")
    assert captured.err.count("\n") == 1
    assert "S3cret" not in captured.out + captured.err
    assert "...Wxyz" in captured.err


def test_reset_usage_starts_a_new_term_next_to_a_running_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert main(["instances", "create", "class-a", "--limit", "60", "--data-dir", data]) == 0
    crn = capsys.readouterr().out.strip()
    with LocalRuntime(data, workers=1) as runtime:
        job_id = runtime.create_job(crn, "s1", sampler_body(IDEAL))["id"]
        assert runtime.wait_for_job(crn, job_id)["state"]["status"] == "Completed"
        assert runtime.usage(crn)["usage_consumed_seconds"] > 0

        assert main(["instances", "reset-usage", "class-a", "--data-dir", data]) == 0
        assert capsys.readouterr().out == "class-a: usage reset to 0s (limit 60s)\n"
        assert runtime.usage(crn)["usage_consumed_seconds"] == 0
        assert main(["instances", "list", "--data-dir", data]) == 0
        (row,) = [line for line in capsys.readouterr().out.splitlines() if "class-a" in line]
        assert row.split()[2:4] == ["60s", "0s"]

    assert main(["instances", "reset-usage", "class-b", "--data-dir", data]) == 2
    assert "No instance has the CRN or name 'class-b'" in capsys.readouterr().err


def test_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    assert main(["keys", "create", "--instance", "nope", "--name", "k", "--data-dir", data]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jupyter-qrt: error: No instance")
    assert err.count("\n") == 1
    assert main(["keys", "revoke", "nobody", "--data-dir", data]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["instances", "create", "local", "--data-dir", data]) == 2  # the default's name
    assert "exists already" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["instances", "set-limit", "local", "-5", "--data-dir", data])
    assert exited.value.code == 2


def test_default_data_dir_follows_the_environment(tmp_path: Path) -> None:
    assert default_data_dir({"QRT_DATA_DIR": str(tmp_path / "x")}) == tmp_path / "x"
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "jupyter-qrt" / "local"
    assert default_data_dir({}) == Path(os.environ["HOME"]) / ".local/share/jupyter-qrt/local"


def test_exported_no_proxy_keeps_the_users_hosts() -> None:
    env = service_env("http://127.0.0.1:1", "k", "crn", environ={"NO_PROXY": "corp.example"})
    assert env["NO_PROXY"] == "corp.example,127.0.0.1,localhost,::1"
    assert env["no_proxy"] == "127.0.0.1,localhost,::1"


def test_a_mistyped_data_dir_is_reported_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-dir"
    for command in (
        ["keys", "list"],
        ["instances", "list"],
        ["keys", "revoke", "k"],
        ["instances", "set-limit", "local", "60"],
        ["instances", "reset-usage", "local"],
    ):
        assert main([*command, "--data-dir", str(missing)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "jupyter-qrt serve --data-dir" in err
    assert not missing.exists()
