"""Calibration ids: the stable name of one device calibration, as IBM's ``calibration_id``.

IBM's service names each calibration of a device with an id; ``GET /backends/{name}/properties``
and ``/configuration`` take ``calibration_id=`` to serve that calibration, and refuse ids they do
not know. The local service has one calibration per device (the current one), named
``cal_<date>_<digest>``: the calibration's ``last_update_date`` (UTC, to the minute) and the first
ten hex digits of the SHA-256 of its properties, so the same calibration always has the same id
and another calibration (another seed, another date) another one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from jupyter_qrt.local.service_error import ServiceError, not_found

__all__ = [
    "CALIBRATION_ID_KEY",
    "calibration_id_of",
    "require_calibration",
    "stamp_calibration_id",
]

#: The key of the id in the properties and configuration JSON (IBM's field name).
CALIBRATION_ID_KEY = "calibration_id"


def calibration_id_of(properties: dict[str, Any]) -> str:
    """The id of the calibration ``properties`` describe (its own ``calibration_id`` ignored)."""
    content = {key: value for key, value in properties.items() if key != CALIBRATION_ID_KEY}
    # backend_name is left out: a snapshot served under another name is the same calibration.
    content.pop("backend_name", None)
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    return f"cal_{_date_part(properties.get('last_update_date'))}_{digest[:10]}"


def stamp_calibration_id(configuration: dict[str, Any], properties: dict[str, Any] | None) -> str:
    """Write the calibration's id into both documents (if not there yet); return it.

    A device without calibrations (``properties`` None: the ideal simulator) has no id: ``""``.
    """
    if properties is None:
        return ""
    existing = properties.get(CALIBRATION_ID_KEY)
    calibration_id = existing if isinstance(existing, str) and existing else None
    if calibration_id is None:
        calibration_id = calibration_id_of(properties)
        properties[CALIBRATION_ID_KEY] = calibration_id
    configuration.setdefault(CALIBRATION_ID_KEY, calibration_id)
    return calibration_id


def require_calibration(name: str, current: str, wanted: str | None) -> None:
    """Refuse ``wanted`` unless it is None (the current calibration) or ``current``'s id.

    Parameters
    ----------
    name
        The device's name, for the message.
    current
        The id of the device's calibration (``""`` for a device without calibrations).
    wanted
        The ``calibration_id`` the caller asked for.

    Raises
    ------
    ServiceError
        404: no calibration of that id, with the id that the device has and what to do.
    """
    if wanted is None or (current and wanted == current):
        return
    raise _unknown(name, current, wanted)


def _unknown(name: str, current: str, wanted: str) -> ServiceError:
    if current:
        known = f"The calibration {name} has is {current!r}"
    else:
        known = f"{name} has no calibrations (it is a noise-free simulator)"
    return not_found(
        f"Calibration not found: {wanted!r} is not a calibration of {name}. {known}; omit "
        "calibration_id to use the current calibration."
    )


def _date_part(value: object) -> str:
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "undated"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    return "undated"
