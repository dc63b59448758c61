"""The kernel's connection: which account, instance and service the magics use.

One :class:`Connection` at a time (``%qrt_login`` makes it, ``%qrt_logout`` forgets it). Where
the account comes from:

- under Jupyter with the jupyter-qrt server extension (``QRT_SERVER_URL`` set): the server's
  accounts (:mod:`.server_link`), reached through its proxy by ``RuntimeService(name)``;
- in plain IPython: the accounts file (``RuntimeService(name)``), and for ``local`` with no
  saved account of that name, an in-process :class:`~jupyter_qrt.local.server.LocalService`
  started once per kernel and stopped at exit. With nothing saved at all, the account setup
  widget, or a hidden prompt (``getpass``) that writes the accounts file.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_qrt.runtime.errors import AccountNotFoundError, QRTError

from .errors import NotLoggedInError
from .server_link import server_accounts, server_url

if TYPE_CHECKING:
    from jupyter_qrt.local.server import LocalService
    from jupyter_qrt.runtime import RuntimeService, Session

__all__ = [
    "LOCAL",
    "Connection",
    "current",
    "local_service",
    "login",
    "logout",
]

logger = logging.getLogger(__name__)

LOCAL = "local"
"""The account name that always works: the local runtime service."""

_PAID = {"paygo", "paid", "subscription"}


@dataclass
class Connection:
    """What ``%qrt_login`` connected to."""

    service: RuntimeService
    account: str
    channel: str
    instance_name: str
    plan: str
    pricing_type: str
    auto_instance: bool
    sessions: dict[tuple[str, str], Session] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        """Whether jobs on this instance cost money."""
        return self.pricing_type.lower() in _PAID

    def summary(self) -> str:
        """The one line ``%qrt_login`` prints."""
        line = (
            f"Logged in: account '{self.account}' ({self.channel}), instance "
            f"'{self.instance_name}', plan {self.plan}."
        )
        warnings = []
        if self.auto_instance:
            warnings.append("the instance was picked automatically (choose with --instance NAME)")
        if self.paid:
            warnings.append(f"{self.plan} is a paid plan: jobs cost money")
        if warnings:
            line += " Warning: " + "; ".join(warnings) + "."
        return line

    def close(self) -> None:
        """Close the sessions this kernel opened and the HTTP connections."""
        for session in list(self.sessions.values()):
            with contextlib.suppress(QRTError):
                session.close()
        self.sessions.clear()
        self.service.close()


_lock = threading.Lock()
_current: Connection | None = None
_local: LocalService | None = None


def current() -> Connection:
    """The connection in use.

    Raises
    ------
    NotLoggedInError
        Nobody logged in yet in this kernel.
    """
    if _current is None:
        raise NotLoggedInError(
            "Not logged in: run %qrt_login (or %qrt_login local for the local runtime) first."
        )
    return _current


def local_service() -> LocalService:
    """The in-process local runtime service of this kernel, started on first use.

    Its data dir is the standalone service's (``$QRT_DATA_DIR`` or ``~/.local/share/...``) so
    jobs outlive the kernel; when another process holds that dir, a temporary one is used.
    """
    global _local
    with _lock:
        if _local is None:
            # Imported here: only plain IPython ever starts a service (the layers contract
            # puts kernel above local, so this import is allowed).
            from jupyter_qrt.local.server import LocalService, default_data_dir

            try:
                service = LocalService(default_data_dir()).start()
            except Exception as exc:  # a locked or unusable data dir: still give a service
                logger.warning(
                    "The local runtime's data dir %s cannot be used (%s); using a temporary one "
                    "(its jobs end with this kernel).",
                    default_data_dir(),
                    exc,
                )
                service = LocalService().start()
            atexit.register(service.stop)
            _local = service
        return _local


@contextlib.contextmanager
def _no_auto_instance_log() -> Iterator[None]:
    # The service logs which instance it picked; the login line says it instead (one line).
    log = logging.getLogger("jupyter_qrt.runtime.facade.service")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _service_under_server(
    account: str | None, instance: str | None
) -> tuple[Any, str, bool, str | None]:
    from jupyter_qrt.runtime import RuntimeService

    listed, default = server_accounts()
    names = [str(a["name"]) for a in listed]
    name = account or default or (names[0] if names else None)
    if name is None or name not in names:
        known = ", ".join(names) or "none"
        raise AccountNotFoundError(
            f"The Jupyter server has no account named {name!r} (accounts: {known}); add one in "
            "the Quantum sidebar, or pick one of those."
        )
    entry = next(a for a in listed if a["name"] == name)
    auto = not instance and not entry.get("instance")
    # The kernel reaches every server account through the proxy, so its own client's channel
    # says nothing: the account's channel is the server's.
    channel = entry.get("channel")
    with _no_auto_instance_log():
        service = RuntimeService(name, instance=instance)
    return service, name, auto, str(channel) if channel else None


def _service_plain(account: str | None, instance: str | None) -> tuple[Any, str, bool, str | None]:
    from jupyter_qrt.runtime import AccountStore, RuntimeService, resolve_account

    store = AccountStore()
    if account == LOCAL and LOCAL not in store.accounts():
        resolved = local_service().account(LOCAL)
    elif account is None and not store.accounts():
        try:
            resolved = resolve_account()  # QISKIT_IBM_* in the environment
        except AccountNotFoundError:
            from .setup import first_account

            resolved = first_account(store)
    else:
        try:
            resolved = resolve_account(account, store=store)
        except AccountNotFoundError:
            if account is None:
                raise
            # The runtime's message shows the Python call that saves one; say the magic's way.
            saved = ", ".join(repr(n) for n in store.accounts()) or "none"
            raise AccountNotFoundError(
                f"No account named {account!r} (saved: {saved}; 'local' always works): use one "
                "of those, e.g. %qrt_login local, or save it first with "
                f"jupyter_qrt.runtime.AccountStore().save(Account(...), name={account!r})."
            ) from None
    auto = not instance and not resolved.instance
    with _no_auto_instance_log():
        service = RuntimeService(resolved, instance=instance)
    return service, resolved.name or account or "default", auto, None


def login(account: str | None = None, instance: str | None = None) -> Connection:
    """Connect to an account and say in one line what is in use.

    Parameters
    ----------
    account
        A saved account's name (under Jupyter, one of the server's accounts); ``"local"``
        always works. ``None``: the default account.
    instance
        Instance name or CRN; overrides the account's.

    Returns
    -------
    Connection
        Also kept as the kernel's connection for the magics.

    Raises
    ------
    QRTError
        The account cannot be found or used (the message says what to do).
    """
    global _current
    if server_url() is not None:
        service, name, auto, channel = _service_under_server(account, instance)
    else:
        service, name, auto, channel = _service_plain(account, instance)
    try:
        # One call that needs the key: a revoked key or a dead service fails here, not later.
        found = [i for i in service.instances() if i.crn == service.instance]
    except BaseException:
        service.close()
        raise
    info = found[0] if found else None
    connection = Connection(
        service=service,
        account=name,
        channel=channel or service.channel,
        instance_name=info.name if info else service.instance,
        plan=info.plan if info else "unknown",
        pricing_type=info.pricing_type if info else "unknown",
        auto_instance=auto,
    )
    with _lock:
        previous, _current = _current, connection
    if previous is not None:
        previous.close()
    print(connection.summary())
    return connection


def logout() -> None:
    """Forget the connection (sessions opened by this kernel are closed)."""
    global _current
    with _lock:
        previous, _current = _current, None
    if previous is None:
        print("Not logged in; nothing to do.")
        return
    previous.close()
    print(f"Logged out of '{previous.account}'.")
