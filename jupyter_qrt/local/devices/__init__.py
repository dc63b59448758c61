"""Simulated devices of the local runtime service (see :mod:`.catalog` for the list).

Each :class:`Device` carries configuration and properties dicts in the IBM JSON format, so the
service serves them verbatim and any client (ours or the official one) builds a transpiler
target from them.
"""

from __future__ import annotations

from .catalog import (
    DEFAULT_SEED,
    IDEAL_SIMULATOR_NAME,
    SNAPSHOT_PREFIX,
    Device,
    DeviceCatalog,
    DeviceNotFoundError,
    builtin_catalog,
    ibm_snapshot_catalog,
)

__all__ = [
    "DEFAULT_SEED",
    "IDEAL_SIMULATOR_NAME",
    "SNAPSHOT_PREFIX",
    "Device",
    "DeviceCatalog",
    "DeviceNotFoundError",
    "builtin_catalog",
    "ibm_snapshot_catalog",
]
