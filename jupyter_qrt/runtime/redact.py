"""Redacting secrets for display: the one rule every repr, log record and message follows."""

from __future__ import annotations

import re

__all__ = ["mask_secret", "shown_name"]

_SHOWN = 4  # trailing characters that may be shown
_SHORTEST_SHOWN = 9  # below this, four characters would be half the secret or more
# What an API key looks like: a long run of letters, digits, "-" and "_" (IBM Cloud keys have 44
# characters, local ones ~60). Account names that look like this are masked, in case a key was
# passed where a name goes (``RuntimeService("<key>")``).
_KEY_LIKE = re.compile(r"[A-Za-z0-9_\-]{24,}")


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


def shown_name(name: str) -> str:
    """``repr(name)`` for messages and logs, masked when it looks like an API key."""
    if isinstance(name, str) and _KEY_LIKE.fullmatch(name):
        return f"{mask_secret(name)!r} (masked: it looks like an API key)"
    return repr(name)
