"""IAM of the local runtime service: API keys exchanged for signed, JWT-shaped bearer tokens.

IBM Cloud IAM answers ``POST /identity/token`` with a JWT whose ``iat``/``exp`` claims the
clients read (they never check the signature). The local service does the same, and signs the
token with HMAC-SHA256 under a secret kept in its data dir, so that it can check every bearer it
receives without a database lookup: signature, expiry, and the key and instance it was issued for.

Tokens are ``base64url(header).base64url(payload).base64url(signature)`` without padding, the
payload holding ``iat``, ``exp``, ``sub`` (the key id), ``iam_id``, ``account`` and
``instance_crn`` (the instance the key is bound to).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jupyter_qrt.runtime.accounts.crn import CRN
from jupyter_qrt.runtime.errors import InvalidInputError

__all__ = [
    "APIKEY_GRANT_TYPE",
    "IAM_ERROR_KEY_NOT_FOUND",
    "SECRET_FILE_NAME",
    "TOKEN_LIFETIME_SECONDS",
    "BearerRejected",
    "KeyIdentity",
    "TokenClaims",
    "TokenSigner",
    "account_of_crn",
    "load_or_create_secret",
]

logger = logging.getLogger(__name__)


APIKEY_GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"
"""The only grant type the local IAM serves: an API key for a token."""

TOKEN_LIFETIME_SECONDS = 3600
"""How long a bearer token is valid, as IBM Cloud IAM's (one hour)."""

SECRET_FILE_NAME = "iam-signing-secret"
"""File in the data dir holding the token signing secret (hex, mode 0600)."""

IAM_ERROR_KEY_NOT_FOUND = "BXNIM0415E"
"""IBM Cloud IAM's error code for an API key it does not know."""

_ISSUER = "jupyter-qrt-local"
_HEADER = {"alg": "HS256", "typ": "JWT"}
_SECRET_BYTES = 32


class KeyIdentity(Protocol):
    """What a token is issued for: an API key bound to one instance (the core's ``KeyInfo``)."""

    @property
    def key_id(self) -> str: ...

    @property
    def instance_crn(self) -> str: ...

    @property
    def user_id(self) -> str: ...


@dataclass(frozen=True)
class TokenClaims:
    """The checked claims of a bearer token.

    Attributes
    ----------
    key_id
        Id of the API key the token was issued for (``sub``).
    user_id
        The key's user (``iam_id``).
    account_id
        The account owning the instance (``account.bss``).
    instance_crn
        The instance the key is bound to.
    issued_at, expires_at
        ``iat`` and ``exp``, seconds since the epoch.
    """

    key_id: str
    user_id: str
    account_id: str
    instance_crn: str
    issued_at: int
    expires_at: int


class BearerRejected(Exception):
    """A bearer token that is missing, malformed, forged or expired; the message says which."""


def account_of_crn(crn: str) -> str:
    """The account id in an instance CRN (``...:a/<account>:<instance>::``), or ``""``."""
    try:
        return CRN.parse(crn).account_id
    except InvalidInputError:
        return ""


