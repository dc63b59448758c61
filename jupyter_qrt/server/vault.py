"""The vault: every account the server holds, and the only place their keys are read.

Three sources, in this order of precedence for a name:

- ``local``: the embedded local runtime service, always present (its key lives in the service's
  data dir); it is the default when nothing else is configured;
- read-only accounts from the operator (server config, or the classroom key taken from the
  server's environment): shown, used, never written or deleted;
- the accounts file (qiskit-ibm-runtime's format, shared with it and with our client), through
  :class:`jupyter_qrt.runtime.accounts.AccountStore`: accounts saved with the official client
  appear here and the other way round.

What leaves the vault towards a browser or a kernel is :meth:`Vault.summaries`: names, channel,
instance, plan, a masked fingerprint (the key's last four characters), never a key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.runtime.errors import InvalidInputError
from jupyter_qrt.runtime.redact import mask_secret

if TYPE_CHECKING:
    from .embedded import EmbeddedLocal

__all__ = ["LOCAL", "AccountUnknown", "Vault", "VaultRefused"]

log = logging.getLogger(__name__)

LOCAL = "local"
"""The name of the embedded local service's account."""


class AccountUnknown(LookupError):
    """No account of that name (the message lists the ones there are)."""


class VaultRefused(PermissionError):
    """A change the vault refuses (read-only account, user accounts not allowed, ...)."""


class Vault:
    """The accounts the server holds.

    Parameters
    ----------
    accounts_file
        The accounts file (``None``: the runtime client's default, ``$QRT_ACCOUNTS_FILE`` or
        ``~/.qiskit/qiskit-ibm.json``).
    read_only
        The operator's accounts: dicts with ``name``, ``token``, and optionally ``instance``,
        ``channel``, ``url``, ``region``, ``plan``.
    default
        The configured default account name, if any.
    allow_user_accounts
        Whether users may add, change or delete accounts.
    embedded
        The embedded local service behind the ``local`` account.
    """

    def __init__(
        self,
        *,
        accounts_file: str | None,
        read_only: list[Mapping[str, Any]],
        default: str | None,
        allow_user_accounts: bool,
        embedded: EmbeddedLocal,
    ) -> None:
        self._store = AccountStore(accounts_file)
        self._embedded = embedded
        self._configured_default = default
        self.allow_user_accounts = allow_user_accounts
        self._lock = threading.Lock()
        self._read_only: dict[str, Account] = {}
        self._plans: dict[str, str] = {}
        for entry in read_only:
            account = _read_only_account(entry)
            assert account.name is not None
            if account.name == LOCAL:
                raise InvalidInputError(
                    "A read-only account cannot be named 'local': that name is the embedded "
                    "local service's. Choose another name in c.QRTExtension.read_only_accounts."
                )
            self._read_only[account.name] = account
            if entry.get("plan"):
                self._plans[account.name] = str(entry["plan"])

    # -- reading --------------------------------------------------------------------------------

    @property
    def store(self) -> AccountStore:
        """The accounts file."""
        return self._store

    def _saved(self) -> dict[str, Account]:
        try:
            return self._store.accounts()
        except InvalidInputError as exc:
            # A broken accounts file must not take the server down: the other accounts work.
            log.warning("jupyter-qrt: cannot read the accounts file: %s", exc)
            return {}

    def names(self) -> list[str]:
        """Every account name: ``local`` first, then read-only ones, then the file's."""
        names = [LOCAL, *self._read_only]
        names += [name for name in self._saved() if name not in names]
        return names

    def is_read_only(self, name: str) -> bool:
        """Whether ``name`` is an account users may not change (``local`` and the operator's)."""
        return name == LOCAL or name in self._read_only

    def default_name(self) -> str:
        """The default account: configured, else the file's default, else a read-only one,
        else ``local``."""
        names = self.names()
        if self._configured_default and self._configured_default in names:
            return self._configured_default
        try:
            saved_default = self._store.default_name()
        except InvalidInputError:
            saved_default = None
        if saved_default and saved_default in names and self.allow_user_accounts:
            return saved_default
        if self._read_only:
            return next(iter(self._read_only))
        return LOCAL

    def account(self, name: str) -> Account:
        """The account ``name`` with its key (server-side use only: never send it anywhere but
        its own IAM and runtime URLs).

        Raises
        ------
        AccountUnknown
            No such account, or ``local`` while the embedded service is not running.
        """
        if name == LOCAL:
            account = self._embedded.account()
            if account is None:
                raise AccountUnknown(
                    "The local account is not available yet: "
                    + str(self._embedded.health().get("message", "the service is starting."))
                )
            return account
        if name in self._read_only:
            return self._read_only[name]
        saved = self._saved()
        if name in saved:
            return saved[name]
        raise AccountUnknown(f"No account named {name!r}. Accounts: {', '.join(self.names())}.")

    def instance_of(self, name: str) -> str | None:
        """The instance (CRN or name) of account ``name``, or None when unknown or not set."""
        try:
            return self.account(name).instance
        except AccountUnknown:
            return None

    def summary(self, name: str) -> dict[str, Any]:
        """What the browser and kernels may see of an account: never its key."""
        default = self.default_name()
        try:
            account = self.account(name)
        except AccountUnknown as exc:
            return {
                "name": name,
                "channel": LOCAL if name == LOCAL else None,
                "instance": None,
                "plan": None,
                "fingerprint": None,
                "read_only": self.is_read_only(name),
                "default": name == default,
                "available": False,
                "message": str(exc),
            }
        return {
            "name": name,
            "channel": account.channel,
            "instance": account.instance,
            "plan": self._plans.get(name, LOCAL if name == LOCAL else None),
            "fingerprint": mask_secret(account.token) if account.token else None,
            "read_only": self.is_read_only(name),
            "default": name == default,
            "available": True,
        }

    def summaries(self) -> list[dict[str, Any]]:
        """:meth:`summary` of every account."""
        return [self.summary(name) for name in self.names()]

    def known_secrets(self) -> list[str]:
        """Every API key the vault holds (for the guard that keeps them out of saved files)."""
        secrets = [account.token for account in self._read_only.values() if account.token]
        secrets += [account.token for account in self._saved().values() if account.token]
        local = self._embedded.account()
        if local is not None and local.token:
            secrets.append(local.token)
        return secrets


def _read_only_account(entry: Mapping[str, Any]) -> Account:
    if not isinstance(entry, Mapping) or not entry.get("name") or not entry.get("token"):
        raise InvalidInputError(
            "Each of c.QRTExtension.read_only_accounts needs at least a 'name' and a 'token'."
        )
    fields = {key: entry[key] for key in ("channel", "instance", "url", "region") if key in entry}
    return Account(name=str(entry["name"]), token=str(entry["token"]), **fields)
