"""The tornado application of the local runtime service.

:func:`make_app` builds a standalone :class:`tornado.web.Application`; :func:`service_routes`
gives the same routes under a base path, for mounting into another tornado application (the
Jupyter server extension mounts them under its own prefix). Served, relative to the base path:

* ``identity/token`` (IAM), ``globalsearch/v3/resources/search``, ``globalcatalog/{id}``,
  ``openapi.json``;
* the runtime API under ``api/v1/`` and under any prefix ending in ``/api/v1/`` (the official
  client keeps a URL containing ``experimental`` verbatim, so ``experimental/api/v1/...`` arrives);
* anything else under the base path: 404 in the IBM error shape.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tornado import web
from tornado.routing import URLSpec

from jupyter_qrt.local.identity.iam import TOKEN_LIFETIME_SECONDS, TokenSigner

from . import runtime_routes as rt
from .base import DEFAULT_MAX_BODY_BYTES, NotFoundHandler, ServiceContext
from .cloud_routes import (
    CatalogEntryHandler,
    GlobalSearchHandler,
    IdentityTokenHandler,
    OpenAPIHandler,
)

if TYPE_CHECKING:
    from jupyter_qrt.local.core import LocalRuntime

__all__ = [
    "API_PREFIX_PATTERN",
    "make_app",
    "make_context",
    "normalize_base_path",
    "service_routes",
]

logger = logging.getLogger(__name__)

API_PREFIX_PATTERN = r"(?:.*/)?api/v1/"
"""What may stand between the base path and a runtime path: ``api/v1/`` after any prefix."""

_SEGMENT = r"[^/]+"

# (path relative to the API prefix, handler); path parameters are named groups.
_RUNTIME_ROUTES: list[tuple[str, type[web.RequestHandler]]] = [
    ("backends", rt.BackendsHandler),
    (rf"backends/(?P<name>{_SEGMENT})/configuration", rt.BackendConfigurationHandler),
    (rf"backends/(?P<name>{_SEGMENT})/properties", rt.BackendPropertiesHandler),
    (rf"backends/(?P<name>{_SEGMENT})/status", rt.BackendStatusHandler),
    ("instances/usage", rt.UsageHandler),
    ("jobs", rt.JobsHandler),
    (rf"jobs/(?P<job_id>{_SEGMENT})", rt.JobHandler),
    (rf"jobs/(?P<job_id>{_SEGMENT})/results", rt.JobResultsHandler),
    (rf"jobs/(?P<job_id>{_SEGMENT})/cancel", rt.JobCancelHandler),
    (rf"jobs/(?P<job_id>{_SEGMENT})/metrics", rt.JobMetricsHandler),
    (rf"jobs/(?P<job_id>{_SEGMENT})/logs", rt.JobLogsHandler),
    (rf"jobs/(?P<job_id>{_SEGMENT})/tags", rt.JobTagsHandler),
    ("sessions", rt.SessionsHandler),
    (rf"sessions/(?P<session_id>{_SEGMENT})", rt.SessionHandler),
    (rf"sessions/(?P<session_id>{_SEGMENT})/close", rt.SessionCloseHandler),
]

_CLOUD_ROUTES: list[tuple[str, type[web.RequestHandler]]] = [
    ("identity/token", IdentityTokenHandler),
    ("globalsearch/v3/resources/search", GlobalSearchHandler),
    (rf"globalcatalog/(?P<catalog_id>{_SEGMENT})", CatalogEntryHandler),
    (r"openapi\.json", OpenAPIHandler),
]


def normalize_base_path(base_path: str) -> str:
    """``base_path`` with exactly one ``/`` at each end (``""`` and ``"/"`` give ``"/"``)."""
    stripped = base_path.strip("/")
    return f"/{stripped}/" if stripped else "/"


def make_context(
    runtime: LocalRuntime,
    *,
    signer: TokenSigner | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
) -> ServiceContext:
    """What the handlers share: the core, the token signer and the body limit.

    Parameters
    ----------
    runtime
        The started core; the token signing secret lives in its data dir.
    signer
        A ready signer (then ``token_lifetime_seconds`` is not used).
    max_body_bytes
        Largest request body accepted; larger ones get 413.
    token_lifetime_seconds
        Validity of the bearer tokens issued.
    """
    if max_body_bytes <= 0:
        raise ValueError("max_body_bytes must be positive.")
    if signer is None:
        signer = TokenSigner.from_data_dir(
            runtime.data_dir, lifetime_seconds=token_lifetime_seconds
        )
    return ServiceContext(runtime=runtime, signer=signer, max_body_bytes=max_body_bytes)


def service_routes(context: ServiceContext, base_path: str = "/") -> list[URLSpec]:
    """Every route of the service under ``base_path``, ending with a catch-all 404.

    Mount these into another application with ``app.add_handlers(host_pattern, routes)``.
    """
    base = normalize_base_path(base_path)
    args = {"context": context}
    routes = [URLSpec(base + path, handler, args) for path, handler in _CLOUD_ROUTES]
    routes += [
        URLSpec(base + API_PREFIX_PATTERN + path, handler, args)
        for path, handler in _RUNTIME_ROUTES
    ]
    routes.append(URLSpec(base + ".*", NotFoundHandler, args))
    return routes


def _log_request(handler: web.RequestHandler) -> None:
    # Client polls would flood the log at INFO; errors stay visible.
    status = handler.get_status()
    level = logging.DEBUG if status < 400 else logging.INFO if status < 500 else logging.ERROR
    logger.log(
        level,
        "%d %s %s %.1fms",
        status,
        handler.request.method,
        handler.request.path,
        1000.0 * handler.request.request_time(),
    )


def make_app(
    runtime: LocalRuntime,
    *,
    base_path: str = "/",
    signer: TokenSigner | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    token_lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
    **settings: Any,
) -> web.Application:
    """The tornado application serving the local runtime service.

    Parameters
    ----------
    runtime
        The started core (:class:`~jupyter_qrt.local.core.LocalRuntime`).
    base_path
        Path under which everything is served (``/`` standalone).
    signer, max_body_bytes, token_lifetime_seconds
        As for :func:`make_context`.
    **settings
        Further tornado application settings.

    Returns
    -------
    tornado.web.Application
        Serve it with an ``HTTPServer`` whose ``max_body_size`` is at least ``max_body_bytes``
        (tornado refuses larger bodies itself, with a bare 400).
    """
    context = make_context(
        runtime,
        signer=signer,
        max_body_bytes=max_body_bytes,
        token_lifetime_seconds=token_lifetime_seconds,
    )
    options: dict[str, Any] = {
        "log_function": _log_request,
        "compress_response": False,
        "xsrf_cookies": False,
        "serve_traceback": False,
    }
    options.update(settings)
    return web.Application(service_routes(context, base_path), **options)
