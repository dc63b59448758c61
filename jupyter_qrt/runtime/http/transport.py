"""HTTP transport of the runtime client: one session, timeouts, retries, one error mapping.

:class:`Transport` sends every call of one API (runtime, Global Search, Global Catalog) with a
timeout, retries as :mod:`~jupyter_qrt.runtime.http.retry` allows (never sending a job twice),
and raises what :func:`~jupyter_qrt.runtime.http.error_mapping.error_for` makes of a failure.
It logs method, path and status at DEBUG level, never headers, bodies or tokens.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from jupyter_qrt._version import __version__
from jupyter_qrt.runtime.errors import APIError, TransportError

from .auth import invalidate_token
from .error_mapping import NotFoundSpec, error_for
from .retry import RetryPolicy, never_reached_server, parse_retry_after

__all__ = ["NotFoundSpec", "RetryPolicy", "Timeout", "Transport"]

logger = logging.getLogger(__name__)

Timeout = float | tuple[float, float]


class Transport:
    """Send requests to one HTTP API with timeouts, retries and error mapping.

    Parameters
    ----------
    base_url
        Prefix of every path, e.g. ``https://quantum.cloud.ibm.com/api/v1``.
    auth
        ``requests`` auth hook applied to every call (e.g. a ``ServiceCRNAuth``). If it has an
        ``invalidate()`` method returning true (a new token can be fetched), a 401 makes the
        transport drop the token and try once more.
    session
        The ``requests.Session`` to use (a private one when omitted; closed by :meth:`close`).
    headers
        Extra headers for every call.
    timeout
        Default ``(connect, read)`` seconds; every call has one.
    retry
        The :class:`RetryPolicy`.
    verify, proxies
        TLS verification and proxies, as in ``requests``.
    sleep
        Called with the seconds to wait between attempts (injectable for tests).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: AuthBase | None = None,
        session: requests.Session | None = None,
        timeout: Timeout = (5.0, 60.0),
        retry: RetryPolicy | None = None,
        verify: bool | str = True,
        proxies: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._own_session = session is None
        self._session = session or requests.Session()
        self._headers = {
            "User-Agent": f"jupyter-qrt/{__version__} {requests.utils.default_user_agent()}",
        }
        self._verify = verify
        self._proxies = dict(proxies or {})
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r}, auth={self.auth!r})"

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- verbs ----------------------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        not_found: NotFoundSpec | None = None,
        timeout: Timeout | None = None,
    ) -> Any:
        """GET ``path`` and return the decoded JSON body (``None`` for an empty body)."""
        response = self.request("GET", path, params=params, not_found=not_found, timeout=timeout)
        return self._json(response)

    def get_text(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        not_found: NotFoundSpec | None = None,
        timeout: Timeout | None = None,
    ) -> str:
        """GET ``path`` and return the body as text (UTF-8, as the runtime API sends)."""
        response = self.request(
            "GET", path, params=params, not_found=not_found, timeout=timeout, accept_json=False
        )
        # Not response.text: without a charset, requests guesses one by scanning the whole body.
        return response.content.decode("utf-8", errors="replace")

    def post_json(
        self,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        not_found: NotFoundSpec | None = None,
        timeout: Timeout | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """POST ``body`` (JSON-encoded unless already a ``str``) and return the JSON answer.

        Not retried once it may have reached the service, unless ``idempotent=True``.
        """
        response = self.request(
            "POST",
            path,
            body=body,
            params=params,
            not_found=not_found,
            timeout=timeout,
            idempotent=idempotent,
        )
        return self._json(response)

    def put_json(
        self,
        path: str,
        body: Any = None,
        *,
        not_found: NotFoundSpec | None = None,
        timeout: Timeout | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """PUT ``body`` and return the response (often 204 without a body)."""
        return self.request(
            "PUT", path, body=body, not_found=not_found, timeout=timeout, idempotent=idempotent
        )

    def patch_json(
        self,
        path: str,
        body: Any = None,
        *,
        not_found: NotFoundSpec | None = None,
        timeout: Timeout | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """PATCH ``body`` and return the response (often 204 without a body)."""
        return self.request(
            "PATCH", path, body=body, not_found=not_found, timeout=timeout, idempotent=idempotent
        )

    def delete(
        self,
        path: str,
        *,
        not_found: NotFoundSpec | None = None,
        timeout: Timeout | None = None,
    ) -> requests.Response:
        """DELETE ``path`` and return the response."""
        return self.request("DELETE", path, not_found=not_found, timeout=timeout)

    # -- the one request loop --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: Timeout | None = None,
        idempotent: bool | None = None,
        not_found: NotFoundSpec | None = None,
        accept_json: bool = True,
    ) -> requests.Response:
        """Send one call, retrying as the policy allows; return a 2xx/3xx response.

        Parameters
        ----------
        method
            HTTP method.
        path
            Path below ``base_url`` (starting with ``/``), or a full ``http(s)://`` URL.
        params
            Query parameters (a list value repeats the parameter).
        body
            JSON body: a ``str`` is sent as is, anything else is JSON-encoded.
        timeout
            ``(connect, read)`` seconds for this call; the transport's default otherwise.
        idempotent
            Whether the call may be repeated after it may have reached the service; by default
            true for the policy's idempotent methods.
        not_found
            Exception class and message start for a 404.
        accept_json
            Send ``Accept: application/json``.

        Raises
        ------
        QRTError
            The mapped error (see :func:`error_for`).
        """
        method = method.upper()
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if idempotent is None:
            idempotent = method in self.retry.idempotent_methods
        call_headers = dict(self._headers)
        if accept_json:
            call_headers["Accept"] = "application/json"
        data: str | None = None
        if body is not None:
            data = body if isinstance(body, str) else json.dumps(body)
            call_headers["Content-Type"] = "application/json"
        log_path = urlsplit(url).path

        attempt = 0
        slept = 0.0
        refreshed_auth = False
        while True:
            attempt += 1
            try:
                response = self._send(method, url, params, data, call_headers, timeout)
            except TransportError:
                # Only the auth hook raises this: IAM gave no token, so the call never left and
                # is as safe to retry as a refused connection.
                delay = self.retry.backoff(attempt)
                if not self._may_retry(attempt, slept, delay):
                    raise
                slept += self._wait(delay, method, log_path, "IAM unreachable")
                continue
            except requests.RequestException as exc:
                logger.debug(
                    "%s %s -> %s (attempt %d)", method, log_path, type(exc).__name__, attempt
                )
                reached = not never_reached_server(exc)
                retryable = isinstance(
                    exc, requests.ConnectionError | requests.Timeout
                ) and not isinstance(exc, requests.exceptions.SSLError)
                if retryable and (idempotent or not reached):
                    delay = self.retry.backoff(attempt)
                    if self._may_retry(attempt, slept, delay):
                        slept += self._wait(delay, method, log_path, type(exc).__name__)
                        continue
                raise error_for(
                    method,
                    url,
                    exception=exc,
                    attempts=attempt,
                    may_have_been_processed=reached and not idempotent,
                ) from None
            status = response.status_code
            logger.debug("%s %s -> %d (attempt %d)", method, log_path, status, attempt)
            if status < 400:
                return response
            if status == 401 and not refreshed_auth and invalidate_token(self.auth):
                # A token the service no longer accepts (revoked early): fetch a new one, once.
                refreshed_auth = True
                response.close()
                continue
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 or (status in self.retry.retry_statuses and idempotent):
                if status == 429 and retry_after is not None:
                    delay = min(retry_after, self.retry.retry_after_max)
                else:
                    delay = self.retry.backoff(attempt)
                if self._may_retry(attempt, slept, delay):
                    response.close()
                    slept += self._wait(delay, method, log_path, str(status))
                    continue
            raise error_for(
                method,
                url,
                response=response,
                attempts=attempt,
                may_have_been_processed=not idempotent,
                not_found=not_found,
                retry_after=retry_after,
            )

    def _may_retry(self, attempt: int, slept: float, delay: float) -> bool:
        return attempt <= self.retry.max_retries and slept + delay <= self.retry.max_total_sleep

    def _wait(self, delay: float, method: str, path: str, why: str) -> float:
        logger.info("%s %s: %s, retrying in %.1f s", method, path, why, delay)
        self._sleep(delay)
        return delay

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: str | None,
        headers: dict[str, str],
        timeout: Timeout | None,
    ) -> requests.Response:
        return self._session.request(
            method,
            url,
            params=dict(params or {}),
            data=data,
            headers=headers,
            auth=self.auth,
            timeout=timeout or self.timeout,
            verify=self._verify,
            proxies=self._proxies,
        )

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            parts = urlsplit(response.url or "")
            raise APIError(
                f"The service answered {response.request.method} {parts.path} with something that "
                f"is not JSON ({response.headers.get('Content-Type', 'no content type')}). Check "
                "that the service URL points at the runtime API.",
                status_code=response.status_code,
            ) from None
