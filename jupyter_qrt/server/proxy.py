"""The runtime proxy: ``/jupyter-qrt/runtime/<account>/...`` to that account's upstream.

Only runtime API paths (``[experimental/]api/v1/...``), Global Search (``globalsearch/...``) and
Global Catalog (``globalcatalog/...``) are forwarded, only to allowed hosts, with the bearer and
``Service-CRN`` added here; the caller's own ``Authorization`` (kernel token, proxy bearer or
Jupyter token) and cookies are never forwarded.

The path is judged on the raw request path, before any percent-decoding (:func:`split_path`).
Request bodies of ``POST`` (job bodies can be tens of MB) stream to the upstream as they arrive;
responses stream back. Everything is async: a slow upstream holds only its own calls.

Answers of the proxy itself (never the upstream's): 400 a path that tries to leave the API, 403
an upstream host not allowed, 404 not an API path or no such account, 401 the account's key
refused upstream, 502 the upstream unreachable; each with one line naming the account.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from jupyter_server.utils import url_path_join
from tornado import httputil, web
from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse

from .callers import AUTH_RESOURCE, NAMESPACE, Caller, QRTHandler, callers
from .embedded import LocalNotReady
from .upstream import (
    UpstreamAuthRefused,
    UpstreamRefused,
    UpstreamTarget,
    UpstreamUnreachable,
    host_of,
)
from .vault import LOCAL, AccountUnknown

__all__ = ["PathRefused", "RuntimeProxyHandler", "split_path"]

log = logging.getLogger(__name__)

FORWARDED_REQUEST_HEADERS = (
    "Content-Type",
    "Accept",
    "IBM-API-Version",
    "User-Agent",
    "X-Qx-Client-Application",
    "Content-Length",
)
"""The caller's headers that reach the upstream (never Authorization, Cookie, ...)."""
RETURNED_HEADERS = ("Content-Type", "IBM-API-Version", "Retry-After")
"""The upstream's headers that reach the caller (never Set-Cookie, ...)."""
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
"""Methods retried once with a fresh bearer after an upstream 401."""

_REQUEST_TIMEOUT_S = 600.0  # results of big jobs take a while; a hung upstream still ends
_CONNECT_TIMEOUT_S = 10.0
_STREAM_QUEUE = 8  # chunks buffered between the caller and the upstream (back-pressure)
_ENCODED_FORBIDDEN = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~:@+-]|%[0-9A-Fa-f]{2})+$")
"""What a segment may hold: unreserved characters, ':', '@', '+' and well-formed escapes."""
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_NOT_API = (
    "{path!r} is not a runtime API path: the proxy forwards api/v1/..., experimental/api/v1/..., "
    "globalsearch/... and globalcatalog/... only."
)


