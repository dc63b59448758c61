"""Credentials for the IBM Quantum Platform: IAM bearer tokens and the runtime headers.

Three ``requests`` auth hooks, composable:

- :class:`IAMAuth` exchanges an IBM Cloud API key for an IAM bearer token, caches it and refreshes
  it before it expires. Use it alone for account-level calls (Global Search, Global Catalog).
- :class:`BearerAuth` sends a bearer token obtained elsewhere (e.g. by the Jupyter server, which
  holds the key so the kernel never sees it).
- :class:`RuntimeAuth` (also named ``ServiceCRNAuth``) wraps either of them and adds what every
  runtime API call carries: ``Service-CRN`` and ``IBM-API-Version``.

The API key never leaves this module except in the body of the IAM request: it is not in any
``repr``, log line or exception message.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import AuthBase

from jupyter_qrt.runtime.errors import AuthError, QRTError, TransportError
from jupyter_qrt.runtime.redact import mask_secret

from .error_mapping import service_message, truncated

__all__ = [
    "IBM_API_VERSION",
    "BearerAuth",
    "IAMAuth",
    "RuntimeAuth",
    "ServiceCRNAuth",
    "invalidate_token",
]

logger = logging.getLogger(__name__)

IBM_API_VERSION = "2026-04-15"
"""Value of the ``IBM-API-Version`` header (the one qiskit-ibm-runtime 0.51.0 sends)."""

_IAM_GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"
_REFRESH_FRACTION = 0.2  # refresh once 80% of the token's life has passed, as the IBM SDK does
_EXPIRY_MARGIN_S = 10.0  # never send a token that has less than this left
_DEFAULT_LIFETIME_S = 300.0  # for an IAM answer that states no lifetime at all: be conservative
_NEW_KEY_HINT = (
    "Create a new API key on https://quantum.cloud.ibm.com (or https://cloud.ibm.com/iam/apikeys), "
    "save it for this account and log in again."
)


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float  # local clock: after this, fetch a new one (keep using this if that fails)
    expires_at: float  # local clock: after this, this token is never sent


def _jwt_claims(token: str) -> dict[str, Any]:
    """Decode a JWT's payload without checking its signature ({} if it is not a JWT)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _token_lifetime(token: str, body: dict[str, Any], now: float) -> float:
    """Seconds the token lives, from the JWT ``exp``/``iat`` or else IAM's own fields.

    The lifetime is anchored to the local clock at fetch time rather than comparing ``exp`` with
    the local clock, so a machine whose clock is off by minutes still refreshes on time.
    """
    claims = _jwt_claims(token)
    exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
    if exp is not None and iat is not None and exp > iat:
        return exp - iat
    expires_in = _number(body.get("expires_in"))
    if expires_in is not None and expires_in > 0:
        return expires_in
    expiration = _number(body.get("expiration")) or exp
    if expiration is not None and expiration > now:
        return expiration - now
    logger.debug("IAM token states no lifetime; assuming %.0f s", _DEFAULT_LIFETIME_S)
    return _DEFAULT_LIFETIME_S


def _iam_error_detail(response: requests.Response) -> str:
    """IAM's own words from an error answer (``errorMessage (code ...)``), or the status."""
    return (
        service_message(response) or f"HTTP {response.status_code} {response.reason or ''}".strip()
    )


