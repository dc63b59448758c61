"""The one mapping from a failed HTTP call to the runtime client's error tree.

:func:`error_for` turns an error answer (or a call that got no answer) into one exception of
:mod:`jupyter_qrt.runtime.errors`, whose message carries the service's own words, parsed by
:func:`service_message` from whichever error body shape the service used, and what to do next.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from jupyter_qrt.runtime.errors import (
    APIError,
    AuthError,
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    QRTError,
    RateLimitedError,
    TransportError,
)

__all__ = ["NotFoundSpec", "error_for", "service_message", "truncated"]

NotFoundSpec = tuple[type[NotFoundError], str]
"""What a 404 means to the caller: the exception class and the start of its message."""

_STATUS_PAGE = "https://quantum.cloud.ibm.com/announcements/service-alerts"
_MAX_DETAIL_CHARS = 300


def truncated(text: str, limit: int = _MAX_DETAIL_CHARS) -> str:
    """``text``, cut to ``limit`` characters (and "...") when longer: for details in messages."""
    return text if len(text) <= limit else text[:limit] + "..."


def service_message(response: requests.Response) -> str:
    """The service's own explanation in an error answer, whatever its body shape.

    Understands the runtime API's ``{"errors": [{"code", "message", "more_info"}], "trace"}``,
    the older ``{"error": {"message", "code"}}``, IAM's ``{"errorCode", "errorMessage"}`` and a
    plain ``{"message"}``; anything else gives the start of the body text.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    parts: list[str] = []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict) and item.get("message"):
                    text = str(item["message"])
                    if item.get("code") is not None:
                        text += f" (code {item['code']})"
                    if item.get("more_info"):
                        text += f"; more info: {item['more_info']}"
                    parts.append(text)
        error = body.get("error")
        if parts:
            pass  # ``error`` repeats the first of ``errors`` where a service sends both
        elif isinstance(error, dict) and error.get("message"):
            code = error.get("code")
            parts.append(str(error["message"]) + (f" (code {code})" if code is not None else ""))
        elif isinstance(error, str) and error:
            parts.append(error)
        if not parts and (body.get("errorMessage") or body.get("message")):
            code = body.get("errorCode") or body.get("code")
            text = str(body.get("errorMessage") or body.get("message"))
            parts.append(text + (f" (code {code})" if code else ""))
        if parts and body.get("trace"):
            parts[-1] += f" [trace {body['trace']}]"
    if not parts:
        text = (response.text or "").strip()
        if text:
            parts.append(truncated(text))
    return "; ".join(parts)


def _status_text(response: requests.Response) -> str:
    detail = service_message(response)
    status = f"{response.status_code} {response.reason or ''}".strip()
    return f"{status}: {detail}" if detail else status


def error_for(
    method: str,
    url: str,
    *,
    response: requests.Response | None = None,
    exception: BaseException | None = None,
    attempts: int = 1,
    may_have_been_processed: bool = False,
    not_found: NotFoundSpec | None = None,
    retry_after: float | None = None,
) -> QRTError:
    """Turn a failed call into the one exception the user sees.

    Parameters
    ----------
    method, url
        The call, for the message.
    response
        The error answer (status >= 400), if one came.
    exception
        The ``requests`` exception, when no answer came.
    attempts
        How many times the call was sent.
    may_have_been_processed
        The call was not idempotent and may have reached the service: the message warns.
    not_found
        Exception class and message start for a 404; :class:`NotFoundError` otherwise.
    retry_after
        Seconds the service asked to wait (429).

    Returns
    -------
    QRTError
        ``AuthError`` (401), ``ForbiddenError`` (403), the ``not_found`` class (404),
        ``InvalidStateError`` (409), ``RateLimitedError`` (429), ``TransportError`` (5xx, no
        answer), ``APIError`` (anything else).
    """
    parts = urlsplit(url)
    call = f"{method} {parts.path}"
    host = parts.netloc
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    unsure = (
        " The request was not repeated because the service may have acted on it: check whether "
        "it took effect (e.g. list your recent jobs) before trying again."
        if may_have_been_processed
        else ""
    )
    if response is None:
        kind = type(exception).__name__ if exception is not None else "no answer"
        detail = truncated(str(exception)) if exception is not None else ""
        if isinstance(exception, requests.exceptions.SSLError):
            return TransportError(
                f"TLS verification failed for {host} ({call}): {detail}. Check the service URL; "
                "behind a proxy with its own certificate, set verify to that CA bundle's path."
            )
        if isinstance(exception, requests.exceptions.ReadTimeout):
            return TransportError(
                f"{host} did not answer {call} in time{tries} ({kind}). The service may be slow "
                "or overloaded: try again in a minute." + unsure
            )
        return TransportError(
            f"Could not reach {host} for {call}{tries} ({kind}: {detail}). Check the network "
            "connection, proxy settings and the service URL, then try again." + unsure
        )

    status = response.status_code
    what = _status_text(response)
    if status == 401:
        return AuthError(
            f"The service refused the credentials for {call} ({what}). The API key or token is "
            "not valid (expired, deleted, or for another account): log in again, with a new API "
            "key if needed."
        )
    if status == 403:
        return ForbiddenError(
            f"The service does not allow {call} ({what}). The credentials are valid but lack "
            "access: check the instance CRN and that your IBM Cloud user has access to it."
        )
    if status == 404:
        cls, start = not_found or (
            NotFoundError,
            f"{host} has nothing at {parts.path}; check the name or id and the service URL.",
        )
        return cls(f"{start} ({call}: {what})")
    if status == 409:
        return InvalidStateError(
            f"The service refused {call} in the object's current state ({what}), e.g. the job "
            "has already finished.",
            status_code=status,
        )
    if status == 429:
        wait = f"wait {retry_after:.0f} s" if retry_after is not None else "wait a minute"
        return RateLimitedError(
            f"The service is limiting the rate of requests: {call} got {what}{tries}. "
            f"{wait.capitalize()} and try again, and poll less often.",
            retry_after=retry_after,
        )
    if status >= 500:
        return TransportError(
            f"The service failed to handle {call} ({what}){tries}. It may be overloaded or in "
            f"maintenance ({_STATUS_PAGE}): try again in a few minutes." + unsure
        )
    return APIError(
        f"The service refused {call} ({what}). Check the arguments of the call.",
        status_code=status,
    )
