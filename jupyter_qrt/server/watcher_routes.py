"""``GET /jupyter-qrt/jobs`` (the watched jobs of an account) and ``jobs/events`` (changes)."""

from __future__ import annotations

from .callers import QRTHandler

__all__ = ["JobEventsHandler", "JobsHandler"]


class JobsHandler(QRTHandler):
    """The jobs the watcher knows for an account."""


class JobEventsHandler(QRTHandler):
    """Changes to the watched jobs, as server-sent events."""
