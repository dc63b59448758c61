"""The first account of a person who has none: the setup widget, or a hidden prompt.

Only used in plain IPython (under Jupyter the server's login dialog does this, and the kernel
never holds a key). The key is typed with ``getpass`` (never echoed, never in the notebook) and
saved in the accounts file as the default account.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from jupyter_qrt.runtime.errors import AccountNotFoundError

from . import display

if TYPE_CHECKING:
    from jupyter_qrt.runtime import Account, AccountStore

__all__ = ["first_account"]


def first_account(store: AccountStore) -> Account:
    """Ask for an API key and an instance, save them as the default account, return it.

    An empty key means the local runtime (``%qrt_login local``).

    Raises
    ------
    AccountNotFoundError
        The setup widget was shown instead (the person fills it in, then logs in again), or
        no key was typed.
    """
    from jupyter_qrt.runtime import Account

    if display.account_setup():
        raise AccountNotFoundError(
            "No account saved yet: fill in the account form above, then run %qrt_login again "
            "(or %qrt_login local for the local runtime)."
        )
    try:
        key = getpass.getpass("IBM Quantum API key (empty: use the local runtime): ").strip()
    except (EOFError, KeyboardInterrupt):
        key = ""
    if not key:
        raise AccountNotFoundError(
            "No account saved and no key given: run %qrt_login local for the local runtime, or "
            "%qrt_login again and paste an API key."
        )
    instance = input("Instance CRN or name (empty: pick one automatically): ").strip() or None
    account = Account(token=key, instance=instance)
    name = store.save(account, set_as_default=True)
    print(f"Saved the account as '{name}' in {store.path}.")
    return store.get(name)
