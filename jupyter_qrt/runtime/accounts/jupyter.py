"""Accounts in a Jupyter kernel: every account through the jupyter-qrt server, keyless.

The jupyter-qrt server extension gives the kernels it starts ``QRT_SERVER_URL`` (the server,
with its base URL) and ``QRT_KERNEL_TOKEN`` (a random token that opens its runtime proxy, not an
API key). With them, an account name means the server's account of that name, reached through
``<server>/jupyter-qrt/runtime/<name>/experimental/api/v1``; the client trades the kernel token
for a short-lived bearer at ``<server>/jupyter-qrt/iam`` and the server adds the real bearer and
``Service-CRN`` upstream. The kernel never holds a key.

This module builds such accounts without any network call. The account list the server serves
(``GET <server>/jupyter-qrt/accounts``: names, default, instances, never a key) is read by the
HTTP part (:func:`jupyter_qrt.runtime.http.jupyter.server_directory`) and handed in as
``directory``, so this part stays free of HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from jupyter_qrt.runtime.errors import AccountNotFoundError

from .account import Account, proxy_root

__all__ = [
    "KERNEL_TOKEN_VAR",
    "SERVER_URL_VAR",
    "Directory",
    "JupyterServer",
    "jupyter_server",
    "kernel_account",
]

logger = logging.getLogger(__name__)

SERVER_URL_VAR = "QRT_SERVER_URL"
KERNEL_TOKEN_VAR = "QRT_KERNEL_TOKEN"
_API = "/experimental/api/v1"


@dataclass(frozen=True, repr=False)
class JupyterServer:
    """The jupyter-qrt server a kernel runs under."""

    url: str
    """The server's URL with its base URL, no trailing slash."""
    token: str
    """The kernel token (opens the proxy; never shown)."""

    def __repr__(self) -> str:
        return f"JupyterServer(url={self.url!r})"

    def runtime_url(self, name: str) -> str:
        """The proxy's runtime API URL for account ``name``."""
        return proxy_root(self.url, name) + _API

    def name_in(self, url: str) -> str | None:
        """The account name in a proxy runtime URL of this server, or None for another URL."""
        prefix = proxy_root(self.url, "x")[: -len("x")]
        if not (url.startswith(prefix) and url.rstrip("/").endswith(_API)):
            return None
        name = url[len(prefix) :].rstrip("/")[: -len(_API)]
        return unquote(name) if name and "/" not in name else None


Directory = Callable[[JupyterServer], Mapping[str, Any]]
"""Reads the server's account list: ``{"default": name, "accounts": [{"name", "instance",
...}]}`` (the answer of ``GET /jupyter-qrt/accounts``)."""


def jupyter_server(env: Mapping[str, str]) -> JupyterServer | None:
    """The jupyter-qrt server of this kernel, or None outside one (either variable missing)."""
    url = (env.get(SERVER_URL_VAR) or "").strip()
    token = (env.get(KERNEL_TOKEN_VAR) or "").strip()
    if not url or not token:
        return None
    return JupyterServer(url=url.rstrip("/"), token=token)


def kernel_account(
    server: JupyterServer,
    name: str | None,
    env: Mapping[str, str],
    directory: Directory | None = None,
) -> Account:
    """The account ``name`` (None: the server's default) through the server's proxy.

    The default is the account the kernel environment names (``QISKIT_IBM_URL`` pointing at the
    proxy, with ``QISKIT_IBM_INSTANCE``), else the server's default from ``directory``. The
    instance comes from the environment for that account, else from ``directory``; without
    either, the proxy's Global Search lists the instances the account's key can use.

    Raises
    ------
    AccountNotFoundError
        The server has no account of that name (the message lists those it has).
    """
    env_name = None
    if (env.get("QISKIT_IBM_TOKEN") or "") == server.token:
        env_name = server.name_in(env.get("QISKIT_IBM_URL") or "")
    listing = directory(server) if directory is not None and (name or not env_name) else None
    if name is None:
        name = env_name or (str(listing.get("default") or "") if listing else "") or "local"
    instance: str | None = None
    if listing is not None:
        summaries = {
            str(entry.get("name")): entry
            for entry in listing.get("accounts") or []
            if isinstance(entry, Mapping)
        }
        if name not in summaries:
            raise AccountNotFoundError(
                f"The Jupyter server has no account named {name!r}. Its accounts: "
                f"{', '.join(summaries) or '(none)'}. Add one in the Quantum sidebar or with "
                "%qrt_login."
            )
        found = summaries[name].get("instance")
        instance = found if isinstance(found, str) and found else None
    elif name == env_name:
        instance = env.get("QISKIT_IBM_INSTANCE") or None
    logger.debug("Account %r through the Jupyter server at %s", name, server.url)
    return Account(
        name=name,
        token=server.token,
        url=server.runtime_url(name),
        instance=instance,
        jupyter_server=server.url,
    )
