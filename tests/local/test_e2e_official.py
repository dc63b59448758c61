"""The unmodified official client, qiskit-ibm-runtime 0.51, against the local service over HTTP.

Every scenario a user of ``QiskitRuntimeService`` meets: connecting (exports, no instance,
``url_resolver``, an instance name), backends, transpiling, Sampler and Estimator jobs, sessions
and batches, listing, cancelling, deleting, tags, metrics, logs, usage, a failed and an unknown
job, and the physics the results must show. ``test_e2e_ours.py`` runs the same with our client.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Batch, EstimatorV2, QiskitRuntimeService, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import (
    IBMRuntimeError,
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobNotFound,
)

from jupyter_qrt.local.server import LocalService

# SamplerV2/EstimatorV2 warn on construction in 0.51; they are what users still run.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

IDEAL = "qrt_ideal_simulator"
WREN = "qrt_wren"  # 5 qubits, ecr
ROBIN = "qrt_robin"  # 7 qubits, cx
CATALOG = {"qrt_wren", "qrt_robin", "qrt_kestrel", "qrt_pelican", "qrt_gannet", IDEAL}
JOB_TIMEOUT = 120.0
NOISY_SHOTS = 2000
SEED = 2026


def _ids(jobs: list[Any]) -> list[str]:
    return [job.job_id() for job in jobs]


def _isa(circuit: QuantumCircuit, backend: Any) -> QuantumCircuit:
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


def _wait_final(jobs: list[Any]) -> None:
    for job in jobs:
        job.wait_for_final_state(timeout=JOB_TIMEOUT, poll_interval=0.1)


@dataclass(frozen=True)
class RanJob:
    """A finished job and the counts of its first pub."""

    job: Any
    counts: dict[str, int]


@pytest.fixture(scope="module")
def robin_bell(official_service: QiskitRuntimeService, bell: QuantumCircuit) -> RanJob:
    """A completed, seeded Bell job on the noisy 7-qubit device."""
    robin = official_service.backend(ROBIN)
    sampler = SamplerV2(mode=robin)
    sampler.options.simulator.seed_simulator = SEED
    job = sampler.run([_isa(bell, robin)], shots=NOISY_SHOTS)
    counts = job.result(timeout=JOB_TIMEOUT)[0].data.meas.get_counts()
    return RanJob(job, counts)


# -- connecting ----------------------------------------------------------------------------------


def test_init_from_the_printed_exports_with_a_crn(
    local_service: LocalService, client_env: dict[str, str]
) -> None:
    service = QiskitRuntimeService()

    assert service.active_instance() == local_service.instance
    assert service.active_account()["instance"] == local_service.instance
    assert service.active_account()["url"] == local_service.api_url
    assert WREN in [backend.name for backend in service.backends()]


def test_init_with_no_instance_finds_the_keys_instance(
    local_service: LocalService, client_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QISKIT_IBM_INSTANCE")

    service = QiskitRuntimeService()

    assert service.active_instance() == local_service.instance
    (instance,) = service.instances()
    assert instance["crn"] == local_service.instance
    assert instance["plan"] == local_service.runtime.default_instance.plan


def test_init_by_url_resolver_and_by_instance_name(
    local_service: LocalService, client_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only IAM and Global Search/Catalog come from the environment; the rest is explicit.
    for name in ("QISKIT_IBM_URL", "QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL"):
        monkeypatch.delenv(name)

    def resolve(url: str, instance: str, private: bool = False, channel: Any = None) -> str:
        return f"{url}/api/v1"

    by_resolver = QiskitRuntimeService(
        channel="ibm_quantum_platform",
        token=local_service.api_key,
        instance=local_service.instance,
        url=local_service.url,
        url_resolver=resolve,
    )
    assert by_resolver.backend(WREN).num_qubits == 5

    # A name is not a CRN, so the URL is used verbatim and the name resolved by Global Search.
    by_name = QiskitRuntimeService(
        channel="ibm_cloud",
        token=local_service.api_key,
        instance=local_service.runtime.default_instance.name,
        url=local_service.api_url,
    )
    assert by_name.active_instance() == local_service.instance


# -- backends ------------------------------------------------------------------------------------


def test_backends_and_backend_by_name(official_service: QiskitRuntimeService) -> None:
    assert {backend.name for backend in official_service.backends()} == CATALOG

    wren = official_service.backend(WREN)
    assert wren.num_qubits == 5
    assert not wren.configuration().simulator
    assert official_service.backend(ROBIN).num_qubits == 7
    assert official_service.backend(IDEAL).configuration().simulator
    assert [b.name for b in official_service.backends(simulator=True)] == [IDEAL]
    with pytest.raises(QiskitBackendNotFoundError):
        official_service.backend("ibm_nowhere")


def test_least_busy(official_service: QiskitRuntimeService) -> None:
    big = official_service.least_busy(min_num_qubits=100)
    assert big.name in {"qrt_pelican", "qrt_gannet"}
    assert big.configuration().n_qubits >= 100

    any_backend = official_service.least_busy()
    status = any_backend.status()
    assert any_backend.name in CATALOG
    assert status.operational
    lengths = [b.status().pending_jobs for b in official_service.backends()]
    assert status.pending_jobs == min(lengths)


def test_transpiling_for_a_noisy_device_gives_an_isa_circuit(
    official_service: QiskitRuntimeService,
) -> None:
    robin = official_service.backend(ROBIN)
    ghz = QuantumCircuit(3)
    ghz.h(0)
    ghz.cx(0, 1)
    ghz.cx(1, 2)
    ghz.measure_all()

    isa = _isa(ghz, robin)

    assert isa.num_qubits == 7
    assert "cx" in isa.count_ops()
    for instruction in isa.data:
        name = instruction.operation.name
        if name == "barrier":
            continue
        qargs = tuple(isa.find_bit(q).index for q in instruction.qubits)
        assert robin.target.instruction_supported(name, qargs), (name, qargs)


# -- primitives and physics ----------------------------------------------------------------------


def test_sampler_bell_on_the_ideal_simulator_is_00_and_11_balanced(
    official_service: QiskitRuntimeService, bell: QuantumCircuit
) -> None:
    shots = 4000
    sim = official_service.backend(IDEAL)

    result = SamplerV2(mode=sim).run([_isa(bell, sim)], shots=shots).result(timeout=JOB_TIMEOUT)

    counts = result[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == shots
    assert abs(counts.get("00", 0) - shots / 2) <= 4 * math.sqrt(shots * 0.25)


def test_sampler_bell_on_a_noisy_device_shows_a_few_01_and_10(robin_bell: RanJob) -> None:
    counts = robin_bell.counts
    wrong = counts.get("01", 0) + counts.get("10", 0)

    assert sum(counts.values()) == NOISY_SHOTS
    assert 0 < wrong < 0.15 * NOISY_SHOTS
    assert counts["00"] > 0.35 * NOISY_SHOTS
    assert counts["11"] > 0.35 * NOISY_SHOTS


def test_estimator_sweep_shapes_and_bell_zz_on_the_ideal_simulator(
    official_service: QiskitRuntimeService,
    bell_state: QuantumCircuit,
    ry_entangler: QuantumCircuit,
) -> None:
    sim = official_service.backend(IDEAL)
    bell_isa = _isa(bell_state, sim)
    sweep_isa = _isa(ry_entangler, sim)
    zz = SparsePauliOp("ZZ").apply_layout(bell_isa.layout)
    observables = [
        [SparsePauliOp("ZZ").apply_layout(sweep_isa.layout)],
        [SparsePauliOp("IZ").apply_layout(sweep_isa.layout)],
    ]
    thetas = np.linspace(0.0, np.pi, 5).reshape(5, 1)

    result = (
        EstimatorV2(mode=sim)
        .run([(bell_isa, zz), (sweep_isa, observables, thetas)])
        .result(timeout=JOB_TIMEOUT)
    )

    assert result[0].data.evs.shape == ()
    assert float(result[0].data.evs) == pytest.approx(1.0, abs=1e-9)
    sweep = result[1].data
    assert sweep.evs.shape == (2, 5)
    assert sweep.stds.shape == (2, 5)
    np.testing.assert_allclose(sweep.evs[0], np.ones(5), atol=1e-9)
    np.testing.assert_allclose(sweep.evs[1], np.cos(thetas[:, 0]), atol=1e-9)


# -- sessions and batches ------------------------------------------------------------------------


def test_session_jobs_carry_the_session_and_closing_stops_new_jobs(
    official_service: QiskitRuntimeService, bell: QuantumCircuit
) -> None:
    # The official client opens no session on a simulator: use a device.
    wren = official_service.backend(WREN)
    isa = _isa(bell, wren)

    with Session(backend=wren, max_time=600) as session:
        job = SamplerV2(mode=session).run([isa], shots=50)
        counts = job.result(timeout=JOB_TIMEOUT)[0].data.meas.get_counts()
        details = session.details()

    assert sum(counts.values()) == 50
    assert session.session_id
    assert job.session_id == session.session_id
    assert official_service.job(job.job_id()).session_id == session.session_id
    assert details is not None
    assert details["mode"] == "dedicated"
    assert details["backend_name"] == WREN
    assert details["accepting_jobs"] is True
    after = session.details()
    assert after is not None
    assert after["accepting_jobs"] is False
    assert _ids(official_service.jobs(session_id=session.session_id)) == [job.job_id()]
    with pytest.raises(IBMRuntimeError):
        SamplerV2(mode=session).run([isa], shots=50)


def test_batch_groups_jobs_and_cancel_closes_it(
    official_service: QiskitRuntimeService, bell: QuantumCircuit
) -> None:
    wren = official_service.backend(WREN)
    isa = _isa(bell, wren)

    with Batch(backend=wren) as batch:
        jobs = [SamplerV2(mode=batch).run([isa], shots=20) for _ in range(2)]
        _wait_final(jobs)
        batch.cancel()

    assert all(job.status() == "DONE" for job in jobs)
    assert all(job.session_id == batch.session_id for job in jobs)
    details = batch.details()
    assert details is not None
    assert details["mode"] == "batch"
    assert details["state"] == "closed"
    assert details["accepting_jobs"] is False
    listed = official_service.jobs(session_id=batch.session_id)
    assert _ids(listed) == _ids(jobs)[::-1]


# -- listing, reading, cancelling, deleting ------------------------------------------------------


def test_jobs_paging_and_filters(
    official_service: QiskitRuntimeService,
    bell: QuantumCircuit,
    bell_state: QuantumCircuit,
    unique_tag: str,
) -> None:
    sim = official_service.backend(IDEAL)
    wren = official_service.backend(WREN)
    on_sim = SamplerV2(mode=sim)
    on_sim.options.environment.job_tags = [unique_tag]
    on_wren = SamplerV2(mode=wren)
    on_wren.options.environment.job_tags = [unique_tag, f"{unique_tag}-wren"]
    estimator = EstimatorV2(mode=sim)
    estimator.options.environment.job_tags = [unique_tag]

    submitted = [
        on_sim.run([bell], shots=10),
        on_wren.run([_isa(bell, wren)], shots=10),
        estimator.run([(bell_state, "ZZ")]),
        on_sim.run([bell], shots=10),
    ]
    _wait_final(submitted)
    ids = _ids(submitted)
    newest_first = ids[::-1]
    tags = [unique_tag]

    def listed(**filters: Any) -> list[str]:
        return _ids(official_service.jobs(job_tags=filters.pop("job_tags", tags), **filters))

    assert listed(limit=10) == newest_first
    assert listed(limit=2) == newest_first[:2]
    assert listed(limit=2, skip=1) == newest_first[1:3]
    assert listed(limit=None, skip=3) == newest_first[3:]
    assert listed(limit=None, descending=False) == ids
    assert listed(backend_name=WREN) == [ids[1]]
    assert listed(program_id="estimator") == [ids[2]]
    assert listed(job_tags=[unique_tag, f"{unique_tag}-wren"]) == [ids[1]]
    assert listed(pending=False) == newest_first
    assert listed(pending=True) == []
    second, third = submitted[1].creation_date, submitted[2].creation_date
    between = second + (third - second) / 2
    assert listed(created_after=between) == newest_first[:2]
    assert listed(created_before=between) == newest_first[2:]


def test_created_after_and_before_include_a_jobs_own_creation_time(
    official_service: QiskitRuntimeService, robin_bell: RanJob
) -> None:
    # Both bounds are inclusive ("greater/less than or equal"), so a job's own creation time as
    # both bounds lists exactly that job. Checked on every job of the module's service.
    missed = []
    for job in official_service.jobs(limit=None):
        created = job.creation_date
        found = _ids(
            official_service.jobs(limit=None, created_after=created, created_before=created)
        )
        if found != [job.job_id()]:
            missed.append((job.job_id(), created.isoformat(), found))

    assert missed == []


def test_job_by_id_reads_back_the_same_job(
    official_service: QiskitRuntimeService, robin_bell: RanJob
) -> None:
    again = official_service.job(robin_bell.job.job_id())

    assert again.job_id() == robin_bell.job.job_id()
    assert again.status() == "DONE"
    assert again.primitive_id == "sampler"
    assert again.backend().name == ROBIN
    assert isinstance(again.creation_date, datetime)
    assert again.result()[0].data.meas.get_counts() == robin_bell.counts
    circuit, _, shots = again.inputs["pubs"][0]
    assert circuit.num_qubits == 7
    assert shots == NOISY_SHOTS


def test_cancel_queued_and_running_jobs(
    official_service: QiskitRuntimeService,
    bell: QuantumCircuit,
    slow_pub: tuple[QuantumCircuit, Any],
    service_workers: int,
    unique_tag: str,
) -> None:
    sim = official_service.backend(IDEAL)
    sampler = SamplerV2(mode=sim)
    sampler.options.environment.job_tags = [unique_tag]
    # One slow job per worker, so that the next one has to wait in the queue.
    running = [sampler.run([slow_pub], shots=10) for _ in range(service_workers)]
    queued = sampler.run([bell], shots=10)
    everything = [*running, queued]
    try:
        for job in running:
            _wait_for_status(job, "RUNNING")
        assert queued.status() == "QUEUED"
        assert set(_ids(official_service.jobs(pending=True, job_tags=[unique_tag]))) == set(
            _ids(everything)
        )
        assert sim.status().pending_jobs >= 1

        queued.cancel()
        for job in running:
            job.cancel()
    finally:
        _cancel_quietly(everything)

    for job in everything:
        assert official_service.job(job.job_id()).status() == "CANCELLED"
    with pytest.raises(RuntimeInvalidStateError):
        queued.result()
    with pytest.raises(RuntimeInvalidStateError):  # 409: it has ended
        official_service.job(running[0].job_id()).cancel()
    assert "Cancelled" in official_service.job(running[0].job_id()).logs()

    # The workers are free again: the next job runs.
    after = sampler.run([bell], shots=10).result(timeout=JOB_TIMEOUT)
    assert sum(after[0].data.meas.get_counts().values()) == 10


def _wait_for_status(job: Any, wanted: str) -> None:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        status = job.status()
        if status == wanted:
            return
        assert status in {"INITIALIZING", "QUEUED", "RUNNING"}, status
        time.sleep(0.1)
    raise AssertionError(f"job {job.job_id()} never reached {wanted}")


def _cancel_quietly(jobs: list[Any]) -> None:
    for job in jobs:
        with contextlib.suppress(RuntimeInvalidStateError):
            job.cancel()


def test_delete_job(official_service: QiskitRuntimeService, bell: QuantumCircuit) -> None:
    sim = official_service.backend(IDEAL)
    job = SamplerV2(mode=sim).run([bell], shots=10)
    job.wait_for_final_state(timeout=JOB_TIMEOUT, poll_interval=0.1)

    official_service.delete_job(job.job_id())

    with pytest.raises(RuntimeJobNotFound):
        official_service.job(job.job_id())
    assert job.job_id() not in _ids(official_service.jobs(limit=None))
    with pytest.raises(RuntimeJobNotFound):
        official_service.delete_job(job.job_id())


def test_tags_update_and_read_back(
    official_service: QiskitRuntimeService, robin_bell: RanJob, unique_tag: str
) -> None:
    new_tags = [unique_tag, "physics"]

    # The official client de-duplicates through a set: the order it sends is arbitrary.
    assert sorted(robin_bell.job.update_tags(new_tags)) == sorted(new_tags)

    assert sorted(official_service.job(robin_bell.job.job_id()).tags) == sorted(new_tags)
    assert _ids(official_service.jobs(job_tags=[unique_tag])) == [robin_bell.job.job_id()]


def test_metrics_and_logs(robin_bell: RanJob) -> None:
    metrics = robin_bell.job.metrics()

    stamps = {
        name: datetime.fromisoformat(metrics["timestamps"][name])
        for name in ("created", "running", "finished")
    }
    assert stamps["created"] <= stamps["running"] <= stamps["finished"]
    assert metrics["usage"]["status"] == "complete"
    assert metrics["usage"]["quantum_seconds"] > 0
    assert robin_bell.job.usage() == metrics["usage"]["qpu_charge_time_seconds"]
    logs = robin_bell.job.logs()
    assert ROBIN in logs
    assert "Completed" in logs


def test_usage_grows_by_what_a_job_is_charged(
    official_service: QiskitRuntimeService, local_service: LocalService, bell: QuantumCircuit
) -> None:
    limit = 1_000_000.0
    local_service.runtime.set_usage_limit(local_service.instance, limit)
    try:
        wren = official_service.backend(WREN)
        before = official_service.usage()
        job = SamplerV2(mode=wren).run([_isa(bell, wren)], shots=100)
        job.result(timeout=JOB_TIMEOUT)
        after = official_service.usage()
    finally:
        local_service.runtime.set_usage_limit(local_service.instance, None)

    charged = job.usage()
    assert charged > 0
    grown = after["usage_consumed_seconds"] - before["usage_consumed_seconds"]
    assert grown == pytest.approx(charged, abs=0.01)
    assert after["usage_limit_reached"] is False
    assert after["usage_remaining_seconds"] == pytest.approx(
        limit - after["usage_consumed_seconds"]
    )


# -- failures ------------------------------------------------------------------------------------


def test_a_too_wide_circuit_fails_with_its_reason(
    official_service: QiskitRuntimeService, wide_circuit: QuantumCircuit
) -> None:
    # The official client checks ISA only for devices, so the simulator receives it as is.
    sim = official_service.backend(IDEAL)
    job = SamplerV2(mode=sim).run([wide_circuit], shots=10)

    with pytest.raises(RuntimeJobFailureError, match="1517") as failure:
        job.result(timeout=JOB_TIMEOUT)

    assert "33 qubits" in str(failure.value)
    assert job.status() == "ERROR"
    assert "33 qubits" in (job.error_message() or "")
    assert official_service.job(job.job_id()).status() == "ERROR"


def test_an_unknown_job_is_not_found(official_service: QiskitRuntimeService) -> None:
    with pytest.raises(RuntimeJobNotFound):
        official_service.job("no-such-job")
