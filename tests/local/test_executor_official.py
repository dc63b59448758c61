"""The official client's executor primitives against ``jupyter-qrt serve``, unmodified.

qiskit-ibm-runtime 0.51 ships ``executor_sampler.Sampler``, ``executor_estimator.Estimator`` and
``Executor``, which all submit ``program_id: "executor"`` jobs (schema v2.0). Here they run
against a ``jupyter-qrt serve`` subprocess (the command a user starts), as a user writes them:
Bell counts on the ideal simulator and a noisy device, <ZZ> of a Bell pair and a sweep of
``<Z> = cos(theta)``, an ``Executor`` with a parameter sweep and a twirled samplex item, a
Session and a Batch, cancel, and a malformed program refused with its field named.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from samplomatic import build
from samplomatic.transpiler import generate_boxing_pass_manager

from .serve_process import cli, parse_exports, read_lines

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from qiskit_ibm_runtime import Batch, QiskitRuntimeService, Session
    from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError, RuntimeJobFailureError
    from qiskit_ibm_runtime.executor import Executor
    from qiskit_ibm_runtime.executor_estimator import Estimator
    from qiskit_ibm_runtime.executor_sampler import Sampler
    from qiskit_ibm_runtime.quantum_program import QuantumProgram

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

IDEAL = "qrt_ideal_simulator"
WREN = "qrt_wren"
JOB_TIMEOUT = 180.0
START_TIMEOUT = 60.0
SHOTS = 1000
GRANT = "urn:ibm:params:oauth:grant-type:apikey"


@pytest.fixture(scope="module")
def service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``jupyter-qrt serve`` in a subprocess; its ``export`` lines (the conftest's clients use
    them: ``official_service`` is built from this module's exports)."""
    data = tmp_path_factory.mktemp("executor-serve")
    process = subprocess.Popen(
        cli("serve", "--port", "0", "--data-dir", str(data), "--workers", "2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        env = parse_exports(read_lines(process.stdout, 9, timeout=START_TIMEOUT))
        assert "QISKIT_IBM_TOKEN" in env, env
        yield env
    finally:
        process.terminate()
        try:
            process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _isa(circuit: QuantumCircuit, backend: Any) -> QuantumCircuit:
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


def _bell(measured: bool = True) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measured:
        circuit.measure_all()
    return circuit


# -- executor_sampler ----------------------------------------------------------------------------


def test_sampler_bell_on_the_ideal_simulator_is_00_and_11(
    official_service: QiskitRuntimeService,
) -> None:
    backend = official_service.backend(IDEAL)
    job = Sampler(mode=backend).run([_isa(_bell(), backend)], shots=SHOTS)
    counts = job.result(timeout=JOB_TIMEOUT)[0].data.meas.get_counts()
    assert job.primitive_id == "executor"
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == SHOTS
    assert abs(counts["00"] - SHOTS / 2) <= 5 * math.sqrt(SHOTS) / 2


def test_sampler_bell_on_a_noisy_device_shows_its_noise(
    official_service: QiskitRuntimeService,
) -> None:
    backend = official_service.backend(WREN)
    counts = (
        Sampler(mode=backend)
        .run([_isa(_bell(), backend)], shots=SHOTS)
        .result(timeout=JOB_TIMEOUT)[0]
        .data.meas.get_counts()
    )
    assert sum(counts.values()) == SHOTS
    wrong = counts.get("01", 0) + counts.get("10", 0)
    assert 0 < wrong < 0.15 * SHOTS, counts


def test_twirling_keeps_a_noisy_bell_pairs_00_11_balance_and_symmetrizes_readout(
    official_service: QiskitRuntimeService,
) -> None:
    backend = official_service.backend(WREN)
    sampler = Sampler(mode=backend)
    sampler.options.twirling.enable_gates = True
    sampler.options.twirling.enable_measure = True
    sampler.options.twirling.num_randomizations = 32
    sampler.options.twirling.shots_per_randomization = 125
    result = sampler.run([_isa(_bell(), backend)]).result(timeout=JOB_TIMEOUT)
    counts = result[0].data.meas.get_counts()
    total = sum(counts.values())
    assert total == 32 * 125
    zeros, ones = counts.get("00", 0), counts.get("11", 0)
    assert zeros + ones > 0.85 * total, counts
    # Twirled: the two outcomes of a Bell pair stay equally likely within shot noise.
    assert abs(zeros - ones) <= 5 * math.sqrt(zeros + ones), counts


# -- executor_estimator --------------------------------------------------------------------------


def test_estimator_bell_zz_is_1_on_the_ideal_simulator_and_a_sweep_follows_cos(
    official_service: QiskitRuntimeService,
) -> None:
    backend = official_service.backend(IDEAL)
    state = _isa(_bell(measured=False), backend)
    zz = SparsePauliOp("ZZ").apply_layout(state.layout)
    theta = Parameter("theta")
    rotation = QuantumCircuit(1)
    rotation.ry(theta, 0)
    isa_rotation = _isa(rotation, backend)
    z = SparsePauliOp("Z").apply_layout(isa_rotation.layout)
    thetas = np.linspace(0, np.pi, 7).reshape(-1, 1)

    estimator = Estimator(mode=backend)
    result = estimator.run([(state, zz), (isa_rotation, z, thetas)]).result(timeout=JOB_TIMEOUT)

    assert float(result[0].data.evs) == pytest.approx(1.0, abs=1e-9)
    evs, stds = np.asarray(result[1].data.evs), np.asarray(result[1].data.stds)
    assert evs.shape == (7,)
    for angle, value, std in zip(thetas[:, 0], evs, stds, strict=True):
        shot_noise = max(float(std), 0.02)  # at 0 and pi every shot agrees: a 0 error bar
        assert abs(value - math.cos(angle)) <= 5 * shot_noise, (angle, value, std)


# -- Executor ------------------------------------------------------------------------------------


def test_executor_runs_a_circuit_sweep_and_a_twirled_samplex_item(
    official_service: QiskitRuntimeService,
) -> None:
    backend = official_service.backend(IDEAL)
    rotation = QuantumCircuit(1, 1)
    rotation.rx(Parameter("theta"), 0)
    rotation.measure(0, 0)
    isa_rotation = _isa(rotation, backend)
    thetas = np.array([[0.0], [np.pi / 2], [np.pi]]).reshape(3, 1, 1) * np.ones((3, 2, 1))
    template, samplex = build(
        generate_boxing_pass_manager(enable_gates=True, enable_measures=True).run(
            _isa(_bell(), backend)
        )
    )
    program = QuantumProgram(shots=200)
    program.append_circuit_item(isa_rotation, circuit_arguments=thetas)
    program.append_samplex_item(template, samplex=samplex, shape=(10,))

    executor = Executor(mode=backend)
    executor.options.experimental = {"seed_simulator": 99}
    result = executor.run(program).result(timeout=JOB_TIMEOUT)

    [creg] = isa_rotation.cregs
    ones = np.asarray(result[0][creg.name])[..., 0].mean(axis=-1)
    assert ones.shape == (3, 2)
    assert np.all(ones[0] == 0.0)
    assert np.all(ones[2] == 1.0)
    assert np.all(np.abs(ones[1] - 0.5) < 0.2)
    raw = np.asarray(result[1]["meas"])
    flips = np.asarray(result[1]["measurement_flips.meas"])
    assert raw.shape == (10, 200, 2)
    corrected = raw ^ flips
    assert np.all(corrected[..., 0] == corrected[..., 1])
    assert np.any(raw[..., 0] != raw[..., 1]), "the samplex randomized the measurements"
    assert len(list(result.timing)) >= 1

    # The seed makes the whole program repeatable.
    again = executor.run(program).result(timeout=JOB_TIMEOUT)
    assert np.array_equal(np.asarray(again[1]["meas"]), raw)


# -- modes, cancel, bad input ----------------------------------------------------------------------


def test_executor_sampler_in_a_session_and_a_batch(
    official_service: QiskitRuntimeService,
) -> None:
    # The official client opens no session on a simulator: use a device.
    backend = official_service.backend(WREN)
    isa = _isa(_bell(), backend)
    for mode_class in (Session, Batch):
        with mode_class(backend=backend) as mode:
            jobs = [Sampler(mode=mode).run([isa], shots=100) for _ in range(2)]
            for job in jobs:
                counts = job.result(timeout=JOB_TIMEOUT)[0].data.meas.get_counts()
                assert sum(counts.values()) == 100
                assert counts.get("00", 0) + counts.get("11", 0) > 80, counts
                assert mode.session_id
                assert job.session_id == mode.session_id
            details = mode.details()
            assert details is not None
            assert details["mode"] == ("dedicated" if mode_class is Session else "batch")


def test_cancel_a_running_executor_job(official_service: QiskitRuntimeService) -> None:
    backend = official_service.backend(IDEAL)
    angle = Parameter("angle")
    slow = QuantumCircuit(18)
    for _ in range(3):
        for qubit in range(18):
            slow.sx(qubit)
            slow.rz(angle, qubit)
            slow.sx(qubit)
        for qubit in range(17):
            slow.cx(qubit, qubit + 1)
    slow.measure_all()
    program = QuantumProgram(shots=10)
    program.append_circuit_item(slow, circuit_arguments=np.linspace(0, 1, 1000).reshape(-1, 1))
    job = Executor(mode=backend).run(program)
    try:
        deadline = time.monotonic() + JOB_TIMEOUT
        while job.status() != "RUNNING":
            assert job.status() in {"INITIALIZING", "QUEUED"}, job.status()
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.1)
        job.cancel()
    finally:
        with contextlib.suppress(RuntimeInvalidStateError):
            job.cancel()
    assert official_service.job(job.job_id()).status() == "CANCELLED"
    with pytest.raises(RuntimeInvalidStateError):
        job.result()


def test_a_malformed_program_fails_with_the_field_named(
    official_service: QiskitRuntimeService, service_env: dict[str, str]
) -> None:
    backend = official_service.backend(IDEAL)
    program = QuantumProgram(shots=10)
    program.append_circuit_item(_isa(_bell(), backend), circuit_arguments=np.zeros((0,)))
    # The official client cannot send a malformed program (its models refuse it), so the body
    # it would send is changed on the way, as a hand-written client might get it wrong.
    from qiskit_ibm_runtime.options_models.executor import ExecutorOptions
    from qiskit_ibm_runtime.quantum_program.params_converters import (
        QUANTUM_PROGRAM_PARAMS_CONVERTERS,
    )

    params = QUANTUM_PROGRAM_PARAMS_CONVERTERS["v2.0"].encoder(program, ExecutorOptions())
    body = params.model_dump(mode="json")
    del body["quantum_program"]["items"][0]["circuit_arguments"]
    job = official_service._run(
        program_id="executor", inputs=body, options={"backend": backend.name}
    )
    with pytest.raises(RuntimeJobFailureError) as failed:
        job.result(timeout=JOB_TIMEOUT)
    message = str(failed.value)
    assert "1517" in message
    assert "params.quantum_program.items[0].circuit.circuit_arguments: Field required" in message

    # A level the simulators cannot return is refused at submission, before a job exists.
    session = requests.Session()
    token = session.post(
        service_env["IAM_URL"] + "/identity/token",
        data={"grant_type": GRANT, "apikey": service_env["QISKIT_IBM_TOKEN"]},
        timeout=30,
    ).json()["access_token"]
    body["quantum_program"]["items"][0]["circuit_arguments"] = {
        "data": "eJwDAAAAAAE=",
        "shape": [0],
        "dtype": "f64",
    }
    body["quantum_program"]["meas_level"] = "kerneled"
    answer = session.post(
        service_env["QISKIT_IBM_URL"] + "/jobs",
        json={"program_id": "executor", "backend": IDEAL, "params": body},
        headers={
            "Authorization": f"Bearer {token}",
            "Service-CRN": service_env["QISKIT_IBM_INSTANCE"],
        },
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    assert "meas_level" in answer.json()["errors"][0]["message"]


def test_an_executor_job_reopened_by_id_decodes_as_its_primitive(
    official_service: QiskitRuntimeService,
) -> None:
    backend = official_service.backend(IDEAL)
    job = Sampler(mode=backend).run([_isa(_bell(), backend)], shots=64)
    job.result(timeout=JOB_TIMEOUT)

    listed = {each.job_id(): each for each in official_service.jobs(limit=50)}
    assert listed[job.job_id()].primitive_id == "executor"
    reopened = official_service.job(job.job_id())
    counts = reopened.result()[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 64


def test_whole_number_chunk_sizes_run_in_a_session_and_are_refused_outside_one(
    official_service: QiskitRuntimeService,
) -> None:
    from qiskit_ibm_runtime.exceptions import IBMRuntimeError

    backend = official_service.backend(WREN)
    rotation = QuantumCircuit(1, 1)
    rotation.rx(Parameter("theta"), 0)
    rotation.measure(0, 0)
    program = QuantumProgram(shots=20)
    program.append_circuit_item(
        _isa(rotation, backend), circuit_arguments=np.zeros((5, 1)), chunk_size=2
    )
    with pytest.raises(IBMRuntimeError) as refused:
        Executor(mode=backend).run(program)
    assert "only allowed in session execution mode" in str(refused.value)

    with Session(backend=backend) as session:
        result = Executor(mode=session).run(program).result(timeout=JOB_TIMEOUT)
    spans = list(result.timing)
    assert [part.size for span in spans for part in span.parts] == [2, 2, 1]
