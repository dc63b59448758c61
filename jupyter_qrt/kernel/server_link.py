"""The kernel's link to the jupyter-qrt server extension (when the kernel runs under Jupyter).

The extension puts ``QRT_SERVER_URL`` and ``QRT_KERNEL_TOKEN`` in the environment of the kernels
it starts. This module is the only place that reads them: it lists the server's accounts
(``GET /jupyter-qrt/accounts``) and reads its status (``GET /jupyter-qrt/status``), with the
kernel token as ``Authorization: token ...``. The kernel never sees an API key: the runtime
calls themselves go through the server's proxy (``RuntimeService(name)`` knows how).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from jupyter_qrt.runtime.errors import AuthError, TransportError

__all__ = ["KERNEL_TOKEN_ENV", "SERVER_URL_ENV", "server_accounts", "server_status", "server_url"]

SERVER_URL_ENV = "QRT_SERVER_URL"
KERNEL_TOKEN_ENV = "QRT_KERNEL_TOKEN"
_TIMEOUT_SECONDS = 10.0


def server_url(env: Mapping[str, str] | None = None) -> str | None:
    """The server extension's root URL, or ``None`` when the kernel runs without it."""
    value = (os.environ if env is None else env).get(SERVER_URL_ENV, "").strip()
    return value.rstrip("/") or None


def _get(path: str, env: Mapping[str, str] | None) -> dict[str, Any]:
    import requests

    environ = os.environ if env is None else env
    root = server_url(environ)
    if root is None:
        raise TransportError(
            f"{SERVER_URL_ENV} is not set: this kernel was not started by Jupyter."
        )
    token = environ.get(KERNEL_TOKEN_ENV, "")
    url = f"{root}/jupyter-qrt/{path}"
    try:
        response = requests.get(
            url, headers={"Authorization": f"token {token}"}, timeout=_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        raise TransportError(
            f"Cannot reach the Jupyter server at {root} ({type(exc).__name__}); check that it is "
            "still running, then restart the kernel."
        ) from None
    if response.status_code in (401, 403):
        raise AuthError(
            "The Jupyter server refused this kernel's token; restart the kernel so that it gets "
            "a fresh one."
        )
    if response.status_code != 200:
        raise TransportError(
            f"The Jupyter server answered {response.status_code} to {path}; check the server's "
            "log, or restart it."
        )
    try:
        body = response.json()
    except ValueError:
        raise TransportError(
            f"The Jupyter server's answer to {path} is not JSON; is jupyter-qrt installed in the "
            "server's environment?"
        ) from None
    if not isinstance(body, dict):
        raise TransportError(f"The Jupyter server's answer to {path} is not a JSON object.")
    return body


def server_accounts(
    env: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The server's accounts (names, channel, instance, plan, fingerprint) and the default name.

    Raises
    ------
    TransportError
        The server cannot be reached or answered badly.
    AuthError
        The server refused the kernel token.
    """
    body = _get("accounts", env)
    accounts = [a for a in body.get("accounts") or [] if isinstance(a, dict) and a.get("name")]
    default = body.get("default")
    return accounts, str(default) if default else None


def server_status(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The server extension's status (its ``version`` among others)."""
    return _get("status", env)
