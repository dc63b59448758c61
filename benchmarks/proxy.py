"""Runtime proxy benchmarks: ``python -m benchmarks.proxy [--quick]``.

A Jupyter server with jupyter-qrt (a subprocess, the embedded local service off) proxies to a
:class:`LocalService` in this process; every row compares a call through the proxy
(``/jupyter-qrt/runtime/up/...``, with the kernel token) with the same call made straight to
the service (with its own bearer):

- ``GET backends``: median latency of sequential calls (what the proxy adds per call);
- ``POST 40 MB``: a 40 MB job body (not a valid job: the service reads it all, then answers 400),
  seconds, and the Jupyter server's peak resident memory growth (``VmHWM``): a proxy that
  buffered the body would grow by at least its size;
- ``GET while 8 held``: median latency of ``/jupyter-qrt/status`` while 8 proxy calls to a
  deliberately slow upstream are in flight (the slow calls hold only themselves).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

TOKEN = "bench-token"
BODY_BYTES = 40_000_000


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _slow_upstream(hold_s: float) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if not self.path.endswith("/identity/token"):
                time.sleep(hold_s)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"access_token": "x", "expires_in": 3600}).encode())

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _jupyter(
    config: dict[str, Any], workdir: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    config_dir = workdir / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(workdir / "data"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "HOME": str(workdir),
    }
    log_path = os.environ.get("QRT_BENCH_LOG", os.devnull)  # the server's log, for debugging
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
             f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
             f"--ServerApp.root_dir={workdir}"],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # bounded: 60 s
            try:
                if requests.get(f"{url}/jupyter-qrt/status", headers=_auth(), timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("the Jupyter server did not start within 60 s")
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _auth() -> dict[str, str]:
    return {"Authorization": f"token {TOKEN}"}


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(quick: bool = False) -> None:
    """Run the suite and print its table."""
    from jupyter_qrt.local.server import LocalService
    from jupyter_qrt.runtime.accounts import Account, AccountStore

    repeat = 10 if quick else 50
    rows: list[tuple[str, str, str, str]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        _slow_upstream(hold_s=3.0) as slow_url,
    ):
        service = LocalService(Path(tmp) / "up", workers=1).start()
        try:
            store = AccountStore(str(Path(tmp) / "accounts.json"))
            store.save(service.account("up"), set_as_default=False)
            store.save(Account(name="slow", channel="local", token="k", url=slow_url))
            slow_port = slow_url.rsplit(":", 1)[1]
            config = {
                "ServerApp": {"jpserver_extensions": {"jupyter_qrt": True}},
                "QRTExtension": {
                    "accounts_file": str(Path(tmp) / "accounts.json"),
                    "local_service": False,
                    "allowed_hosts": [f"127.0.0.1:{service.port}", f"127.0.0.1:{slow_port}"],
                },
            }
            with _jupyter(config, Path(tmp)) as (jupyter, process):
                rows += _rows(jupyter, process.pid, service, repeat)
        finally:
            service.stop()
    width = max(len(r[0]) for r in rows)
    print(
        f"\nruntime proxy ({'quick' if quick else 'full'}); 'direct' = the same call to the service"
    )
    print(f"{'benchmark'.ljust(width)}  {'proxy':>12}  {'direct':>12}  note")
    for name, ours, theirs, note in rows:
        print(f"{name.ljust(width)}  {ours:>12}  {theirs:>12}  {note}")


def _rows(jupyter: str, pid: int, service: Any, repeat: int) -> list[tuple[str, str, str, str]]:
    proxy = f"{jupyter}/jupyter-qrt/runtime/up/api/v1"
    bearer = requests.post(
        f"{service.url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": service.api_key},
        timeout=30,
    ).json()["access_token"]
    direct_headers = {"Authorization": f"Bearer {bearer}", "Service-CRN": service.instance}
    with requests.Session() as via, requests.Session() as direct:
        via.headers.update(_auth())
        direct.headers.update(direct_headers)
        get_proxy = _median_ms(
            lambda: via.get(f"{proxy}/backends", timeout=30).raise_for_status(), repeat
        )
        get_direct = _median_ms(
            lambda: direct.get(f"{service.url}/api/v1/backends", timeout=30).raise_for_status(),
            repeat,
        )
        body = b"x" * BODY_BYTES
        rss_before = _peak_rss_mb(pid)
        start = time.perf_counter()
        answer = via.post(
            f"{proxy}/jobs", data=body, headers={"Content-Type": "application/json"}, timeout=120
        )
        post_proxy = time.perf_counter() - start
        rss_growth = _peak_rss_mb(pid) - rss_before
        start = time.perf_counter()
        direct.post(
            f"{service.url}/api/v1/jobs",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        post_direct = time.perf_counter() - start
        held: list[threading.Thread] = [
            threading.Thread(
                target=lambda: requests.get(
                    f"{jupyter}/jupyter-qrt/runtime/slow/api/v1/backends",
                    headers=_auth(),
                    timeout=60,
                )
            )
            for _ in range(8)
        ]
        for thread in held:
            thread.start()
        time.sleep(0.5)  # let the held calls reach the slow upstream
        status_held = _median_ms(
            lambda: via.get(f"{jupyter}/jupyter-qrt/status", timeout=30).raise_for_status(), 10
        )
        for thread in held:
            thread.join(60)
        status_idle = _median_ms(
            lambda: via.get(f"{jupyter}/jupyter-qrt/status", timeout=30).raise_for_status(), 10
        )
    return [
        ("GET backends, median", f"{get_proxy:.2f} ms", f"{get_direct:.2f} ms", f"{repeat} calls"),
        (
            "POST 40 MB body",
            f"{post_proxy:.2f} s",
            f"{post_direct:.2f} s",
            f"answer {answer.status_code} (not a job: the service reads it all, then says 400)",
        ),
        ("  server peak RSS growth", f"{rss_growth:.1f} MB", "-", "buffering would be >= 40 MB"),
        (
            "GET status, 8 calls held 3 s",
            f"{status_held:.2f} ms",
            f"{status_idle:.2f} ms",
            "'direct' here = status with nothing held",
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    main(quick=parser.parse_args().quick)
