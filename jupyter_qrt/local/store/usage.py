"""The usage-limit rule of instances, read by the queue, the identity registry and the views.

An instance with a usage limit has reached it once its consumed quantum seconds are at least the
limit. Jobs of such an instance are held in the queue, and new ones are refused.
"""

from __future__ import annotations

import sqlite3

__all__ = ["CLAIMABLE", "limit_reached"]

CLAIMABLE = "(i.usage_limit_seconds IS NULL OR i.usage_consumed_seconds < i.usage_limit_seconds)"
"""SQL condition on the instance ``i``: it has no usage limit, or has not reached it (so its
Queued jobs may run). :func:`limit_reached` applies the same condition to one instance."""


def limit_reached(conn: sqlite3.Connection, crn: str) -> tuple[str, float] | None:
    """``(name, limit)`` of the instance when it has used up its usage limit, else None.

    The one place the usage-limit rule is read for an instance (the queue's SQL applies the same
    condition): an instance with a limit has reached it once its consumed usage is at least the
    limit. An unknown instance has reached nothing (None). Jobs of an instance that has reached
    its limit are held in the queue, and new ones are refused.
    """
    row = conn.execute(
        "SELECT i.name, i.usage_limit_seconds FROM instances i "
        f"WHERE i.crn = ? AND NOT {CLAIMABLE}",
        (crn,),
    ).fetchone()
    if row is None:
        return None
    return str(row["name"]), float(row["usage_limit_seconds"])
