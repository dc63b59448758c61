"""IBM backends as qiskit ``BackendV2`` objects, built from the service's JSON.

:class:`RuntimeBackend` holds a backend's configuration and builds its transpiler ``Target``
lazily, the first time something needs it (``target``, ``coupling_map``, the transpiler), asking
its properties source once. It makes no HTTP calls itself: whoever creates it passes loaders
(callables) that fetch properties and status, so tests and offline use can pass plain dicts.
"""

from __future__ import annotations

import copy
import logging
import statistics
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

from jupyter_qrt.runtime.errors import InvalidInputError, QRTError

from .calibration import Calibration, calibration_from_json
from .target import check_configuration, fractional_gate_names, target_from_json

__all__ = ["BackendStatus", "PropertiesSource", "RuntimeBackend", "StatusSource"]

logger = logging.getLogger(__name__)

PropertiesSource = Mapping[str, Any] | Callable[[], Mapping[str, Any] | None] | None
"""Backend properties: the JSON itself, a loader returning it (or None), or None."""
StatusSource = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None
"""The ``GET /backends/{name}/status`` JSON, a loader returning it, or None."""

# Z rotations are virtual (no pulse, no error): a median over them says nothing about quality.
_VIRTUAL_1Q_GATES = frozenset({"rz", "u1", "p", "id", "delay"})


@dataclass(frozen=True)
class BackendStatus:
    """What ``GET /backends/{name}/status`` says about a backend.

    Attributes
    ----------
    backend_name
        The backend's name.
    backend_version
        Version string of the backend (``"0.0.0"`` when the service does not say).
    operational
        True when the backend accepts jobs.
    pending_jobs
        Jobs waiting in the backend's queue.
    status_msg
        The service's status word, e.g. ``"active"``, ``"internal"`` (accepting jobs but not
        running them), ``"maintenance"``.
    """

    backend_name: str
    backend_version: str
    operational: bool
    pending_jobs: int
    status_msg: str

    @classmethod
    def from_json(cls, backend_name: str, payload: Mapping[str, Any]) -> BackendStatus:
        """Map the status JSON (``state``, ``status``, ``length_queue``, ``backend_version``).

        Raises
        ------
        InvalidInputError
            If the payload is not a JSON object or ``length_queue`` is not a number.
        """
        if not isinstance(payload, Mapping):
            raise InvalidInputError(
                f"The status of backend {backend_name!r} is not a JSON object: {payload!r}. "
                "Ask for the status again later."
            )
        queue = payload.get("length_queue") or 0
        if not isinstance(queue, int | float) or isinstance(queue, bool):
            raise InvalidInputError(
                f"The status of backend {backend_name!r} has length_queue={queue!r}, not a "
                "number. Ask for the status again later."
            )
        return cls(
            backend_name=backend_name,
            backend_version=str(payload.get("backend_version") or "0.0.0"),
            operational=bool(payload.get("state", False)),
            pending_jobs=max(int(queue), 0),
            status_msg=str(payload.get("status") or ""),
        )


