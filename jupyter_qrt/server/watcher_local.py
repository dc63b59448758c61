"""The watcher's stand-in target for the ``local`` account, until ``Upstream.target`` lands.

``Upstream.target`` (the proxy part, :mod:`.upstream`) turns any account into a base URL and
headers. Until it is implemented it raises :class:`NotImplementedError`;
:func:`target_with_fallback` then serves the embedded ``local`` account itself:
:meth:`EmbeddedLocal.ready`, the local account's URL, and an IAM exchange of its key
(``POST <url>/identity/token``, cached until a minute before it expires, one exchange at a time).
Other accounts get an error line saying the proxy part is missing. Once ``Upstream.target``
works, the fallback is never reached and this module can go.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient

from jupyter_qrt.local.identity.iam import APIKEY_GRANT_TYPE

from .upstream import UpstreamRefused, UpstreamTarget
from .vault import LOCAL

if TYPE_CHECKING:
    from .embedded import EmbeddedLocal
    from .upstream import Upstream
    from .watcher_source import TargetOf

__all__ = ["LocalTargets", "target_with_fallback"]

_READY_SECONDS = 5.0
_REFRESH_MARGIN_SECONDS = 60.0


class LocalTargets:
    """The ``local`` account's target: the embedded service with a bearer of its key."""

    def __init__(self, embedded: EmbeddedLocal) -> None:
        self.embedded = embedded
        self._bearer: tuple[str, float, str] | None = None  # (token, expires at, service url)
        self._lock = asyncio.Lock()

    async def target(self, account: str) -> UpstreamTarget:
        """The target of ``account`` (``local`` only)."""
        if account != LOCAL:
            raise UpstreamRefused(
                f"The watcher cannot reach account {account!r} yet: only 'local' is served until "
                "the runtime proxy's upstream is available in this server."
            )
        service = await self.embedded.ready(timeout=_READY_SECONDS)
        local = service.account(LOCAL)
        url = str(local.url).rstrip("/")
        token = await self._token(url, str(local.token))
        headers = {"Authorization": f"Bearer {token}"}
        if local.instance:
            headers["Service-CRN"] = local.instance
        return UpstreamTarget(
            runtime_url=f"{url}/api/v1",
            search_url=f"{url}/globalsearch",
            catalog_url=f"{url}/globalcatalog",
            headers=headers,
        )

    async def _token(self, url: str, key: str) -> str:
        async with self._lock:  # one exchange in flight
            cached = self._bearer
            if cached is not None and cached[2] == url and cached[1] > time.time():
                return cached[0]
            body = urlencode({"grant_type": APIKEY_GRANT_TYPE, "apikey": key})
            response = await AsyncHTTPClient().fetch(
                f"{url}/identity/token",
                method="POST",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                connect_timeout=5.0,
                request_timeout=20.0,
                raise_error=False,
            )
            if response.code != 200:
                raise UpstreamRefused(
                    f"The local service refused its own key ({response.code}); restart the server."
                )
            answer = json.loads(response.body)
            token = str(answer["access_token"])
            lifetime = float(answer.get("expires_in", 3600))
            self._bearer = (token, time.time() + lifetime - _REFRESH_MARGIN_SECONDS, url)
            return token


def target_with_fallback(upstream: Upstream, local: LocalTargets) -> TargetOf:
    """``upstream.target``, or ``local.target`` while the former is not implemented."""

    async def target(account: str) -> UpstreamTarget:
        try:
            return await upstream.target(account)
        except NotImplementedError:
            return await local.target(account)

    return target
