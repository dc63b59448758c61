"""Checking a new account before the vault saves it: the key, its instance, the hosts it uses.

:func:`check_account` runs on a worker thread (the runtime client is ``requests``-based; the
route calls it through :func:`asyncio.to_thread`). It

1. refuses URLs whose host is not allowed (:func:`.upstream.host_allowed`, the proxy's own
   rule): the key is sent only to hosts the operator allowed, never to an address a browser
   names (no SSRF, no key exfiltration);
2. exchanges the key at the account's IAM URL (:class:`~jupyter_qrt.runtime.http.auth.IAMAuth`);
3. lists the instances the key can use (Global Search and Catalog, as
   :func:`~jupyter_qrt.runtime.http.platform.list_instances` does) and resolves the account's
   instance: a CRN must be one of them, a name becomes its CRN, and with no instance one is picked
   as :class:`~jupyter_qrt.runtime.RuntimeService` picks (region, tags, plans preference, else
   free plans first), and the answer says which.

Every failure is an :class:`AccountCheckFailed` with the HTTP status to answer and one message
that says what to do; no message or log record holds the key.

URLs are derived with an empty environment: the server's own environment holds the kernels'
``IAM_URL``/``GLOBAL_*_URL`` (pointing back at this server), which must not redirect the check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import requests

from jupyter_qrt.runtime.accounts import CRN, Account
from jupyter_qrt.runtime.accounts.crn import is_crn
from jupyter_qrt.runtime.errors import AuthError, QRTError, TransportError
from jupyter_qrt.runtime.http.auth import IAMAuth
from jupyter_qrt.runtime.http.platform import Instance, list_instances, preferred_instances
from jupyter_qrt.runtime.http.transport import RetryPolicy

from .upstream import UpstreamRefused, host_allowed, host_of

__all__ = [
    "CHECK_TIMEOUT_SECONDS",
    "AccountCheckFailed",
    "CheckedAccount",
    "check_account",
]

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 60.0
"""The longest the whole check may take (the route answers 504 beyond it)."""

_IAM_TIMEOUT = (5.0, 15.0)
# Few, short retries: a person is waiting for the answer of the login dialog.
_RETRY = RetryPolicy(max_retries=1, backoff_base=0.5, backoff_max=2.0, max_total_sleep=3.0)
_NO_ENV: dict[str, str] = {}


class AccountCheckFailed(Exception):
    """The account cannot be saved: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CheckedAccount:
    """An account whose key IAM accepted, with its instance resolved to a CRN."""

    account: Account
    instance_name: str
    plan: str
    message: str
    """What was resolved, for the user (e.g. which instance was picked)."""


def _scrubbed(text: str, token: str) -> str:
    """``text`` with the key removed, in case an upstream echoed it back."""
    return text.replace(token, "<the API key>") if token else text


def check_account(
    account: Account,
    *,
    allowed_hosts: Iterable[str],
    always_allowed: Iterable[str] = (),
    session: requests.Session | None = None,
) -> CheckedAccount:
    """Check ``account`` against its IAM and Global Search (blocking: run it on a thread).

    Returns
    -------
    CheckedAccount
        The account with ``instance`` set to a CRN the key can use.

    Raises
    ------
    AccountCheckFailed
        400: a host not allowed, the key refused, the instance unknown, no instance at all;
        502: IAM or Global Search could not be reached or failed.
    """
    allowed = list(allowed_hosts)
    always = list(always_allowed)
    iam_url = account.iam_url(_NO_ENV)
    search_url = account.global_search_url(_NO_ENV)
    catalog_url = account.global_catalog_url(_NO_ENV)
    extra = {host_of(f"http://{entry}") for entry in always}
    for what, url in (("IAM", iam_url), ("Global Search", search_url), ("Catalog", catalog_url)):
        try:
            allowed_here = host_allowed(url, allowed, extra)
        except UpstreamRefused:
            allowed_here = False
        if not allowed_here:
            raise AccountCheckFailed(
                400,
                f"The account's {what} URL {url} is on a host this server may not contact, so "
                "the key was not sent there. Check the account's url, or ask the operator to add "
                "the host to c.QRTExtension.allowed_hosts.",
            )
    own_session = session is None
    http = session or requests.Session()
    try:
        iam = IAMAuth(account.token, iam_url, session=http, timeout=_IAM_TIMEOUT)
        try:
            iam.token()
        except AuthError:
            raise AccountCheckFailed(
                400,
                f"The API key was refused by IAM at {iam_url}: check that you copied the whole "
                "key and that it has not been deleted, or create a new one (on "
                "https://quantum.cloud.ibm.com for IBM Quantum Platform). Nothing was saved.",
            ) from None
        except TransportError as exc:
            raise AccountCheckFailed(
                502,
                f"IAM at {iam_url} could not be reached to check the API key "
                f"({_scrubbed(str(exc), account.token)}). Nothing was saved; try again when the "
                "network is back.",
            ) from None
        try:
            instances = list_instances(search_url, catalog_url, iam, session=http, retry=_RETRY)
        except AuthError as exc:
            raise AccountCheckFailed(
                400,
                "IAM accepted the API key, but IBM Cloud Global Search refused to list its "
                f"instances ({_scrubbed(str(exc), account.token)}). Nothing was saved.",
            ) from None
        except QRTError as exc:
            raise AccountCheckFailed(
                502,
                f"The instances of this API key could not be listed "
                f"({_scrubbed(str(exc), account.token)}). Nothing was saved; try again later.",
            ) from None
    finally:
        if own_session:
            http.close()
    return _resolved(account, instances)


def _listing(instances: list[Instance]) -> str:
    return "; ".join(f"{i.name!r} ({i.plan} plan, {i.crn})" for i in instances)


def _resolved(account: Account, instances: list[Instance]) -> CheckedAccount:
    if not instances:
        raise AccountCheckFailed(
            400,
            "The API key is valid but can use no Qiskit Runtime instance. Create an instance "
            "(on https://quantum.cloud.ibm.com), then add the account again. Nothing was saved.",
        )
    wanted = account.instance
    if wanted and wanted != "auto":
        if is_crn(wanted):
            crn = str(CRN.parse(wanted))
            matches = [i for i in instances if i.crn == crn]
        else:
            matches = [i for i in instances if i.name == wanted]
        if not matches:
            raise AccountCheckFailed(
                400,
                f"The instance {wanted!r} was not found among the instances this API key can "
                f"use: {_listing(instances)}. Give one of those names or CRNs (or none to pick "
                "one). Nothing was saved.",
            )
        chosen = matches[0]
        message = f"Using the instance {chosen.name!r} ({chosen.plan} plan)."
    else:
        chosen = preferred_instances(
            instances,
            region=account.region,
            tags=account.tags,
            plans_preference=account.plans_preference,
        )[0]
        message = (
            f"No instance given: picked {chosen.name!r} ({chosen.plan} plan, {chosen.crn}) of "
            f"the {len(instances)} this key can use. Add the account with an instance to "
            "choose another."
        )
    log.info("jupyter-qrt: checked account %r: instance %s", account.name, chosen.crn)
    return CheckedAccount(
        account=replace(account, instance=chosen.crn),
        instance_name=chosen.name,
        plan=chosen.plan,
        message=message,
    )