def load_or_create_secret(path: str | os.PathLike[str]) -> bytes:
    """The signing secret stored at ``path``, created (mode 0600) on first use.

    Two processes starting on the same data dir at once agree on one secret: each writes its
    own temporary file and links it into place (atomic, and refused if the file exists), so the
    file is never seen half written, and the loser of the race reads the winner's.

    Raises
    ------
    OSError
        The file cannot be read or written; the message names it.
    """
    secret_path = Path(path)
    try:
        return _read_secret(secret_path)
    except FileNotFoundError:
        pass
    secret_path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(_SECRET_BYTES)
    tmp = secret_path.with_name(f".{secret_path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (value + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, secret_path)
        except FileExistsError:
            return _read_secret(secret_path)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("Created the IAM signing secret %s", secret_path)
    return bytes.fromhex(value)


def _read_secret(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) < 16:
        raise OSError(
            f"The IAM signing secret {path} is damaged; delete it and restart the service "
            "(tokens issued before then stop working)."
        )
    return value


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Issues and checks the service's bearer tokens.

    Parameters
    ----------
    secret
        The HMAC-SHA256 key (see :func:`load_or_create_secret`).
    lifetime_seconds
        Validity of a token.
    clock
        Seconds since the epoch; injectable for tests of expiry.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("The signing secret must be at least 16 bytes long.")
        if lifetime_seconds <= 0:
            raise ValueError("lifetime_seconds must be positive.")
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock

    @classmethod
    def from_data_dir(
        cls,
        data_dir: str | os.PathLike[str],
        *,
        lifetime_seconds: int = TOKEN_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> TokenSigner:
        """A signer whose secret lives in ``data_dir`` (created on first use, mode 0600)."""
        secret = load_or_create_secret(Path(data_dir) / SECRET_FILE_NAME)
        return cls(secret, lifetime_seconds=lifetime_seconds, clock=clock)

    def _signature(self, signing_input: bytes) -> str:
        return _b64encode(hmac.new(self._secret, signing_input, hashlib.sha256).digest())

    def issue(self, key: KeyIdentity) -> dict[str, Any]:
        """The body of IAM's answer to an API key exchange, with a fresh token for ``key``.

        Returns
        -------
        dict
            ``access_token``, ``refresh_token`` (``"not_supported"``, as IAM says for API
            keys), ``token_type``, ``expires_in``, ``expiration``, ``scope``, ``ims_user_id``.
        """
        now = int(self._clock())
        expires = now + self.lifetime_seconds
        account = account_of_crn(key.instance_crn)
        payload = {
            "iss": _ISSUER,
            "iat": now,
            "exp": expires,
            "sub": key.key_id,
            "sub_type": "APIKey",
            "iam_id": key.user_id,
            "account": {"bss": account, "valid": True},
            "instance_crn": key.instance_crn,
            "grant_type": APIKEY_GRANT_TYPE,
            "scope": "ibm openid",
            "jti": secrets.token_hex(8),
        }
        head = _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())
        body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
        signing_input = f"{head}.{body}".encode("ascii")
        token = f"{head}.{body}.{self._signature(signing_input)}"
        return {
            "access_token": token,
            "refresh_token": "not_supported",
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
            "expiration": expires,
            "scope": "ibm openid",
            # IAM gives a number here; a stable one per user is all a client could use.
            "ims_user_id": zlib.crc32(key.user_id.encode("utf-8")),
        }

    def verify(self, token: str) -> TokenClaims:
        """The claims of ``token`` once its signature and expiry are checked.

        Raises
        ------
        BearerRejected
            The token is malformed, not signed by this service, or expired.
        """
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise BearerRejected(
                "The bearer token is not a token of this service: get a new one from "
                "POST /identity/token."
            )
        head, body, signature = parts
        expected = self._signature(f"{head}.{body}".encode("ascii", "replace"))
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            raise BearerRejected(
                "The bearer token was not issued by this service (bad signature): get a new one "
                "from POST /identity/token with your API key."
            )
        try:
            claims = json.loads(_b64decode(body))
        except (ValueError, binascii.Error, UnicodeError) as exc:
            raise BearerRejected("The bearer token's payload cannot be read.") from exc
        if not isinstance(claims, dict):
            raise BearerRejected("The bearer token's payload cannot be read.")
        try:
            issued = int(claims["iat"])
            expires = int(claims["exp"])
            key_id = str(claims["sub"])
            user_id = str(claims.get("iam_id", ""))
            crn = str(claims["instance_crn"])
            account = claims.get("account")
            account_id = str(account.get("bss", "")) if isinstance(account, dict) else ""
        except (KeyError, TypeError, ValueError) as exc:
            raise BearerRejected("The bearer token lacks the claims this service needs.") from exc
        if self._clock() >= expires:
            raise BearerRejected(
                "The bearer token has expired: get a new one from POST /identity/token "
                "(clients do this by themselves with the API key)."
            )
        return TokenClaims(
            key_id=key_id,
            user_id=user_id,
            account_id=account_id,
            instance_crn=crn,
            issued_at=issued,
            expires_at=expires,
        )
