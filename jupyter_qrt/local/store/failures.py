"""How the store fails: a locked, full or failing database is a 503 that changed nothing.

:meth:`.store.Store.transaction` rolls back whatever fails, COMMIT included (a COMMIT that fails
with SQLITE_BUSY, FULL or IOERR leaves the transaction open, and every later BEGIN would fail),
then turns SQLite's error into :class:`StoreUnavailableError` when retrying later can help.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from jupyter_qrt.local.service_error import ServiceError

__all__ = ["StoreUnavailableError", "raise_if_unavailable", "roll_back"]

log = logging.getLogger(__name__)


class StoreUnavailableError(ServiceError):
    """A 503: the database is locked, full or cannot be written; nothing was changed."""


def roll_back(conn: sqlite3.Connection, path: Path) -> None:
    """Roll back the open transaction, if any (SQLite ends some on FULL or IOERR by itself)."""
    if not conn.in_transaction:
        return
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        # Left open, the next transaction tries again (see Store.transaction).
        log.exception("Could not roll back a failed transaction on %s", path)


def raise_if_unavailable(exc: sqlite3.OperationalError, path: Path) -> None:
    """Raise the 503 for a locked, full or failing database; return for any other error."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        message = (
            "The service's database is busy: another program holds a lock on it. Nothing was "
            "changed; try again in a few seconds."
        )
    elif name == "SQLITE_FULL":
        message = (
            "The service's database is full: the disk of its data dir has no room left. Nothing "
            "was changed; free some disk space and try again."
        )
    elif name.startswith(("SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")):
        message = (
            "The service cannot write its database (a disk error). Nothing was changed; check "
            "the disk of its data dir and try again."
        )
    else:
        return
    # The path and SQLite's words go to the log only: the answer goes to API clients.
    log.error("Database %s unavailable (%s): %s", path, name, exc)
    raise StoreUnavailableError(503, message) from exc
