"""Server extension benchmarks: ``python -m benchmarks server [--quick]``.

Each row runs against real ``jupyter server`` subprocesses (the worktree's code, isolated
``HOME``/``JUPYTER_*`` dirs, a temporary data dir for the embedded local service with one
worker), compared with a baseline:

- (a) proxy overhead: p50 and p95 of ``GET /backends`` through the runtime proxy
  (``/jupyter-qrt/runtime/local/api/v1/backends`` with ``Authorization: token <server token>``)
  against the same call made directly to the embedded local service (its bearer from an IAM
  exchange of its key, read from the data dir). Calls alternate so load hits both alike; one
  ``requests`` session (keep-alive) per side. Target: p50 overhead under 5 ms. Until the proxy
  part lands, the proxy answers an error and the table says so instead of a number.
- (b) start-up: time from spawning ``jupyter server`` until ``/api/status`` answers, with the
  extension enabled against disabled (the other installed extensions load in both), and with
  the extension but its embedded local service off (the service starts in a background thread
  as soon as the server listens, and competes with it for the CPU). Target: under 0.3 s added.
- (c) the job watcher: upstream polls per minute of the ``local`` account with 1, 10 and 100
  event-stream subscribers (raw HTTP/1.0 ``GET /jupyter-qrt/jobs/events`` connections), read
  from the watcher's own counters in ``/jupyter-qrt/status`` over a fixed window. Target:
  constant, 60 / interval.

Machine load matters (2 cores run the server, the local service and this process): the load
average is printed before and after.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from benchmarks._table import Row, print_table

_START_SECONDS = 90.0
_LOCAL_SECONDS = 180.0
_STEP = 0.01


@dataclass(frozen=True)
class Server:
    """A running ``jupyter server`` subprocess."""

    url: str
    port: int
    token: str
    startup_seconds: float
    local_data_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.url}{path}", headers=self.headers, timeout=30, **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jupyter_server(
    *, extension: bool, watcher_interval: float = 2.0, local_service: bool = True
) -> Iterator[Server]:
    """``jupyter server`` on a free loopback port, isolated dirs; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="qrt-bench-server-") as tmp:
        root = Path(tmp)
        dirs = {name: root / name for name in ("home", "config", "data", "runtime", "ipython")}
        for path in dirs.values():
            path.mkdir()
        config = {
            "ServerApp": {"jpserver_extensions": {"jupyter_qrt": extension}},
            "QRTExtension": {
                "accounts_file": str(root / "qiskit-ibm.json"),
                "local_data_dir": str(root / "local"),
                "local_workers": 1,
                "local_service": local_service,
                "watcher_interval": watcher_interval,
            },
        }
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(config))
        env = {
            **os.environ,
            "HOME": str(dirs["home"]),
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "IPYTHONDIR": str(dirs["ipython"]),
        }
        for variable in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_URL"):
            env.pop(variable, None)
        port, token = _free_port(), secrets.token_hex(16)
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
        ]
        log = (root / "server.log").open("w")
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            startup = _wait_answering(process, f"{url}/api/status", token, start, root)
            yield Server(url, port, token, startup, root / "local")
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)
            log.close()


def _wait_answering(
    process: subprocess.Popen[bytes], url: str, token: str, start: float, root: Path
) -> float:
    """Seconds from ``start`` until ``url`` answers 200 (bounded by :data:`_START_SECONDS`)."""
    session = requests.Session()
    headers = {"Authorization": f"token {token}"}
    while time.perf_counter() - start < _START_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(
                "jupyter server exited:\n" + (root / "server.log").read_text()[-2000:]
            )
        try:
            if session.get(url, headers=headers, timeout=1).status_code == 200:
                return time.perf_counter() - start
        except requests.ConnectionError:
            pass
        time.sleep(_STEP)
    raise RuntimeError(f"jupyter server did not answer within {_START_SECONDS}s")


def _wait_local(server: Server) -> dict[str, Any]:
    """The embedded local service's health once it runs."""
    deadline = time.monotonic() + _LOCAL_SECONDS
    while time.monotonic() < deadline:
        local = dict(server.get("/jupyter-qrt/status").json()["local"])
        if local["state"] == "running":
            return local
        if local["state"] in {"failed", "off"}:
            raise RuntimeError(f"the embedded local service is {local}")
        time.sleep(0.2)
    raise RuntimeError("the embedded local service did not start")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _ms_percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


# -- (a) proxy overhead --------------------------------------------------------------------------


