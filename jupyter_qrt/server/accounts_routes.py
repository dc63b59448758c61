"""``/jupyter-qrt/accounts``: list and add accounts; ``accounts/<name>``: delete, set default.

Listing opens to users and kernels (names, channel, instance, plan, masked fingerprint: never a
key). Adding, changing and deleting open to users only (XSRF enforced for the browser), and are
refused with a clear message when the server does not allow user accounts.

``POST /jupyter-qrt/accounts`` takes ``{"name", "channel", "token", "instance", "url", "region",
"plans_preference", "set_default"}`` (``token`` required; ``channel`` defaults to
``ibm_quantum_platform``; a ``local`` account without ``url`` is a key of the embedded local
service). The key is checked before anything is saved (:mod:`.account_check`: IAM exchange, then
the instance through Global Search/Catalog, off the event loop) and the answer is ``201`` with
the account's summary and what was resolved, never the key. ``DELETE accounts/<name>`` answers
``204``; ``PATCH accounts/<name>`` with ``{"default": true}`` makes it the default (any account,
also ``local`` and read-only ones; see :mod:`.settings` for where that is kept). After every
change the environment of kernels started later is updated (``update_kernel_env``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NoReturn

from tornado import web

from jupyter_qrt.runtime.accounts import CHANNELS, DEFAULT_CHANNEL, Account
from jupyter_qrt.runtime.accounts.store import DEFAULT_ACCOUNT_NAMES
from jupyter_qrt.runtime.errors import AccountError, InvalidInputError

from .account_check import (
    CHECK_TIMEOUT_SECONDS,
    AccountCheckFailed,
    CheckedAccount,
    check_account,
)
from .callers import Caller, QRTHandler, callers
from .vault import LOCAL, AccountTaken, AccountUnknown, VaultRefused

__all__ = ["AccountHandler", "AccountsHandler", "account_fields"]

log = logging.getLogger(__name__)

_FIELDS = (
    "name",
    "channel",
    "token",
    "instance",
    "url",
    "region",
    "plans_preference",
    "set_default",
)


def _fail(status: int, message: str) -> NoReturn:
    # "%s": the message is data, never a format string (tornado formats log_message with args).
    raise web.HTTPError(status, "%s", message)


def _vault_error(exc: Exception) -> NoReturn:
    """The HTTP answer of an error the vault raised."""
    if isinstance(exc, VaultRefused):
        _fail(403, str(exc))
    if isinstance(exc, AccountTaken):
        _fail(409, str(exc))
    if isinstance(exc, AccountUnknown):
        _fail(404, str(exc))
    if isinstance(exc, InvalidInputError):
        _fail(400, str(exc))
    if isinstance(exc, AccountError):  # the accounts file is malformed or cannot be written
        _fail(500, f"{exc} Nothing was changed.")
    raise exc


def _optional_str(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        _fail(400, f"{field}: must be a string, got {type(value).__name__}.")
    return value.strip()


def account_fields(body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The ``Account`` arguments of a POST body and its ``set_default``, or a 400."""
    unknown = sorted(str(key) for key in body if key not in _FIELDS)
    if unknown:
        _fail(
            400,
            f"Unknown field {unknown[0]!r}. Send {', '.join(_FIELDS)} (token required).",
        )
    token = body.get("token")
    if not isinstance(token, str) or not token.strip():
        _fail(400, "token: the API key is missing; send it as a non-empty string.")
    channel = body.get("channel") or DEFAULT_CHANNEL
    if channel not in CHANNELS:
        _fail(400, f"channel: must be one of {', '.join(CHANNELS)}.")
    name = body.get("name") or DEFAULT_ACCOUNT_NAMES[str(channel)]
    if not isinstance(name, str):
        _fail(400, "name: must be a string.")
    plans = body.get("plans_preference")
    if plans is not None and (
        not isinstance(plans, list) or not all(isinstance(p, str) for p in plans)
    ):
        _fail(400, 'plans_preference: must be a list of plan names, e.g. ["open"].')
    set_default = body.get("set_default", False)
    if not isinstance(set_default, bool):
        _fail(400, "set_default: must be true or false.")
    fields = {
        "name": name.strip(),
        "channel": channel,
        "token": token.strip(),
        "instance": _optional_str(body, "instance"),
        "url": _optional_str(body, "url"),
        "region": _optional_str(body, "region"),
        "plans_preference": plans,
    }
    return fields, set_default


