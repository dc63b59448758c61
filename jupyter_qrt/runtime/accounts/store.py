"""The accounts file, shared with qiskit-ibm-runtime (``~/.qiskit/qiskit-ibm.json``).

The format is qiskit-ibm-runtime 0.51's: one JSON object mapping account names to entries with
``channel``, ``token``, ``url``, ``instance``, ``region``, ``plans_preference``, ``tags``,
``verify``, ``private_endpoint``, ``proxies`` and ``is_default_account``, written with sorted keys
and an indent of four. Accounts saved by either client load in the other.

Local accounts. The official loader accepts only its own channels and fails on any other, except
that it skips entries whose channel is the retired ``ibm_quantum``. So an account of our channel
``local`` is stored as::

    "my-local": {
        "channel": "ibm_quantum",
        "jupyter_qrt": {"channel": "local", "is_default_account": true},
        "token": "...",
        "url": "http://127.0.0.1:8765"
    }

The official client ignores it (``saved_accounts()`` does not list it, and saving or deleting
other accounts keeps it); we read it back as channel ``local``. Its default flag lives inside the
``jupyter_qrt`` object, because the official client would pick up a top-level
``is_default_account`` and then fail on the channel. If an official ``is_default_account`` and our
flag both exist, the official one wins: the official client does not clear our flag, so the
official one was set later. Entries with channel ``ibm_quantum`` and no ``jupyter_qrt`` object are
legacy IBM Quantum accounts; both clients skip them.

The file itself (reading it with located errors, the lock between processes, atomic writes with
mode 0600) is :class:`~jupyter_qrt.runtime.accounts.file.AccountsFile`; this module maps its entries
to accounts and back. A malformed file is never modified: every error says where it is and how to
fix it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from jupyter_qrt.runtime.errors import AccountExistsError, AccountNotFoundError, InvalidInputError
from jupyter_qrt.runtime.redact import shown_name

from .account import IBM_CHANNELS, Account
from .file import AccountsFile

__all__ = [
    "ACCOUNTS_FILE_ENV",
    "DEFAULT_ACCOUNT_NAMES",
    "AccountStore",
    "default_accounts_path",
]

logger = logging.getLogger(__name__)

ACCOUNTS_FILE_ENV = "QRT_ACCOUNTS_FILE"
"""Environment variable naming the accounts file to use instead of the default."""
DEFAULT_ACCOUNT_NAMES = {
    "ibm_quantum_platform": "default-ibm-quantum-platform",
    "ibm_cloud": "default-ibm-cloud",
    "local": "default-local",
}
"""The name an account is saved under when none is given (the official names, and ours)."""

_LEGACY_CHANNEL = "ibm_quantum"
_OURS = "jupyter_qrt"
_DEFAULT_FLAG = "is_default_account"


def default_accounts_path(env: Mapping[str, str] | None = None) -> Path:
    """The accounts file: ``$QRT_ACCOUNTS_FILE``, else ``~/.qiskit/qiskit-ibm.json``."""
    env = os.environ if env is None else env
    override = env.get(ACCOUNTS_FILE_ENV)
    if override:
        return Path(override).expanduser()
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".qiskit" / "qiskit-ibm.json"


class AccountStore:
    """Named accounts in the accounts file shared with qiskit-ibm-runtime.

    Parameters
    ----------
    path
        The accounts file. Default: ``$QRT_ACCOUNTS_FILE``, else ``~/.qiskit/qiskit-ibm.json``.
    env
        Environment to read instead of ``os.environ``.

    Notes
    -----
    Reading never creates or changes the file. Saving creates its directory (mode 0700) and a
    ``<file>.lock`` next to it, which stays (removing it would race with other writers).
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
    ) -> None:
        self._path = Path(path).expanduser() if path is not None else default_accounts_path(env)
        self._file = AccountsFile(self._path)

    @property
    def path(self) -> Path:
        """The accounts file."""
        return self._path

    def __repr__(self) -> str:
        return f"AccountStore({str(self._path)!r})"

    # -- reading -----------------------------------------------------------------------------

    def accounts(self) -> dict[str, Account]:
        """Every saved account, by name, in file order (legacy ``ibm_quantum`` ones skipped).

        Raises
        ------
        AccountsFileError
            The file is malformed.
        """
        return {name: saved.account for name, saved in self._load().items()}

    def get(
        self,
        name: str | None = None,
        channel: str | None = None,
        *,
        preferred_channel: str = "ibm_quantum_platform",
    ) -> Account:
        """One saved account: by name, else the default one (the official client's rules).

        Without a name: with ``channel``, that channel's account marked default, else the one
        saved under the channel's default name (``default-ibm-quantum-platform``,
        ``default-ibm-cloud``, ``default-local``), else the last one of that channel in the
        file. Without ``channel``: the account marked default, else the same search for
        ``preferred_channel`` (:func:`resolve_account` passes ``QISKIT_IBM_CHANNEL`` here).
        As the official client does, a search for an IBM channel (or none) ends by trying the
        default names of both IBM channels; without ``channel``, ``default-local`` comes last.

        Raises
        ------
        AccountNotFoundError
            No such account; the message lists the saved names.
        AccountsFileError
            The file is malformed.
        """
        raw = self._file.read()
        loaded = self._load(raw)
        if name is not None:
            if name in loaded:
                return loaded[name].account
            raise AccountNotFoundError(self._not_found(name, raw, loaded))
        if channel is None:
            default = _default_name(loaded)
            if default is not None:
                return loaded[default].account
        search = channel or preferred_channel
        found = _default_of_channel(loaded, search)
        if found is None and (channel is None or channel in IBM_CHANNELS):
            fallbacks = [DEFAULT_ACCOUNT_NAMES[c] for c in IBM_CHANNELS]
            if channel is None:
                fallbacks.append(DEFAULT_ACCOUNT_NAMES["local"])
            found = next((n for n in fallbacks if n in loaded), None)
        if found is None:
            saved = ", ".join(repr(n) for n in loaded) or "none"
            raise AccountNotFoundError(
                f"No {search} account is saved in {self._path} (saved accounts: {saved}). Save "
                "one with AccountStore.save(Account(channel=..., token=...)), or name one."
            )
        return loaded[found].account

    def default_name(self) -> str | None:
        """Name of the account marked default in the file, if any."""
        return _default_name(self._load())

    # -- writing -----------------------------------------------------------------------------

    def save(
        self,
        account: Account,
        *,
        name: str | None = None,
        overwrite: bool = False,
        set_as_default: bool | None = None,
    ) -> str:
        """Save an account; returns the name it was saved under.

        Parameters
        ----------
        account
            The account to save.
        name
            Name to save it under. Default: ``account.name``, else the channel's default name
            (``default-ibm-quantum-platform``, ``default-ibm-cloud``, ``default-local``).
        overwrite
            Replace an account of the same name; also needed to take the default mark from
            another account (as in the official client).
        set_as_default
            ``True`` marks it as the default account, ``False`` unmarks it, ``None`` keeps the
            mark of the account it replaces.

        Raises
        ------
        AccountExistsError
            The name is taken (or another account is the default) and ``overwrite`` is false.
            Nothing was written.
        AccountsFileError
            The file is malformed; it was not changed.
        AccountError
            The file could not be written; it was not changed.
        """
        name = name or account.name or DEFAULT_ACCOUNT_NAMES[account.channel]
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError("An account name must be a non-empty string.")
        with self._file.locked():
            raw = self._file.read()
            self._load(raw)  # refuse to rewrite a malformed file
            if raw.get(name) and not overwrite:
                raise AccountExistsError(
                    f"An account named {name!r} is already saved in {self._path}. Pass "
                    "overwrite=True to replace it, or choose another name (nothing was changed)."
                )
            flagged = [n for n, entry in raw.items() if _flag(entry)]
            if set_as_default:
                others = [n for n in flagged if n != name]
                if others and not overwrite:
                    raise AccountExistsError(
                        f"{others[0]!r} is already the default account in {self._path}. Pass "
                        f"overwrite=True to make {name!r} the default instead (nothing was "
                        "changed)."
                    )
                for other in others:
                    _unflag(raw[other])
            is_default = bool(set_as_default) or (set_as_default is None and name in flagged)
            raw[name] = _encode(account, is_default=is_default)
            self._file.write(raw)
        logger.info("Saved the %s account %r in %s", account.channel, name, self._path)
        return name

    def delete(self, name: str) -> bool:
        """Delete a saved account; ``False`` if there was none of that name.

        Only the JSON itself must be sound, so a malformed entry can be deleted this way.

        Raises
        ------
        AccountsFileError
            The file is not a JSON object; it was not changed.
        """
        if not self._path.exists():
            return False
        with self._file.locked():
            raw = self._file.read()
            if name not in raw:
                return False
            del raw[name]
            self._file.write(raw)
        logger.info("Deleted the account %r from %s", name, self._path)
        return True

    # -- the format --------------------------------------------------------------------------

    def _load(self, raw: Mapping[str, Any] | None = None) -> dict[str, _Saved]:
        """Every entry checked and decoded; legacy entries are skipped."""
        raw = self._file.read() if raw is None else raw
        loaded: dict[str, _Saved] = {}
        for name, entry in raw.items():
            account = self._decode(name, entry)
            if account is not None:
                loaded[name] = _Saved(account, _flag(entry))
        return loaded

    def _decode(self, name: str, entry: object) -> Account | None:

        if not isinstance(entry, dict):
            raise self._file.malformed(f"account {name!r} must be a JSON object")
        channel = entry.get("channel")
        ours = entry.get(_OURS)
        if ours is not None:
            if not isinstance(ours, dict) or ours.get("channel") != "local":
                raise self._file.malformed(
                    f'account {name!r}: {_OURS!r} must be an object with "channel": "local"'
                )
            channel = "local"
        elif channel == _LEGACY_CHANNEL:
            return None
        if not isinstance(channel, str):
            raise self._file.malformed(f'account {name!r} has no "channel" string')
        try:
            return Account(
                name=name,
                channel=channel,
                token=_or(entry.get("token"), ""),
                instance=entry.get("instance"),
                url=_or(entry.get("url"), ""),
                region=entry.get("region"),
                plans_preference=entry.get("plans_preference"),
                tags=entry.get("tags"),
                verify=_or(entry.get("verify"), True),
                private_endpoint=_or(entry.get("private_endpoint"), False),
                proxies=entry.get("proxies"),
            )
        except InvalidInputError as exc:
            raise self._file.malformed(str(exc).rstrip("."), name=name) from None

    def _not_found(self, name: str, raw: Mapping[str, Any], loaded: Mapping[str, object]) -> str:
        entry = raw.get(name)
        if isinstance(entry, dict) and entry.get("channel") == _LEGACY_CHANNEL:
            return (
                f"The account {name!r} in {self._path} is a retired 'ibm_quantum' account, which "
                "neither this client nor qiskit-ibm-runtime uses. Save it again with channel "
                "'ibm_quantum_platform' and an IBM Cloud API key."
            )
        if loaded:
            saved = f"Saved accounts: {', '.join(repr(n) for n in loaded)}"
        else:
            saved = "No accounts are saved there"
        shown = shown_name(name)
        if shown != repr(name):
            return (
                f"No account named {shown} in {self._path}. {saved}. To use an API key, pass "
                "it as token=..., not as the account name."
            )
        return (
            f"No account named {shown} in {self._path}. {saved}. Use one of those names, or "
            f"save it first with AccountStore().save(account, name={shown})."
        )


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