def proxy_rows(server: Server, calls: int) -> tuple[list[Row], str | None]:
    """``GET /backends`` through the proxy against directly; rows, or a note why not."""
    local = _wait_local(server)
    local_url = str(local["url"]).rstrip("/")
    accounts = server.get("/jupyter-qrt/accounts").json()["accounts"]
    instance = next(a["instance"] for a in accounts if a["name"] == "local")
    key = (server.local_data_dir / "default-key").read_text().strip()
    iam = requests.post(
        f"{local_url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": key},
        timeout=30,
    )
    iam.raise_for_status()
    direct_headers = {"Authorization": f"Bearer {iam.json()['access_token']}"}
    if instance:
        direct_headers["Service-CRN"] = instance
    direct, proxied = requests.Session(), requests.Session()
    direct_url = f"{local_url}/api/v1/backends"
    proxy_url = f"{server.url}/jupyter-qrt/runtime/local/api/v1/backends"
    probe = proxied.get(proxy_url, headers=server.headers, timeout=30)
    sides = [("direct", direct, direct_url, direct_headers)]
    if probe.status_code == 200:
        sides.append(("proxy", proxied, proxy_url, server.headers))
    times: dict[str, list[float]] = {"direct": [], "proxy": []}
    for index in range(calls + 5):  # the first 5 of each are warm-up
        for side, session, url, headers in sides:
            start = time.perf_counter()
            response = session.get(url, headers=headers, timeout=30)
            elapsed = time.perf_counter() - start
            response.raise_for_status()
            if index >= 5:
                times[side].append(elapsed)
    direct_p50, direct_p95 = _ms_percentiles(times["direct"])
    if probe.status_code != 200:
        return [], (
            f"proxy not available on this branch: GET {proxy_url.replace(server.url, '')} "
            f"answered {probe.status_code} (the proxy part implements it). Direct to the local "
            f"service alone: p50 {direct_p50:.2f} ms, p95 {direct_p95:.2f} ms over {calls} calls."
        )
    proxy_p50, proxy_p95 = _ms_percentiles(times["proxy"])
    return [
        Row("GET /backends p50 (proxy vs direct)", proxy_p50, direct_p50, "ms", "+<5 ms"),
        Row("GET /backends p95 (proxy vs direct)", proxy_p95, direct_p95, "ms"),
    ], None


# -- (b) start-up --------------------------------------------------------------------------------


def startup_rows(repeat: int) -> list[Row]:
    """Median start-up with and without the extension (and with it but no embedded local
    service, which starts in a background thread once the server listens), runs alternating."""
    kinds = {"without": {"extension": False}, "with": {"extension": True}}
    kinds["with, local_service off"] = {"extension": True, "local_service": False}
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind, options in kinds.items():
            with jupyter_server(**options) as server:
                times[kind].append(server.startup_seconds)
    without = statistics.median(times["without"])
    return [
        Row(
            f"jupyter server start-up ({kind} vs without)",
            statistics.median(t),
            without,
            "s",
            "+<0.3 s",
        )
        for kind, t in times.items()
        if kind != "without"
    ]


# -- (c) watcher polls ---------------------------------------------------------------------------


async def _open_stream(server: Server) -> tuple[asyncio.StreamWriter, asyncio.Task[bytes]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    request = (
        "GET /jupyter-qrt/jobs/events?account=local HTTP/1.0\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nAuthorization: token {server.token}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    return writer, asyncio.ensure_future(reader.read())


def _watched(server: Server) -> dict[str, Any]:
    status = server.get("/jupyter-qrt/status").json()["watcher"]
    found = [a for a in status["accounts"] if a["account"] == "local"]
    return dict(found[0]) if found else {"subscribers": 0, "polls": 0, "requests": 0}


async def _polls_per_minute(server: Server, subscribers: int, window: float) -> dict[str, Any]:
    streams = [await _open_stream(server) for _ in range(subscribers)]
    try:
        deadline = time.monotonic() + 60
        while (await asyncio.to_thread(_watched, server))["subscribers"] < subscribers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{subscribers} subscribers never registered")
            await asyncio.sleep(0.1)
        before = await asyncio.to_thread(_watched, server)
        await asyncio.sleep(window)
        after = await asyncio.to_thread(_watched, server)
    finally:
        for writer, reading in streams:
            writer.close()
            reading.cancel()
    return {
        "polls": (after["polls"] - before["polls"]) * 60 / window,
        "requests": (after["requests"] - before["requests"]) * 60 / window,
        "error": after.get("last_error"),
    }


def watcher_rows(interval: float, window: float) -> tuple[list[Row], list[str]]:
    """Upstream polls per minute with 1, 10 and 100 subscribers, against 1 subscriber."""
    notes = []
    with jupyter_server(extension=True, watcher_interval=interval) as server:
        _wait_local(server)
        measured = {n: asyncio.run(_polls_per_minute(server, n, window)) for n in (1, 10, 100)}
    baseline = measured[1]["polls"]
    rows = []
    for n, result in measured.items():
        target = f"constant ({60 / interval:.0f})"
        rows.append(
            Row(f"watcher polls/min, {n} subscribers", result["polls"], baseline, "/min", target)
        )
        notes.append(
            f"{n} subscribers: {result['polls']:.1f} list polls/min, "
            f"{result['requests']:.1f} upstream calls/min, last error: {result['error']}"
        )
    return rows, notes


def main(quick: bool = False) -> None:
    """Run (a), (b) and (c) and print their tables."""
    print(f"# server extension benchmarks ({'quick' if quick else 'full'}); {_load()}")
    with jupyter_server(extension=True) as server:
        rows, note = proxy_rows(server, calls=50 if quick else 300)
    if rows:
        print_table("(a) runtime proxy overhead", rows, baseline="direct to the local service")
    else:
        print(f"\n## (a) runtime proxy overhead\n{note}")
    print_table(
        "(b) Jupyter server start-up", startup_rows(2 if quick else 5), baseline="no extension"
    )
    rows, notes = watcher_rows(interval=1.0, window=6.0 if quick else 20.0)
    print_table("(c) job watcher: upstream polls", rows, baseline="1 subscriber")
    for line in notes:
        print(f"  {line}")
    print(f"\n{_load()}")
