"""Stand-ins for upstream hosts in the proxy's tests: a recording HTTP server on a loopback port.

:class:`RecordingServer` records every request it gets (method, path, headers, body size). It
answers IAM's ``/identity/token`` with a fixed bearer, and any other path with a small JSON body
once its ``gate`` is open (tests that need a slow upstream close the gate; every wait is bounded).
It runs in a thread with its own ``ThreadingHTTPServer`` and is stopped by :meth:`stop`.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAKE_BEARER = "fake-upstream-bearer"
GATE_TIMEOUT_S = 30.0


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body_bytes: int = 0


@dataclass
class RecordingServer:
    """A loopback HTTP server that records what reaches it."""

    seen: list[Seen] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.gate.set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RecordingServer:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.seen.append(
                    Seen(self.command, self.path, dict(self.headers.items()), len(body))
                )
                if self.path.endswith("/identity/token"):
                    payload: dict[str, Any] = {"access_token": FAKE_BEARER, "expires_in": 3600}
                else:
                    recorder.gate.wait(GATE_TIMEOUT_S)
                    payload = {"path": self.path, "received_bytes": len(body)}
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Set-Cookie", "upstream=secret")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
