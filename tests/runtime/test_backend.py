"""RuntimeBackend: a qiskit BackendV2 that transpiles like the official IBMBackend."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import pickle
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.runtime.backends.backend import BackendStatus, RuntimeBackend
from jupyter_qrt.runtime.backends.isa import check_isa
from jupyter_qrt.runtime.errors import InvalidInputError, QRTError

_SPEC = importlib.util.find_spec("qiskit_ibm_runtime")
assert _SPEC is not None
assert _SPEC.submodule_search_locations
SNAPSHOTS = Path(_SPEC.submodule_search_locations[0]) / "fake_provider" / "backends"


def snapshot(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = SNAPSHOTS / name
    return (
        json.loads((folder / f"conf_{name}.json").read_text()),
        json.loads((folder / f"props_{name}.json").read_text()),
    )


class CountingLoader:
    """A properties loader that counts how often the backend asks for properties."""

    def __init__(self, properties: dict[str, Any] | None) -> None:
        self.properties = properties
        self.calls = 0

    def __call__(self) -> dict[str, Any] | None:
        self.calls += 1
        return copy.deepcopy(self.properties)


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def official_isa_verdict(circuit: QuantumCircuit, backend: RuntimeBackend) -> str:
    from qiskit_ibm_runtime.utils.utils import is_isa_circuit

    return str(is_isa_circuit(circuit, backend.target))


@pytest.fixture(scope="module")
def kingston() -> RuntimeBackend:
    configuration, properties = snapshot("kingston")
    return RuntimeBackend("ibm_kingston", configuration, properties=properties)


@pytest.fixture
def manila_loader() -> CountingLoader:
    return CountingLoader(snapshot("manila")[1])


@pytest.fixture
def manila(manila_loader: CountingLoader) -> RuntimeBackend:
    return RuntimeBackend("fake_manila", snapshot("manila")[0], properties=manila_loader)


def test_target_is_built_lazily_asking_for_properties_once(
    manila: RuntimeBackend, manila_loader: CountingLoader
) -> None:
    assert manila.num_qubits == 5
    assert manila_loader.calls == 0

    target = manila.target
    assert manila.coupling_map.get_edges()
    assert manila.target is target
    assert manila.target["cx"][(0, 1)].error is not None
    assert manila_loader.calls == 1


def test_refreshing_properties_rebuilds_the_target(
    manila: RuntimeBackend, manila_loader: CountingLoader
) -> None:
    old_target = manila.target
    manila_loader.properties = copy.deepcopy(manila_loader.properties)
    assert manila_loader.properties is not None
    manila_loader.properties["qubits"][0][0]["value"] = 1.0  # T1 = 1 us

    manila.properties(refresh=True)

    assert manila_loader.calls == 2
    assert manila.target is not old_target
    assert manila.qubit_properties(0).t1 == pytest.approx(1e-6)


def test_transpiled_bell_passes_our_and_official_isa_check(manila: RuntimeBackend) -> None:
    isa = generate_preset_pass_manager(backend=manila, optimization_level=1).run(bell())

    check_isa(isa, manila.target, backend_name=manila.name)
    assert official_isa_verdict(isa, manila) == ""


def test_transpiled_ghz_on_156_qubits_passes(kingston: RuntimeBackend) -> None:
    ghz = QuantumCircuit(6)
    ghz.h(0)
    for qubit in range(5):
        ghz.cx(qubit, qubit + 1)
    ghz.measure_all()

    isa = generate_preset_pass_manager(backend=kingston, optimization_level=1).run(ghz)

    assert isa.count_ops().get("cz", 0) >= 5
    check_isa(isa, kingston.target, backend_name=kingston.name)
    assert official_isa_verdict(isa, kingston) == ""


def test_describes_itself_from_the_configuration(kingston: RuntimeBackend) -> None:
    configuration = snapshot("kingston")[0]

    assert repr(kingston) == "<RuntimeBackend('ibm_kingston')>"
    assert kingston.name == "ibm_kingston"
    assert kingston.num_qubits == 156
    assert kingston.backend_version == configuration["backend_version"]
    assert kingston.processor_type == {"family": "Heron", "revision": "2"}
    assert kingston.online_date == datetime(2025, 2, 20, 5, tzinfo=UTC)
    assert kingston.simulator is False
    assert kingston.max_circuits is None
    assert kingston.dtm == pytest.approx(4e-9)
    assert kingston.dt == pytest.approx(4e-9)
    assert kingston.meas_map == configuration["meas_map"]
    assert kingston.qubit_properties(3).t1 is not None
    assert kingston.operation_names
    assert "cz" in kingston.operation_names


def test_configuration_is_a_copy(manila: RuntimeBackend) -> None:
    configuration = manila.configuration()
    configuration["n_qubits"] = 99
    configuration["basis_gates"].append("h")

    assert manila.num_qubits == 5
    assert manila.configuration()["basis_gates"] == ["cx", "id", "rz", "sx", "x"]
    assert "h" not in manila.target.operation_names


def test_properties_are_returned_as_json(
    manila: RuntimeBackend, manila_loader: CountingLoader
) -> None:
    properties = manila.properties()
    assert properties is not None
    properties["qubits"].clear()

    assert manila.properties() == manila_loader.properties
    assert manila_loader.calls == 1


def test_properties_can_be_given_as_a_dict() -> None:
    configuration, properties = snapshot("manila")

    backend = RuntimeBackend("fake_manila", configuration, properties=properties)
    properties["qubits"][0].clear()  # the caller's dict is not the backend's

    assert backend.target.qubit_properties[0].t1 is not None


def test_simulator_never_asks_for_properties() -> None:
    configuration, _ = snapshot("manila")
    configuration["simulator"] = True
    loader = CountingLoader(None)

    backend = RuntimeBackend("simulator", configuration, properties=loader)

    assert backend.simulator is True
    assert backend.properties() is None
    assert backend.target.qubit_properties is None
    assert backend.median_errors() == dict.fromkeys(
        ("single_qubit_gate_error", "two_qubit_gate_error", "readout_error", "t1", "t2")
    )
    assert loader.calls == 0


def test_backend_without_calibration_data_asks_once() -> None:
    loader = CountingLoader(None)
    backend = RuntimeBackend("fake_manila", snapshot("manila")[0], properties=loader)

    assert backend.properties() is None
    assert backend.target["cx"][(0, 1)] is None
    assert loader.calls == 1


def test_malformed_configuration_is_refused_up_front() -> None:
    configuration, _ = snapshot("manila")
    del configuration["basis_gates"]

    with pytest.raises(InvalidInputError, match=r"'ibm_broken'.*'basis_gates' is missing"):
        RuntimeBackend("ibm_broken", configuration)


def test_malformed_properties_are_reported_when_the_target_is_built() -> None:
    backend = RuntimeBackend("fake_manila", snapshot("manila")[0], properties=lambda: [1, 2])  # type: ignore[arg-type,return-value]

    with pytest.raises(
        InvalidInputError, match="properties of backend 'fake_manila' are not a JSON object"
    ):
        _ = backend.target


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"state": True, "status": "active", "length_queue": 4, "backend_version": "1.2.3"},
            BackendStatus("ibm_x", "1.2.3", True, 4, "active"),
        ),
        (
            {"state": False, "status": "maintenance", "message": "calibrating", "length_queue": -1},
            BackendStatus("ibm_x", "0.0.0", False, 0, "maintenance"),
        ),
        (
            {"state": True, "status": "internal"},
            BackendStatus("ibm_x", "0.0.0", True, 0, "internal"),
        ),
        ({}, BackendStatus("ibm_x", "0.0.0", False, 0, "")),
    ],
)
def test_status_maps_the_service_json(payload: dict[str, Any], expected: BackendStatus) -> None:
    backend = RuntimeBackend("ibm_x", snapshot("manila")[0], status=lambda: payload)

    assert backend.status() == expected


def test_status_is_asked_every_time_and_is_frozen() -> None:
    queue = iter([3, 7])
    backend = RuntimeBackend(
        "ibm_x",
        snapshot("manila")[0],
        status=lambda: {"state": True, "status": "active", "length_queue": next(queue)},
    )

    first, second = backend.status(), backend.status()

    assert (first.pending_jobs, second.pending_jobs) == (3, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.pending_jobs = 0  # type: ignore[misc]


def test_status_without_a_source_says_where_to_get_it() -> None:
    backend = RuntimeBackend("ibm_x", snapshot("manila")[0])

    with pytest.raises(QRTError, match="without a status source"):
        backend.status()


def test_malformed_status_is_refused() -> None:
    backend = RuntimeBackend("ibm_x", snapshot("manila")[0], status={"length_queue": "many"})

    with pytest.raises(InvalidInputError, match="length_queue='many'"):
        backend.status()


def test_run_points_to_the_primitives(manila: RuntimeBackend) -> None:
    with pytest.raises(QRTError, match=r"Sampler.*Estimator"):
        manila.run(bell())


def test_median_errors_match_the_calibration_data() -> None:
    from qiskit_ibm_runtime.models import BackendProperties

    configuration, raw = snapshot("manila")
    backend = RuntimeBackend("fake_manila", configuration, properties=raw)
    official = BackendProperties.from_dict(copy.deepcopy(raw))
    cx_pairs = [tuple(pair) for pair in configuration["coupling_map"]]

    medians = backend.median_errors()

    assert medians == pytest.approx(
        {
            "single_qubit_gate_error": statistics.median(
                official.gate_error("sx", q) for q in range(5)
            ),
            "two_qubit_gate_error": statistics.median(
                official.gate_error("cx", pair) for pair in cx_pairs
            ),
            "readout_error": statistics.median(official.readout_error(q) for q in range(5)),
            "t1": statistics.median(official.t1(q) for q in range(5)),
            "t2": statistics.median(official.t2(q) for q in range(5)),
        }
    )


def test_median_errors_leave_faulty_qubits_out() -> None:
    configuration, raw = snapshot("manila")
    raw["qubits"][0].append({"date": "", "name": "operational", "unit": "", "value": 0})
    backend = RuntimeBackend("fake_manila", configuration, properties=raw)
    t1 = {q: next(p["value"] for p in raw["qubits"][q] if p["name"] == "T1") for q in range(5)}

    medians = backend.median_errors()

    assert medians["t1"] == pytest.approx(statistics.median(t1[q] * 1e-6 for q in range(1, 5)))


def test_fractional_gates_are_opt_in() -> None:
    configuration, properties = snapshot("fractional")

    plain = RuntimeBackend("fractional", configuration, properties=properties)
    fractional = RuntimeBackend(
        "fractional", configuration, properties=properties, use_fractional_gates=True
    )

    assert "rzz" not in plain.target.operation_names
    assert "rzz" in fractional.target.operation_names
    assert fractional.use_fractional_gates is True


def test_copies_share_the_service_and_keep_the_target(manila: RuntimeBackend) -> None:
    service = object()
    backend = RuntimeBackend("fake_manila", snapshot("manila")[0], service=service)
    _ = backend.target

    clone = copy.deepcopy(backend)
    restored = pickle.loads(pickle.dumps(RuntimeBackend("fake_manila", snapshot("manila")[0])))

    assert clone.service is service
    assert clone.target is not backend.target
    assert clone.target.operation_names == backend.target.operation_names
    assert restored.target.num_qubits == 5
