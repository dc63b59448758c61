"""``/jupyter-qrt/accounts``: list and add accounts; ``accounts/<name>``: delete, set default.

Listing opens to users and kernels (names, channel, instance, plan, masked fingerprint: never a
key). Adding, changing and deleting open to users only (XSRF enforced for the browser), and are
refused with a clear message when the server does not allow user accounts.
"""

from __future__ import annotations

from .callers import Caller, QRTHandler, callers

__all__ = ["AccountHandler", "AccountsHandler"]


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


class AccountHandler(QRTHandler):
    """``DELETE`` an account; ``PATCH`` it (``{"default": true}``)."""
