"""The account model: who we are to the service and where it lives.

An :class:`Account` is a channel, an API key and an instance, plus the URL rules that turn them
into the runtime API, IAM, Global Search and Global Catalog addresses exactly as qiskit-ibm-runtime
0.51 does.

Channels: ``ibm_quantum_platform`` (IBM Quantum Platform on IBM Cloud), ``ibm_cloud`` (its older
name, handled identically) and ``local``, ours: the local runtime service of jupyter-qrt, whose
``url`` is the service root (``http://127.0.0.1:PORT``).

No token ever appears in a repr, a str, an error message or a log record: only its last four
characters (the rule of :func:`~jupyter_qrt.runtime.redact.mask_secret`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.redact import mask_secret

from .crn import (
    CRN,
    global_catalog_api_url,
    global_search_api_url,
    iam_api_url,
    is_crn,
    runtime_api_url,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_CHANNEL",
    "DEFAULT_CLOUD_URL",
    "IBM_CHANNELS",
    "REGIONS",
    "Account",
]

logger = logging.getLogger(__name__)

IBM_CHANNELS = ("ibm_quantum_platform", "ibm_cloud")
"""The channels of IBM Quantum Platform (``ibm_cloud`` is its older name)."""
CHANNELS = (*IBM_CHANNELS, "local")
"""Every channel an :class:`Account` accepts."""
DEFAULT_CHANNEL = "ibm_quantum_platform"
DEFAULT_CLOUD_URL = "https://cloud.ibm.com"
"""The IBM Cloud URL an IBM account uses when none is given (the official default)."""
REGIONS = ("us-east", "eu-de")
"""Accepted values of the ``region`` preference (the official client's list)."""

JUPYTER_NAMESPACE = "jupyter-qrt"
"""The URL namespace of the jupyter-qrt server extension (``jupyter_qrt.server.callers``
has the same constant; a test of the server ties them)."""

_PROXY_KEYS = frozenset({"urls", "username_ntlm", "password_ntlm"})


def _mask_url(url: str) -> str:
    """A proxy URL with any password in it replaced by ``***``; ``***`` if it is malformed."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[": we cannot tell where a password would be
        return "***"
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


@dataclass(frozen=True, kw_only=True, repr=False)
class Account:
    """One account: channel, API key, instance, and where the service lives.

    Values are checked on creation; a bad one raises :class:`InvalidInputError` naming the field
    (never showing the token). The object is immutable: derive variants with
    :func:`dataclasses.replace`.

    Parameters
    ----------
    name
        The name it is saved under, or ``None`` for an account given inline or by environment.
    channel
        ``ibm_quantum_platform`` (default), ``ibm_cloud`` (same service, older name) or
        ``local`` (the local runtime service of jupyter-qrt).
    token
        The IBM Cloud API key; for ``local``, an API key of the local service (it prints its
        default key when it starts).
    instance
        Instance CRN, instance name, ``"auto"`` or ``None``. A value starting with ``crn:`` must
        be a valid CRN (:meth:`CRN.parse`).
    url
        IBM Cloud URL (default ``https://cloud.ibm.com``); for ``local``, the service root such as
        ``http://127.0.0.1:8765`` (required).
    region, plans_preference, tags
        Preferences for picking an instance when none is given (``region``: ``us-east`` or
        ``eu-de``).
    verify
        Verify TLS certificates.
    private_endpoint
        Use IBM Cloud private endpoints (IBM channels only).
    proxies
        ``{"urls": {...requests proxies...}, "username_ntlm": ..., "password_ntlm": ...}`` as the
        official client saves it.
    jupyter_server
        Set in a Jupyter kernel for an account reached through the jupyter-qrt server's proxy
        (see :mod:`.jupyter`): the server URL. Then ``url`` is the proxy's runtime URL, ``token``
        the kernel token (not an API key), and IAM, Global Search and Global Catalog are the
        server's routes whatever the environment says. Never saved to the accounts file.
    """

    name: str | None = None
    channel: str = DEFAULT_CHANNEL
    token: str = ""
    instance: str | None = None
    url: str = ""
    region: str | None = None
    plans_preference: list[str] | None = None
    tags: list[str] | None = None
    verify: bool = True
    private_endpoint: bool = False
    proxies: dict[str, Any] | None = None
    jupyter_server: str | None = None

    # Lists and a dict inside: unhashable always, rather than only when those fields are set.
    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        def fix(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        who = f"Account {self.name!r}: " if self.name else "Account: "

        def bad(problem: str) -> InvalidInputError:
            return InvalidInputError(who + problem)

        if self.name is not None and not (isinstance(self.name, str) and self.name):
            raise InvalidInputError("An account name must be a non-empty string.")
        if self.channel not in CHANNELS:
            raise bad(
                f"channel {self.channel!r} is not one of {', '.join(map(repr, CHANNELS))}. "
                "Use 'ibm_quantum_platform' for IBM Quantum Platform, 'local' for the local "
                "runtime service."
            )
        local = self.channel == "local"
        if not isinstance(self.token, str):
            raise bad(f"token must be a string (the API key), got {type(self.token).__name__}.")
        if not self.token:
            raise bad(
                "token is empty. Pass token=<an API key of the local runtime service> (it prints "
                "its default key when it starts)."
                if local
                else "token is empty. Pass token=<your IBM Cloud API key> (create one on "
                "https://quantum.cloud.ibm.com under API keys)."
            )
        if any(ch.isspace() for ch in self.token):
            raise bad(
                "token contains whitespace (a line break from copy and paste?). Pass the API key "
                "alone."
            )
        if self.instance == "":
            fix("instance", None)
        if self.instance is not None:
            if not isinstance(self.instance, str):
                raise bad("instance must be a CRN, an instance name, 'auto' or None.")
            if is_crn(self.instance):
                try:
                    CRN.parse(self.instance)
                except InvalidInputError as exc:
                    raise bad(str(exc)) from None
        if not isinstance(self.url, str):
            raise bad(f"url must be a string, got {type(self.url).__name__}.")
        if not self.url:
            if local:
                raise bad(
                    "a 'local' account needs url=<root of the local runtime service>, such as "
                    "'http://127.0.0.1:8765'."
                )
            fix("url", DEFAULT_CLOUD_URL)
        example = f"{DEFAULT_CLOUD_URL!r}" + (" or 'http://127.0.0.1:8765'" if local else "")
        try:
            url_parts = urlsplit(self.url)
            _ = url_parts.port  # raises ValueError for a port that is not a number in 0-65535
        except ValueError as exc:
            raise bad(
                f"url {self.url!r} is malformed ({exc}). Give an http(s) URL such as {example}."
            ) from None
        if url_parts.scheme not in ("http", "https") or not url_parts.hostname:
            raise bad(
                f"url {self.url!r} is not an http(s) URL with a host name, such as {example}."
            )
        if self.region is not None and self.region not in REGIONS:
            raise bad(f"region {self.region!r} is not one of {', '.join(map(repr, REGIONS))}.")
        for list_field in ("plans_preference", "tags"):
            value = getattr(self, list_field)
            if value is None:
                continue
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise bad(f"{list_field} must be a list of strings.")
            if not all(isinstance(item, str) for item in value):
                raise bad(f"{list_field} must be a list of strings.")
            fix(list_field, list(value))
        for flag in ("verify", "private_endpoint"):
            if not isinstance(getattr(self, flag), bool):
                raise bad(f"{flag} must be True or False.")
        if local and self.private_endpoint:
            raise bad("private_endpoint applies to IBM Cloud only; a 'local' account has none.")
        if self.proxies is not None:
            fix("proxies", _checked_proxies(self.proxies, bad))
        if self.jupyter_server is not None and not (
            isinstance(self.jupyter_server, str) and self.jupyter_server and self.name
        ):
            raise bad(
                "an account reached through a Jupyter server needs a name and the server URL."
            )

    # -- display: never the whole token ----------------------------------------------------------

    @property
    def masked_token(self) -> str:
        """The token as its last four characters, e.g. ``'...x7Qz'``."""
        return mask_secret(self.token)

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "token":
                value = self.masked_token
            elif f.name == "proxies" and value is not None:
                value = _masked_proxies(value)
            shown.append(f"{f.name}={value!r}")
        return f"Account({', '.join(shown)})"

    def __str__(self) -> str:
        title = f"Account {self.name!r}" if self.name else "Account"
        return (
            f"{title} ({self.channel}): instance {self.instance or '(not set)'}, url {self.url}, "
            f"token {self.masked_token}"
        )

    # -- derived addresses ---------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        """Whether this account points at the local runtime service of jupyter-qrt."""
        return self.channel == "local"

    @property
    def crn(self) -> CRN | None:
        """The instance as a parsed :class:`CRN`, or ``None`` when it is a name or not set."""
        return CRN.parse(self.instance) if is_crn(self.instance) else None

    def runtime_url(self) -> str:
        """Base URL of the runtime REST API, normally ending in ``/api/v1``.

        IBM channels follow the official default resolver (:func:`~.crn.runtime_api_url`): with
        an instance CRN and no ``experimental`` in ``url``,
        ``{scheme}://{region.}quantum.{host}/api/v1`` (no prefix for ``us-east``, ``private.``
        variant; the port of ``url`` dropped); otherwise ``url`` verbatim, so an instance *name*
        must be resolved to its CRN first. For ``local``: ``url + "/api/v1"``.
        """
        if self.is_local:
            return self.url.rstrip("/") + "/api/v1"
        return runtime_api_url(self.url, self.crn, self.private_endpoint)

    def iam_url(self, env: Mapping[str, str] | None = None) -> str:
        """Base URL of the IAM service that exchanges the API key for a bearer token.

        For an account through a Jupyter server, the server's IAM route. Else ``IAM_URL`` in
        ``env`` (default ``os.environ``) wins. Else, as the official client does
        for runtime calls, ``https://iam.cloud.ibm.com`` (``private.`` in front for
        ``private_endpoint``, ``iam.test.cloud.ibm.com`` for a staging CRN), not derived from
        ``url``. For ``local``: ``url`` (the local service serves ``/identity/token``).
        """
        if self.jupyter_server:
            return f"{self.jupyter_server.rstrip('/')}/{JUPYTER_NAMESPACE}/iam"
        if override := environment(env).get("IAM_URL"):
            return override
        if self.is_local:
            return self.url.rstrip("/")
        return iam_api_url(self.crn, self.private_endpoint)

    def global_search_url(self, env: Mapping[str, str] | None = None) -> str:
        """Base URL of IBM Cloud Global Search (instance discovery).

        Through a Jupyter server: its proxy's ``globalsearch``. Else ``GLOBAL_SEARCH_URL`` in
        ``env`` wins; else ``{scheme}://api.global-search-tagging.{host}``
        from ``url``. For ``local``: ``url + "/globalsearch"``.
        """
        if self.jupyter_server:
            return self._proxy_root() + "/globalsearch"
        if override := environment(env).get("GLOBAL_SEARCH_URL"):
            return override
        if self.is_local:
            return self.url.rstrip("/") + "/globalsearch"
        return global_search_api_url(self.url)

    def global_catalog_url(self, env: Mapping[str, str] | None = None) -> str:
        """Base URL of IBM Cloud Global Catalog (plan names and pricing of instances).

        Through a Jupyter server: its proxy's ``globalcatalog``. Else ``GLOBAL_CATALOG_URL`` in
        ``env`` wins; else ``{scheme}://globalcatalog.{host}/api/v1``
        from ``url``. For ``local``: ``url + "/globalcatalog"``.
        """
        if self.jupyter_server:
            return self._proxy_root() + "/globalcatalog"
        if override := environment(env).get("GLOBAL_CATALOG_URL"):
            return override
        if self.is_local:
            return self.url.rstrip("/") + "/globalcatalog"
        return global_catalog_api_url(self.url)

    def _proxy_root(self) -> str:
        assert self.jupyter_server
        assert self.name
        return proxy_root(self.jupyter_server, self.name)


def proxy_root(server_url: str, name: str) -> str:
    """The root of the jupyter-qrt server's runtime proxy for account ``name``."""
    return f"{server_url.rstrip('/')}/{JUPYTER_NAMESPACE}/runtime/{quote(name, safe='@')}"


