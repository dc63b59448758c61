"""The job watcher's routes: the watched jobs of an account, their changes, tracking a job.

- ``GET /jupyter-qrt/jobs?account=<name>[&limit=N]``: ``{"account", "version", "jobs",
  "error"}``, newest first; ``error`` is null or one readable line about the last poll.
- ``GET /jupyter-qrt/jobs/events?account=<name>[&since=<version>]``: **server-sent events**
  (``text/event-stream``). SSE works with Jupyter's handlers: tornado writes and flushes each
  event on the open response, and the browser's ``EventSource`` reconnects by itself (with
  ``Last-Event-ID``, read here like ``since``). A stream sends ``retry:``, then one ``jobs`` event
  per version change (``id:`` the version; ``data:`` ``{"account", "version", "jobs": [the
  changed jobs], "removed": [ids], "error", "reset"}``; without ``since``, or with a version
  this server cannot continue from, the first event has the whole list and ``"reset": true``),
  a ``: heartbeat`` comment after each quiet spell, and closes after a bounded time so clients
  reconnect (and a proxy in between never holds a stream forever).
- ``POST /jupyter-qrt/jobs/track`` ``{"account", "job_id"}``: fetch that job now and follow it
  until it is final (a job just submitted from a notebook appears at once).

All open to users and kernels, never to proxy bearers or anonymous callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import TYPE_CHECKING

from tornado import web
from tornado.iostream import StreamClosedError

from .callers import Caller, QRTHandler, callers

if TYPE_CHECKING:
    from .watcher import AccountWatch

__all__ = ["JobEventsHandler", "JobTrackHandler", "JobsHandler"]

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_MAX_LIMIT = 200
_FIRST_POLL_SECONDS = 10.0
_RETRY_MS = 2000


class _WatcherHandler(QRTHandler):
    def _account(self, name: str | None) -> str:
        """The account asked for, or a 400/404 that says what to send."""
        if not name:
            raise web.HTTPError(
                400, "Name the account: ?account=<name> (GET /jupyter-qrt/accounts lists them)."
            )
        names = self.qrt.vault.names()
        if name not in names:
            raise web.HTTPError(404, f"No account named {name!r}. Accounts: {', '.join(names)}.")
        return name

    def _integer(self, name: str, value: str | None, low: int, high: int) -> int | None:
        if value is None or value == "":
            return None
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise web.HTTPError(400, f"{name} must be a whole number from {low} to {high}.")
        return number


class JobsHandler(_WatcherHandler):
    """The jobs the watcher knows for an account."""

    @callers(Caller.USER, Caller.KERNEL)
    async def get(self) -> None:
        """``{"account", "version", "jobs", "error"}`` (see the module docstring)."""
        account = self._account(self.get_query_argument("account", None))
        limit = self._integer("limit", self.get_query_argument("limit", None), 1, _MAX_LIMIT)
        watch = self.qrt.watcher.touch(account)
        if not watch.polled.is_set():
            # A fresh poller: answer once its first poll is in, not an empty list.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.polled.wait(), _FIRST_POLL_SECONDS)
        self.finish(watch.snapshot(limit))


class JobTrackHandler(_WatcherHandler):
    """``POST {"account", "job_id"}``: follow a job now."""

    @callers(Caller.USER, Caller.KERNEL, action="write")
    async def post(self) -> None:
        """Answer 202 ``{"account", "job_id", "version"}``; the job comes as a change."""
        body = self.json_body()
        name = body.get("account")
        account = self._account(name if isinstance(name, str) else None)
        job_id = body.get("job_id")
        if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
            raise web.HTTPError(
                400, "Send the job's id as job_id: letters, digits, '_', '.', '-' (100 at most)."
            )
        watch = self.qrt.watcher.track(account, job_id)
        self.set_status(202)
        self.finish({"account": account, "job_id": job_id, "version": watch.version})


class JobEventsHandler(_WatcherHandler):
    """Changes to the watched jobs, as server-sent events."""

    _gone: asyncio.Event | None = None

    def on_connection_close(self) -> None:
        """The client left: end the stream (and the subscription) now."""
        if self._gone is not None:
            self._gone.set()
        super().on_connection_close()

    async def _send(self, text: str) -> bool:
        """Write and flush ``text``; False once the client has gone."""
        if self._gone is not None and self._gone.is_set():
            return False
        try:
            self.write(text)
            await self.flush()
        except StreamClosedError:
            return False
        return True

    async def _event(self, watch: AccountWatch, since: int | None) -> int | None:
        """Send what changed after ``since``; the version sent, or None once the client left."""
        change = watch.changes_since(since)
        version = int(change["version"])
        data = json.dumps(change, separators=(",", ":"))
        sent = await self._send(f"id: {version}\nevent: jobs\ndata: {data}\n\n")
        return version if sent else None

    @callers(Caller.USER, Caller.KERNEL)
    async def get(self) -> None:
        """Stream changes (see the module docstring)."""
        account = self._account(self.get_query_argument("account", None))
        since_text = self.get_query_argument("since", None) or self.request.headers.get(
            "Last-Event-ID"
        )
        since = self._integer("since", since_text, 0, 2**62)
        hub = self.qrt.watcher
        self._gone = asyncio.Event()
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("X-Accel-Buffering", "no")  # no buffering in a reverse proxy
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hub.stream_seconds
        async with hub.subscribe(account) as watch:
            if not await self._send(f"retry: {_RETRY_MS}\n\n"):
                return
            if not watch.polled.is_set():
                # A fresh poller: the first event carries its first poll, not an empty list.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watch.polled.wait(), _FIRST_POLL_SECONDS)
            if since is None or watch.needs_reset(since) or watch.version != since:
                since = await self._event(watch, since)
                if since is None:
                    return
            while (remaining := deadline - loop.time()) > 0:
                gone = asyncio.ensure_future(self._gone.wait())
                change = asyncio.ensure_future(
                    watch.wait_change(since, min(hub.heartbeat_seconds, remaining))
                )
                await asyncio.wait({gone, change}, return_when=asyncio.FIRST_COMPLETED)
                gone.cancel()
                if self._gone.is_set():
                    change.cancel()
                    return
                if change.result():
                    sent = await self._event(watch, since)
                    if sent is None:
                        return
                    since = sent
                elif loop.time() >= deadline:
                    break
                elif not await self._send(": heartbeat\n\n"):
                    return
        if not self._gone.is_set():
            # APIHandler.finish would label the stream JSON; the headers are out already.
            self.finish(set_content_type="text/event-stream; charset=utf-8")
