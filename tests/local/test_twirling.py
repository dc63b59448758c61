"""Twirling as IBM's primitives do it: shot arithmetic, metadata, and the twirled noise.

The rules (qiskit-ibm-runtime 0.51, ``options/twirling_options.py``): with both "auto",
``shots_per_randomization = max(64, ceil(shots / 32))`` and
``num_randomizations = ceil(shots / shots_per_randomization)``; one of them given, the other is
``ceil(shots / given)``; both given, their product is the shot count. IBM's Estimator reports
``16 * 100 = 1600`` shots and 16 randomizations for ``num_randomizations=16,
shots_per_randomization=100``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.devices import Device, builtin_catalog
from jupyter_qrt.local.execution import ExecutionError, execute_estimator, execute_sampler
from jupyter_qrt.local.execution.inputs import device_target

DELTA = 1e-6


@pytest.fixture(scope="module")
def wren() -> Device:
    return builtin_catalog().get("qrt_wren")


@pytest.fixture(scope="module")
def robin() -> Device:
    return builtin_catalog().get("qrt_robin")


def _bell(device: Device, measure: bool) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    manager = generate_preset_pass_manager(
        target=device_target(device), optimization_level=1, seed_transpiler=11
    )
    return manager.run(circuit)


def _zz(circuit: QuantumCircuit) -> dict[str, float]:
    operator = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    return {label: float(coeff.real) for label, coeff in operator.to_list()}


def _estimate(device: Device, options: dict, precision: float | None = None) -> tuple:
    circuit = _bell(device, measure=False)
    report = execute_estimator(device, [[circuit, _zz(circuit), None, precision]], options=options)
    return report.result[0].metadata, report.result.metadata


def test_estimator_reports_ibms_shots_and_randomizations(wren: Device) -> None:
    twirling = {"enable_gates": True, "num_randomizations": 16, "shots_per_randomization": 100}
    pub, top = _estimate(wren, {"twirling": twirling, "seed_estimator": 1})
    assert pub["shots"] == 1600
    assert pub["num_randomizations"] == 16
    assert top["twirling"]["enable_gates"] is True
    assert top["twirling"]["num_randomizations"] == 16
    assert top["twirling"]["shots_per_randomization"] == 100
    # A pub's own precision is obeyed: 1 / 0.02**2 = 2500 shots > 1600, so 16 x 157.
    pub, _ = _estimate(wren, {"twirling": twirling, "seed_estimator": 1}, precision=0.02)
    assert pub["shots"] == 16 * math.ceil(2500 / 16)
    assert pub["num_randomizations"] == 16


def test_estimator_defaults_follow_the_resilience_level(wren: Device) -> None:
    # Level 1 (the default): measurements twirled; 4096 shots = 32 x max(64, 4096 / 32).
    pub, top = _estimate(wren, {"seed_estimator": 1})
    assert (pub["shots"], pub["num_randomizations"]) == (4096, 32)
    assert top["twirling"]["enable_measure"] is True
    assert top["twirling"]["enable_gates"] is False
    assert top["twirling"]["num_randomizations"] == "auto"
    pub, top = _estimate(wren, {"seed_estimator": 1, "resilience_level": 0})
    assert (pub["shots"], pub["num_randomizations"]) == (4096, 0)
    assert top["twirling"]["enable_measure"] is False
    pub, top = _estimate(wren, {"seed_estimator": 1, "resilience_level": 2})
    assert top["twirling"]["enable_gates"] is True
    # One of the two given: the other covers the shots.
    pub, _ = _estimate(wren, {"twirling": {"num_randomizations": 10}, "seed_estimator": 1})
    assert (pub["shots"], pub["num_randomizations"]) == (10 * 410, 10)
    pub, _ = _estimate(wren, {"twirling": {"shots_per_randomization": 1000}, "seed_estimator": 1})
    assert (pub["shots"], pub["num_randomizations"]) == (5000, 5)


def test_sampler_runs_whole_randomizations(wren: Device) -> None:
    circuit = _bell(wren, measure=True)
    gates = {"twirling": {"enable_gates": True}, "simulator": {"seed_simulator": 2}}
    # 1000 shots: 64 per randomization, 16 of them.
    result = execute_sampler(wren, [[circuit, None, 1000]], options=gates).result
    assert result[0].data.meas.num_shots == 1024
    both = {"enable_gates": True, "num_randomizations": 16, "shots_per_randomization": 100}
    options = {"twirling": both, "simulator": {"seed_simulator": 2}}
    result = execute_sampler(wren, [[circuit, None, None], [circuit, None, 2000]], options=options)
    assert result.result[0].data.meas.num_shots == 1600  # the product beats default_shots
    assert result.result[1].data.meas.num_shots == 2000  # the pub's own shots are covered
    untwirled = execute_sampler(wren, [[circuit, None, 1000]], seed=2).result
    assert untwirled[0].data.meas.num_shots == 1000


@pytest.mark.parametrize(
    ("twirling", "problem"),
    [
        ({"num_randomizations": 0}, "twirling.num_randomizations must be a whole number >= 1"),
        ({"shots_per_randomization": "many"}, "twirling.shots_per_randomization must be"),
        ({"strategy": "sideways"}, "twirling.strategy 'sideways' is not one of"),
    ],
)
def test_bad_twirling_options_fail_with_one_clear_message(
    wren: Device, twirling: dict, problem: str
) -> None:
    circuit = _bell(wren, measure=True)
    with pytest.raises(ExecutionError, match=problem):
        execute_sampler(wren, [circuit], options={"twirling": {"enable_gates": True, **twirling}})


def _zero_rate(device: Device, options: dict) -> tuple[float, float, float]:
    """How often qubit 0 prepared in |1> reads 0, on qiskit-aer (rz(0.3) is not Clifford)."""
    circuit = QuantumCircuit(device.num_qubits, 1)
    circuit.x(0)
    circuit.rz(0.3, 0)  # diagonal: leaves the outcome alone, keeps the circuit off stim
    circuit.measure(0, 0)
    shots = 100_000
    result = execute_sampler(device, [[circuit, None, shots]], options=options).result[0]
    assert result.metadata.get("simulation", {}).get("engine") != "stim"
    rate = 1.0 - float(result.data.c.to_bool_array().mean())
    values = {e["name"]: e["value"] for e in device.properties["qubits"][0]}  # type: ignore[index]
    return rate, values["prob_meas0_prep1"], values["prob_meas1_prep0"]


def test_twirled_measurements_flip_with_the_mean_error_on_qiskit_aer_too(robin: Device) -> None:
    """Bernstein, rate p <= 0.05: |rate - p| <= t with N t^2 = ln(2/delta) (2 * 0.05 + 2t/3).

    The x gate adds flips below its gate error (< 1e-3 on robin), allowed on top.
    """
    shots = 100_000
    log = math.log(2 / DELTA)
    bound = (2 * log / 3 + math.sqrt((2 * log / 3) ** 2 + 4 * shots * log * 0.1)) / (2 * shots)
    bound += 1e-3
    seed = {"simulator": {"seed_simulator": 4}}
    plain, b, a = _zero_rate(robin, seed)
    assert abs(plain - b) <= bound
    twirled, _, _ = _zero_rate(robin, {**seed, "twirling": {"enable_measure": True}})
    assert abs(twirled - (a + b) / 2) <= bound
    assert abs(b - (a + b) / 2) > 2 * bound, "the readout must be asymmetric for this test"
    assert np.isfinite(twirled)
