"""The simulated devices: catalog, IBM-format JSON, seeded calibrations, noise models.

The official client (qiskit-ibm-runtime, a test dependency) must read every device exactly as
it reads a real IBM backend: its converter builds a Target and the preset pass manager
transpiles to it.
"""

from __future__ import annotations

import copy
import json
import pickle
import statistics
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import Target, generate_preset_pass_manager

from jupyter_qrt.local.devices import (
    IDEAL_SIMULATOR_NAME,
    Device,
    DeviceCatalog,
    DeviceNotFoundError,
    builtin_catalog,
    ibm_snapshot_catalog,
)
from jupyter_qrt.local.execution.noise import noise_model_for
from jupyter_qrt.runtime.errors import BackendNotFoundError

HARDWARE = ["qrt_wren", "qrt_robin", "qrt_kestrel", "qrt_pelican", "qrt_gannet"]
SIZES = {"qrt_wren": 5, "qrt_robin": 7, "qrt_kestrel": 27, "qrt_pelican": 127, "qrt_gannet": 156}
# Keys the official client reads from a configuration (QasmBackendConfiguration and the Target
# converter), checked against what the real snapshots carry.
CLIENT_CONFIGURATION_KEYS = {
    "backend_name", "backend_version", "n_qubits", "basis_gates", "gates", "local", "simulator",
    "conditional", "open_pulse", "memory", "coupling_map", "online_date", "supported_instructions",
    "max_shots", "max_experiments", "meas_map", "dt", "dtm", "timing_constraints",
    "rep_delay_range", "default_rep_delay", "processor_type", "description",
    "dynamic_reprate_enabled", "supported_features", "credits_required", "n_registers",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> DeviceCatalog:
    return builtin_catalog()


def official_target(device: Device) -> Target:
    """The Target the official client builds from the device's JSON (as served)."""
    from qiskit_ibm_runtime.utils.backend_converter import convert_to_target
    from qiskit_ibm_runtime.utils.backend_decoder import (
        configuration_from_server_data,
        properties_from_server_data,
    )

    served = json.loads(json.dumps([device.configuration, device.properties]))
    configuration = configuration_from_server_data(served[0])
    assert configuration is not None, f"the official client rejected {device.name}'s config"
    properties = properties_from_server_data(served[1]) if served[1] else None
    return convert_to_target(configuration, properties)


def values(entries: list[dict[str, Any]]) -> dict[str, float]:
    return {entry["name"]: entry["value"] for entry in entries}


# ----------------------------------------------------------------------------- catalog
def test_builtin_catalog_offers_small_and_large_devices_and_an_ideal_simulator(
    catalog: DeviceCatalog,
) -> None:
    assert catalog.names() == sorted([*HARDWARE, IDEAL_SIMULATOR_NAME])
    for name, size in SIZES.items():
        device = catalog.get(name)
        assert (device.num_qubits, device.simulator) == (size, False)
        assert device.configuration["n_qubits"] == size
        assert device.properties is not None
        assert len(device.properties["qubits"]) == size
    ideal = catalog.get(IDEAL_SIMULATOR_NAME)
    assert ideal.simulator
    assert ideal.properties is None
    assert ideal.configuration["simulator"] is True
    assert ideal.configuration["coupling_map"] is None
    # No name a person could take for one of IBM's devices.
    assert not [n for n in catalog.names() if n.startswith(("ibm", "fake_", "ibmq"))]


def test_the_service_core_and_the_device_list_load_without_numpy() -> None:
    # numpy (and what needs it) is loaded when a device is built, not to import or list them.
    script = (
        "import sys\n"
        "import jupyter_qrt.local.core\n"
        "from jupyter_qrt.local.devices import builtin_catalog\n"
        "catalog = builtin_catalog()\n"
        "assert 'qrt_wren' in catalog.names()\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
        "assert catalog.get('qrt_wren').properties\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_unknown_device_is_a_key_error_listing_the_names(catalog: DeviceCatalog) -> None:
    with pytest.raises(KeyError) as caught:
        catalog.get("ibm_brisbane")
    assert isinstance(caught.value, DeviceNotFoundError | BackendNotFoundError)
    message = str(caught.value)
    assert "ibm_brisbane" in message
    assert all(name in message for name in catalog.names())


def test_calibrations_are_deterministic_for_a_seed_and_differ_between_seeds() -> None:
    first = builtin_catalog(seed=7).get("qrt_robin")
    again = builtin_catalog(seed=7).get("qrt_robin")
    other = builtin_catalog(seed=8).get("qrt_robin")
    assert first.properties == again.properties
    assert first.configuration == again.configuration
    assert first.properties != other.properties
    # The devices of one catalog differ from each other too (the name is part of the seed).
    wren = builtin_catalog(seed=7).get("qrt_wren").properties
    assert wren is not None
    assert first.properties is not None
    assert values(wren["qubits"][0])["T1"] != values(first.properties["qubits"][0])["T1"]


def test_calibration_dates_are_iso_and_follow_the_calibration_time() -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    device = builtin_catalog(calibrated_at=when).get("qrt_wren")
    properties = device.properties
    assert properties is not None
    assert datetime.fromisoformat(properties["last_update_date"]) == when
    dates = [datetime.fromisoformat(e["date"]) for q in properties["qubits"] for e in q]
    assert all(when.replace(hour=5) <= d <= when for d in dates)
    datetime.fromisoformat(device.configuration["online_date"])
    with pytest.raises(ValueError, match="timezone"):
        builtin_catalog(calibrated_at=datetime(2026, 3, 1))


@pytest.mark.parametrize("name", ["qrt_wren", "qrt_robin", "qrt_kestrel"])
def test_calibrations_look_like_a_real_chip_with_one_weak_qubit(
    catalog: DeviceCatalog, name: str
) -> None:
    properties = catalog.get(name).properties
    assert properties is not None
    qubits = [values(q) for q in properties["qubits"]]
    t1 = [q["T1"] for q in qubits]
    t2 = [q["T2"] for q in qubits]
    readout = [q["readout_error"] for q in qubits]
    assert 50 <= statistics.median(t1) <= 300
    assert all(b <= 2 * a for a, b in zip(t1, t2, strict=True))
    assert 0.005 <= statistics.median(readout) <= 0.03
    assert all(0 < r < 0.1 for r in readout)
    assert all(4.4 <= q["frequency"] <= 5.3 for q in qubits)
    assert all(q["prob_meas0_prep1"] > 0 and q["prob_meas1_prep0"] > 0 for q in qubits)
    # One qubit is clearly worse than the rest, but still there (no qubit is switched off).
    assert min(t1) < 0.6 * statistics.median(t1)
    single = [values(g["parameters"]) for g in properties["gates"] if g["gate"] == "sx"]
    double = [values(g["parameters"]) for g in properties["gates"] if len(g["qubits"]) == 2]
    assert 1e-4 <= statistics.median(g["gate_error"] for g in single) <= 1e-3
    assert 3e-3 <= statistics.median(g["gate_error"] for g in double) <= 1.5e-2
    assert max(g["gate_error"] for g in double) <= 0.03
    assert all(g["gate_length"] > 0 for g in single + double)


def test_configuration_has_every_key_of_the_real_snapshots_the_client_reads(
    catalog: DeviceCatalog,
) -> None:
    for name in ["qrt_wren", "qrt_robin"]:
        configuration = catalog.get(name).configuration
        assert set(configuration) >= CLIENT_CONFIGURATION_KEYS
        assert {"if_else", "measure", "reset", "delay"} <= set(
            configuration["supported_instructions"]
        )
        assert configuration["meas_map"] == [list(range(configuration["n_qubits"]))]
    gannet = catalog.get("qrt_gannet").configuration
    assert gannet["basis_gates"] == ["cz", "id", "rz", "sx", "x"]
    assert {"cz", "id", "rz", "sx", "x", "measure", "reset", "delay", "if_else", "for_loop"} <= set(
        gannet["supported_instructions"]
    )


def test_ecr_devices_couple_each_pair_one_way_and_cx_devices_both_ways(
    catalog: DeviceCatalog,
) -> None:
    wren = catalog.get("qrt_wren").configuration["coupling_map"]
    assert len(wren) == 4
    assert len({frozenset(p) for p in wren}) == 4
    robin = catalog.get("qrt_robin").configuration["coupling_map"]
    assert len(robin) == 12
    assert all([b, a] in robin for a, b in robin)


# ------------------------------------------------------------------- the official client
@pytest.mark.parametrize("name", [*HARDWARE, IDEAL_SIMULATOR_NAME])
def test_the_official_client_builds_a_target_and_transpiles_to_it(
    catalog: DeviceCatalog, name: str
) -> None:
    device = catalog.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "No gate definition for ..." would be a bug
        target = official_target(device)
    assert target.num_qubits == device.num_qubits
    ghz = QuantumCircuit(3)
    ghz.h(0)
    ghz.cx(0, 1)
    ghz.cx(1, 2)
    ghz.measure_all()
    isa = generate_preset_pass_manager(target=target, optimization_level=1, seed_transpiler=1).run(
        ghz
    )
    operations = set(isa.count_ops()) - {"barrier"}
    assert operations <= set(target.operation_names)
    if not device.simulator:
        assert operations <= set(device.configuration["basis_gates"]) | {"measure"}
        assert target.qubit_properties[0].t1 == pytest.approx(
            values(device.properties["qubits"][0])["T1"] * 1e-6  # type: ignore[index]
        )


# ----------------------------------------------------------------------------- snapshots
def test_ibm_snapshots_are_served_under_names_of_their_own() -> None:
    snapshots = ibm_snapshot_catalog(["manila", "snapshot_lima"])
    assert snapshots.names() == ["snapshot_lima", "snapshot_manila"]
    manila = snapshots.get("snapshot_manila")
    assert manila.num_qubits == 5
    assert not manila.simulator
    assert manila.configuration["backend_name"] == "snapshot_manila"
    assert manila.properties is not None
    assert manila.properties["backend_name"] == "snapshot_manila"
    assert "ibmq_manila" in manila.description
    assert "snapshot_kingston" in ibm_snapshot_catalog()
    with pytest.raises(DeviceNotFoundError, match=r"snapshot named nowhere.*manila"):
        ibm_snapshot_catalog(["nowhere"])
    official_target(manila)


def test_real_snapshots_with_odd_calibrations_still_get_a_noise_model() -> None:
    # berlin reports qubits with T2 > 2 * T1, which no physical channel has.
    berlin = ibm_snapshot_catalog(["berlin"]).get("snapshot_berlin")
    assert berlin.properties is not None
    odd = [values(q) for q in berlin.properties["qubits"]]
    assert any(q["T2"] > 2 * q["T1"] for q in odd)
    model = noise_model_for(berlin)
    assert model is not None
    assert len(model.noise_qubits) == berlin.num_qubits


def test_catalogs_merge_and_survive_pickling(catalog: DeviceCatalog) -> None:
    # The service sends its catalog to worker processes pickled.
    catalog.get("qrt_wren")
    merged = catalog.merged(ibm_snapshot_catalog(["manila"]))
    assert "snapshot_manila" in merged
    assert "qrt_wren" in merged
    copied = pickle.loads(pickle.dumps(merged))
    assert copied.names() == merged.names()
    assert copied.get("qrt_robin") == merged.get("qrt_robin")
    assert copied.get("snapshot_manila").properties == merged.get("snapshot_manila").properties
    ready = DeviceCatalog.from_devices([catalog.get("qrt_wren")])
    assert ready.names() == ["qrt_wren"]
    assert ready.devices() == [catalog.get("qrt_wren")]


# ----------------------------------------------------------------------------- noise
def test_noise_model_follows_the_calibration_and_is_cached(catalog: DeviceCatalog) -> None:
    wren = catalog.get("qrt_wren")
    model = noise_model_for(wren)
    assert model is not None
    assert sorted(model.noise_qubits) == list(range(5))
    assert {"sx", "x", "ecr", "measure"} <= set(model.noise_instructions)
    assert noise_model_for(wren) is model
    cut = noise_model_for(wren, [0, 1])
    assert cut is not None
    assert set(cut.noise_qubits) <= {0, 1}
    assert noise_model_for(catalog.get(IDEAL_SIMULATOR_NAME)) is None
    # A copy with the same content shares the cache entry; changed calibrations do not.
    changed = copy.deepcopy(wren.properties)
    assert changed is not None
    changed["qubits"][0][0]["value"] = 10.0
    recalibrated = Device(wren.name, wren.configuration, changed, 5, False, wren.description)
    assert noise_model_for(recalibrated) is not model


def test_the_large_device_builds_its_noise_model_and_target() -> None:
    gannet = builtin_catalog().get("qrt_gannet")
    model = noise_model_for(gannet)
    assert model is not None
    assert len(model.noise_qubits) == 156
    assert {"cz", "sx", "x", "measure"} <= set(model.noise_instructions)
    target = official_target(gannet)
    assert target.num_qubits == 156
    assert len(target["cz"]) == len(gannet.configuration["coupling_map"]) == 2 * 176
