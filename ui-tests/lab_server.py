"""A real ``jupyter lab`` for the browser tests, in its own directories.

:class:`LabServer` starts JupyterLab as a plain subprocess (the pid held is the server's own, so
stopping it really stops it) on a free loopback port with a random token, and isolates
everything it could read or write: ``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``,
``JUPYTER_RUNTIME_DIR``, ``IPYTHONDIR`` and ``HOME`` are temporary directories, the notebook
directory is a temporary copy of ``notebooks/``. The jupyter-qrt server extension is enabled by
its install (``etc/jupyter/jupyter_server_config.d``) and runs its embedded local service;
``PYTHONPATH`` is passed on, so the server and its kernels import this checkout.

The server's stdout and stderr (``--debug``) go to ``jupyter-lab.log`` in the temporary root:
the canary scenario reads it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

__all__ = ["LabServer", "free_port"]

READY_TIMEOUT_S = 120.0
"""How long the server (and its embedded local service) may take to answer; ~3 s when idle,
much more on a busy 2-core machine."""

STOP_TIMEOUT_S = 30.0

SETTING_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
}
"""Default settings overrides (``<config dir>/labconfig/default_setting_overrides.json``): the
"get notified about Jupyter news" toast covers screenshots, so it is off; saved notebooks keep
their widgets' state (``metadata.widgets``), as a user may choose, so the canary scenarios
check it too."""


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabServer:
    """One ``jupyter lab`` subprocess under ``root``.

    Parameters
    ----------
    root
        An empty temporary directory: the isolated dirs, the notebooks and the log go here.
    notebooks
        The directory copied as the server's notebook directory.
    qrt_config
        ``c.QRTExtension`` traits, written to ``jupyter_server_config.json`` in the config dir.
    """

    def __init__(self, root: Path, notebooks: Path, qrt_config: dict[str, Any]) -> None:
        self.root = root
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.notebook_dir = root / "notebooks"
        self.home = root / "home"
        self.config_dir = root / "jupyter-config"
        self.data_dir = root / "jupyter-data"
        self.runtime_dir = root / "jupyter-runtime"
        self.ipython_dir = root / "ipython"
        self.log_path = root / "jupyter-lab.log"
        self._notebooks = notebooks
        self._qrt_config = qrt_config
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        """The server's root URL (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return None if self._process is None else self._process.pid

    def env(self) -> dict[str, str]:
        """The environment of the server (and of the ``jupyter`` commands the tests run)."""
        env = dict(os.environ)
        env.update(
            {
                "HOME": str(self.home),
                "JUPYTER_CONFIG_DIR": str(self.config_dir),
                "JUPYTER_DATA_DIR": str(self.data_dir),
                "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
                "IPYTHONDIR": str(self.ipython_dir),
                "JUPYTER_PLATFORM_DIRS": "0",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        # Nothing of the caller's accounts or classroom key reaches the test server.
        for name in [n for n in env if n.startswith(("QISKIT_IBM_", "QRT_"))]:
            del env[name]
        env.pop("XDG_DATA_HOME", None)
        env.pop("XDG_CONFIG_HOME", None)
        return env

    def _prepare(self) -> None:
        for path in (self.home, self.data_dir, self.runtime_dir, self.ipython_dir):
            path.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            self._notebooks,
            self.notebook_dir,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
        )
        (self.config_dir / "labconfig").mkdir(parents=True)
        (self.config_dir / "labconfig" / "default_setting_overrides.json").write_text(
            json.dumps(SETTING_OVERRIDES)
        )
        server_config = {
            "ServerApp": {"ip": "127.0.0.1", "open_browser": False},
            # No language servers to look for: nothing here uses them, and it costs start-up.
            "LanguageServerManager": {"autodetect": False},
            "QRTExtension": self._qrt_config,
        }
        (self.config_dir / "jupyter_server_config.json").write_text(json.dumps(server_config))

    def command(self) -> list[str]:
        """The ``jupyter lab`` command line."""
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--debug",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--notebook-dir={self.notebook_dir}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        return command

    def start(self) -> LabServer:
        """Start the server and wait until it and its embedded local service answer."""
        self._prepare()
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            self.command(),
            env=self.env(),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self._process.returncode}; its log: "
                    f"{self.log_tail()}"
                )
            try:
                self.get("/api/status")
                status = self.get("/jupyter-qrt/status")
                state = status["local"]["state"]
                if state == "running":
                    return
                if state == "failed":
                    raise RuntimeError(f"the embedded local service failed: {status['local']}")
                last = f"local service {state}"
            except (requests.RequestException, ValueError, KeyError) as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise TimeoutError(
            f"jupyter lab did not get ready in {READY_TIMEOUT_S:.0f} s ({last}); its log: "
            f"{self.log_tail()}"
        )

    def log_text(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def get(self, path: str) -> Any:
        """``GET`` a server path with the token; the JSON answer."""
        response = requests.get(self.url + path, headers=self._headers(), timeout=10)
        response.raise_for_status()
        return response.json()

    def delete(self, path: str) -> None:
        """``DELETE`` a server path with the token."""
        response = requests.delete(self.url + path, headers=self._headers(), timeout=30)
        response.raise_for_status()

    def shutdown_sessions(self) -> None:
        """Close every session and kernel, so each scenario starts with none."""
        for session in self.get("/api/sessions"):
            self.delete(f"/api/sessions/{session['id']}")
        for kernel in self.get("/api/kernels"):
            self.delete(f"/api/kernels/{kernel['id']}")

    @property
    def local_data_dir(self) -> Path:
        """The embedded local service's data dir (``<data dir>/jupyter-qrt/local``)."""
        return self.data_dir / "jupyter-qrt" / "local"

    def create_local_key(self, name: str, instance: str = "local") -> str:
        """A new API key of the embedded local service (``jupyter-qrt keys create``), which
        runs meanwhile: the command only writes the database."""
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter_qrt.local.cli",
                "keys",
                "create",
                "--instance",
                instance,
                "--name",
                name,
                "--data-dir",
                str(self.local_data_dir),
            ],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"jupyter-qrt keys create failed: {created.stderr.strip()}")
        return created.stdout.strip()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a bound); idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None
