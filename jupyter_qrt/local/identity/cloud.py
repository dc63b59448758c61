"""Just enough IBM Cloud Global Search and Global Catalog for the clients' instance discovery.

The official client lists the instances an API key can use with Global Search
(``POST /v3/resources/search``), keeps those whose ``doc.extensions`` is non-empty, and asks Global
Catalog (``GET /{service_plan_unique_id}``) for each one's plan name
(``overview_ui.en.display_name``, lower-cased) and pricing type (``metadata.pricing.type``). The
functions here build those answers from the local service's instances; they hold no state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from jupyter_qrt.runtime.accounts.crn import CRN
from jupyter_qrt.runtime.errors import InvalidInputError

from .records import InstanceInfo, pricing_type

__all__ = [
    "PLAN_ID_PREFIX",
    "SERVICE_NAME",
    "catalog_entry",
    "plan_display_name",
    "plan_id",
    "plan_of_id",
    "search_result",
]

SERVICE_NAME = "quantum-computing"
"""The IBM Cloud service name of Qiskit Runtime instances."""

PLAN_ID_PREFIX = "qrt-local-plan-"
"""Catalog ids of the local plans are this prefix followed by the plan name."""

# Display names of the plans IBM Quantum sells; lower-cased they give the plan name back, which is
# what the official client keeps as ``plan``.
_DISPLAY_NAMES = {
    "open": "Open",
    "lite": "Lite",
    "trial": "Trial",
    "pay-as-you-go": "Pay-As-You-Go",
    "paygo": "PayGo",
    "flex": "Flex",
    "premium": "Premium",
    "standard": "Standard",
    "dedicated": "Dedicated",
    "internal": "Internal",
    "local": "Local",
    "classroom": "Classroom",
}
_SERVICE_NAME_TERM = re.compile(r"service_name\s*:\s*\"?([A-Za-z0-9_.-]+)\"?")


def plan_id(plan: str) -> str:
    """The catalog id (``service_plan_unique_id``) of a local plan."""
    return PLAN_ID_PREFIX + plan


def plan_of_id(catalog_id: str) -> str | None:
    """The plan name of a catalog id made by :func:`plan_id`, or ``None`` for any other id."""
    if not catalog_id.startswith(PLAN_ID_PREFIX):
        return None
    plan = catalog_id[len(PLAN_ID_PREFIX) :]
    return plan or None


def plan_display_name(plan: str) -> str:
    """The name the catalog shows for ``plan`` (IBM's spelling for IBM's plans)."""
    return _DISPLAY_NAMES.get(plan.lower(), plan)


def _search_item(instance: InstanceInfo, fields: Sequence[str] | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "crn": instance.crn,
        "name": instance.name,
        "service_plan_unique_id": plan_id(instance.plan),
        "service_name": SERVICE_NAME,
        "type": "resource-instance",
        "region": _region_of_crn(instance.crn),
        "family": "resource_controller",
        "tags": list(instance.tags),
        "doc": {
            "name": instance.name,
            "state": "active",
            "created_at": instance.created,
            # The official client drops an instance whose ``extensions`` is empty (it reads it as
            # "no backend allocation"), so the allocation of the instance goes here.
            "extensions": {
                "quantum_computing": {
                    "plan": instance.plan,
                    "usage_limit_seconds": instance.usage_limit_seconds,
                }
            },
        },
    }
    if fields:
        wanted = {*fields, "crn"}
        item = {key: value for key, value in item.items() if key in wanted}
    return item


def _region_of_crn(crn: str) -> str:
    try:
        return CRN.parse(crn).region
    except InvalidInputError:
        return ""


def _asks_for_other_service(query: str) -> bool:
    names = _SERVICE_NAME_TERM.findall(query)
    return bool(names) and SERVICE_NAME not in names


def search_result(
    instances: Iterable[InstanceInfo],
    *,
    query: str = "",
    fields: Sequence[str] | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The Global Search answer listing ``instances`` (those the caller's key may use).

    Parameters
    ----------
    instances
        The instances to list.
    query
        The Lucene-style query; a ``service_name:`` term naming another service finds nothing.
    fields
        Fields of each item to return (``crn`` always comes); all when empty.
    limit
        Most items in the answer.

    Returns
    -------
    dict
        ``{"items": [...], "limit": limit}``, without ``search_cursor``: there is one page.
    """
    if _asks_for_other_service(query):
        items: list[dict[str, Any]] = []
    else:
        items = [_search_item(instance, fields) for instance in instances][: max(limit, 0)]
    return {"items": items, "limit": limit}


def catalog_entry(catalog_id: str, instances: Iterable[InstanceInfo]) -> dict[str, Any] | None:
    """The Global Catalog entry of a local plan, or ``None`` when ``catalog_id`` is not one.

    The pricing type is the one the service's instances of that plan carry, else the one
    :data:`.identity.PLAN_PRICING` gives a plan of that name.
    """
    plan = plan_of_id(catalog_id)
    if plan is None:
        return None
    pricing = next(
        (instance.pricing_type for instance in instances if instance.plan == plan),
        pricing_type(plan),
    )
    if pricing is None:
        return None
    display = plan_display_name(plan)
    return {
        "id": catalog_id,
        "name": plan,
        "kind": "plan",
        "active": True,
        "disabled": False,
        "overview_ui": {"en": {"display_name": display, "description": f"{display} plan"}},
        "metadata": {"pricing": {"type": pricing}},
    }
