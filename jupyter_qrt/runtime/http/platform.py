"""The Qiskit Runtime instances an API key can use, from IBM Cloud Global Search and Catalog.

IBM Cloud Global Search lists the key's ``quantum-computing`` resources (following its
``search_cursor``); items without ``doc.extensions`` have no quantum allocation and are left out,
as the official client does. IBM Cloud Global Catalog then names each instance's plan and pricing
type (each plan is looked up once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from requests.auth import AuthBase

from jupyter_qrt.runtime.accounts.crn import CRN
from jupyter_qrt.runtime.errors import (
    AuthError,
    ForbiddenError,
    InvalidInputError,
    QRTError,
    TransportError,
)

from .transport import RetryPolicy, Transport

__all__ = ["PRICING_ORDER", "Instance", "list_instances", "preferred_instances"]

logger = logging.getLogger(__name__)

PRICING_ORDER = ("free", "trial", "paygo", "paid", "subscription", "unknown")
"""Pricing types from the most to the least preferred when picking an instance automatically."""

_SEARCH_QUERY = "service_name:quantum-computing"
_SEARCH_FIELDS = ["crn", "service_plan_unique_id", "name", "doc", "tags"]
_SEARCH_PAGE = 100
_MAX_SEARCH_PAGES = 100  # 10 000 instances: far beyond any account; stops a cursor that never ends


@dataclass(frozen=True)
class Instance:
    """A Qiskit Runtime service instance the API key can use.

    Attributes
    ----------
    crn
        The instance CRN (what ``Service-CRN`` carries).
    name
        The instance's name in IBM Cloud.
    plan
        The plan's display name, lower-cased (e.g. ``"open"``), or ``"unknown"``.
    pricing_type
        ``"free"``, ``"trial"``, ``"paygo"``, ``"paid"``, ``"subscription"`` or ``"unknown"``.
    tags
        The instance's IBM Cloud tags.
    region
        The region field of the CRN (e.g. ``"us-east"``).
    """

    crn: str
    name: str
    plan: str = "unknown"
    pricing_type: str = "unknown"
    tags: tuple[str, ...] = field(default_factory=tuple)
    region: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The instance in the official client's ``instances()`` shape, plus ``region``."""
        return {
            "crn": self.crn,
            "name": self.name,
            "plan": self.plan,
            "pricing_type": self.pricing_type,
            "tags": list(self.tags),
            "region": self.region,
        }


def _region_of(crn: str) -> str:
    try:
        return CRN.parse(crn).region
    except InvalidInputError:
        return ""  # Global Search listed something that is not a runtime instance CRN


def _pricing_rank(instance: Instance) -> int:
    try:
        return PRICING_ORDER.index(instance.pricing_type)
    except ValueError:
        return len(PRICING_ORDER)


def list_instances(
    search_url: str,
    catalog_url: str,
    auth: AuthBase,
    *,
    session: requests.Session | None = None,
    verify: bool | str = True,
    proxies: dict[str, str] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Instance]:
    """Return the instances ``auth`` may use, most preferred pricing type first.

    Parameters
    ----------
    search_url
        IBM Cloud Global Search base URL, e.g. ``https://api.global-search-tagging.cloud.ibm.com``.
    catalog_url
        IBM Cloud Global Catalog base URL, e.g. ``https://globalcatalog.cloud.ibm.com/api/v1``.
    auth
        Auth hook adding ``Authorization`` (an :class:`~.auth.IAMAuth`; no ``Service-CRN``).
    session
        ``requests.Session`` to use.
    verify, proxies
        As in ``requests``.
    retry, sleep
        Retry policy and sleep function of the transports (see :class:`~.transport.Transport`).

    Returns
    -------
    list of Instance
        Sorted free, trial, paygo, paid, subscription, unknown (stable otherwise).

    Raises
    ------
    AuthError
        The API key or its token was refused.
    TransportError
        Global Search could not be reached or kept failing.
    """
    options: dict[str, Any] = {
        "auth": auth,
        "session": session,
        "verify": verify,
        "proxies": proxies,
        "retry": retry,
        "sleep": sleep,
    }
    search = Transport(search_url, **options)
    catalog = Transport(catalog_url, **options)
    plans: dict[str, tuple[str, str]] = {}
    found: list[Instance] = []
    for item in _search_items(search):
        doc = item.get("doc")
        if not (isinstance(doc, dict) and doc.get("extensions")):
            continue  # no quantum allocation: not usable, and the official client hides it too
        crn = item.get("crn")
        if not isinstance(crn, str) or not crn:
            continue
        plan_id = item.get("service_plan_unique_id")
        plan_id = plan_id if isinstance(plan_id, str) else ""
        if plan_id not in plans:
            plans[plan_id] = _plan(catalog, plan_id, crn)
        plan, pricing = plans[plan_id]
        tags = item.get("tags")
        found.append(
            Instance(
                crn=crn,
                name=str(item.get("name") or ""),
                plan=plan,
                pricing_type=pricing,
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                region=_region_of(crn),
            )
        )
    return sorted(found, key=_pricing_rank)


