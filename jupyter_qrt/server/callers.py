"""Who is calling, and what each caller may open; the base handler of every route.

Three callers reach the extension:

- a **user**: a request Jupyter authenticated (the browser's cookie with its XSRF token, or
  ``Authorization: token <server token>``). Users open every route their Jupyter permissions
  allow (resource ``qrt``).
- a **kernel**: ``Authorization: token <kernel token>`` (or ``bearer``), the random token the
  extension puts in the environment kernels inherit (``QRT_KERNEL_TOKEN``). It opens only the
  routes whose handler sets ``kernel_may_call``: the runtime proxy, the IAM route, the account
  list, the job watcher and the status; never adding, changing or deleting accounts.
- a **proxy bearer**: ``Authorization: Bearer <token>`` issued by the extension's IAM route in
  exchange for the kernel token (what the official client sends after its IAM call). It opens
  the runtime proxy only (``bearer_may_call``).

Kernel and bearer calls carry no cookie, so the XSRF check (which guards cookie-authenticated
requests against cross-site forgery) does not apply to them; every other non-GET request keeps
it. Tokens are compared in constant time.
"""

from __future__ import annotations

import enum
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

if TYPE_CHECKING:
    from .app import QRTExtension

__all__ = [
    "AUTH_RESOURCE",
    "NAMESPACE",
    "Caller",
    "QRTHandler",
    "callers",
]

log = logging.getLogger(__name__)

NAMESPACE = "jupyter-qrt"
"""The URL namespace of every route: ``<base_url>/jupyter-qrt/...`` (the TypeScript side has
the same constant; a test ties them)."""

AUTH_RESOURCE = "qrt"
"""The resource name Jupyter's authorizer is asked about for user calls."""


class Caller(enum.Enum):
    """Who made a request."""

    USER = "user"
    KERNEL = "kernel"
    BEARER = "bearer"


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def callers(*allowed: Caller, action: str = "read") -> Callable[[F], F]:
    """Open a handler method to these callers (a user always needs Jupyter's authorization).

    Every method of a :class:`QRTHandler` is wrapped with this: kernel and bearer calls are
    recognised here, since Jupyter's own authentication does not know their tokens.

    Parameters
    ----------
    allowed
        The callers the method opens to.
    action
        What a user call does, for Jupyter's authorizer: ``read``, ``write`` or ``execute``.
    """

    def decorate(method: F) -> F:
        @wraps(method)
        async def inner(self: QRTHandler, *args: Any, **kwargs: Any) -> Any:
            caller = self.caller
            if caller is None:
                raise web.HTTPError(
                    401,
                    "Not signed in to Jupyter: open this server in the browser, or send the "
                    "server token (Authorization: token ...).",
                )
            if caller not in allowed:
                raise web.HTTPError(403, f"A {caller.value} may not call this route.")
            if caller is Caller.USER:
                user = self.current_user
                authorizer = self.authorizer
                if authorizer is not None and not authorizer.is_authorized(
                    self, user, action, AUTH_RESOURCE
                ):
                    raise web.HTTPError(403, "Jupyter does not allow you to use jupyter-qrt.")
            return await method(self, *args, **kwargs)

        # Jupyter refuses callers it did not authenticate before the method runs; kernel and
        # bearer calls are checked by ``inner`` instead.
        return cast("F", allow_unauthenticated(inner))

    return decorate


class QRTHandler(ExtensionHandlerMixin, APIHandler):
    """The base of every route: caller recognition, JSON errors, no caching."""

    @property
    def qrt(self) -> QRTExtension:
        """The extension app (its vault, upstream, watcher, ...)."""
        return cast("QRTExtension", self.extensionapp)

    def _token_in_header(self) -> tuple[str, str] | None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if not value:
            return None
        return scheme.lower(), value

    @property
    def caller(self) -> Caller | None:
        """The caller of this request, or None when nobody recognisable is calling."""
        cached: Caller | bool | None = getattr(self, "_qrt_caller", False)
        if cached is not False:
            return cast("Caller | None", cached)
        found = self._find_caller()
        self._qrt_caller = found
        return found

    def _find_caller(self) -> Caller | None:
        presented = self._token_in_header()
        if presented is not None:
            scheme, value = presented
            if scheme in {"token", "bearer"} and hmac.compare_digest(
                value.encode(), self.qrt.kernel_token.encode()
            ):
                return Caller.KERNEL
            if scheme == "bearer" and self.qrt.bearers.verify(value):
                return Caller.BEARER
        if self.current_user is not None:
            return Caller.USER
        return None

    def check_xsrf_cookie(self) -> None:
        """Skip the XSRF check for kernel and bearer calls (no cookie: nothing to forge)."""
        if not hasattr(self, "_jupyter_current_user"):
            # tornado 6.6 checks before prepare(), when the user is not known yet; Jupyter's own
            # check returns then and runs again in prepare().
            return super().check_xsrf_cookie()
        presented = self._token_in_header()
        if presented is not None and self._find_caller() in {Caller.KERNEL, Caller.BEARER}:
            return
        super().check_xsrf_cookie()

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as ``{"message": ...}``: one readable line, never a traceback or a secret."""
        message = self._reason
        exc_info = kwargs.get("exc_info")
        if exc_info is not None:
            exc = exc_info[1]
            if isinstance(exc, web.HTTPError) and exc.log_message:
                message = exc.log_message % exc.args if exc.args else exc.log_message
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "status": status_code}))

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 saying what to send."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, "The body must be JSON.") from None
        if not isinstance(body, dict):
            raise web.HTTPError(400, "The body must be a JSON object.")
        return body
