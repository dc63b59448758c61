"""The core of the local runtime service: :class:`LocalRuntime`, the service without HTTP.

:mod:`.runtime` holds the class (lifecycle, backends, jobs, sessions); :mod:`.identity_ops` its
keys, instances and usage operations.
"""

from __future__ import annotations

from .runtime import DataDirBusyError, InstanceInfo, KeyInfo, LocalRuntime, ServiceError

__all__ = ["DataDirBusyError", "InstanceInfo", "KeyInfo", "LocalRuntime", "ServiceError"]