class AccountsHandler(QRTHandler):
    """``GET`` the accounts; ``POST`` a new one."""

    @callers(Caller.USER, Caller.KERNEL)
    async def get(self) -> None:
        """Every account's summary, and which is the default."""
        vault = self.qrt.vault
        self.finish(
            {
                "accounts": vault.summaries(),
                "default": vault.default_name(),
                "allow_user_accounts": vault.allow_user_accounts,
            }
        )

    @callers(Caller.USER, action="write")
    async def post(self) -> None:
        """Check a new account's key and instance, then save it; 201 with its summary."""
        qrt = self.qrt
        vault = qrt.vault
        fields, set_default = account_fields(self.json_body())
        try:
            vault.check_new_name(fields["name"])
        except (VaultRefused, AccountTaken, InvalidInputError) as exc:
            _vault_error(exc)
        on_embedded = fields["channel"] == LOCAL and fields["url"] is None
        always: list[str] = []
        service = qrt.embedded.service
        if service is not None:
            always.append(f"127.0.0.1:{service.port}")
        if on_embedded:
            if service is None:
                _fail(
                    503,
                    "A 'local' account without a url is a key of the embedded local service, "
                    "which is not running: "
                    + str(qrt.embedded.health().get("message", "it is starting; try again soon.")),
                )
            fields["url"] = service.url
        try:
            account = Account(**{k: v for k, v in fields.items() if v is not None})
        except InvalidInputError as exc:
            _fail(400, str(exc))
        checked = await self._checked(account, always)
        try:
            name = await asyncio.to_thread(
                vault.add, checked.account, set_default=set_default, embedded=on_embedded
            )
        except (VaultRefused, AccountTaken, InvalidInputError, AccountError) as exc:
            _vault_error(exc)
        qrt.update_kernel_env()
        self.set_status(201)
        self.finish(
            {
                "account": vault.summary(name),
                "default": vault.default_name(),
                "message": f"Saved the account {name!r}. {checked.message}",
            }
        )

    async def _checked(self, account: Account, always: list[str]) -> CheckedAccount:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(
                    check_account,
                    account,
                    allowed_hosts=list(self.qrt.allowed_hosts),
                    always_allowed=always,
                ),
                CHECK_TIMEOUT_SECONDS,
            )
        except AccountCheckFailed as exc:
            _fail(exc.status, str(exc))
        except TimeoutError:
            _fail(
                504,
                f"Checking the API key took longer than {CHECK_TIMEOUT_SECONDS:.0f} s (IAM or "
                "Global Search is slow or unreachable). Nothing was saved; try again later.",
            )


class AccountHandler(QRTHandler):
    """``DELETE`` an account; ``PATCH`` it (``{"default": true}``)."""

    @callers(Caller.USER, action="write")
    async def delete(self, name: str) -> None:
        """Delete a saved account (204); ``local`` and read-only accounts are refused (403)."""
        try:
            await asyncio.to_thread(self.qrt.vault.delete, name)
        except (VaultRefused, AccountUnknown, AccountError) as exc:
            _vault_error(exc)
        self.qrt.update_kernel_env()
        self.set_status(204)
        self.finish()

    @callers(Caller.USER, action="write")
    async def patch(self, name: str) -> None:
        """``{"default": true}``: make ``name`` the default account for kernels started later."""
        body = self.json_body()
        if body != {"default": True}:
            _fail(
                400,
                'Send {"default": true} to make this account the default (to change the '
                "default, make another account the default).",
            )
        vault = self.qrt.vault
        try:
            await asyncio.to_thread(vault.set_default, name)
        except (AccountUnknown, AccountError) as exc:
            _vault_error(exc)
        self.qrt.update_kernel_env()
        self.finish({"account": vault.summary(name), "default": vault.default_name()})
