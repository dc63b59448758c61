"""Upstream: where an account's calls go, and the bearer they carry.

:class:`Upstream` turns an account name into an :class:`UpstreamTarget`: its runtime API,
Global Search and Global Catalog base URLs and the headers to add (``Authorization: Bearer`` from
an IAM exchange of the account's key, cached and refreshed before expiry, one exchange in flight
per account; ``Service-CRN``). Every URL's host is checked against the allowlist (the embedded
local service is always allowed). All network calls use tornado's async HTTP client: nothing
blocks the server's event loop.

The allowlist patterns: ``host`` (that host on the scheme's default port, 443 or 80),
``host:port`` (that host on that port), ``*.domain`` (any subdomain of ``domain`` on the default
port). A bare ``127.0.0.1`` therefore does not open every loopback port: a service on another
port must be named with its port.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from jupyter_qrt.runtime.accounts import CRN, Account
from jupyter_qrt.runtime.accounts.crn import is_crn

if TYPE_CHECKING:
    from .embedded import EmbeddedLocal
    from .vault import Vault

__all__ = [
    "Upstream",
    "UpstreamAuthRefused",
    "UpstreamRefused",
    "UpstreamTarget",
    "UpstreamUnreachable",
    "host_allowed",
]

log = logging.getLogger(__name__)

_APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
_REFRESH_FRACTION = 0.8  # refresh once 80% of a bearer's life has passed, as the IBM SDK does
_MARGIN_S = 30.0  # never hand out a bearer with less than this left
_DEFAULT_LIFETIME_S = 300.0
_DEFAULT_PORTS = {"https": 443, "http": 80}
_SEARCH_QUERY = "service_name:quantum-computing"


class UpstreamRefused(Exception):
    """An upstream the proxy will not call (host not allowed, bad URL): the message says why."""


class UpstreamAuthRefused(Exception):
    """The account's key was refused (by IAM, or the service answered 401)."""


class UpstreamUnreachable(Exception):
    """IAM, Global Search or the service could not be reached (the message names the host)."""


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
    account: str = ""
    """The account's name (for messages)."""
    has_instance: bool = False
    """Whether ``Service-CRN`` is the account's own (callers may not choose another one)."""


@dataclass(frozen=True)
class _Bearer:
    value: str
    key_digest: str  # the key it was issued for: a changed key never reuses an old bearer
    refresh_at: float
    expires_at: float


def host_of(url: str) -> tuple[str, int]:
    """``(host, port)`` of an http(s) URL (default port filled in).

    Raises
    ------
    UpstreamRefused
        Not an http(s) URL with a host, or it carries user info.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UpstreamRefused(f"The upstream URL {url!r} is malformed.") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        raise UpstreamRefused(f"The upstream URL {url!r} is not a plain http(s) URL with a host.")
    return parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[parts.scheme]


def host_allowed(url: str, patterns: list[str], extra: Collection[tuple[str, int]] = ()) -> bool:
    """Whether ``url``'s host and port match one of ``patterns`` (or ``extra``, exact pairs)."""
    host, port = host_of(url)
    scheme = urlsplit(url).scheme
    if (host, port) in extra:
        return True
    for raw in patterns:
        pattern = raw.strip().lower()
        want_port = _DEFAULT_PORTS[scheme]
        name, sep, port_text = pattern.rpartition(":")
        if sep and port_text.isdigit() and "]" not in port_text:
            pattern, want_port = name, int(port_text)
        if port != want_port:
            continue
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lifetime(body: dict[str, Any]) -> float:
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        return float(expires_in)
    return _DEFAULT_LIFETIME_S


