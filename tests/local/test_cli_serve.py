"""``jupyter-qrt serve``: refusals at start, TLS, and the documented background recipe."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_qrt.local.server import catalog_named

from .serve_process import alive, cli, parse_exports, read_lines

# Generous bounds: the machine is shared; a healthy run needs a few seconds.
START_TIMEOUT = 60
GRANT = "urn:ibm:params:oauth:grant-type:apikey"


def _without_ibm_runtime(tmp_path: Path) -> dict[str, str]:
    """An environment whose Pythons cannot find qiskit-ibm-runtime (a sitecustomize hides it)."""
    site = tmp_path / "hide-ibm-runtime"
    site.mkdir()
    # None in sys.modules: importing fails and importlib.util.find_spec answers None.
    (site / "sitecustomize.py").write_text(
        'import sys\nsys.modules["qiskit_ibm_runtime"] = None\n', encoding="utf-8"
    )
    path = [str(site), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def test_snapshot_catalog_without_qiskit_ibm_runtime_is_refused_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = subprocess.Popen(
        cli("serve", "--catalog", "ibm-snapshots", "--data-dir", str(data), "--workers", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_without_ibm_runtime(tmp_path),
    )
    try:
        # A service serving no devices would print its export lines here and go on.
        assert read_lines(process.stdout, 1, timeout=START_TIMEOUT) == []
        assert process.wait(timeout=START_TIMEOUT) == 2
        assert process.stderr is not None
        err = process.stderr.read()
        assert err.count("\n") == 1
        assert err.startswith("jupyter-qrt: error: ")
        assert "pip install qiskit-ibm-runtime" in err
        assert "--catalog builtin" in err
        assert not data.exists()  # refused before anything was made
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_all_catalog_without_qiskit_ibm_runtime_serves_builtin_and_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "qiskit_ibm_runtime", None)
    with caplog.at_level(logging.WARNING, logger="jupyter_qrt.local.server"):
        catalog = catalog_named("all")
    assert catalog.names() == catalog_named("builtin").names()
    assert "qiskit-ibm-runtime" in caplog.text
    with pytest.raises(ValueError, match="pip install qiskit-ibm-runtime"):
        catalog_named("ibm-snapshots")


# -- TLS -----------------------------------------------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key: PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # 192.0.2.1 (TEST-NET-1) is on no interface: nothing is ever bound on a public address.
        (["--host", "192.0.2.1", "--allow-remote"], "--certfile"),
        (["--keyfile", "key.pem"], "--certfile"),
        (["--certfile", "missing.pem"], "missing.pem"),
    ],
)
def test_serve_refuses_plain_http_off_this_machine_and_bad_tls_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], expected: str
) -> None:
    from jupyter_qrt.local.cli import main

    data = tmp_path / "data"
    options = [str(tmp_path / o) if o.endswith(".pem") else o for o in options]
    assert main(["serve", *options, "--data-dir", str(data), "--workers", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("jupyter-qrt: error: ")
    assert captured.err.count("\n") == 1
    assert expected in captured.err
    assert not data.exists()


def test_serve_over_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    import requests

    cert, key = _self_signed(tmp_path)
    process = subprocess.Popen(
        cli(
            "serve",
            *("--certfile", str(cert), "--keyfile", str(key)),
            *("--data-dir", str(tmp_path / "data"), "--workers", "1"),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        env = parse_exports(read_lines(process.stdout, 9, timeout=START_TIMEOUT))
        assert env["IAM_URL"].startswith("https://127.0.0.1:")
        token = requests.post(
            env["IAM_URL"] + "/identity/token",
            data={"grant_type": GRANT, "apikey": env["QISKIT_IBM_TOKEN"]},
            verify=str(cert),
            timeout=30,
        )
        assert token.status_code == 200
        usage = requests.get(
            env["QISKIT_IBM_URL"] + "/instances/usage",
            headers={
                "Authorization": f"Bearer {token.json()['access_token']}",
                "Service-CRN": env["QISKIT_IBM_INSTANCE"],
            },
            verify=str(cert),
            timeout=30,
        )
        assert usage.status_code == 200
        # Plain HTTP gets no answer, and a client that does not trust the certificate refuses.
        with pytest.raises(requests.ConnectionError):
            requests.get(env["IAM_URL"].replace("https:", "http:") + "/openapi.json", timeout=30)
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(env["IAM_URL"] + "/openapi.json", timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=START_TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


# -- the background recipe -----------------------------------------------------------------------

_CHECK = """\
import os, sys, requests
answer = requests.post(
    os.environ["IAM_URL"] + "/identity/token",
    data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey",
          "apikey": os.environ["QISKIT_IBM_TOKEN"]},
    timeout=30,
)
print(answer.status_code, os.environ["QISKIT_IBM_URL"])
"""


def test_the_documented_background_recipe_serves_and_stops_by_pid(tmp_path: Path) -> None:
    from jupyter_qrt.local import cli as cli_module

    recipe: str = cli_module.SERVE_RECIPE
    lines = recipe.splitlines()
    # The recipe is what the module docstring and `serve --help` show.
    assert cli_module.__doc__ is not None
    shown = subprocess.run(
        cli("serve", "--help"), capture_output=True, text=True, timeout=START_TIMEOUT, check=True
    ).stdout
    for line in lines:
        assert line in cli_module.__doc__
        assert line.strip() in shown
    # A `jupyter-qrt` on PATH that runs this checkout in this interpreter.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "jupyter-qrt"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m jupyter_qrt.local.cli "$@"\n')
    program.chmod(0o755)
    (tmp_path / "check.py").write_text(_CHECK)
    # The user's own work (the placeholder line) is this test's check; the rest runs verbatim.
    (placeholder,) = [
        index for index, line in enumerate(lines) if line.strip().startswith("jupyter lab")
    ]
    lines[placeholder] = (
        'echo "$QRT_PID" > pid.txt; stat -c %a qrt.env > mode.txt; '
        f'"{sys.executable}" check.py > check.txt'
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "QRT_DATA_DIR": str(tmp_path / "data"),
    }
    pid = 0
    try:
        with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
            # bash -e would stop at the first failing step; the file checks below say which.
            subprocess.run(
                ["bash", "-c", "\n".join(lines)],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=err,
                timeout=3 * START_TIMEOUT,
                check=False,
            )
        err_text = (tmp_path / "err.txt").read_text()
        pid = int((tmp_path / "pid.txt").read_text())
        status, url = (tmp_path / "check.txt").read_text().split()
        assert status == "200", err_text
        assert url.startswith("http://127.0.0.1:")
        for _ in range(600):  # the kill of the recipe stops it: bounded wait for it to end
            if not alive(pid):
                break
            time.sleep(0.1)
        assert not alive(pid), "the service did not stop on `kill $QRT_PID`"
        assert (tmp_path / "mode.txt").read_text().strip() == "600"  # it holds the key
        assert not (tmp_path / "qrt.env").exists()
        assert "Traceback" not in err_text
        assert "QISKIT_IBM_TOKEN" not in (tmp_path / "out.txt").read_text()  # in the file only
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_an_unwritable_env_file_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jupyter_qrt.local.cli import main

    data = tmp_path / "data"
    for env_file in (tmp_path / "no-such-dir" / "qrt.env", tmp_path):
        assert main(["serve", "--env-file", str(env_file), "--data-dir", str(data)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("jupyter-qrt: error: ")
        assert captured.err.count("\n") == 1
        assert "--env-file" in captured.err
    assert not data.exists()
