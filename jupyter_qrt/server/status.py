"""``GET /jupyter-qrt/status``: version, mode, default account, the local service's health, and
the job watcher's state (``watcher``: its interval, the accounts it polls with their
subscribers, current interval and last error, and the last error of any)."""

from __future__ import annotations

from .callers import Caller, QRTHandler, callers

__all__ = ["StatusHandler"]


class StatusHandler(QRTHandler):
    """What the sidebar and the kernel read first."""

    @callers(Caller.USER, Caller.KERNEL)
    async def get(self) -> None:
        """The status (never a key)."""
        self.finish(self.qrt.status())
