"""The records of identity: instances and key bindings as the service shows them, and plans."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from jupyter_qrt.local.store.timestamps import iso_z

__all__ = ["PLAN_PRICING", "InstanceInfo", "KeyInfo", "instance_info", "key_info", "pricing_type"]

#: Plan names people know from IBM Quantum Platform (and two local ones), and the pricing type
#: an instance of the plan has (what Global Catalog reports for it).
PLAN_PRICING: Mapping[str, str] = MappingProxyType(
    {
        "open": "free",
        "lite": "free",
        "trial": "trial",
        "pay-as-you-go": "paygo",
        "paygo": "paygo",
        "standard": "paygo",
        "flex": "subscription",
        "premium": "subscription",
        "dedicated": "subscription",
        "internal": "free",
        "local": "free",
        "classroom": "free",
    }
)


def pricing_type(plan: str) -> str | None:
    """The pricing type of a plan name (any case), or None for a plan this service does not know."""
    return PLAN_PRICING.get(plan.lower())


@dataclass(frozen=True)
class KeyInfo:
    """What an API key is bound to (never the key itself)."""

    key_id: str
    name: str
    instance_crn: str
    user_id: str


@dataclass(frozen=True)
class InstanceInfo:
    """An instance of the local service, as Global Search and the usage endpoint show it."""

    crn: str
    name: str
    plan: str
    pricing_type: str
    usage_limit_seconds: float | None
    created: str
    tags: tuple[str, ...]


def instance_info(row: sqlite3.Row) -> InstanceInfo:
    """An ``instances`` row as an :class:`InstanceInfo`."""
    limit = row["usage_limit_seconds"]
    return InstanceInfo(
        crn=row["crn"],
        name=row["name"],
        plan=row["plan"],
        pricing_type=row["pricing_type"],
        usage_limit_seconds=None if limit is None else float(limit),
        created=iso_z(float(row["created"])),
        tags=tuple(json.loads(row["tags"])),
    )


def key_info(row: sqlite3.Row) -> KeyInfo:
    """A ``keys`` row as a :class:`KeyInfo` (never the key)."""
    return KeyInfo(
        key_id=row["key_id"],
        name=row["name"],
        instance_crn=row["instance_crn"],
        user_id=row["user_id"],
    )
