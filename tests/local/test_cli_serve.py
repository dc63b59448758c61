"""``jupyter-qrt serve``: refusals at start, TLS, and the documented background recipe."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_qrt.local.server import catalog_named

from .serve_process import cli, read_lines

# Generous bounds: the machine is shared; a healthy run needs a few seconds.
START_TIMEOUT = 60


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
