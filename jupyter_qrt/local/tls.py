"""TLS for the local runtime service: the server's SSL context from PEM files.

::

    context = server_tls_context("cert.pem", "key.pem")   # ValueError with a clear message
    HTTPServer(app, ssl_options=context)

A service reachable from other machines must use it: clients send API keys and bearer tokens
with every call (:class:`~jupyter_qrt.local.server.LocalService` refuses plain HTTP off loopback).
"""

from __future__ import annotations

import logging
import os
import ssl

__all__ = ["server_tls_context"]

logger = logging.getLogger(__name__)


def server_tls_context(
    certfile: str | os.PathLike[str], keyfile: str | os.PathLike[str] | None = None
) -> ssl.SSLContext:
    """A server-side SSL context presenting the certificate in ``certfile``.

    Parameters
    ----------
    certfile
        PEM file of the certificate (its chain may follow it).
    keyfile
        PEM file of its private key (unencrypted); ``None`` when ``certfile`` holds it too.

    Returns
    -------
    ssl.SSLContext
        TLS 1.2 or later, Python's default ciphers; no client certificates asked for.

    Raises
    ------
    ValueError
        A file is missing or unreadable, not PEM, or the key does not match the certificate.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        # An encrypted key would make OpenSSL prompt on the terminal: refuse it instead.
        context.load_cert_chain(certfile, keyfile, password=_no_password)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        key = f" and key {os.fspath(keyfile)}" if keyfile is not None else ""
        reason = _reason(exc)
        raise ValueError(
            f"Cannot use the TLS certificate {os.fspath(certfile)}{key}: {reason}. Give "
            "--certfile a PEM certificate and --keyfile its unencrypted private key."
        ) from exc
    logger.debug("TLS certificate loaded from %s", os.fspath(certfile))
    return context


def _reason(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError):
        # OpenSSL's codes say little to a user ("PEM lib"): name the two usual mistakes.
        if exc.reason == "KEY_VALUES_MISMATCH":
            return "the private key does not belong to the certificate"
        detail = f" ({exc.reason})" if exc.reason else ""
        return f"not a PEM certificate and private key{detail}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _no_password() -> str:
    raise ValueError("the private key is encrypted")
