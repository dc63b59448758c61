"""Running the local runtime service: in-process on a loopback port, or standalone.

::

    from jupyter_qrt.local.server import LocalService

    with LocalService() as service:             # a fresh data dir, an ephemeral port
        os.environ.update(service.env())        # QISKIT_IBM_URL, QISKIT_IBM_TOKEN, IAM_URL, ...
        ...                                     # any client, ours or the official one

:class:`LocalService` starts the core (:class:`~jupyter_qrt.local.core.LocalRuntime`) and a tornado
HTTP server on its own IOLoop in a background thread; ``stop()`` (or leaving the ``with`` block)
stops both and leaves no thread or worker process behind. ``jupyter-qrt serve`` runs the same thing
in the foreground.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .http.app import make_app, normalize_base_path
from .http.base import DEFAULT_MAX_BODY_BYTES
from .identity.iam import TOKEN_LIFETIME_SECONDS
from .serving import (
    CATALOG_CHOICES,
    CHANNEL,
    ServiceStartError,
    catalog_named,
    default_data_dir,
    is_loopback_host,
    service_env,
    url_host,
)
from .tls import server_tls_context
from .workers.pacing import Pacing, PacingLike

if TYPE_CHECKING:
    from jupyter_qrt.runtime.accounts import Account

    from .core import LocalRuntime
    from .devices import DeviceCatalog

# Re-exported: this module is the entry point people import the service from.
__all__ = [
    "CATALOG_CHOICES",
    "CHANNEL",
    "LocalService",
    "ServiceStartError",
    "catalog_named",
    "default_data_dir",
    "is_loopback_host",
    "service_env",
]

logger = logging.getLogger(__name__)

_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 30.0


class LocalService:
    """The local runtime service on a loopback port, run by a background thread.

    Parameters
    ----------
    data_dir
        Where jobs, keys and instances are stored. ``None``: a fresh temporary directory,
        deleted when the service stops.
    host
        Address to listen on; loopback only unless ``allow_remote``.
    port
        Port to listen on; ``0`` picks a free one (see :attr:`port`).
    catalog
        Devices served: a name of :data:`CATALOG_CHOICES`, a ``DeviceCatalog``, or ``None`` for
        the core's default.
    base_path
        Path under which everything is served (``/``; the URLs include it).
    workers
        Worker processes running jobs.
    worker_memory_mb
        MiB of memory one job may use (0: no limit; default: see
        :mod:`jupyter_qrt.local.workers.config`).
    max_body_bytes
        Largest request body accepted (413 beyond).
    token_lifetime_seconds
        Validity of the bearer tokens issued.
    allow_remote
        Allow a non-loopback ``host`` (anyone who can reach it can then try keys); it must be
        served over TLS (``certfile``).
    certfile, keyfile
        PEM files of the TLS certificate and its private key (``keyfile`` ``None``: in
        ``certfile``): the service is served over HTTPS, its URLs start with ``https://``.
    pacing
        Off by default. A factor for every device, ``{device: factor}`` or a ``Pacing``: each
        job then holds its device for factor x its device time, one job at a time per device,
        so jobs are seen Queued and Running and can be cancelled (see
        :mod:`.workers.pacing`).

    Raises
    ------
    ValueError
        A non-loopback host without ``allow_remote`` or without TLS, TLS files that cannot be
        used, or an unknown catalog name.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        catalog: str | DeviceCatalog | None = None,
        base_path: str = "/",
        workers: int = 2,
        worker_memory_mb: int | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
        allow_remote: bool = False,
        certfile: str | os.PathLike[str] | None = None,
        keyfile: str | os.PathLike[str] | None = None,
        pacing: PacingLike = None,
    ) -> None:
        if not allow_remote and not is_loopback_host(host):
            raise ValueError(
                f"Refusing to listen on {host!r}: the service would be reachable from other "
                "machines. Use 127.0.0.1, or allow_remote=True (--allow-remote) with a TLS "
                "certificate (--certfile, --keyfile) if you mean it."
            )
        if keyfile is not None and certfile is None:
            raise ValueError("A TLS key (--keyfile) needs its certificate (--certfile) too.")
        if certfile is None and not is_loopback_host(host):
            # Every call carries an API key or a bearer token: never in clear off this machine.
            raise ValueError(
                f"Refusing to serve {host!r} over plain HTTP: API keys and tokens would cross the "
                "network readable. Give a TLS certificate and its key (--certfile, --keyfile)."
            )
        self._tls = server_tls_context(certfile, keyfile) if certfile is not None else None
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be from 0 to 65535, not {port}.")
        if isinstance(catalog, str):
            catalog = catalog_named(catalog)
        self._requested_dir = Path(data_dir).expanduser() if data_dir is not None else None
        self._host = host
        self._requested_port = port
        self._catalog = catalog
        self._base_path = normalize_base_path(base_path)
        self._workers = workers
        self._worker_memory_mb = worker_memory_mb
        self._pacing = Pacing.coerce(pacing)
        self._max_body_bytes = max_body_bytes
        self._token_lifetime = token_lifetime_seconds
        self._runtime: LocalRuntime | None = None
        self._temp_dir: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._port: int | None = None
        self._data_dir: Path | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> LocalService:
        """Start the core and the HTTP server; returns once requests are being served.

        Raises
        ------
        ServiceStartError
            The port is taken, the data dir cannot be used, or the server did not come up.
        """
        if self._thread is not None:
            return self
        from .core import LocalRuntime

        if self._requested_dir is None:
            self._temp_dir = tempfile.mkdtemp(prefix="jupyter-qrt-local-")
            self._data_dir = Path(self._temp_dir)
        else:
            self._data_dir = self._requested_dir
        try:
            sockets = bind_sockets(self._requested_port, address=self._host)
        except OSError as exc:
            self._cleanup_temp_dir()
            raise ServiceStartError(
                f"Cannot listen on {self._host}:{self._requested_port} ({exc.strerror or exc}). "
                "Choose another port, or --port 0 for a free one."
            ) from exc
        kwargs: dict[str, Any] = {
            "workers": self._workers,
            "max_body_bytes": self._max_body_bytes,
            "pacing": self._pacing,
        }
        if self._worker_memory_mb is not None:
            kwargs["worker_memory_mb"] = self._worker_memory_mb
        if self._catalog is not None:
            kwargs["catalog"] = self._catalog
        try:
            runtime = LocalRuntime(self._data_dir, **kwargs)
            runtime.start()
        except BaseException:
            _close_sockets(sockets)
            self._cleanup_temp_dir()
            raise
        self._runtime = runtime
        self._port = int(sockets[0].getsockname()[1])
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve,
            args=(runtime, sockets, ready, failure),
            name=f"jupyter-qrt-local:{self._port}",
            daemon=True,
        )
        self._thread.start()
        if not ready.wait(_START_TIMEOUT_SECONDS) or failure:
            self.stop()
            cause = failure[0] if failure else None
            raise ServiceStartError(
                f"The HTTP server did not start: {cause or 'timed out'}."
            ) from cause
        logger.info("Local runtime service at %s (data dir %s)", self.url, self._data_dir)
        return self

    def _serve(
        self,
        runtime: LocalRuntime,
        sockets: list[socket.socket],
        ready: threading.Event,
        failure: list[BaseException],
    ) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            server: HTTPServer | None = None
            try:
                app = make_app(
                    runtime,
                    base_path=self._base_path,
                    max_body_bytes=self._max_body_bytes,
                    token_lifetime_seconds=self._token_lifetime,
                )
                # tornado's own limit answers a bare 400 and must never come before ours (413).
                server = HTTPServer(
                    app, max_body_size=max(self._max_body_bytes, 2**40), ssl_options=self._tls
                )
                server.add_sockets(sockets)
            except BaseException as exc:
                failure.append(exc)
                _close_sockets(sockets)
                ready.set()
                return
            ready.set()
            await self._stop_event.wait()
            server.stop()
            await server.close_all_connections()

        try:
            asyncio.run(main())
        except BaseException as exc:  # logged: a background thread has no caller to raise to
            logger.exception("The local runtime service's event loop failed")
            failure.append(exc)
            ready.set()

    def stop(self) -> None:
        """Stop the HTTP server and the core; idempotent."""
        thread, self._thread = self._thread, None
        if thread is not None:
            loop, event = self._loop, self._stop_event
            if loop is not None and event is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed in between
                    loop.call_soon_threadsafe(event.set)
            thread.join(_STOP_TIMEOUT_SECONDS)
            if thread.is_alive():
                logger.warning(
                    "The HTTP server thread did not stop within %ss", _STOP_TIMEOUT_SECONDS
                )
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.stop()
        self._loop = None
        self._stop_event = None
        self._cleanup_temp_dir()

    def _cleanup_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> LocalService:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ----------------------------------------------------------------------

    def _started_runtime(self) -> LocalRuntime:
        if self._runtime is None:
            raise RuntimeError("The service is not running: call start() or use it in a 'with'.")
        return self._runtime

    @property
    def runtime(self) -> LocalRuntime:
        """The core serving the requests."""
        return self._started_runtime()

    @property
    def data_dir(self) -> Path:
        """Where the service stores its data."""
        self._started_runtime()
        assert self._data_dir is not None
        return self._data_dir

    @property
    def port(self) -> int:
        """The port listened on (the one picked when ``port=0``)."""
        self._started_runtime()
        assert self._port is not None
        return self._port

    @property
    def url(self) -> str:
        """Root URL (no trailing ``/``): IAM, Global Search/Catalog and ``/api/v1`` are under it."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{url_host(self._host)}:{self.port}{self._base_path.rstrip('/')}"

    @property
    def api_url(self) -> str:
        """The runtime API base the clients are given (``.../experimental/api/v1``)."""
        return f"{self.url}/experimental/api/v1"

    @property
    def api_key(self) -> str:
        """The out-of-the-box API key (bound to :attr:`instance`)."""
        return self._started_runtime().default_key

    @property
    def instance(self) -> str:
        """CRN of the out-of-the-box instance."""
        return self._started_runtime().default_instance.crn

    def env(self) -> dict[str, str]:
        """Environment that points both clients at this service (see :func:`service_env`)."""
        return service_env(self.url, self.api_key, self.instance)

    def account(self, name: str = "local") -> Account:
        """A ``local``-channel account of jupyter-qrt's client for this service.

        ``RuntimeService(service.account())`` connects to it with no environment variables.
        """
        from jupyter_qrt.runtime.accounts import Account

        return Account(
            name=name, channel="local", token=self.api_key, instance=self.instance, url=self.url
        )

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._runtime is not None else "stopped"
        return f"LocalService({state})"


def _close_sockets(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()
