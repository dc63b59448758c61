"""``jupyter-qrt serve``: refusals at start, TLS, and the documented background recipe."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_qrt.local.server import catalog_named

from .serve_process import cli, parse_exports, read_lines

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
