"""HTTP: the REST API of the service, as tornado handlers.

Owns the route table (:mod:`.app`), the shared handler behaviour (auth, JSON, errors, work off the
event loop: :mod:`.base`), the runtime API routes (:mod:`.runtime_routes`), IAM and Global
Search/Catalog routes (:mod:`.cloud_routes`) and the OpenAPI description (:mod:`.openapi`,
``openapi.json``). Handlers are thin: they call :class:`jupyter_qrt.local.core.LocalRuntime`.

May import: :mod:`jupyter_qrt.local.core` and every part below it; nothing in the service
imports it but :mod:`jupyter_qrt.local.server` and :mod:`jupyter_qrt.local.cli`.
"""
