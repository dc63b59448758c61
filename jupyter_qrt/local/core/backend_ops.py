"""The backend operations of :class:`~.runtime.LocalRuntime`: devices and their documents."""

from __future__ import annotations

import threading
from typing import Any

from jupyter_qrt.local.devices import Device, DeviceCatalog
from jupyter_qrt.local.devices.calibration_ids import require_calibration
from jupyter_qrt.local.devices.summary import device_status, device_summary
from jupyter_qrt.local.identity.registry import IdentityRegistry
from jupyter_qrt.local.jobs.registry import JobRegistry
from jupyter_qrt.local.service_error import BACKEND_NOT_FOUND, not_found

__all__ = ["BackendOperations"]


class BackendOperations:
    """``GET /backends`` and a device's documents (mixed into ``LocalRuntime``)."""

    _catalog: DeviceCatalog
    _catalog_lock: threading.RLock
    _identity: IdentityRegistry
    _jobs: JobRegistry

    def backends(self, crn: str) -> dict[str, Any]:
        """``GET /backends``: ``{"devices": [...]}`` with each device's live queue length."""
        self._identity.instance(crn)
        queues = self._jobs.queue_lengths()
        with self._catalog_lock:
            devices = self._catalog.devices()
        return {"devices": [device_summary(d, queues.get(d.name, 0)) for d in devices]}

    def backend_configuration(
        self, crn: str, name: str, calibration_id: str | None = None
    ) -> dict[str, Any]:
        """``GET /backends/{name}/configuration`` (the device's dict: do not modify it).

        404 for a ``calibration_id`` that is not the device's calibration.
        """
        self._identity.instance(crn)
        self._check_calibration(name, calibration_id)
        return self._device(name).configuration

    def backend_properties(
        self, crn: str, name: str, calibration_id: str | None = None
    ) -> dict[str, Any] | None:
        """``GET /backends/{name}/properties``; None for the ideal simulator (404 as above)."""
        self._identity.instance(crn)
        self._check_calibration(name, calibration_id)
        return self._device(name).properties

    def backend_status(self, crn: str, name: str) -> dict[str, Any]:
        """``GET /backends/{name}/status`` with the device's live queue length."""
        self._identity.instance(crn)
        return device_status(self._device(name), self._jobs.queue_lengths().get(name, 0))

    # ----------------------------------------------------------------- helpers
    def _device(self, name: str) -> Device:
        self._check_backend(name)
        with self._catalog_lock:
            return self._catalog.get(name)

    def _check_backend(self, name: str) -> None:
        with self._catalog_lock:
            if name in self._catalog:
                return
            names = ", ".join(self._catalog.names())
        raise not_found(
            f"Backend not found: {name!r}. This service offers: {names}.", BACKEND_NOT_FOUND
        )

    def _check_calibration(self, name: str, calibration_id: str | None) -> None:
        if calibration_id is not None:
            require_calibration(name, self._device(name).calibration_id, calibration_id)
