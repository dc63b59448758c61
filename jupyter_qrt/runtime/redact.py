"""Redacting secrets for display: the one rule every repr, log record and message follows."""

from __future__ import annotations

__all__ = ["mask_secret"]

_SHOWN = 4  # trailing characters that may be shown
_SHORTEST_SHOWN = 9  # below this, four characters would be half the secret or more


def mask_secret(secret: str | None) -> str:
    """Return ``secret`` reduced to its last four characters, for reprs, logs and messages.

    Parameters
    ----------
    secret
        An API key, a bearer token or a password.

    Returns
    -------
    str
        ``'...x7Qz'``; ``'****'`` for a secret of eight characters or fewer (fully masked) or one
        that is not a string; ``'<none>'`` for ``None`` or an empty string.
    """
    if secret is None or secret == "":
        return "<none>"
    if not isinstance(secret, str) or len(secret) < _SHORTEST_SHOWN:
        return "****"
    return "..." + secret[-_SHOWN:]