def _search_items(search: Transport) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"query": _SEARCH_QUERY, "fields": _SEARCH_FIELDS}
    items: list[dict[str, Any]] = []
    seen_cursors: set[str] = set()
    for _ in range(_MAX_SEARCH_PAGES):
        try:
            page = search.post_json(
                "/v3/resources/search",
                body,
                params={"limit": _SEARCH_PAGE},
                idempotent=True,  # a search changes nothing
            )
        except ForbiddenError as exc:
            raise ForbiddenError(
                f"IBM Cloud Global Search refused to list the instances of this API key: {exc}"
            ) from None
        except AuthError as exc:
            raise AuthError(f"Unable to list the instances of this API key: {exc}") from None
        except QRTError as exc:
            raise TransportError(
                f"Unable to list the instances of this API key from IBM Cloud Global Search at "
                f"{search.base_url}: {exc}"
            ) from None
        if not isinstance(page, dict):
            raise TransportError(
                f"IBM Cloud Global Search at {search.base_url} answered without a result list; "
                "check the search URL, then try again."
            )
        page_items = [i for i in page.get("items") or [] if isinstance(i, dict)]
        items.extend(page_items)
        cursor = page.get("search_cursor")
        if not page_items or not isinstance(cursor, str) or not cursor or cursor in seen_cursors:
            return items
        seen_cursors.add(cursor)
        body = {**body, "search_cursor": cursor}
    logger.warning("Global Search kept paging after %d pages; using what came", _MAX_SEARCH_PAGES)
    return items


def _plan(catalog: Transport, plan_id: str, crn: str) -> tuple[str, str]:
    """(plan name, pricing type) of a plan, ``("unknown", "unknown")`` if the catalog has none."""
    if not plan_id:
        return ("unknown", "unknown")
    try:
        entry = catalog.get_json("/" + quote(plan_id, safe=""))
    except ForbiddenError:
        entry = None  # archived plans answer 403
    except AuthError:
        raise
    except QRTError as exc:
        logger.warning("Catalog lookup of plan %s failed: %s", plan_id, exc)
        entry = None
    if not isinstance(entry, dict):
        logger.warning("The plan and pricing type of instance %s could not be retrieved.", crn)
        return ("unknown", "unknown")
    name = _dig(entry, "overview_ui", "en", "display_name")
    pricing = _dig(entry, "metadata", "pricing", "type")
    return (name.lower() if name else "unknown", pricing.lower() if pricing else "unknown")


def _dig(entry: dict[str, Any], *keys: str) -> str:
    value: Any = entry
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def preferred_instances(
    found: Sequence[Instance],
    *,
    region: str | None = None,
    tags: Sequence[str] | None = None,
    plans_preference: Sequence[str] | None = None,
) -> list[Instance]:
    """``found`` in the order an instance is picked from when none is given.

    Those in ``region`` and with one of ``tags`` first (when any are), then by the account's
    ``plans_preference``; otherwise :func:`list_instances`' order stands (free plans first, as
    the official client picks).
    """
    out = list(found)
    if region:
        out = [i for i in out if i.region == region] or out
    if tags:
        out = [i for i in out if set(tags) & set(i.tags)] or out
    plans = [p.lower() for p in (plans_preference or [])]
    if plans:
        rank = {p: n for n, p in enumerate(plans)}
        out.sort(key=lambda i: rank.get(i.plan.lower(), len(plans)))
    return out
