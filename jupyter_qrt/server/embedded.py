"""The embedded local runtime service: the ``local`` account, run with the Jupyter server.

:class:`EmbeddedLocal` starts :class:`jupyter_qrt.local.server.LocalService` on a free loopback
port in a background thread, so the Jupyter server starts serving at once; routes that need it
wait for it (:meth:`EmbeddedLocal.ready`) or report it as ``starting``. Its data dir is under
Jupyter's data dir by default, so jobs survive restarts. :meth:`EmbeddedLocal.stop` stops the
service and its worker processes; workers also end by themselves when the server process dies
(their socket to it closes), so none outlives a killed server.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_qrt.local.server import LocalService
    from jupyter_qrt.runtime.accounts import Account

__all__ = ["EmbeddedLocal", "LocalNotReady"]

log = logging.getLogger(__name__)


class LocalNotReady(RuntimeError):
    """The embedded service is off, still starting, or failed to start (the message says which)."""


class EmbeddedLocal:
    """The local runtime service started with the Jupyter server.

    Parameters
    ----------
    data_dir
        Where its jobs, keys and instances live.
    catalog
        Devices served (a name of ``jupyter_qrt.local.server.CATALOG_CHOICES``).
    workers
        Worker processes.
    pacing
        Pacing of the service's devices (see :class:`jupyter_qrt.local.workers.pacing.Pacing`).
    enabled
        ``False``: never started; the ``local`` account reports why.
    on_ready
        Called (on the starting thread) once the service runs, e.g. to give kernels its instance.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        catalog: str,
        workers: int,
        pacing: float | Mapping[str, float] = 0.0,
        enabled: bool = True,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.catalog = catalog
        self.workers = workers
        self.pacing = pacing
        self.enabled = enabled
        self._service: LocalService | None = None
        self._error: str | None = None
        self._started = threading.Event()
        self._task: asyncio.Future[None] | None = None
        self._lock = threading.Lock()
        self._on_ready = on_ready

    # -- lifecycle ------------------------------------------------------------------------------

    def start_in_background(self) -> None:
        """Start the service on a worker thread; returns at once."""
        if not self.enabled or self._task is not None:
            return
        self._task = asyncio.get_running_loop().run_in_executor(None, self._start)

    def _start(self) -> None:
        from jupyter_qrt.local.server import LocalService

        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            service = LocalService(
                self.data_dir, catalog=self.catalog, workers=self.workers, pacing=self.pacing
            )
            service.start()
        except Exception as exc:  # reported through status and the local account
            self._error = f"The embedded local service did not start: {exc}"
            log.error("%s", self._error)
        else:
            with self._lock:
                self._service = service
            log.info("jupyter-qrt: local runtime service at %s", service.url)
            if self._on_ready is not None:
                self._on_ready()
        finally:
            self._started.set()

    async def ready(self, timeout: float = 60.0) -> LocalService:
        """The running service, once it is up.

        Raises
        ------
        LocalNotReady
            It is disabled, failed to start, or did not start within ``timeout`` seconds.
        """
        if not self.enabled:
            raise LocalNotReady(
                "The embedded local service is off (c.QRTExtension.local_service = False)."
            )
        if self._task is None:
            self.start_in_background()
        if not self._started.is_set():
            try:
                await asyncio.wait_for(asyncio.shield(self._wait_started()), timeout)
            except TimeoutError:
                raise LocalNotReady(
                    "The embedded local service is still starting; try again in a moment."
                ) from None
        if self._service is None:
            raise LocalNotReady(self._error or "The embedded local service is not running.")
        return self._service

    async def _wait_started(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._started.wait)

    def stop(self) -> None:
        """Stop the service and its workers (waits for a start in progress first)."""
        if self._task is not None:
            self._started.wait(timeout=120)
        with self._lock:
            service, self._service = self._service, None
        if service is not None:
            service.stop()

    # -- what others read -----------------------------------------------------------------------

    @property
    def service(self) -> LocalService | None:
        """The running service, or None (off, starting, failed)."""
        return self._service

    def account(self) -> Account | None:
        """The ``local`` account (its key and URLs), once the service runs."""
        service = self._service
        return None if service is None else service.account("local")

    def health(self) -> dict[str, Any]:
        """``{"state": "off"|"starting"|"running"|"failed", ...}`` for the status route."""
        if not self.enabled:
            return {"state": "off"}
        service = self._service
        if service is not None:
            return {"state": "running", "url": service.url, "data_dir": str(self.data_dir)}
        if self._error is not None:
            return {"state": "failed", "message": self._error}
        return {"state": "starting"}
