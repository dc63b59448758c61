"""Which account to use: explicit arguments, the environment, or the accounts file.

:func:`resolve_account` picks the account to use with qiskit-ibm-runtime 0.51's precedence:
an account passed whole, then the ``QISKIT_IBM_*`` environment variables, then the named or default
account of :class:`~jupyter_qrt.runtime.accounts.store.AccountStore`. In a kernel of a Jupyter
server running jupyter-qrt (``QRT_SERVER_URL`` and ``QRT_KERNEL_TOKEN`` set), names and the
default mean the server's accounts, reached keyless through its proxy (:mod:`.jupyter`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from jupyter_qrt.runtime.errors import AccountNotFoundError, InvalidInputError
from jupyter_qrt.runtime.redact import shown_name

from .account import CHANNELS, DEFAULT_CHANNEL, IBM_CHANNELS, Account, environment
from .jupyter import Directory, jupyter_server, kernel_account
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
    directory: Directory | None = None,
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

    In a Jupyter kernel under jupyter-qrt (``QRT_SERVER_URL`` and ``QRT_KERNEL_TOKEN`` set) the
    same order holds, with the server's accounts in place of the accounts file:

    1. ``name``: the server's account of that name, through its proxy (the kernel never reads a
       key, even when the accounts file it can see holds one; the official client, given a
       name, reads the file, so a name is where the two differ).
    2. ``token``: an inline account, direct (an explicit key is the caller's choice).
    3. The environment: ``QISKIT_IBM_TOKEN`` set to something other than the kernel token is a
       key the user set, used direct, as the official client would. Set to the kernel token
       (the environment the extension gives kernels) or unset: the server's account that
       ``QISKIT_IBM_URL`` points at, else the server's default account.

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
    directory
        In a Jupyter kernel: reads the server's account list (names, default, instances), to
        check a name and find its instance (see :mod:`.jupyter`).

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
    server = jupyter_server(env)
    account: Account
    if name and server is not None:
        if channel or token or url:
            logger.warning(
                "Using the Jupyter server's account %s; the channel, token and url arguments "
                "are ignored.",
                shown_name(name),
            )
        account = kernel_account(server, name, env, directory)
    elif name:
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
        env_token = env.get("QISKIT_IBM_TOKEN") or ""
        if (
            server is not None
            and channel in (None, *IBM_CHANNELS)
            and env_token in ("", server.token)
        ):
            account = kernel_account(server, None, env, directory)
            return replace(account, instance=instance) if instance else account
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
