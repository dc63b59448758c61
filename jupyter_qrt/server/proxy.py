"""The runtime proxy: ``/jupyter-qrt/runtime/<account>/...`` to that account's upstream.

Only runtime API paths (``[.../]api/v1/...``), Global Search (``globalsearch/...``) and Global
Catalog (``globalcatalog/...``) are forwarded, only to allowed hosts, with the bearer and
``Service-CRN`` added here; the caller's own ``Authorization`` (kernel token, proxy bearer or
Jupyter token) and cookies are never forwarded.
"""

from __future__ import annotations

from .callers import QRTHandler

__all__ = ["RuntimeProxyHandler"]


class RuntimeProxyHandler(QRTHandler):
    """Forwards one call (see the module docstring)."""
