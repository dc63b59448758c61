"""The jupyter-qrt server's account list, read from a kernel with the kernel token.

``GET <server>/jupyter-qrt/accounts`` answers names, the default, channels and instances (never a
key). :func:`server_directory` is the ``directory`` that
:func:`jupyter_qrt.runtime.accounts.resolve_account` uses in a kernel to check an account name
and find its instance.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from jupyter_qrt.runtime.accounts.account import JUPYTER_NAMESPACE
from jupyter_qrt.runtime.accounts.jupyter import JupyterServer
from jupyter_qrt.runtime.errors import AuthError, TransportError

__all__ = ["server_directory"]

logger = logging.getLogger(__name__)

_TIMEOUT = (5.0, 30.0)


def server_directory(
    server: JupyterServer, session: requests.Session | None = None
) -> dict[str, Any]:
    """The server's account list (``{"default": ..., "accounts": [...]}``).

    Raises
    ------
    AuthError
        The server refused the kernel token (the server restarted: restart the kernel).
    TransportError
        The server could not be reached or answered something else.
    """
    url = f"{server.url}/{JUPYTER_NAMESPACE}/accounts"
    http = session or requests.Session()
    try:
        response = http.get(
            url,
            headers={"Authorization": f"token {server.token}", "Accept": "application/json"},
            timeout=_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise TransportError(
            f"Could not reach the Jupyter server at {server.url} for its accounts "
            f"({type(exc).__name__}). Check that the server is running, then try again."
        ) from None
    if response.status_code in (401, 403):
        raise AuthError(
            "The Jupyter server refused this kernel's token (QRT_KERNEL_TOKEN): it has probably "
            "restarted since the kernel started. Restart the kernel."
        )
    try:
        body = response.json() if response.ok else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise TransportError(
            f"The Jupyter server at {server.url} did not list its accounts (HTTP "
            f"{response.status_code}). Is the jupyter-qrt server extension enabled?"
        )
    return body
