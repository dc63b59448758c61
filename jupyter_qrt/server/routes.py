"""The route table of the extension: every path under ``<base_url>/jupyter-qrt/``.

``openapi.json`` next to this module describes the same table; a test checks they agree and
that every route refuses the callers it must.
"""

from __future__ import annotations

from typing import Any

from .accounts_routes import AccountHandler, AccountsHandler
from .callers import NAMESPACE
from .iam import IAMTokenHandler
from .proxy import RuntimeProxyHandler
from .status import StatusHandler
from .watcher_routes import JobEventsHandler, JobsHandler, JobTrackHandler

__all__ = ["ACCOUNT_NAME", "routes"]

ACCOUNT_NAME = r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}"
"""The shape of an account name in a URL (the vault refuses other names)."""


def routes() -> list[tuple[str, type[Any]]]:
    """``(pattern, handler)`` pairs, relative to the server's base URL."""
    ns = NAMESPACE
    return [
        (rf"/{ns}/status", StatusHandler),
        (rf"/{ns}/accounts", AccountsHandler),
        (rf"/{ns}/accounts/(?P<name>{ACCOUNT_NAME})", AccountHandler),
        (rf"/{ns}/runtime/(?P<account>{ACCOUNT_NAME})/(?P<path>.*)", RuntimeProxyHandler),
        (rf"/{ns}/iam/identity/token", IAMTokenHandler),
        (rf"/{ns}/jobs", JobsHandler),
        (rf"/{ns}/jobs/events", JobEventsHandler),
        (rf"/{ns}/jobs/track", JobTrackHandler),
    ]