class PathRefused(Exception):
    """A path the proxy will not forward: ``status`` (400 or 404) and one line why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def split_path(raw: str) -> tuple[str, str]:
    """Which upstream a raw (still percent-encoded) path goes to, and the rest of it.

    Returns
    -------
    tuple
        ``("runtime" | "search" | "catalog", rest)``; ``rest`` has no leading ``/``.

    Raises
    ------
    PathRefused
        400 for a path that could leave the API (dot segments, empty segments, encoded ``/``,
        ``\\`` or ``.``, backslashes, absolute URLs, control characters); 404 otherwise.
    """
    shown = raw[:200]
    decoded = unquote(raw)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw + decoded):
        raise PathRefused(400, "The path holds control characters (CR, LF, ...): refused.")
    if "\\" in raw or _ENCODED_FORBIDDEN.search(raw):
        raise PathRefused(
            400, f"The path {shown!r} holds a backslash or an encoded '/', '\\' or '.': refused."
        )
    if _SCHEME.match(raw) or "://" in decoded:
        raise PathRefused(400, f"The path {shown!r} is an absolute URL: refused.")
    segments = raw.split("/")
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is harmless
    if not segments or any(not seg.strip(".") for seg in segments):
        raise PathRefused(400, f"The path {shown!r} has empty, '.' or '..' segments: refused.")
    if not all(_SEGMENT.match(seg) for seg in segments):
        raise PathRefused(
            400,
            f"The path {shown!r} holds characters no runtime API path has (such as ';'): refused.",
        )
    if segments[0] == "experimental":
        segments = segments[1:]
        if segments[:2] != ["api", "v1"]:
            raise PathRefused(404, _NOT_API.format(path=shown))
    if segments[:2] == ["api", "v1"] and len(segments) > 2:
        return "runtime", "/".join(segments[2:]) + ("/" if raw.endswith("/") else "")
    if segments[0] in ("globalsearch", "globalcatalog") and len(segments) > 1:
        kind = "search" if segments[0] == "globalsearch" else "catalog"
        return kind, "/".join(segments[1:]) + ("/" if raw.endswith("/") else "")
    raise PathRefused(404, _NOT_API.format(path=shown))


def _refused_key(account: str) -> str:
    return (
        f"The API key of account '{account}' was refused by IBM Quantum: it may have been "
        "revoked. Update it in the Quantum sidebar or %qrt_login."
    )


@web.stream_request_body
class RuntimeProxyHandler(QRTHandler):
    """Forwards one call (see the module docstring)."""

    _ACTIONS = {"GET": "read"}

    # -- admission, before any body is read ------------------------------------------------------

    async def prepare(self) -> None:  # type: ignore[override]
        self._chunks: list[bytes] = []
        self._queue: asyncio.Queue[bytes | None] | None = None
        self._pending: asyncio.Future[HTTPResponse | None] | None = None
        self._streamed = False
        self._held_status = 0
        self._upstream_url = ""
        await super().prepare()
        if self._finished:
            return
        self._admit()
        account = str(self.path_kwargs["account"])
        self._target_kind, self._rest = self._judge_path(account)
        self._account = account
        self._target = await self._find_target(account)
        self._upstream_url = self._url(self._target)
        if self.request.method == "POST":
            # Stream the body: the upstream call starts now and reads chunks as they arrive.
            self._queue = asyncio.Queue(maxsize=_STREAM_QUEUE)
            self._pending = asyncio.ensure_future(
                self._call(self._target, body_producer=self._produce)
            )

    def _admit(self) -> None:
        """The caller checks of :func:`callers`, done before the body is read or streamed."""
        caller = self.caller
        if caller is None:
            raise web.HTTPError(
                401,
                "Not signed in to Jupyter: send the server token, the kernel token or a bearer "
                "of the jupyter-qrt IAM route.",
            )
        if caller is Caller.USER and self.authorizer is not None:
            action = self._ACTIONS.get(self.request.method or "", "write")
            if not self.authorizer.is_authorized(self, self.current_user, action, AUTH_RESOURCE):
                raise web.HTTPError(403, "Jupyter does not allow you to use jupyter-qrt.")

    def _judge_path(self, account: str) -> tuple[str, str]:
        # The raw path as received: tornado's path arguments are already percent-decoded.
        prefix = url_path_join(self.base_url, NAMESPACE, "runtime", account) + "/"
        raw = self.request.path
        if not raw.startswith(prefix):
            raise web.HTTPError(400, "The proxy path is malformed.")
        try:
            return split_path(raw[len(prefix) :])
        except PathRefused as exc:
            raise web.HTTPError(exc.status, "%s", str(exc)) from None

    async def _find_target(self, account: str) -> UpstreamTarget:
        qrt = self.qrt
        try:
            if account == LOCAL and qrt.embedded.enabled:
                await qrt.embedded.ready()
            return await qrt.upstream.target(account)
        except LocalNotReady as exc:
            raise web.HTTPError(503, "%s", str(exc)) from None
        except AccountUnknown as exc:
            raise web.HTTPError(404, "%s", str(exc)) from None
        except UpstreamRefused as exc:
            raise web.HTTPError(403, "%s", str(exc)) from None
        except UpstreamAuthRefused:
            raise web.HTTPError(401, "%s", _refused_key(account)) from None
        except UpstreamUnreachable as exc:
            raise web.HTTPError(502, "%s", f"{exc} The server keeps running.") from None

    def _url(self, target: UpstreamTarget) -> str:
        base = {
            "runtime": target.runtime_url,
            "search": target.search_url,
            "catalog": target.catalog_url,
        }[self._target_kind]
        url = f"{base}/{self._rest}"
        if self.request.query:
            url += "?" + self.request.query
        # The rest of the path cannot change the host (split_path), but check the final URL too.
        self.qrt.upstream.check_url(self._account, url)
        return url

    # -- the request body -----------------------------------------------------------------------

    async def data_received(self, chunk: bytes) -> None:
        if self._queue is None:
            self._chunks.append(chunk)
        elif self._pending is not None and not self._pending.done():
            await self._queue.put(chunk)

    async def _produce(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        assert self._queue is not None
        while (chunk := await self._queue.get()) is not None:
            await write(chunk)

    # -- the call -------------------------------------------------------------------------------

    def _request(self, target: UpstreamTarget, **body: Any) -> HTTPRequest:
        headers = httputil.HTTPHeaders()
        for name in FORWARDED_REQUEST_HEADERS:
            value = self.request.headers.get(name)
            if value is not None:
                headers[name] = value
        caller_crn = self.request.headers.get("Service-CRN")
        if caller_crn and not target.has_instance and self._target_kind == "runtime":
            headers["Service-CRN"] = caller_crn  # the account leaves the instance to the caller
        if self._target_kind != "runtime":
            headers.pop("Service-CRN", None)
        headers.update(
            {k: v for k, v in target.headers.items() if k != "Service-CRN"}
            if self._target_kind != "runtime"
            else target.headers
        )
        method = self.request.method or "GET"
        if "body_producer" not in body and method in ("POST", "PUT", "PATCH"):
            body["body"] = b"".join(self._chunks)
        if "body_producer" not in body:
            # tornado sets it for a buffered body; a bodiless call must not promise one.
            headers.pop("Content-Length", None)
        return HTTPRequest(
            self._upstream_url,
            method=method,
            headers=headers,
            follow_redirects=False,
            decompress_response=True,
            request_timeout=_REQUEST_TIMEOUT_S,
            connect_timeout=_CONNECT_TIMEOUT_S,
            header_callback=self._on_header,
            streaming_callback=self._on_chunk,
            allow_nonstandard_methods=True,
            **body,
        )

    async def _call(self, target: UpstreamTarget, **body: Any) -> HTTPResponse | None:
        self._header_lines: list[str] = []
        self._held_status = 0
        try:
            return await self.qrt.upstream.client.fetch(
                self._request(target, **body), raise_error=False
            )
        except (TimeoutError, OSError, HTTPClientError) as exc:
            log.info("jupyter-qrt proxy: %s failed: %s", self._upstream_url, exc)
            return None

    def _on_header(self, line: str) -> None:
        if line.strip():
            self._header_lines.append(line)
            return
        # The end of the headers: the status and what the caller may see of them.
        if not self._header_lines:
            return
        try:
            first = httputil.parse_response_start_line(self._header_lines[0].strip())
        except httputil.HTTPInputError:
            return
        if first.code in (100, 101):
            self._header_lines = []
            return
        if first.code == 401:
            self._held_status = 401  # decided after the call: a retry, or our own message
            return
        headers = httputil.HTTPHeaders.parse("".join(self._header_lines[1:]))
        self.clear_header("Content-Type")
        self.set_status(first.code, first.reason)
        for name in RETURNED_HEADERS:
            value = headers.get(name)
            if value is not None:
                self.set_header(name, value)
        self._streamed = True

    def _on_chunk(self, chunk: bytes) -> None:
        if self._streamed and not self._finished:
            self.write(chunk)
            self.flush()

    async def _forward(self) -> None:
        target = self._target
        if self._pending is not None:
            assert self._queue is not None
            await self._queue.put(None)
            response = await self._pending
        else:
            response = await self._call(target)
            if self._held_status == 401 and self.request.method in IDEMPOTENT:
                self.qrt.upstream.invalidate(self._account)
                target = await self._find_target(self._account)
                response = await self._call(target)
        if self._held_status == 401:
            self.qrt.upstream.invalidate(self._account)
            raise web.HTTPError(401, "%s", _refused_key(self._account))
        if response is None or (response.code == 599 and not self._streamed):
            host, port = host_of(self._upstream_url)
            raise web.HTTPError(
                502,
                "%s",
                f"Account {self._account!r}: could not reach {host}:{port} (the upstream is down "
                "or too slow). Try again later; the server keeps running.",
            )
        self.finish()

    @callers(Caller.USER, Caller.KERNEL, Caller.BEARER, action="read")
    async def get(self, account: str, path: str) -> None:
        """Forward a ``GET``."""
        await self._forward()

    @callers(Caller.USER, Caller.KERNEL, Caller.BEARER, action="write")
    async def post(self, account: str, path: str) -> None:
        """Forward a ``POST`` (its body streamed)."""
        await self._forward()

    @callers(Caller.USER, Caller.KERNEL, Caller.BEARER, action="write")
    async def put(self, account: str, path: str) -> None:
        """Forward a ``PUT``."""
        await self._forward()

    @callers(Caller.USER, Caller.KERNEL, Caller.BEARER, action="write")
    async def patch(self, account: str, path: str) -> None:
        """Forward a ``PATCH``."""
        await self._forward()

    @callers(Caller.USER, Caller.KERNEL, Caller.BEARER, action="write")
    async def delete(self, account: str, path: str) -> None:
        """Forward a ``DELETE``."""
        await self._forward()

    def on_connection_close(self) -> None:
        # The caller went away mid-body: end the upstream call instead of waiting for chunks.
        pending = getattr(self, "_pending", None)  # None: closed before prepare() ran
        if pending is not None and not pending.done():
            pending.cancel()
        super().on_connection_close()
