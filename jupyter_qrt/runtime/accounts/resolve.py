"""Which account to use: explicit arguments, the environment, or the accounts file.

:func:`resolve_account` picks the account to use with qiskit-ibm-runtime 0.51's precedence:
an account passed whole, then the ``QISKIT_IBM_*`` environment variables, then the named or default
account of :class:`~jupyter_qrt.runtime.accounts.store.AccountStore`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from jupyter_qrt.runtime.errors import AccountNotFoundError, InvalidInputError
from jupyter_qrt.runtime.redact import shown_name

from .account import CHANNELS, DEFAULT_CHANNEL, Account, environment
from .store import AccountStore

__all__ = ["resolve_account"]

logger = logging.getLogger(__name__)


def resolve_account(
    name: str | None = None,
    *,
    channel: str | None = None,
    token: str | None = None,
    instance: str | None = None,
    url: str | None = None,
    store: AccountStore | None = None,
    env: Mapping[str, str] | None = None,
) -> Account:
    """Pick the account to use, with the official client's precedence.

    The order (``QiskitRuntimeService._discover_account`` and ``AccountManager.get`` of
    qiskit-ibm-runtime 0.51):

    1. ``name``: that saved account; ``channel``, ``token`` and ``url`` are ignored (a warning
       says so).
    2. ``token``: an inline account on ``channel`` (default ``ibm_quantum_platform``) with ``url``.
    3. The environment: ``QISKIT_IBM_TOKEN`` (+ ``QISKIT_IBM_URL``, ``QISKIT_IBM_INSTANCE``) on
       ``channel``, else ``QISKIT_IBM_CHANNEL``, else ``ibm_quantum_platform``.
    4. The default saved account (:meth:`AccountStore.get` rules), of ``channel`` when given.

    ``instance``, when given, replaces the chosen account's instance.

    Parameters
    ----------
    name
        Name of a saved account.
    channel, token, instance, url
        An account given inline, or the channel to look for.
    store
        Where saved accounts are read (default :class:`AccountStore` with ``env``).
    env
        Environment to read instead of ``os.environ``.

    Returns
    -------
    Account

    Raises
    ------
    AccountNotFoundError
        Nothing matched; the message says how to save or configure an account.
    AccountsFileError
        The accounts file had to be read and is malformed.
    InvalidInputError
        A bad channel, token, instance or url.
    """
    env = environment(env)
    if channel is not None and channel not in CHANNELS:
        raise InvalidInputError(
            f"channel {channel!r} is not one of {', '.join(map(repr, CHANNELS))}."
        )
    store = store if store is not None else AccountStore(env=env)
    account: Account
    if name:
        if channel or token or url:
            logger.warning(
                "Loading the saved account %s; the channel, token and url arguments are ignored.",
                shown_name(name),
            )
        account = store.get(name)
    elif token or (channel == "local" and url):
        account = Account(channel=channel or DEFAULT_CHANNEL, token=token or "", url=url or "")
    elif url and not channel:
        raise InvalidInputError(
            "url alone does not make an account: pass token=... with it, or the name of a saved "
            "account, or channel='local' for a local runtime service at that url."
        )
    else:
        if url:
            logger.warning("Loading the default %s account; the url argument is ignored.", channel)
        preferred = channel or env.get("QISKIT_IBM_CHANNEL") or DEFAULT_CHANNEL
        from_env = _account_from_env(preferred, env)
        try:
            account = from_env or store.get(channel=channel, preferred_channel=preferred)
        except AccountNotFoundError as exc:
            raise AccountNotFoundError(_nothing_found(store, preferred)) from exc
    if instance:
        account = replace(account, instance=instance)
    return account


def _account_from_env(channel: str, env: Mapping[str, str]) -> Account | None:
    """The account the ``QISKIT_IBM_*`` variables describe, or ``None`` without a token.

    ``channel`` is the argument given, else ``QISKIT_IBM_CHANNEL``, else the default.
    """
    if channel not in CHANNELS:
        raise InvalidInputError(
            f"QISKIT_IBM_CHANNEL={channel!r} is not one of {', '.join(map(repr, CHANNELS))}; "
            "fix or unset it."
        )
    token = env.get("QISKIT_IBM_TOKEN") or ""
    url = env.get("QISKIT_IBM_URL") or ""
    if not token:
        return None
    try:
        return Account(
            channel=channel, token=token, url=url, instance=env.get("QISKIT_IBM_INSTANCE")
        )
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"The QISKIT_IBM_* environment variables do not make a valid account: {exc}"
        ) from None


def _nothing_found(store: AccountStore, channel: str) -> str:
    where = f"no {channel} account is saved in {store.path}"
    return (
        f"No account to use: {where} and QISKIT_IBM_TOKEN is not set. Save an account with "
        "AccountStore().save(Account(token=<API key>, instance=<instance CRN>)), or set "
        "QISKIT_IBM_TOKEN (and QISKIT_IBM_INSTANCE), or use channel 'local' with "
        "url=<root of the local runtime service> and token=<its API key>."
    )
