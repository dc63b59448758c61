"""Upstream: where an account's calls go, and the bearer they carry.

:class:`Upstream` turns an account name into an :class:`UpstreamTarget`: its runtime API,
Global Search and Global Catalog base URLs and the headers to add (``Authorization: Bearer`` from
an IAM exchange of the account's key, cached and refreshed before expiry, one exchange in flight
per account; ``Service-CRN``). Every URL's host is checked against the allowlist (the embedded
local service is always allowed). All network calls use tornado's async HTTP client: nothing
blocks the server's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .embedded import EmbeddedLocal
    from .vault import Vault

__all__ = ["Upstream", "UpstreamRefused", "UpstreamTarget"]


class UpstreamRefused(Exception):
    """An upstream the proxy will not call (host not allowed, bad URL): the message says why."""


@dataclass(frozen=True)
class UpstreamTarget:
    """Where one account's calls go."""

    runtime_url: str
    """The runtime API root, ending in ``/api/v1`` (no trailing slash)."""
    search_url: str
    """Global Search root (``.../v3/resources/search`` is below it)."""
    catalog_url: str
    """Global Catalog root."""
    headers: dict[str, str] = field(default_factory=dict)
    """Headers to add to every call (bearer, ``Service-CRN``)."""


class Upstream:
    """Resolves accounts to upstream targets (see the module docstring)."""

    def __init__(self, *, vault: Vault, embedded: EmbeddedLocal, allowed_hosts: list[str]) -> None:
        self.vault = vault
        self.embedded = embedded
        self.allowed_hosts = allowed_hosts

    async def target(self, account: str) -> UpstreamTarget:
        """The target of ``account`` with a live bearer."""
        raise NotImplementedError("the proxy part of the server extension")
