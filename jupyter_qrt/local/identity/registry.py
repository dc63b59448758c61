"""Instances, API keys and usage of the local runtime service.

An instance has a CRN-shaped id (``crn:v1:bluemix:public:quantum-computing:local:a/<account>:
<id>::``), a plan name, and an optional usage limit in seconds; jobs consume its usage. An API key
is bound to one instance and one user id. Keys are stored as salted scrypt hashes, never as
text: a key is shown once, when it is created. The out-of-the-box key is also kept in a 0600 file
(``default-key``) in the data dir so that the service can print it when it starts.

A key looks like ``qrt_<key id>_<secret>``; the key id finds the row, the secret is checked
against the hash. Verified keys are cached in memory (by a SHA-256 of the key) because scrypt is
deliberately slow; a cached key is still looked up, so that a revocation by another process
counts at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_qrt.local.service_error import (
    USAGE_LIMIT_REACHED,
    ServiceError,
    bad_request,
    conflict,
    not_found,
)
from jupyter_qrt.local.store.database import Store
from jupyter_qrt.local.store.timestamps import iso_z
from jupyter_qrt.local.store.usage import limit_reached
from jupyter_qrt.runtime.redact import mask_secret

from .keys import key_id_of, key_matches, new_key, read_key_file, split_key, write_key_file
from .records import (
    InstanceInfo,
    KeyInfo,
    instance_info,
    key_info,
    pricing_type,
)

__all__ = [
    "DEFAULT_INSTANCE_NAME",
    "DEFAULT_KEY_FILENAME",
    "DEFAULT_KEY_NAME",
    "IdentityRegistry",
]

log = logging.getLogger(__name__)

DEFAULT_INSTANCE_NAME = "local"
DEFAULT_KEY_NAME = "default"
DEFAULT_KEY_FILENAME = "default-key"
DEFAULT_USER_ID = "local-user"

#: The most a usage limit can be (about 31 700 years): beyond it a number is surely a mistake.
_MAX_LIMIT_SECONDS = 1e12


class IdentityRegistry:
    """Instances, keys and usage, stored in the service's database.

    Parameters
    ----------
    store
        The open store.
    data_dir
        Where the ``default-key`` file lives.
    clock
        Returns the current POSIX time.
    """

    def __init__(self, store: Store, data_dir: Path, clock: Callable[[], float]) -> None:
        self._store = store
        self._data_dir = data_dir
        self._clock = clock
        self._verified: dict[bytes, KeyInfo] = {}
        self._cache_lock = threading.Lock()

    # ----------------------------------------------------------------- defaults
    def ensure_defaults(self) -> tuple[InstanceInfo, str]:
        """Create the default instance and key if missing; return them.

        The key comes from the ``default-key`` file. If the file is gone (or no longer matches),
        a new default key replaces the old one: the hash alone cannot give the key back.
        """
        account = self._store.get_meta("account_id")
        if account is None:
            account = secrets.token_hex(16)
            self._store.set_meta("account_id", account)
        default_crn = self._store.get_meta("default_instance")
        if default_crn is None:
            info = self.create_instance(DEFAULT_INSTANCE_NAME, plan="open")
            self._store.set_meta("default_instance", info.crn)
            default_crn = info.crn
        instance = self.instance(default_crn)
        key_file = self._data_dir / DEFAULT_KEY_FILENAME
        key = read_key_file(key_file)
        if key is None or self.verify(key) is None:
            with self._store.transaction() as conn:
                conn.execute("DELETE FROM keys WHERE name = ?", (DEFAULT_KEY_NAME,))
            key = self.create_key(default_crn, DEFAULT_KEY_NAME, user_id=DEFAULT_USER_ID)
            write_key_file(key_file, key)
            log.info("Created a new default API key (%s) in %s", mask_secret(key), key_file)
        return instance, key

    # ---------------------------------------------------------------- instances
    def create_instance(
        self,
        name: str,
        plan: str = "open",
        usage_limit_seconds: float | None = None,
        tags: tuple[str, ...] = (),
    ) -> InstanceInfo:
        """Create an instance; its name must be new."""
        name = _checked_name(name, "instance name")
        plan = _checked_name(plan, "plan name").lower()
        limit = _checked_limit(usage_limit_seconds)
        account = self._store.get_meta("account_id") or secrets.token_hex(16)
        crn = f"crn:v1:bluemix:public:quantum-computing:local:a/{account}:{secrets.token_hex(16)}::"
        pricing = pricing_type(plan) or "unknown"
        with self._store.transaction() as conn:
            if conn.execute("SELECT 1 FROM instances WHERE name = ?", (name,)).fetchone():
                raise conflict(f"An instance named {name!r} exists already; choose another name.")
            conn.execute(
                "INSERT INTO instances(crn, name, plan, pricing_type, usage_limit_seconds, "
                "created, tags) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (crn, name, plan, pricing, limit, self._clock(), json.dumps(list(tags))),
            )
        return self.instance(crn)

    def list_instances(self) -> list[InstanceInfo]:
        """Every instance, oldest first."""
        with self._store.reading() as conn:
            rows = conn.execute("SELECT * FROM instances ORDER BY created, name").fetchall()
        return [instance_info(row) for row in rows]

    def instance(self, crn: str) -> InstanceInfo:
        """The instance of that CRN (404 if unknown)."""
        return instance_info(self._instance_row(crn))

    def instance_by_name(self, name: str) -> InstanceInfo:
        """The instance of that name (404 if unknown)."""
        with self._store.reading() as conn:
            row = conn.execute("SELECT * FROM instances WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise not_found(
                f"No instance is named {name!r}. List them with `jupyter-qrt instances`."
            )
        return instance_info(row)

    def set_usage_limit(self, crn: str, seconds: float | None) -> InstanceInfo:
        """Set (or with None remove) the instance's usage limit in seconds."""
        limit = _checked_limit(seconds)
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "UPDATE instances SET usage_limit_seconds = ? WHERE crn = ?", (limit, crn)
            )
            if cursor.rowcount == 0:
                raise _unknown_instance(crn)
        return self.instance(crn)

    def reset_usage(self, crn: str) -> InstanceInfo:
        """Set the instance's consumed usage back to zero (a new teaching period)."""
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "UPDATE instances SET usage_consumed_seconds = 0 WHERE crn = ?", (crn,)
            )
            if cursor.rowcount == 0:
                raise _unknown_instance(crn)
        return self.instance(crn)

    def usage(self, crn: str) -> dict[str, Any]:
        """The ``GET /instances/usage`` body of the instance."""
        row = self._instance_row(crn)
        consumed = float(row["usage_consumed_seconds"])
        limit = row["usage_limit_seconds"]
        body: dict[str, Any] = {
            "instance_id": crn,
            "plan_id": row["plan"],
            "usage_consumed_seconds": round(consumed, 3),
            "usage_limit_reached": limit is not None and consumed >= float(limit),
            "usage_period": {"start_time": iso_z(float(row["created"])), "end_time": None},
        }
        # The official client subtracts from these keys when present, so they only appear with
        # a number in them.
        if limit is not None:
            body["usage_limit_seconds"] = float(limit)
            body["usage_allocation_seconds"] = float(limit)
            body["usage_remaining_seconds"] = round(max(float(limit) - consumed, 0.0), 3)
        return body

    def check_usage_allows_jobs(self, conn: sqlite3.Connection, crn: str) -> None:
        """Raise the IBM-style 403 when the instance has used up its limit."""
        if conn.execute("SELECT 1 FROM instances WHERE crn = ?", (crn,)).fetchone() is None:
            raise _unknown_instance(crn)
        reached = limit_reached(conn, crn)
        if reached is not None:
            name, limit = reached
            raise ServiceError(
                403,
                f"The instance {name!r} has reached its usage limit of {limit:g} s "
                "and accepts no new jobs. Ask its administrator to raise the limit "
                "(`jupyter-qrt instances set-limit`) or use another instance.",
                USAGE_LIMIT_REACHED,
                "Raise the instance's usage limit, or submit the job to another instance.",
            )

    # --------------------------------------------------------------------- keys
    def create_key(self, instance_crn: str, name: str, *, user_id: str | None = None) -> str:
        """Create a key bound to the instance; return the key (it is never shown again)."""
        name = _checked_name(name, "key name")
        self._instance_row(instance_crn)
        made = new_key()
        with self._store.transaction() as conn:
            if conn.execute("SELECT 1 FROM keys WHERE name = ?", (name,)).fetchone():
                raise conflict(f"A key named {name!r} exists already; choose another name.")
            conn.execute(
                "INSERT INTO keys(key_id, name, instance_crn, user_id, salt, key_hash, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    made.key_id,
                    name,
                    instance_crn,
                    user_id or name,
                    made.salt,
                    made.digest,
                    self._clock(),
                ),
            )
        return made.key

    def verify(self, api_key: str) -> KeyInfo | None:
        """The key's binding, or None for an unknown, revoked or malformed key."""
        if not isinstance(api_key, str):
            return None
        fingerprint = hashlib.sha256(api_key.encode()).digest()
        with self._cache_lock:
            cached = self._verified.get(fingerprint)
        if cached is not None:
            # The cache spares the scrypt, not the lookup: a key revoked by another process
            # (the command line, next to a running service) must stop working at once.
            if self.key_exists(cached.key_id):
                return cached
            with self._cache_lock:
                self._verified.pop(fingerprint, None)
            return None
        split = split_key(api_key)
        if split is None:
            return None
        key_id, secret = split
        with self._store.reading() as conn:
            row = conn.execute("SELECT * FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        if row is None:
            return None
        if not key_matches(secret, bytes(row["salt"]), bytes(row["key_hash"])):
            return None
        info = key_info(row)
        with self._cache_lock:
            self._verified[fingerprint] = info
        return info

    def key_exists(self, key_id: str) -> bool:
        """Whether a key of that id exists (revoked keys do not)."""
        with self._store.reading() as conn:
            row = conn.execute("SELECT 1 FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        return row is not None

    def list_keys(self) -> list[KeyInfo]:
        """Every key's binding, oldest first."""
        with self._store.reading() as conn:
            rows = conn.execute("SELECT * FROM keys ORDER BY created, name").fetchall()
        return [key_info(row) for row in rows]

    def revoke_key(self, key_id_or_name: str) -> None:
        """Revoke a key by id or name (404 if unknown; the default key cannot be revoked).

        The key itself (``qrt_<id>_<secret>``) is taken too, for its id; it is never repeated
        back whole.
        """
        key_id = key_id_of(key_id_or_name)
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT key_id, name FROM keys WHERE key_id = ? OR name = ?",
                (key_id_or_name, key_id_or_name),
            ).fetchone()
            if row is None and key_id is not None:
                row = conn.execute(
                    "SELECT key_id, name FROM keys WHERE key_id = ?", (key_id,)
                ).fetchone()
            if row is None:
                wanted = (
                    f"the id {key_id!r} of the API key {mask_secret(key_id_or_name)}"
                    if key_id is not None
                    else f"the id or name {key_id_or_name!r}"
                )
                raise not_found(f"No key has {wanted}. List them with `jupyter-qrt keys list`.")
            if row["name"] == DEFAULT_KEY_NAME:
                raise conflict(
                    "The default key is how the embedded service signs itself in and cannot be "
                    "revoked. Create a key per person instead and revoke those."
                )
            conn.execute("DELETE FROM keys WHERE key_id = ?", (row["key_id"],))
        with self._cache_lock:
            self._verified = {
                fp: info for fp, info in self._verified.items() if info.key_id != row["key_id"]
            }

    # ------------------------------------------------------------------ helpers
    def _instance_row(self, crn: str) -> sqlite3.Row:
        with self._store.reading() as conn:
            row: sqlite3.Row | None = conn.execute(
                "SELECT * FROM instances WHERE crn = ?", (crn,)
            ).fetchone()
        if row is None:
            raise _unknown_instance(crn)
        return row


def _unknown_instance(crn: str) -> ServiceError:
    return not_found(
        f"No instance has the CRN {crn!r} on this service. "
        "List the instances with `jupyter-qrt instances`."
    )


def _checked_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"The {what} must be a non-empty string.")
    if len(value) > 100:
        raise bad_request(f"The {what} is longer than 100 characters; use a shorter one.")
    return value.strip()


def _checked_limit(value: object) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= _MAX_LIMIT_SECONDS
        or (isinstance(value, float) and math.isnan(value))
    ):
        # repr() of an integer of thousands of digits raises, and would fill the screen anyway.
        huge = isinstance(value, int) and value.bit_length() > 64
        shown = "a number far too large" if huge else repr(value)[:40]
        raise bad_request(
            f"A usage limit is a number of seconds from 0 to {_MAX_LIMIT_SECONDS:g}, or None for "
            f"no limit; got {shown}."
        )
    return float(value)
