"""When the runtime client retries a call, and how long it waits.

The rules (applied by :class:`~jupyter_qrt.runtime.http.transport.Transport`):

- A call is retried after a connection that was never established (connection refused, DNS
  failure, connect timeout), and after ``429 Too Many Requests`` (waiting ``Retry-After``): the
  service did not act on it, whatever the method.
- Idempotent calls (GET, HEAD, PUT, DELETE, OPTIONS, or ``idempotent=True``) are also retried after
  a 5xx status or a connection lost after sending (read timeout, reset).
- Any other call, in particular ``POST /jobs``, is never sent twice once it may have reached the
  service: a duplicate job costs the user real quantum time.
- Retries and the total time spent sleeping are both bounded; waits back off exponentially with
  jitter.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import requests
import urllib3.exceptions as u3  # requests' own transport

__all__ = ["RetryPolicy", "never_reached_server", "parse_retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long the transport retries.

    Parameters
    ----------
    max_retries
        Retries after the first attempt (so at most ``max_retries + 1`` requests).
    backoff_base
        First backoff in seconds; doubles with each retry.
    backoff_max
        Largest single backoff in seconds.
    max_total_sleep
        Total seconds one call may spend waiting between attempts.
    retry_after_max
        Largest ``Retry-After`` the transport waits for; a longer one is waited as this.
    jitter
        Fraction of each backoff replaced by a random share, so clients do not retry in step.
    retry_statuses
        Statuses retried for idempotent calls.
    idempotent_methods
        Methods retried after a 5xx or a connection lost after sending.
    """

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    max_total_sleep: float = 90.0
    retry_after_max: float = 60.0
    jitter: float = 0.5
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})
    idempotent_methods: frozenset[str] = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based), jitter included."""
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return delay * (1 - self.jitter) + delay * self.jitter * random.random()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    Parameters
    ----------
    value
        The header value, or ``None``.
    now
        Current time (seconds since the epoch) for HTTP dates; ``time.time()`` when omitted.

    Returns
    -------
    float or None
        Non-negative seconds, or ``None`` when the header is absent or unreadable.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def never_reached_server(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so the service cannot have acted."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ReadTimeout):
        return False
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    # requests wraps urllib3's errors (often inside MaxRetryError); walk the chain.
    seen: list[object] = []
    item: object = exc
    while item is not None and item not in seen and len(seen) < 10:
        seen.append(item)
        if isinstance(item, u3.NewConnectionError | u3.ConnectTimeoutError):
            return True
        if isinstance(item, u3.ProtocolError | u3.ReadTimeoutError):
            return False
        nxt: object = getattr(item, "reason", None)
        if nxt is None and isinstance(item, BaseException):
            nxt = item.args[0] if item.args else None
            if not isinstance(nxt, BaseException):
                nxt = item.__cause__ or item.__context__
        item = nxt
    return False
