"""Timestamps as the IBM service writes them: UTC ISO 8601 with microseconds and a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_z", "iso_z_or_none", "parse_instant"]


def iso_z(epoch_seconds: float) -> str:
    """``2026-11-22T03:49:20.976041Z`` for a POSIX time."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_z_or_none(epoch_seconds: float | None) -> str | None:
    """:func:`iso_z`, passing None through."""
    return None if epoch_seconds is None else iso_z(epoch_seconds)


def parse_instant(value: str | datetime) -> float:
    """A POSIX time from an ISO 8601 string or a datetime (naive means UTC, as IBM reads it).

    Raises
    ------
    ValueError
        The text is not an ISO 8601 date or date-time.
    """
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
