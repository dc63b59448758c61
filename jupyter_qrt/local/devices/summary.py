"""The JSON shapes of backends, as the IBM service answers ``GET /backends`` and ``.../status``."""

from __future__ import annotations

from typing import Any

from .catalog import Device

__all__ = ["device_status", "device_summary"]


def device_summary(device: Device, queue_length: int) -> dict[str, Any]:
    """One entry of ``GET /backends`` (``{"devices": [...]}``)."""
    configuration = device.configuration
    summary: dict[str, Any] = {
        "name": device.name,
        "status": {"name": "online", "reason": "available"},
        "is_simulator": device.simulator,
        "qubits": device.num_qubits,
        "physical_qubits": device.num_qubits,
        "processor_type": configuration.get("processor_type") or {},
        "queue_length": queue_length,
        "description": device.description,
    }
    clops = configuration.get("clops_h")
    if clops is not None:
        summary["clops"] = {"type": "clops_h", "value": clops}
    return summary


def device_status(device: Device, queue_length: int) -> dict[str, Any]:
    """``GET /backends/{name}/status``: always operational; ``length_queue`` is the real queue."""
    return {
        "state": True,
        "status": "active",
        "message": "available",
        "length_queue": queue_length,
        "backend_version": str(device.configuration.get("backend_version", "1.0.0")),
    }
