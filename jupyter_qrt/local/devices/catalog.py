"""The devices the local service offers: :class:`Device`, :class:`DeviceCatalog` and two catalogs.

- :func:`builtin_catalog`: simulated devices with seeded calibrations, plus an ideal simulator.
  Their names (``qrt_*``) cannot be mistaken for IBM's devices:

  =================== ====== ========== ==== ==============================================
  name                qubits layout     2q   looks like
  =================== ====== ========== ==== ==============================================
  qrt_wren            5      T-shape    ecr  a small Eagle-generation chip
  qrt_robin           7      H-shape    cx   a Falcon r5.11H chip
  qrt_kestrel         27     heavy-hex  cx   a Falcon r5.11 chip
  qrt_pelican         127    heavy-hex  ecr  an Eagle r3 chip
  qrt_gannet          156    heavy-hex  cz   a Heron r2 chip
  qrt_ideal_simulator 32     all-to-all any  an ideal, noise-free simulator (exact results)
  =================== ====== ========== ==== ==============================================

  All hardware-like devices take ``measure``, ``reset``, ``delay`` and control flow
  (``if_else``, ``for_loop``, ``switch_case``, ``while_loop``) besides their gates.

- :func:`ibm_snapshot_catalog`: the calibration snapshots packaged with ``qiskit-ibm-runtime``
  (read as plain JSON files, the package is never imported), renamed ``snapshot_<name>``.

Catalogs build devices lazily, on first :meth:`DeviceCatalog.get`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jupyter_qrt.runtime.errors import BackendNotFoundError

from .calibration_ids import CALIBRATION_ID_KEY, stamp_calibration_id
from .configuration import MAX_SHOTS, device_configuration, ideal_simulator_configuration
from .profiles import EAGLE_LIKE, FALCON_LIKE, HERON_LIKE, ProcessorProfile
from .topologies import (
    Topology,
    h_shape_7,
    heavy_hex_27,
    heavy_hex_127,
    heavy_hex_156,
    t_shape_5,
)

__all__ = [
    "DEFAULT_CALIBRATION_TIME",
    "DEFAULT_SEED",
    "IDEAL_SIMULATOR_NAME",
    "SNAPSHOT_PREFIX",
    "Device",
    "DeviceCatalog",
    "DeviceNotFoundError",
    "builtin_catalog",
    "ibm_snapshot_catalog",
]

logger = logging.getLogger(__name__)

DEFAULT_SEED = 2026
#: Calibration time of the built-in devices unless a catalog is given another one.
DEFAULT_CALIBRATION_TIME = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
IDEAL_SIMULATOR_NAME = "qrt_ideal_simulator"
IDEAL_SIMULATOR_QUBITS = 32
SNAPSHOT_PREFIX = "snapshot_"


class DeviceNotFoundError(BackendNotFoundError, KeyError):
    """No device of that name is in the catalog; the message lists the names that are."""

    def __str__(self) -> str:
        # KeyError would print the message quoted, as a repr.
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Device:
    """One device the local service offers.

    Parameters
    ----------
    name
        Backend name, as clients address it.
    configuration
        ``QasmBackendConfiguration`` dict (IBM JSON format).
    properties
        ``BackendProperties`` dict, or ``None`` for the ideal simulator.
    num_qubits
        Number of qubits.
    simulator
        ``True`` for the ideal simulator (``configuration["simulator"]``).
    description
        One line for people.

    A device with calibrations gets their id (see :mod:`.calibration_ids`) written into both
    documents as ``calibration_id``.
    """

    name: str
    configuration: dict[str, Any] = field(repr=False)
    properties: dict[str, Any] | None = field(repr=False)
    num_qubits: int
    simulator: bool
    description: str

    def __post_init__(self) -> None:
        stamp_calibration_id(self.configuration, self.properties)

    @property
    def calibration_id(self) -> str:
        """The id of the device's calibration (IBM's ``calibration_id``); ``""`` if it has none."""
        return str((self.properties or {}).get(CALIBRATION_ID_KEY) or "")

    @property
    def max_shots(self) -> int:
        """Most shots one circuit may ask for (``configuration["max_shots"]``)."""
        return int(self.configuration.get("max_shots") or MAX_SHOTS)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short digest of the configuration and properties (keys caches across processes)."""
        text = json.dumps([self.configuration, self.properties], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class DeviceCatalog:
    """A set of named devices, each built on first use.

    Parameters
    ----------
    loaders
        ``name -> zero-argument callable returning the Device``.
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Device]]) -> None:
        self._loaders = dict(loaders)
        self._devices: dict[str, Device] = {}

    @classmethod
    def from_devices(cls, devices: Iterable[Device]) -> DeviceCatalog:
        """Return a catalog of ready-made devices."""
        built = {device.name: device for device in devices}
        catalog = cls(
            {name: functools.partial(_identity, device) for name, device in built.items()}
        )
        catalog._devices.update(built)
        return catalog

    def names(self) -> list[str]:
        """Return the device names, sorted."""
        return sorted(self._loaders)

    def get(self, name: str) -> Device:
        """Return the device called ``name``.

        Raises
        ------
        DeviceNotFoundError
            No such device; the message lists the available names.
        """
        device = self._devices.get(name)
        if device is not None:
            return device
        loader = self._loaders.get(name)
        if loader is None:
            raise DeviceNotFoundError(
                f"No device named {name!r} in this catalog. "
                f"Use one of: {', '.join(self.names()) or '(none)'}."
            )
        device = loader()
        self._devices[name] = device
        return device

    def devices(self) -> list[Device]:
        """Return every device, sorted by name (builds those not built yet)."""
        return [self.get(name) for name in self.names()]

    def merged(self, other: DeviceCatalog) -> DeviceCatalog:
        """Return a catalog with the devices of both (``other`` wins on a name clash)."""
        merged = DeviceCatalog({**self._loaders, **other._loaders})
        merged._devices.update({**self._devices, **other._devices})
        return merged

    def __contains__(self, name: object) -> bool:
        return name in self._loaders

    def __len__(self) -> int:
        return len(self._loaders)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __repr__(self) -> str:
        return f"DeviceCatalog({self.names()!r})"


def _identity(device: Device) -> Device:
    return device


@dataclass(frozen=True)
class _BuiltinSpec:
    name: str
    topology: Callable[[], Topology]
    profile: ProcessorProfile
    summary: str


_BUILTIN_SPECS = (
    _BuiltinSpec("qrt_wren", t_shape_5, EAGLE_LIKE, "T-shaped, ecr"),
    _BuiltinSpec("qrt_robin", h_shape_7, FALCON_LIKE, "H-shaped like Falcon r5.11H, cx"),
    _BuiltinSpec("qrt_kestrel", heavy_hex_27, FALCON_LIKE, "heavy-hex like Falcon r5.11, cx"),
    _BuiltinSpec("qrt_pelican", heavy_hex_127, EAGLE_LIKE, "heavy-hex like Eagle r3, ecr"),
    _BuiltinSpec("qrt_gannet", heavy_hex_156, HERON_LIKE, "heavy-hex like Heron r2, cz"),
)


def _build_device(spec: _BuiltinSpec, seed: int, calibrated_at: datetime) -> Device:
    # Here, not at the top: calibrations need numpy, which a service that only lists devices
    # (or a CLI command) need not load.
    from .calibrations import generate_properties

    topology = spec.topology()
    properties = generate_properties(
        spec.name, topology, spec.profile, seed=seed, calibrated_at=calibrated_at
    )
    description = (
        f"Simulated {topology.num_qubits}-qubit device ({spec.summary}); "
        f"noise from seeded calibrations (seed {seed})"
    )
    configuration = device_configuration(spec.name, topology, spec.profile, properties, description)
    return Device(spec.name, configuration, properties, topology.num_qubits, False, description)


def _build_ideal_simulator(num_qubits: int) -> Device:
    description = f"Ideal {num_qubits}-qubit simulator: all-to-all, no noise, exact statevector"
    configuration = ideal_simulator_configuration(IDEAL_SIMULATOR_NAME, num_qubits, description)
    return Device(IDEAL_SIMULATOR_NAME, configuration, None, num_qubits, True, description)


def builtin_catalog(
    seed: int = DEFAULT_SEED,
    *,
    calibrated_at: datetime | None = None,
) -> DeviceCatalog:
    """Return the built-in simulated devices and the ideal simulator.

    Parameters
    ----------
    seed
        Calibration seed: the same seed always gives the same calibrations.
    calibrated_at
        Calibration time written into the properties (timezone-aware); defaults to
        :data:`DEFAULT_CALIBRATION_TIME` so that the output depends on ``seed`` alone.
    """
    when = calibrated_at or DEFAULT_CALIBRATION_TIME
    if when.tzinfo is None:
        raise ValueError("calibrated_at must be timezone-aware, e.g. datetime.now(UTC)")
    loaders: dict[str, Callable[[], Device]] = {
        spec.name: functools.partial(_build_device, spec, seed, when) for spec in _BUILTIN_SPECS
    }
    loaders[IDEAL_SIMULATOR_NAME] = functools.partial(
        _build_ideal_simulator, IDEAL_SIMULATOR_QUBITS
    )
    return DeviceCatalog(loaders)


def _snapshot_directory() -> Path | None:
    # find_spec locates the installed package without importing it (its import is slow and
    # the local layer must not depend on it).
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations))) / "fake_provider" / "backends"
    return directory if directory.is_dir() else None


def _load_snapshot(directory: Path, short_name: str) -> Device:
    name = SNAPSHOT_PREFIX + short_name
    configuration = json.loads((directory / f"conf_{short_name}.json").read_text())
    properties = json.loads((directory / f"props_{short_name}.json").read_text())
    original = configuration.get("backend_name", short_name)
    configuration["backend_name"] = name
    properties["backend_name"] = name
    num_qubits = int(configuration["n_qubits"])
    description = f"Calibration snapshot of {original} ({num_qubits} qubits), simulated with noise"
    configuration["description"] = description
    return Device(name, configuration, properties, num_qubits, False, description)


def ibm_snapshot_catalog(names: Iterable[str] | None = None) -> DeviceCatalog:
    """Return the device snapshots packaged with ``qiskit-ibm-runtime``, if it is installed.

    Each snapshot is served as ``snapshot_<name>`` (e.g. ``snapshot_manila``) so it cannot be
    confused with the live IBM device. The package is located, never imported.

    Parameters
    ----------
    names
        Only these snapshots (``"manila"`` or ``"snapshot_manila"``); all when ``None``.

    Returns
    -------
    DeviceCatalog
        Empty when ``qiskit-ibm-runtime`` is not installed.

    Raises
    ------
    DeviceNotFoundError
        A requested name is not among the packaged snapshots (the message lists them).
    """
    directory = _snapshot_directory()
    available: dict[str, Path] = {}
    if directory is not None:
        for folder in sorted(directory.iterdir()):
            short = folder.name
            if (folder / f"conf_{short}.json").is_file() and (
                folder / f"props_{short}.json"
            ).is_file():
                available[short] = folder
    else:
        logger.info("qiskit-ibm-runtime is not installed: no device snapshots to serve")
    wanted = list(available) if names is None else [n.removeprefix(SNAPSHOT_PREFIX) for n in names]
    missing = [n for n in wanted if n not in available]
    if missing:
        listing = ", ".join(available) or "(none: qiskit-ibm-runtime is not installed)"
        raise DeviceNotFoundError(
            f"No packaged snapshot named {', '.join(missing)}. Use one of: {listing}."
        )
    return DeviceCatalog(
        {
            SNAPSHOT_PREFIX + short: functools.partial(_load_snapshot, available[short], short)
            for short in wanted
        }
    )
