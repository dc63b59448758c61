"""API keys of the local service: their shape, how they are made, checked and kept on disk.

A key is ``qrt_<key id>_<secret>``. The service stores the id and a salted scrypt hash of the
secret, never the secret; the default key is kept in a file readable by its owner only, so the
embedded service can sign itself in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "KEY_PREFIX",
    "NewKey",
    "key_id_of",
    "key_matches",
    "new_key",
    "read_key_file",
    "split_key",
    "write_key_file",
]

KEY_PREFIX = "qrt"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class NewKey(NamedTuple):
    """A key just made: what to store (id, salt, hash) and the key to hand out once."""

    key_id: str
    salt: bytes
    digest: bytes
    key: str


def new_key() -> NewKey:
    """A fresh key and what the service stores of it."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return NewKey(key_id, salt, digest, f"{KEY_PREFIX}_{key_id}_{secret}")


def key_matches(secret: str, salt: bytes, digest: bytes) -> bool:
    """Whether ``secret`` hashes to the stored ``digest`` (compared in constant time)."""
    return hmac.compare_digest(hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT), digest)


def split_key(api_key: str) -> tuple[str, str] | None:
    """``(key id, secret)`` of a key of the shape ``qrt_<key id>_<secret>``, else None."""
    # the secret may hold "_" itself
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    return parts[1], parts[2]


def key_id_of(text: str) -> str | None:
    """The key id of ``text`` when it has the shape of an API key (``qrt_<id>_<secret>``).

    ``None`` for anything else (a key id, a key name). Whatever holds the shape of a key is
    shown masked, never whole.
    """
    split = split_key(text)
    return split[0] if split is not None else None


def read_key_file(path: Path) -> str | None:
    """The key kept in ``path``, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def write_key_file(path: Path, key: str) -> None:
    """Keep ``key`` in ``path``, readable by its owner only."""
    # Written with 0600 from the first byte (no window where others can read it), then renamed
    # into place so that a reader never sees half a key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (key + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
