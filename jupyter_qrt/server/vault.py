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
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.runtime.errors import AccountExistsError, InvalidInputError
from jupyter_qrt.runtime.redact import mask_secret

from .settings import ServerSettings

if TYPE_CHECKING:
    from .embedded import EmbeddedLocal

__all__ = [
    "LOCAL",
    "NAME_PATTERN",
    "USER_ACCOUNTS_OFF",
    "AccountTaken",
    "AccountUnknown",
    "Vault",
    "VaultRefused",
]

log = logging.getLogger(__name__)

LOCAL = "local"
"""The name of the embedded local service's account."""

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}"
"""The names the vault accepts for new accounts: those ``routes.ACCOUNT_NAME`` can address (a
test ties the two; this module cannot import the route table, which imports it)."""

USER_ACCOUNTS_OFF = (
    "This Jupyter server does not let users add, change or delete accounts: its administrator "
    "provides the accounts you can use (listed in the Quantum sidebar, or with %qrt_accounts). "
    "Ask your instructor or administrator if you need another one."
)
"""The message of every change refused because ``allow_user_accounts`` is off."""


class AccountUnknown(LookupError):
    """No account of that name (the message lists the ones there are)."""


class VaultRefused(PermissionError):
    """A change the vault refuses (read-only account, user accounts not allowed, ...)."""


