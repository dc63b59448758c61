"""The guard: no known API key is ever written into a file saved through Jupyter.

:class:`KeyGuard` is registered as a pre-save hook of the contents manager. It looks for every
key the vault holds (:meth:`~.vault.Vault.known_secrets`: saved accounts, read-only ones, the
classroom key taken from the environment, the embedded service's key) in the model being saved
(notebook cell sources, outputs, metadata and attachments; text files; base64 files), replaces
each with :data:`MARKER`, and logs a warning naming the file (never the key).

Keys shorter than :data:`MIN_KEY_LENGTH` characters are not looked for: a short string matches
ordinary text by chance and would corrupt files (real API keys are 44 characters or more).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .vault import Vault

__all__ = ["MARKER", "MIN_KEY_LENGTH", "KeyGuard", "redact"]

log = logging.getLogger(__name__)

MARKER = "<API key removed by jupyter-qrt: keys stay in the server's vault>"
"""What a key is replaced with in a saved file."""

MIN_KEY_LENGTH = 16
"""Keys shorter than this are not matched (too likely to occur in ordinary text)."""


def _redact_text(text: str, keys: list[str]) -> tuple[str, int]:
    found = 0
    for key in keys:
        if key in text:
            found += text.count(key)
            text = text.replace(key, MARKER)
    return text, found


def _redact_base64(data: str, keys: list[str]) -> tuple[str, int]:
    """A base64 payload with the keys removed from its decoded bytes (unchanged if none)."""
    try:
        raw = base64.b64decode(data.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return data, 0
    found = 0
    for key in keys:
        needle = key.encode()
        if needle in raw:
            found += raw.count(needle)
            raw = raw.replace(needle, MARKER.encode())
    if not found:
        return data, 0
    return base64.b64encode(raw).decode("ascii"), found


def _walk(node: Any, keys: list[str], *, in_attachments: bool = False) -> tuple[Any, int]:
    """``node`` (JSON-like) with every key redacted in its strings; dicts and lists in place."""
    if isinstance(node, str):
        text, found = _redact_text(node, keys)
        if in_attachments:  # attachment payloads are base64: look inside them too
            text, more = _redact_base64(text, keys)
            found += more
        return text, found
    total = 0
    if isinstance(node, dict):
        for key in list(node):
            value, found = _walk(
                node[key], keys, in_attachments=in_attachments or key == "attachments"
            )
            if found:
                node[key] = value
                total += found
    elif isinstance(node, list):
        for index, item in enumerate(node):
            value, found = _walk(item, keys, in_attachments=in_attachments)
            if found:
                node[index] = value
                total += found
    return node, total


def redact(model: dict[str, Any], keys: list[str]) -> int:
    """Remove ``keys`` from a contents model in place; returns how many were removed."""
    keys = sorted({k for k in keys if isinstance(k, str) and len(k) >= MIN_KEY_LENGTH}, key=len)
    # Longest first: a key that contains another is replaced whole.
    keys.reverse()
    content = model.get("content")
    if not keys or content is None:
        return 0
    kind = model.get("type")
    if kind == "notebook":
        _, found = _walk(content, keys)
        return found
    if kind == "file" and isinstance(content, str):
        if model.get("format") == "base64":
            model["content"], found = _redact_base64(content, keys)
        else:
            model["content"], found = _redact_text(content, keys)
        return found
    return 0


class KeyGuard:
    """The pre-save hook (see the module docstring)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def pre_save_hook(self, model: dict[str, Any], path: str, **kwargs: Any) -> None:
        """Redact every known key in ``model`` in place."""
        found = redact(model, self.vault.known_secrets())
        if found:
            log.warning(
                "jupyter-qrt: removed %d API key occurrence(s) from %s before saving it; keys "
                "stay in the server's vault (use an account name, e.g. %%qrt_login <name>, "
                "instead of a key in a notebook)",
                found,
                path,
            )
