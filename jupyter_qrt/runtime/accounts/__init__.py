"""Accounts: who we are to the service, where it lives, and which account to use.

Owns the account model (:mod:`.account`: channel, key, instance and the URL rules of
qiskit-ibm-runtime 0.51), CRNs (:mod:`.crn`), the accounts file in the official client's format
(:mod:`.file`, :mod:`.store`), the choice of account (:mod:`.resolve`) and accounts reached
keyless through the jupyter-qrt server from a kernel (:mod:`.jupyter`).

May import: :mod:`jupyter_qrt.runtime.errors` and :mod:`jupyter_qrt.runtime.redact` only. It knows
nothing of HTTP, the wire format or qiskit.
"""

from __future__ import annotations

from .account import CHANNELS, DEFAULT_CHANNEL, IBM_CHANNELS, Account
from .crn import CRN
from .resolve import resolve_account
from .store import AccountStore

__all__ = [
    "CHANNELS",
    "CRN",
    "DEFAULT_CHANNEL",
    "IBM_CHANNELS",
    "Account",
    "AccountStore",
    "resolve_account",
]