class IAMAuth(AuthBase):
    """Exchange an IBM Cloud API key for IAM bearer tokens; attach ``Authorization: Bearer``.

    The token is fetched on first use, cached, and fetched again once 80% of its lifetime has
    passed (the cached token keeps being used if that early refresh fails) and always before the
    last 10 seconds of its life. At most one IAM request is in flight: threads that need a token
    while another thread fetches one wait for that answer instead of asking IAM themselves.

    Parameters
    ----------
    api_key
        The IBM Cloud API key. Never logged, never shown in ``repr`` or error messages.
    iam_url
        IAM base URL, e.g. ``https://iam.cloud.ibm.com`` (the request goes to
        ``{iam_url}/identity/token``).
    session
        ``requests.Session`` for the IAM calls (a private one when omitted).
    timeout
        ``(connect, read)`` seconds for the IAM call.
    clock
        Returns the current time in seconds (injectable for tests).
    verify
        TLS verification, as in ``requests``.
    proxies
        Proxies for the IAM call, as in ``requests``.

    Raises
    ------
    AuthError
        (when a token is needed) IAM rejected the API key.
    TransportError
        (when a token is needed) IAM could not be reached or failed.
    """

    def __init__(
        self,
        api_key: str,
        iam_url: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        clock: Callable[[], float] = time.time,
        verify: bool | str = True,
        proxies: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise AuthError("The API key is empty. " + _NEW_KEY_HINT)
        self._api_key = api_key.strip()
        self._token_url = iam_url.rstrip("/") + "/identity/token"
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._verify = verify
        self._proxies = proxies
        self._lock = threading.Lock()
        self._token: _Token | None = None
        # Every finished IAM attempt bumps the generation; a thread that waited through a failed
        # attempt re-raises that failure instead of asking IAM again (no request storm).
        self._generation = 0
        self._last_failure: QRTError | None = None

    def __repr__(self) -> str:
        return f"IAMAuth(api_key='{mask_secret(self._api_key)}', iam_url='{self._token_url}')"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def invalidate(self) -> bool:
        """Forget the cached token (e.g. after the service refused it); the next call fetches.

        Returns
        -------
        bool
            True: a new token can be fetched.
        """
        with self._lock:
            self._token = None
        return True

    def token(self) -> str:
        """Return a bearer token valid for at least 10 more seconds, fetching one if needed.

        Returns
        -------
        str
            The IAM access token (without the ``Bearer`` prefix).
        """
        cached = self._token
        now = self._clock()
        if cached is not None and now < cached.refresh_at:
            return cached.value
        if cached is not None and now < cached.expires_at:
            # Early refresh: one thread does it, the others keep using the still-valid token.
            if not self._lock.acquire(blocking=False):
                return cached.value
        else:
            generation = self._generation
            self._lock.acquire()
            if self._generation != generation and self._last_failure is not None:
                failure = self._last_failure
                self._lock.release()
                raise type(failure)(str(failure))
        try:
            return self._token_under_lock()
        finally:
            self._lock.release()

    def _token_under_lock(self) -> str:
        cached = self._token
        now = self._clock()
        if cached is not None and now < cached.refresh_at:
            return cached.value  # another thread refreshed it while we waited
        try:
            fresh = self._fetch()
        except (AuthError, TransportError) as exc:
            self._generation += 1
            self._last_failure = exc
            if isinstance(exc, TransportError) and cached is not None and now < cached.expires_at:
                logger.warning("IAM token refresh failed; using the current token: %s", exc)
                return cached.value
            raise
        self._generation += 1
        self._last_failure = None
        self._token = fresh
        return fresh.value

    def _fetch(self) -> _Token:
        started = self._clock()
        logger.debug("POST %s (API key %s)", self._token_url, mask_secret(self._api_key))
        try:
            response = self._session.post(
                self._token_url,
                data={
                    "grant_type": _IAM_GRANT_TYPE,
                    "apikey": self._api_key,
                    "response_type": "cloud_iam",
                },
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                verify=self._verify,
                proxies=self._proxies,
            )
        except requests.RequestException as exc:
            # "from None": the chained exception holds the request, whose body holds the key.
            raise TransportError(
                f"Could not reach IBM Cloud IAM at {self._token_url} to exchange the API key "
                f"({type(exc).__name__}: {truncated(str(exc), 200)}). Check the network "
                "connection and any proxy settings, then try again."
            ) from None
        logger.debug("POST %s -> %s", self._token_url, response.status_code)
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"The API key ({mask_secret(self._api_key)}) was rejected by IBM Cloud IAM: "
                f"{_iam_error_detail(response)}. " + _NEW_KEY_HINT
            )
        if not response.ok:
            raise TransportError(
                f"IBM Cloud IAM at {self._token_url} failed to issue a token: "
                f"{_iam_error_detail(response)}. Try again in a few minutes."
            )
        try:
            body = response.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            body, token = None, None
        if not isinstance(token, str) or not token or not isinstance(body, dict):
            raise TransportError(
                f"IBM Cloud IAM at {self._token_url} answered without an access token. "
                "Check that the IAM URL is right, then try again."
            )
        lifetime = _token_lifetime(token, body, started)
        margin = min(_EXPIRY_MARGIN_S, lifetime / 2)
        return _Token(
            value=token,
            refresh_at=started + min(lifetime * (1 - _REFRESH_FRACTION), lifetime - margin),
            expires_at=started + lifetime - margin,
        )


class BearerAuth(AuthBase):
    """Attach ``Authorization: Bearer <token>`` for a token obtained elsewhere.

    Parameters
    ----------
    token
        The bearer token (without the ``Bearer`` prefix).
    """

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise AuthError("The bearer token is empty: log in again to get a new one.")
        self._token = token.strip()

    def __repr__(self) -> str:
        return f"BearerAuth(token='{mask_secret(self._token)}')"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def invalidate_token(hook: AuthBase | None) -> bool:
    """Make ``hook`` forget its cached token, if it caches one; true if it can fetch a new one."""
    invalidate = getattr(hook, "invalidate", None)
    return bool(invalidate()) if callable(invalidate) else False


class RuntimeAuth(AuthBase):
    """Add the runtime API's headers to what another auth hook sends.

    Every runtime API call carries ``Authorization`` (from ``bearer``), ``Service-CRN`` (when a
    CRN is given) and ``IBM-API-Version``.

    Parameters
    ----------
    bearer
        The hook that adds ``Authorization`` (:class:`IAMAuth` or :class:`BearerAuth`); ``None``
        when something in between (e.g. a proxy) adds it.
    service_crn
        The instance CRN for ``Service-CRN``.
    """

    def __init__(self, bearer: AuthBase | None, service_crn: str | None = None) -> None:
        self.bearer = bearer
        self.service_crn = service_crn

    def __repr__(self) -> str:
        return f"RuntimeAuth({self.bearer!r}, service_crn={self.service_crn!r})"

    def invalidate(self) -> bool:
        """Forget the wrapped hook's cached token; true if it can fetch a new one."""
        return invalidate_token(self.bearer)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.bearer is not None:
            request = self.bearer(request)
        if self.service_crn:
            request.headers["Service-CRN"] = self.service_crn
        request.headers["IBM-API-Version"] = IBM_API_VERSION
        return request


ServiceCRNAuth = RuntimeAuth
"""Another name of :class:`RuntimeAuth`."""
