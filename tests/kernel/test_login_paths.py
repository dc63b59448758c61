"""Where ``%qrt_login`` finds an account: the in-process local service, the first-account
prompt, and the Jupyter server's account list (a fake server here, shaped as the extension's
``GET /jupyter-qrt/accounts`` and ``/status`` answer)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from .conftest import BELL, IDEAL

TOKEN = "kernel-token-123"


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    out, err = capsys.readouterr()
    return [line for line in (out + err).splitlines() if line.strip()]


@pytest.fixture
def fresh_shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A shell with the extension loaded and nothing saved in the accounts file."""
    # The in-process service's data dir then lies under the test's HOME, never a real one.
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from jupyter_qrt.kernel import connection

    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.enabled = False
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "jupyter_qrt")
    try:
        yield ip
    finally:
        if connection._current is not None:
            connection._current.close()
            connection._current = None
        if connection._local is not None:
            connection._local.stop()
            connection._local = None
        InteractiveShell.clear_instance()


def test_login_local_starts_an_in_process_service_once(fresh_shell: Any, capsys: Any) -> None:
    from jupyter_qrt.kernel import connection

    assert fresh_shell.run_cell("%qrt_login local").success
    assert _lines(capsys) == ["Logged in: account 'local' (local), instance 'local', plan open."]
    first = connection._local
    assert first is not None
    # Its data dir is the standalone service's (under this test's HOME), so jobs outlive
    # the kernel.
    assert "jupyter-qrt" in str(first.data_dir)
    result = fresh_shell.run_cell(f"%%sampler --backend {IDEAL} --shots 64\n{BELL}")
    assert result.success
    counts = result.result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 64
    assert fresh_shell.run_cell("%qrt_login local").success
    assert connection._local is first  # started once per kernel


def test_nothing_saved_and_no_key_typed_says_what_to_do(
    fresh_shell: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "")
    capsys.readouterr()
    assert not fresh_shell.run_cell("%qrt_login").success
    assert _lines(capsys) == [
        "UsageError: No account saved and no key given: run %qrt_login local for the local "
        "runtime, or %qrt_login again and paste an API key."
    ]


def test_a_typed_key_is_saved_and_never_shown(
    fresh_shell: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jupyter_qrt.runtime
    from jupyter_qrt.runtime import AccountStore
    from jupyter_qrt.runtime.errors import TransportError

    secret = "a-secret-api-key-0123456789"
    crn = "crn:v1:bluemix:public:quantum-computing:us-east:a/abc123:inst-1::"
    monkeypatch.setattr("getpass.getpass", lambda prompt="": secret)
    monkeypatch.setattr("builtins.input", lambda prompt="": crn)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        # No network in tests: connecting is where an unreachable IBM Cloud would fail.
        raise TransportError("Cannot reach IBM Cloud; check the network.")

    monkeypatch.setattr(jupyter_qrt.runtime, "RuntimeService", unreachable)
    capsys.readouterr()
    assert not fresh_shell.run_cell("%qrt_login").success
    lines = _lines(capsys)
    assert lines[-1] == "UsageError: Cannot reach IBM Cloud; check the network."
    assert all(secret not in line for line in lines)
    saved = AccountStore().get()
    assert saved.token == secret
    assert saved.instance == crn


class _FakeServer(BaseHTTPRequestHandler):
    accounts: dict[str, Any] = {
        "accounts": [
            {"name": "local", "channel": "local", "plan": "local", "default": False},
            {"name": "class", "channel": "ibm_quantum_platform", "plan": "open", "default": True},
        ],
        "default": "class",
    }

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"token {TOKEN}":
            self.send_response(403)
            self.end_headers()
            return
        body = {
            "/jupyter-qrt/accounts": self.accounts,
            "/jupyter-qrt/status": {"version": "9.9.9", "mode": "classroom"},
        }.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {}).encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fake server extension on loopback; the kernel's environment points at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("QRT_SERVER_URL", url)
    monkeypatch.setenv("QRT_KERNEL_TOKEN", TOKEN)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_under_the_server_accounts_come_from_it(
    fresh_shell: Any, capsys: Any, fake_server: str
) -> None:
    capsys.readouterr()
    assert fresh_shell.run_cell("%qrt_accounts").success
    assert _lines(capsys) == ["  local", "* class"]
    assert not fresh_shell.run_cell("%qrt_login nosuch").success
    assert _lines(capsys) == [
        "UsageError: The Jupyter server has no account named 'nosuch' (accounts: local, class); "
        "add one in the Quantum sidebar, or pick one of those."
    ]
    assert fresh_shell.run_cell("%qrt_version").success
    out = "\n".join(_lines(capsys))
    assert "jupyter-qrt server extension  9.9.9" in out


def test_under_the_server_a_refused_token_says_restart(
    fresh_shell: Any, capsys: Any, fake_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QRT_KERNEL_TOKEN", "stale")
    capsys.readouterr()
    assert not fresh_shell.run_cell("%qrt_login").success
    assert _lines(capsys) == [
        "UsageError: The Jupyter server refused this kernel's token; restart the kernel so that "
        "it gets a fresh one."
    ]