class Upstream:
    """Resolves accounts to upstream targets (see the module docstring).

    Parameters
    ----------
    vault
        Where accounts (and their keys) come from.
    embedded
        The embedded local service (its own ``127.0.0.1:<port>`` is always allowed).
    allowed_hosts
        The host allowlist patterns.
    request_timeout
        Seconds for IAM and Global Search calls.
    """

    def __init__(
        self,
        *,
        vault: Vault,
        embedded: EmbeddedLocal,
        allowed_hosts: list[str],
        request_timeout: float = 30.0,
    ) -> None:
        self.vault = vault
        self.embedded = embedded
        self.allowed_hosts = allowed_hosts
        self.request_timeout = request_timeout
        self._bearers: dict[str, _Bearer] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._instances: dict[tuple[str, str, str], str] = {}
        self._client: AsyncHTTPClient | None = None

    @property
    def client(self) -> AsyncHTTPClient:
        """The proxy's own HTTP client: enough connections that a slow upstream holding some
        does not queue calls to the others."""
        if self._client is None:
            self._client = AsyncHTTPClient(force_instance=True, max_clients=64, max_body_size=2**31)
        return self._client

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- the allowlist --------------------------------------------------------------------------

    def check_url(self, account: str, url: str) -> None:
        """Raise :class:`UpstreamRefused` unless ``url``'s host is allowed for the proxy."""
        extra: set[tuple[str, int]] = set()
        service = self.embedded.service
        if service is not None:
            extra.add(("127.0.0.1", service.port))
        if not host_allowed(url, self.allowed_hosts, extra):
            host, port = host_of(url)
            raise UpstreamRefused(
                f"Account {account!r} points at {host}:{port}, which is not an allowed upstream "
                "host. An administrator can add it to c.QRTExtension.allowed_hosts."
            )

    # -- targets --------------------------------------------------------------------------------

    async def target(self, account: str) -> UpstreamTarget:
        """The target of ``account`` with a live bearer.

        Raises
        ------
        AccountUnknown
            No such account.
        UpstreamRefused
            One of its URLs is not an allowed host.
        UpstreamAuthRefused
            IAM refused its key.
        UpstreamUnreachable
            IAM or Global Search could not be reached.
        """
        acct = self.vault.account(account)
        empty: dict[str, str] = {}
        iam = acct.iam_url(env=empty)
        search = acct.global_search_url(env=empty)
        catalog = acct.global_catalog_url(env=empty)
        for url in (iam, search, catalog, acct.runtime_url()):
            self.check_url(account, url)
        bearer = await self.bearer(account, acct, iam)
        headers = {"Authorization": f"Bearer {bearer}"}
        crn = await self._instance_crn(account, acct, search, bearer)
        if crn is not None:
            headers["Service-CRN"] = crn
            acct = replace(acct, instance=crn)
        runtime = acct.runtime_url().rstrip("/")
        self.check_url(account, runtime)
        return UpstreamTarget(
            runtime_url=runtime,
            search_url=search.rstrip("/"),
            catalog_url=catalog.rstrip("/"),
            headers=headers,
            account=account,
            has_instance=crn is not None,
        )

    def invalidate(self, account: str) -> None:
        """Forget the cached bearer of ``account`` (after the service refused it)."""
        self._bearers.pop(account, None)

    # -- IAM ------------------------------------------------------------------------------------

    async def bearer(self, name: str, account: Account, iam_url: str) -> str:
        """A live bearer for ``account``: cached, else one IAM exchange (one in flight)."""
        digest = _digest(account.token)
        cached = self._bearers.get(name)
        now = time.monotonic()
        if cached is not None and cached.key_digest == digest and now < cached.refresh_at:
            return cached.value
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            cached = self._bearers.get(name)
            now = time.monotonic()
            if cached is not None and cached.key_digest == digest and now < cached.refresh_at:
                return cached.value  # another call fetched it while this one waited
            try:
                fresh = await self._exchange(name, account, iam_url, digest)
            except UpstreamUnreachable:
                if cached is not None and cached.key_digest == digest and now < cached.expires_at:
                    log.warning(
                        "jupyter-qrt: IAM refresh for %r failed; using the current bearer", name
                    )
                    return cached.value
                raise
            self._bearers[name] = fresh
            return fresh.value

    async def _exchange(self, name: str, account: Account, iam_url: str, digest: str) -> _Bearer:
        url = iam_url.rstrip("/") + "/identity/token"
        started = time.monotonic()
        request = HTTPRequest(
            url,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            body=urlencode(
                {"grant_type": _APIKEY_GRANT, "apikey": account.token, "response_type": "cloud_iam"}
            ),
            request_timeout=self.request_timeout,
            connect_timeout=min(10.0, self.request_timeout),
            validate_cert=account.verify,
        )
        host, port = host_of(url)
        try:
            response = await self.client.fetch(request, raise_error=False)
        except (TimeoutError, OSError, HTTPClientError) as exc:
            raise UpstreamUnreachable(
                f"Could not reach IAM at {host}:{port} for account {name!r} ({exc})."
            ) from None
        if response.code in (400, 401, 403):
            raise UpstreamAuthRefused(name)
        if response.code == 599 or response.code >= 300:
            reason = response.error or f"HTTP {response.code}"
            raise UpstreamUnreachable(
                f"Could not get a token from IAM at {host}:{port} for account {name!r} ({reason})."
            )
        try:
            body = json.loads(response.body)
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            token, body = None, {}
        if not isinstance(token, str) or not token:
            raise UpstreamUnreachable(
                f"IAM at {host}:{port} answered without an access token for account {name!r}."
            )
        lifetime = _lifetime(body)
        margin = min(_MARGIN_S, lifetime / 4)
        return _Bearer(
            value=token,
            key_digest=digest,
            refresh_at=started + min(lifetime * _REFRESH_FRACTION, lifetime - margin),
            expires_at=started + lifetime - margin,
        )

    # -- the instance ---------------------------------------------------------------------------

    async def _instance_crn(
        self, name: str, account: Account, search_url: str, bearer: str
    ) -> str | None:
        """The account's instance CRN: as saved, or its name resolved once via Global Search."""
        instance = account.instance
        if not instance or instance == "auto":
            return None
        if is_crn(instance):
            return str(CRN.parse(instance))
        key = (name, _digest(account.token), instance)
        if key in self._instances:
            return self._instances[key]
        url = search_url.rstrip("/") + "/v3/resources/search?limit=100"
        host, port = host_of(url)
        request = HTTPRequest(
            url,
            method="POST",
            headers={
                "Authorization": f"Bearer {bearer}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=json.dumps({"query": _SEARCH_QUERY, "fields": ["crn", "name"]}),
            request_timeout=self.request_timeout,
            validate_cert=account.verify,
        )
        try:
            response = await self.client.fetch(request, raise_error=False)
        except (TimeoutError, OSError, HTTPClientError) as exc:
            raise UpstreamUnreachable(
                f"Could not reach Global Search at {host}:{port} for account {name!r} ({exc})."
            ) from None
        if response.code == 401:
            self.invalidate(name)
            raise UpstreamAuthRefused(name)
        try:
            items = json.loads(response.body).get("items") if response.code == 200 else None
        except (ValueError, AttributeError):
            items = None
        if not isinstance(items, list):
            raise UpstreamUnreachable(
                f"Global Search at {host}:{port} did not list the instances of account {name!r} "
                f"(HTTP {response.code})."
            )
        for item in items:
            if isinstance(item, dict) and item.get("name") == instance and is_crn(item.get("crn")):
                crn = str(item["crn"])
                self._instances[key] = crn
                return crn
        raise UpstreamRefused(
            f"Account {name!r} names the instance {instance!r}, which its API key cannot see. "
            "Save the account with the instance's CRN, or its exact name."
        )
