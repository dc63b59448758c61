"""What every handler of the local runtime service shares: bodies, errors, auth, the core.

* Error answers have the IBM Cloud shape
  ``{"errors": [{"code", "message", "more_info", "solution"}], "trace", "status_code"}``, plus an
  ``"error": {"code", "message"}`` member and an ``uber-trace-id`` header, which is what the
  official client's error parser reads to put the message into its exception.
* Bodies are streamed: a body over the size limit is refused with 413 as soon as its
  ``Content-Length`` is seen (or once the streamed bytes pass the limit), never held in memory.
  Handlers open to anyone (``auth = "none"``) take small bodies only (:attr:`body_limit`).
* Bodies are decoded and answers encoded in a worker thread (a job's params can be tens of MB):
  ``await self.call(self.json_body)``, :meth:`ServiceHandler.call_json` and
  :meth:`ServiceHandler.call_text` (down to the UTF-8 bytes, which tornado then sends as they
  are). No ``ETag`` is computed: tornado would hash every GET body on the event loop, for
  answers that are live state and sent ``Cache-Control: no-store`` anyway.
* Runtime calls carry ``Authorization: Bearer <token>`` and ``Service-CRN``; the bearer must be
  one of this service's tokens, unexpired, of a key that still exists, and the CRN the key's
  instance (another instance: 403, an unknown one: 404).
* The core is called in a worker thread: its calls are quick SQLite operations, but the event loop
  serves every other request in the meantime.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tornado import web

from jupyter_qrt.local.identity.iam import BearerRejected, TokenClaims, TokenSigner
from jupyter_qrt.local.service_error import BODY_TOO_LARGE, ServiceError
from jupyter_qrt.runtime.redact import mask_secret

from .errors import APIFailure, error_body, reason_phrase

if TYPE_CHECKING:
    from jupyter_qrt.local.core import LocalRuntime

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PUBLIC_BODY_LIMIT",
    "ServiceContext",
    "ServiceHandler",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 50_000_000
"""Largest request body accepted (bytes); larger ones get 413."""

PUBLIC_BODY_LIMIT = 64 * 1024
"""Largest body a handler open to anyone (``auth = "none"``) reads: a form or nothing."""


_T = TypeVar("_T")


@dataclass(frozen=True)
class ServiceContext:
    """What the handlers of one local service share.

    Attributes
    ----------
    runtime
        The core: storage, queue, instances and keys.
    signer
        Issues and checks bearer tokens.
    max_body_bytes
        Largest request body accepted.
    encoded
        UTF-8 JSON of documents that never change (backend configurations and properties),
        by ``(kind, backend name)``, with the document it was made from.
    """

    runtime: LocalRuntime
    signer: TokenSigner
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    encoded: dict[tuple[str, str], tuple[object, bytes]] = field(
        default_factory=dict, compare=False, repr=False
    )


@web.stream_request_body
class ServiceHandler(web.RequestHandler):
    """Base of every handler of the local service.

    Subclasses set ``auth`` to ``"instance"`` (bearer and ``Service-CRN``), ``"bearer"`` (bearer
    only) or ``"none"``, and read the checked caller from :attr:`claims` and :attr:`crn`. A
    handler that takes small bodies only sets :attr:`body_limit` (every ``"none"`` one does: its
    body is read before anyone is checked).
    """

    auth = "instance"
    body_limit: int | None = None
    """Largest body this handler reads, below the service's limit; ``None``: the service's."""

    context: ServiceContext
    claims: TokenClaims | None
    crn: str

    def initialize(self, context: ServiceContext) -> None:
        """Receive the shared context (tornado passes the route's keyword arguments here)."""
        self.context = context
        self.claims = None
        self.crn = ""
        self._chunks: list[bytes] = []
        self._received = 0
        self._too_large = False

    @property
    def runtime(self) -> LocalRuntime:
        """The core of the service."""
        return self.context.runtime

    def set_default_headers(self) -> None:
        """JSON, never cached: the answers are live state."""
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")

    def check_xsrf_cookie(self) -> None:
        """No cookies are used (bearer tokens only), so there is nothing to forge."""

    def compute_etag(self) -> str | None:
        """No ``ETag`` (so no ``304`` either): answers are live state, never cached.

        tornado's default hashes the whole body on the event loop, tens of MB for a result.
        """
        return None

    # -- bodies ---------------------------------------------------------------------------------

    def _max_body_bytes(self) -> int:
        own = type(self).body_limit
        limit = self.context.max_body_bytes
        return limit if own is None else min(limit, own)

    async def prepare(self) -> None:
        """Refuse an oversized body before reading it, then check the caller."""
        declared = self.request.headers.get("Content-Length")
        if (
            declared is not None
            and declared.strip().isdigit()
            and int(declared) > self._max_body_bytes()
        ):
            self._too_large = True
            self._refuse_large_body()
        if self.auth != "none":
            await self._authenticate()

    def data_received(self, chunk: bytes) -> None:
        """Collect the streamed body, dropping it once past the limit."""
        if self._too_large:
            return
        self._received += len(chunk)
        if self._received > self._max_body_bytes():
            self._too_large = True
            self._chunks.clear()
            return
        self._chunks.append(chunk)

    def _refuse_large_body(self) -> None:
        # tornado closes the connection after this answer: the rest of the body is never read.
        limit = self._max_body_bytes()
        if limit < self.context.max_body_bytes:
            message = (
                f"The request body is larger than {self.request.path} accepts ({limit} bytes)."
            )
        else:
            message = (
                f"The request body is larger than this service accepts ({limit} bytes). Send "
                "fewer or smaller circuits per job."
            )
        raise APIFailure(413, message, BODY_TOO_LARGE)

    def body_bytes(self) -> bytes:
        """The request body; 413 when it went past the limit."""
        if self._too_large:
            self._refuse_large_body()
        return b"".join(self._chunks)

    def json_body(self, *, allow_empty: bool = False) -> dict[str, Any]:
        """The request body as a JSON object; 400 with the parser's words when it is not one.

        Decoding a large body takes a while: call it in a worker thread,
        ``await self.call(self.json_body)``. An empty body is a 400, or ``{}`` with
        ``allow_empty``.
        """
        raw = self.body_bytes()
        if not raw.strip():
            if allow_empty:
                return {}
            raise APIFailure(400, "The request body is empty; send a JSON object.")
        try:
            value = json.loads(raw)
        except UnicodeDecodeError as exc:
            raise APIFailure(400, "The request body is not UTF-8 text; send JSON.") from exc
        except json.JSONDecodeError as exc:
            raise APIFailure(
                400,
                f"The request body is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}). Send a JSON object.",
            ) from exc
        except ValueError as exc:  # Python refuses integers of more than 4300 digits
            raise APIFailure(
                400,
                "The request body holds a number too long to read (thousands of digits). Send "
                "numbers of a sane size.",
            ) from exc
        except RecursionError as exc:
            raise APIFailure(400, "The request body nests too deeply to be read.") from exc
        if not isinstance(value, dict):
            raise APIFailure(
                400, f"The request body must be a JSON object, not {type(value).__name__}."
            )
        return value

    # -- answers --------------------------------------------------------------------------------

    def write_json(self, value: Any, status: int = 200) -> None:
        """Answer ``value`` as JSON (encoded on the event loop: for small values only).

        Anything that may be large goes through :meth:`call_json` or :meth:`call_text`.
        """
        # Content-Type is the default of every answer (set_default_headers).
        self.set_status(status)
        self.finish(json.dumps(value))

    async def call_json(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Answer what ``function(*args, **kwargs)`` returns, called and encoded in a thread.

        Errors are those of :meth:`call`.
        """

        def encoded() -> bytes:
            return json.dumps(function(*args, **kwargs)).encode("utf-8")

        self.finish(await self.call(encoded))

    async def call_text(
        self, function: Callable[..., str | bytes], *args: Any, **kwargs: Any
    ) -> None:
        """Answer the text ``function(*args, **kwargs)`` returns, called and encoded in a thread.

        Bytes are sent as they are. Errors are those of :meth:`call`.
        """

        def encoded() -> bytes:
            text = function(*args, **kwargs)
            # tornado would encode a str in finish(), on the event loop.
            return text if isinstance(text, bytes) else text.encode("utf-8")

        self.finish(await self.call(encoded))

    def no_content(self) -> None:
        """Answer 204 with an empty body (what the clients expect exactly)."""
        self.set_status(204)
        self.clear_header("Content-Type")
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error answer, in the IBM shape."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        trace = uuid.uuid4().hex
        if isinstance(exc, APIFailure):
            body = error_body(status_code, exc.message, exc.code, exc.solution, trace)
        elif isinstance(exc, web.HTTPError) and status_code == 405:
            body = error_body(
                405,
                f"{self.request.method} is not allowed on {self.request.path}; see the "
                "service's OpenAPI description (/openapi.json) for what is served.",
                trace=trace,
            )
        elif isinstance(exc, web.HTTPError) and status_code < 500:
            body = error_body(status_code, exc.reason or reason_phrase(status_code), trace=trace)
        else:
            body = error_body(
                status_code,
                "The local runtime service failed to answer this request. Try again; if it "
                "keeps failing, restart the service and report the trace id.",
                trace=trace,
            )
        if status_code >= 500:
            # The message asks users to report the trace: it must lead to the traceback, which
            # tornado has logged just before (without the trace).
            logger.error("trace %s: %s", trace, self._request_summary())
        # Content-Type: send_error cleared the headers, which set the defaults again.
        self.set_header("uber-trace-id", trace)
        if status_code == 413:
            self.set_header("Connection", "close")
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        self.finish(json.dumps(body))

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The HTTP methods this handler serves (for ``Allow``)."""
        return [
            method
            for method in cls.SUPPORTED_METHODS
            if getattr(cls, method.lower()) is not getattr(web.RequestHandler, method.lower())
        ]

    # -- the core -------------------------------------------------------------------------------

    async def call(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run a core call in a worker thread; its ``ServiceError`` becomes an error answer."""
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except ServiceError as exc:
            raise APIFailure(exc.status, exc.message, exc.code, exc.solution) from exc

    # -- auth -----------------------------------------------------------------------------------

    async def _authenticate(self) -> None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise APIFailure(
                401,
                "This call needs 'Authorization: Bearer <token>'. Exchange your API key for a "
                "token at POST /identity/token (clients do this when given the key).",
            )
        try:
            claims = self.context.signer.verify(token.strip())
        except BearerRejected as exc:
            logger.debug("Bearer %s refused: %s", mask_secret(token.strip()), exc)
            raise APIFailure(401, str(exc)) from exc
        self.claims = claims
        crn = self.request.headers.get("Service-CRN", "").strip()
        if self.auth == "instance" and not crn:
            raise APIFailure(
                400,
                "This call needs a 'Service-CRN' header naming your instance "
                f"(your key's instance is {claims.instance_crn}).",
            )
        await self.call(self._check_caller, claims, crn if self.auth == "instance" else "")
        self.crn = crn

    def _check_caller(self, claims: TokenClaims, crn: str) -> None:
        """Runs in a worker thread: the key still exists, and the CRN is its instance."""
        if not self.runtime.key_exists(claims.key_id):
            raise APIFailure(
                401,
                "The API key this token was issued for has been revoked. Ask for a new key "
                "(jupyter-qrt keys create) and log in again.",
            )
        if not crn or crn == claims.instance_crn:
            return
        # Raises the core's 404 for a CRN that names no instance of this service.
        self.runtime.instance(crn)
        raise APIFailure(
            403,
            f"Your API key is not allowed to use the instance {crn}; it is bound to "
            f"{claims.instance_crn}. Use that instance, or a key of this one.",
        )


class NotFoundHandler(ServiceHandler):
    """Every path the service does not serve: 404 in the IBM shape, whatever the method."""

    auth = "none"
    body_limit = PUBLIC_BODY_LIMIT

    def _not_found(self) -> None:
        raise APIFailure(
            404,
            f"Nothing is served at {self.request.path}. The runtime API is under /api/v1 (or any "
            "prefix ending in /api/v1); see /openapi.json.",
        )

    def get(self, *args: str, **kwargs: str) -> None:
        """404."""
        self._not_found()

    post = put = patch = delete = head = options = get