class _Saved(NamedTuple):
    account: Account
    flag: int  # 0: not marked default; 1: marked by our flag (local accounts); 2: official mark


def _flag(entry: Mapping[str, Any]) -> int:
    if entry.get(_DEFAULT_FLAG):
        return 2
    ours = entry.get(_OURS)
    return 1 if isinstance(ours, dict) and ours.get(_DEFAULT_FLAG) else 0


def _unflag(entry: dict[str, Any]) -> None:
    entry.pop(_DEFAULT_FLAG, None)
    ours = entry.get(_OURS)
    if isinstance(ours, dict):
        ours.pop(_DEFAULT_FLAG, None)


def _default_name(loaded: Mapping[str, _Saved]) -> str | None:
    """The marked default: an official mark beats ours (it was set later, see module doc)."""
    for wanted in (2, 1):
        for name, saved in loaded.items():
            if saved.flag == wanted:
                return name
    return None


def _default_of_channel(loaded: Mapping[str, _Saved], channel: str) -> str | None:
    """The official per-channel rule: marked, else the default name, else the last one."""
    of_channel = [n for n, saved in loaded.items() if saved.account.channel == channel]
    for name in of_channel:
        if loaded[name].flag:
            return name
    if DEFAULT_ACCOUNT_NAMES.get(channel) in of_channel:
        return DEFAULT_ACCOUNT_NAMES[channel]
    return of_channel[-1] if of_channel else None


def _encode(account: Account, *, is_default: bool) -> dict[str, Any]:
    """The file entry of an account, as the official client writes it (``None`` left out)."""
    entry: dict[str, Any] = {"token": account.token, "url": account.url}
    if account.is_local:
        entry["channel"] = _LEGACY_CHANNEL
        entry[_OURS] = {"channel": "local"}
        if is_default:
            entry[_OURS][_DEFAULT_FLAG] = True
    else:
        entry["channel"] = account.channel
        entry["private_endpoint"] = account.private_endpoint
        if is_default:
            entry[_DEFAULT_FLAG] = True
    optional = {
        "instance": account.instance,
        "region": account.region,
        "plans_preference": account.plans_preference,
        "tags": account.tags,
        "proxies": account.proxies,
    }
    entry.update({key: value for key, value in optional.items() if value is not None})
    # Absent means True to both clients; the official one writes it only when given.
    if not account.verify:
        entry["verify"] = False
    return entry
