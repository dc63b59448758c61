"""The kernel's link to the jupyter-qrt server extension, when it runs under one.

Under Jupyter with the server extension, kernels inherit ``QRT_SERVER_URL`` and
``QRT_KERNEL_TOKEN``; the kernel token opens the account list and the shared job watcher. In plain
IPython neither is set and :func:`server_link` returns None. This module never imports
jupyter_server: it speaks HTTP with ``requests``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ServerLink", "server_link"]

_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ServerLink:
    """Where the server extension is and the kernel token that opens it (never an API key).

    Attributes
    ----------
    url
        ``QRT_SERVER_URL``: the Jupyter server's base URL (``http://127.0.0.1:8888/``).
    token
        ``QRT_KERNEL_TOKEN``.
    """

    url: str
    token: str

    def endpoint(self, path: str) -> str:
        """The URL of ``/jupyter-qrt/<path>`` on the server."""
        return self.url.rstrip("/") + "/jupyter-qrt/" + path.lstrip("/")

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET /jupyter-qrt/<path>`` with the kernel token; the decoded JSON body.

        Raises
        ------
        requests.HTTPError
            The server answered with an error status.
        """
        import requests

        response = requests.get(
            self.endpoint(path),
            params=dict(params or {}),
            headers={"Authorization": f"token {self.token}"},
            timeout=_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        return response.json()

    def __repr__(self) -> str:  # the kernel token stays out of reprs and logs
        return f"ServerLink(url={self.url!r}, token='***')"


def server_link(env: Mapping[str, str] | None = None) -> ServerLink | None:
    """The server extension's link from the environment, or None in plain IPython."""
    env = os.environ if env is None else env
    url = env.get("QRT_SERVER_URL", "").strip()
    token = env.get("QRT_KERNEL_TOKEN", "").strip()
    if not url or not token:
        return None
    return ServerLink(url, token)