class AccountTaken(ValueError):
    """A new account's name is already used (the message says by what)."""


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
    settings
        Where the user's choice of default account is kept (:mod:`.settings`); ``None``: in
        memory only.
    """

    def __init__(
        self,
        *,
        accounts_file: str | None,
        read_only: list[Mapping[str, Any]],
        default: str | None,
        allow_user_accounts: bool,
        embedded: EmbeddedLocal,
        settings: ServerSettings | None = None,
    ) -> None:
        self._store = AccountStore(accounts_file)
        self._settings = settings or ServerSettings(None)
        self._embedded = embedded
        self._configured_default = default
        self.allow_user_accounts = allow_user_accounts
        self._lock = threading.Lock()
        self._read_only: dict[str, Account] = {}
        self._saved_cache: tuple[tuple[int, int, int], dict[str, Account]] | None = None
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
        # Every proxied call asks for its account: the file is read again only when it changed
        # (the store replaces it atomically, so a new version is a new inode as well).
        try:
            status = self._store.path.stat()
        except OSError:
            status = None
        version = None if status is None else (status.st_ino, status.st_mtime_ns, status.st_size)
        cached = self._saved_cache
        if version is not None and cached is not None and cached[0] == version:
            return dict(cached[1])
        try:
            accounts = self._store.accounts()
        except InvalidInputError as exc:
            # A broken accounts file must not take the server down: the other accounts work.
            log.warning("jupyter-qrt: cannot read the accounts file: %s", exc)
            return {}
        self._saved_cache = None if version is None else (version, dict(accounts))
        return accounts

    def names(self) -> list[str]:
        """Every account name: ``local`` first, then read-only ones, then the file's."""
        names = [LOCAL, *self._read_only]
        names += [name for name in self._saved() if name not in names]
        return names

    def is_read_only(self, name: str) -> bool:
        """Whether ``name`` is an account users may not change (``local`` and the operator's)."""
        return name == LOCAL or name in self._read_only

    def _file_default(self) -> str | None:
        try:
            return self._store.default_name()
        except InvalidInputError:
            return None

    def default_name(self) -> str:
        """The default account: the user's choice (:meth:`set_default`), else the configured
        one, else the file's default, else a read-only one, else ``local``.

        A user's choice of a file account follows the file's ``is_default_account`` mark, so a
        default set later with the official client wins.
        """
        names = self.names()
        choice = self._settings.get("default_account")
        if isinstance(choice, str) and choice in names:
            if self.is_read_only(choice):
                return choice
            saved_default = self._file_default()
            if saved_default and saved_default in names:
                return saved_default
            return choice
        if self._configured_default and self._configured_default in names:
            return self._configured_default
        saved_default = self._file_default()
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
            return self._with_embedded_url(name, saved[name])
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

    # -- writing (users only; the routes run these off the event loop) ----------------------------

    def check_new_name(self, name: str) -> None:
        """Refuse ``name`` for a new account before anything else is done.

        Raises
        ------
        VaultRefused
            Users may not add accounts on this server.
        InvalidInputError
            The name has a shape the routes cannot address.
        AccountTaken
            ``local``, a read-only account or a saved account has that name.
        """
        if not self.allow_user_accounts:
            raise VaultRefused(USER_ACCOUNTS_OFF)
        if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
            raise InvalidInputError(
                "name: an account name is 1 to 100 letters, digits, '_', '.', '@' or '-', "
                "starting with a letter or digit."
            )
        if self.is_read_only(name):
            raise AccountTaken(
                f"The name {name!r} belongs to an account this server provides; choose another "
                "name (nothing was changed)."
            )
        if name in self._saved():
            raise AccountTaken(
                f"An account named {name!r} exists already; choose another name, or delete it "
                "first (nothing was changed)."
            )

    def _with_embedded_url(self, name: str, account: Account) -> Account:
        """A ``local`` account on the embedded service, with the service's URL of this run (its
        port changes at each start; the file keeps the URL of the run that saved it)."""
        service = self._embedded.service
        if service is None or name not in (self._settings.get("embedded_accounts") or []):
            return account
        return replace(account, url=service.url)

    def add(self, account: Account, *, set_default: bool = False, embedded: bool = False) -> str:
        """Save a new account (already checked) in the accounts file; returns its name.

        ``embedded``: the account is a key of the embedded local service (a ``local`` account
        given without a URL); its URL follows the service from run to run.

        Raises
        ------
        VaultRefused, InvalidInputError, AccountTaken
            As :meth:`check_new_name`; nothing was written.
        AccountError
            The accounts file is malformed or cannot be written; it was not changed.
        """
        name = account.name or ""
        with self._lock:
            self.check_new_name(name)
            try:
                # overwrite=False: a name taken meanwhile (e.g. by the official client) is refused.
                self._store.save(account, name=name, overwrite=False, set_as_default=False)
            except AccountExistsError:
                raise AccountTaken(
                    f"An account named {name!r} exists already; choose another name (nothing "
                    "was changed)."
                ) from None
            embedded_accounts = self._settings.get("embedded_accounts") or []
            if embedded:
                self._settings.set("embedded_accounts", sorted({*embedded_accounts, name}))
            if set_default:
                self._mark_default(name)
        log.info("jupyter-qrt: added the %s account %r", account.channel, name)
        return name

    def delete(self, name: str) -> None:
        """Delete a saved account.

        Raises
        ------
        VaultRefused
            ``name`` is ``local`` or read-only, or users may not delete accounts here.
        AccountUnknown
            No saved account has that name.
        """
        if self.is_read_only(name):
            raise VaultRefused(
                f"The account {name!r} is provided by this server ("
                + ("the embedded local service" if name == LOCAL else "its administrator")
                + ") and cannot be deleted. You can make another account the default instead."
            )
        with self._lock:
            if name not in self._saved():
                raise AccountUnknown(
                    f"No account named {name!r}. Accounts: {', '.join(self.names())}."
                )
            if not self.allow_user_accounts:
                raise VaultRefused(USER_ACCOUNTS_OFF)
            self._store.delete(name)
            if self._settings.get("default_account") == name:
                self._settings.set("default_account", None)
            embedded_accounts = self._settings.get("embedded_accounts") or []
            if name in embedded_accounts:
                self._settings.set("embedded_accounts", [n for n in embedded_accounts if n != name])
        log.info("jupyter-qrt: deleted the account %r", name)

    def set_default(self, name: str) -> None:
        """Make ``name`` the default account (any account, read-only and ``local`` included).

        A file account is marked ``is_default_account`` in the accounts file; the choice itself
        is kept in the settings file (see :mod:`.settings`).

        Raises
        ------
        AccountUnknown
            No account has that name.
        """
        with self._lock:
            if name not in self.names():
                raise AccountUnknown(
                    f"No account named {name!r}. Accounts: {', '.join(self.names())}."
                )
            if not self.is_read_only(name):
                self._mark_default(name)
            self._settings.set("default_account", name)
        log.info("jupyter-qrt: %r is now the default account", name)

    def _mark_default(self, name: str) -> None:
        saved = self._store.accounts()
        # overwrite=True takes the mark from the account that had it, as the official client does
        self._store.save(saved[name], name=name, overwrite=True, set_as_default=True)
        self._settings.set("default_account", name)

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