def environment(env: Mapping[str, str] | None) -> Mapping[str, str]:
    """``env``, or the process environment when it is None."""
    return os.environ if env is None else env


def _checked_proxies(proxies: object, bad: Any) -> dict[str, Any]:
    """The proxy settings, checked and copied (the official ``ProxyConfiguration`` shape)."""
    if not isinstance(proxies, Mapping):
        raise bad("proxies must be a dict with 'urls', 'username_ntlm' and 'password_ntlm'.")
    unknown = sorted(str(key) for key in proxies if key not in _PROXY_KEYS)
    if unknown:
        raise bad(
            f"proxies has unknown keys {', '.join(unknown)}; the accepted keys are 'urls', "
            "'username_ntlm' and 'password_ntlm'."
        )
    urls = proxies.get("urls")
    if urls is not None and not (
        isinstance(urls, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in urls.items())
    ):
        raise bad("proxies['urls'] must map protocols (or protocol://host) to proxy URLs.")
    user, password = proxies.get("username_ntlm"), proxies.get("password_ntlm")
    if not (
        (isinstance(user, str) and isinstance(password, str)) or (user is None and password is None)
    ):
        raise bad("proxies needs both 'username_ntlm' and 'password_ntlm' (strings), or neither.")
    copied = {key: value for key, value in proxies.items() if value is not None}
    if urls is not None:
        copied["urls"] = dict(urls)
    return copied


def _masked_proxies(proxies: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(proxies)
    if "password_ntlm" in shown:
        shown["password_ntlm"] = "***"
    if isinstance(shown.get("urls"), Mapping):
        shown["urls"] = {key: _mask_url(value) for key, value in shown["urls"].items()}
    return shown