def _parse_date(value: Any, backend_name: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        logger.debug("Backend %s has an unreadable online_date %r", backend_name, value)
        return None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


class RuntimeBackend(BackendV2):  # type: ignore[misc]  # qiskit ships no type hints
    """An IBM Quantum backend as a qiskit ``BackendV2``, for transpiling and browsing.

    Parameters
    ----------
    name
        The backend's name, as the service knows it (it wins over the configuration's
        ``backend_name``, as in the official client).
    configuration
        The ``GET /backends/{name}/configuration`` JSON. It is copied.
    properties
        The ``GET /backends/{name}/properties`` JSON, or a loader returning it (called at most
        once until ``properties(refresh=True)``), or None for no calibration data.
    status
        The ``GET /backends/{name}/status`` JSON, or a loader returning it (called on every
        :meth:`status`).
    service
        The service object this backend came from, kept for the primitives.
    use_fractional_gates
        Keep fractional gates (``rzz``, ``rx``) in the target. Off by default, as in the
        official client: the service does not run them together with dynamic circuits.

    Raises
    ------
    InvalidInputError
        If the configuration lacks what a ``Target`` needs.

    Notes
    -----
    ``run()`` is not supported: circuits run through ``jupyter_qrt.runtime``'s ``Sampler`` and
    ``Estimator``.
    """

    def __init__(
        self,
        name: str,
        configuration: Mapping[str, Any],
        *,
        properties: PropertiesSource = None,
        status: StatusSource = None,
        service: Any = None,
        use_fractional_gates: bool = False,
    ) -> None:
        check_configuration(configuration, backend_name=name)
        config = copy.deepcopy(dict(configuration))
        super().__init__(
            name=name,
            description=config.get("description"),
            online_date=_parse_date(config.get("online_date"), name),
            backend_version=config.get("backend_version"),
        )
        self._configuration = config
        self._properties_source = (
            copy.deepcopy(dict(properties)) if isinstance(properties, Mapping) else properties
        )
        self._status_source = status
        self._service = service
        self._use_fractional_gates = use_fractional_gates
        self._properties: Mapping[str, Any] | None = None
        self._properties_loaded = False
        self._target: Target | None = None
        # Widgets may touch a backend from several threads: load and build once.
        self._lock = threading.RLock()

    @classmethod
    def _default_options(cls) -> Options:
        return Options()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({self.name!r})>"

    # -- static description ------------------------------------------------------------------

    @property
    def num_qubits(self) -> int:
        """Number of qubits (read from the configuration: no properties are fetched)."""
        return int(self._configuration["n_qubits"])

    @property
    def simulator(self) -> bool:
        """True for a simulator backend (it has no calibration properties)."""
        return bool(self._configuration.get("simulator", False))

    @property
    def processor_type(self) -> dict[str, Any] | None:
        """The processor family and revision, e.g. ``{"family": "Heron", "revision": "2"}``."""
        processor = self._configuration.get("processor_type")
        return dict(processor) if isinstance(processor, Mapping) else None

    @property
    def use_fractional_gates(self) -> bool:
        """Whether the target keeps fractional gates (``rzz``, ``rx``)."""
        return self._use_fractional_gates

    @property
    def service(self) -> Any:
        """The :class:`~jupyter_qrt.runtime.RuntimeService` this backend came from, or None.

        Typed ``Any`` so that backends need not import the facade that builds them.
        """
        return self._service

    @property
    def max_circuits(self) -> None:
        """None: the service limits job size by other means, as the official client reports."""
        return None

    @property
    def dtm(self) -> float | None:
        """Time resolution of output signals in seconds, or None when not given."""
        dtm = self._configuration.get("dtm")
        return None if dtm is None else float(dtm) * 1e-9

    @property
    def meas_map(self) -> list[list[int]]:
        """Groups of qubits that are measured together.

        Raises
        ------
        NotImplementedError
            If the configuration has no ``meas_map``.
        """
        meas_map = self._configuration.get("meas_map")
        if meas_map is None:
            raise NotImplementedError(f"Backend {self.name!r} does not give a meas_map.")
        return [list(group) for group in meas_map]

    def configuration(self) -> dict[str, Any]:
        """A copy of the configuration JSON (changing it does not change the backend)."""
        return copy.deepcopy(self._configuration)

    # -- calibration -------------------------------------------------------------------------

    def _load_properties(self, refresh: bool = False) -> Mapping[str, Any] | None:
        if self.simulator:
            return None
        with self._lock:
            if refresh or not self._properties_loaded:
                source = self._properties_source
                raw = source() if callable(source) else source
                if raw is not None and not isinstance(raw, Mapping):
                    raise InvalidInputError(
                        f"The properties of backend {self.name!r} are not a JSON object. "
                        "Refresh the backend later, or report it to the service's operator."
                    )
                self._properties = raw or None
                self._properties_loaded = True
                if refresh:
                    self._target = None
                    self._coupling_map = None
            return self._properties

    def properties(self, refresh: bool = False) -> dict[str, Any] | None:
        """A copy of the calibration properties JSON, or None (simulators, no data).

        Parameters
        ----------
        refresh
            Ask the properties source again; the target is rebuilt from the new data the next
            time it is needed.
        """
        raw = self._load_properties(refresh=refresh)
        return None if raw is None else copy.deepcopy(dict(raw))

    @property
    def target(self) -> Target:
        """The transpiler ``Target``, built from configuration and properties on first use."""
        with self._lock:
            if self._target is None:
                self._target = target_from_json(
                    self._configuration,
                    self._load_properties(),
                    include_fractional_gates=self._use_fractional_gates,
                    backend_name=self.name,
                )
            return self._target

    def _usable_basis(self) -> set[str]:
        fractional = frozenset() if self._use_fractional_gates else fractional_gate_names()
        return {name for name in self._configuration["basis_gates"] if name not in fractional}

    def median_errors(self) -> dict[str, float | None]:
        """Median calibration figures, for comparing backends at a glance.

        Faulty qubits and gates are left out. Values are None when the backend has no data
        (simulators). Reading them builds no ``Target``.

        Returns
        -------
        dict
            ``single_qubit_gate_error`` (``sx``, or the backend's other pulsed one-qubit gates),
            ``two_qubit_gate_error`` (its two-qubit basis gates), ``readout_error``, and ``t1``,
            ``t2`` in seconds.
        """
        raw = self._load_properties()
        medians: dict[str, float | None] = dict.fromkeys(
            ("single_qubit_gate_error", "two_qubit_gate_error", "readout_error", "t1", "t2")
        )
        if raw is None:
            return medians
        calibration = calibration_from_json(raw, num_qubits=self.num_qubits, backend_name=self.name)
        faulty = calibration.faulty_qubits
        good_qubits = [q for q, values in enumerate(calibration.qubits) if q not in faulty]
        for key, name in (("readout_error", "readout_error"), ("t1", "T1"), ("t2", "T2")):
            medians[key] = _median(
                [calibration.qubits[q][name] for q in good_qubits if name in calibration.qubits[q]]
            )
        basis = self._usable_basis()
        one_qubit = {"sx"} if "sx" in calibration.gates else basis - _VIRTUAL_1Q_GATES
        medians["single_qubit_gate_error"] = _median(_gate_errors(calibration, one_qubit, 1))
        medians["two_qubit_gate_error"] = _median(_gate_errors(calibration, basis, 2))
        return medians

    # -- service-side state ------------------------------------------------------------------

    def status(self) -> BackendStatus:
        """The backend's current status (asks the status source every time).

        Raises
        ------
        QRTError
            If this backend was made without a status source.
        """
        source = self._status_source
        if source is None:
            raise QRTError(
                f"Backend {self.name!r} was made without a status source. Get the backend from "
                "the service to see its live status."
            )
        payload = source() if callable(source) else source
        return BackendStatus.from_json(self.name, payload)

    def run(self, run_input: Any, **options: Any) -> Any:
        """Not supported: IBM backends run circuits through primitives.

        Raises
        ------
        QRTError
            Always; the message says to use ``Sampler`` or ``Estimator``.
        """
        raise QRTError(
            "backend.run() is not supported by IBM Quantum backends. Run circuits with the "
            "primitives instead: jupyter_qrt.runtime.Sampler(mode=backend) for counts and "
            "bitstrings, or jupyter_qrt.runtime.Estimator(mode=backend) for expectation values."
        )

    # -- copying -----------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __deepcopy__(self, memo: dict[int, Any]) -> RuntimeBackend:
        # The copy talks to the same service through the same loaders.
        memo[id(self._service)] = self._service
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        clone.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return clone


def _gate_errors(calibration: Calibration, names: set[str], width: int) -> list[float]:
    errors = []
    for name in names:
        for qargs, values in calibration.gates.get(name, {}).items():
            if len(qargs) != width or "gate_error" not in values:
                continue
            if calibration.faulty_qubits.intersection(qargs):
                continue
            if calibration.is_gate_operational(name, qargs):
                errors.append(values["gate_error"])
    return errors
