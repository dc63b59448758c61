"""Our client, ``jupyter_qrt.runtime``, against the local service over HTTP.

The scenarios of ``test_e2e_official.py`` (the official client), run with ``RuntimeService``,
``Sampler``, ``Estimator``, ``Session`` and ``Batch``: connecting, backends, transpiling, jobs
and their physics, sessions, listing, cancelling, deleting, tags, metrics, logs, usage, failed
and unknown jobs.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.runtime import (
    BackendNotFoundError,
    Batch,
    Estimator,
    InvalidStateError,
    Job,
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JobStatus,
    NotISAError,
    RuntimeBackend,
    RuntimeService,
    Sampler,
    Session,
)

IDEAL = "qrt_ideal_simulator"
WREN = "qrt_wren"  # 5 qubits, ecr
ROBIN = "qrt_robin"  # 7 qubits, cx
CATALOG = {"qrt_wren", "qrt_robin", "qrt_kestrel", "qrt_pelican", "qrt_gannet", IDEAL}
JOB_TIMEOUT = 120.0
NOISY_SHOTS = 2000
SEED = 2026
INVALID_PUB = 1517  # reason code of a job whose pub the service cannot run


def _ids(jobs: list[Job]) -> list[str]:
    return [job.job_id() for job in jobs]


def _isa(circuit: QuantumCircuit, backend: RuntimeBackend) -> QuantumCircuit:
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


def _wait_final(jobs: list[Job]) -> None:
    for job in jobs:
        job.wait(timeout=JOB_TIMEOUT, poll_interval=0.1)


@dataclass(frozen=True)
class RanJob:
    """A finished job and the counts of its first pub."""

    job: Job
    counts: dict[str, int]


@pytest.fixture(scope="module")
def robin_bell(our_service: RuntimeService, bell: QuantumCircuit) -> RanJob:
    """A completed, seeded Bell job on the noisy 7-qubit device."""
    robin = our_service.backend(ROBIN)
    sampler = Sampler(mode=robin)
    sampler.options.simulator.seed_simulator = SEED
    job = sampler.run([_isa(bell, robin)], shots=NOISY_SHOTS)
    counts = job.result(timeout=JOB_TIMEOUT)[0].data.meas.get_counts()
    return RanJob(job, counts)


# -- connecting ----------------------------------------------------------------------------------


def test_init_with_no_arguments_from_the_printed_exports(
    local_service: LocalService, client_env: dict[str, str]
) -> None:
    with RuntimeService() as service:
        assert service.instance == local_service.instance
        assert service.channel == "ibm_quantum_platform"
        assert WREN in [backend.name for backend in service.backends()]


def test_init_with_no_instance_finds_the_keys_instance(
    local_service: LocalService, service_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    without_instance = {k: v for k, v in service_env.items() if k != "QISKIT_IBM_INSTANCE"}

    with caplog.at_level(logging.WARNING, logger="jupyter_qrt.runtime.facade.service"):
        service = RuntimeService(env=without_instance)

    assert service.instance == local_service.instance
    assert local_service.instance in caplog.text  # the pick is announced
    (instance,) = service.instances()
    assert instance.plan == local_service.runtime.default_instance.plan
    service.close()


def test_init_as_a_local_account_and_by_instance_name(
    local_service: LocalService, service_env: dict[str, str]
) -> None:
    with RuntimeService(
        channel="local",
        token=local_service.api_key,
        url=local_service.url,
        instance=local_service.instance,
        env={},
    ) as local:
        assert local.backend(WREN).num_qubits == 5

    cloud_lookups = {
        k: service_env[k] for k in ("IAM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL")
    }
    with RuntimeService(
        channel="ibm_cloud",
        token=local_service.api_key,
        url=local_service.api_url,
        instance=local_service.runtime.default_instance.name,
        env=cloud_lookups,
    ) as by_name:
        assert by_name.instance == local_service.instance
        assert by_name.usage()["usage_consumed_seconds"] >= 0


# -- backends ------------------------------------------------------------------------------------


def test_backends_and_backend_by_name(our_service: RuntimeService) -> None:
    assert {backend.name for backend in our_service.backends()} == CATALOG

    wren = our_service.backend(WREN)
    assert wren.num_qubits == 5
    assert not wren.simulator
    assert our_service.backend(ROBIN).num_qubits == 7
    assert our_service.backend(IDEAL).simulator
    assert [b.name for b in our_service.backends(simulator=True)] == [IDEAL]
    assert {b.name for b in our_service.backends(min_num_qubits=100)} == {
        "qrt_pelican",
        "qrt_gannet",
    }
    with pytest.raises(BackendNotFoundError, match="qrt_wren"):  # lists what there is
        our_service.backend("ibm_nowhere")


def test_least_busy(our_service: RuntimeService) -> None:
    big = our_service.least_busy(min_num_qubits=100)
    assert big.name in {"qrt_pelican", "qrt_gannet"}

    assert our_service.least_busy(simulator=True).name == IDEAL
    device = our_service.least_busy()
    assert not device.simulator
    status = device.status()
    assert status.operational
    lengths = [b.status().pending_jobs for b in our_service.backends(simulator=False)]
    assert status.pending_jobs == min(lengths)


def test_transpiling_for_a_noisy_device_gives_an_isa_circuit(our_service: RuntimeService) -> None:
    robin = our_service.backend(ROBIN)
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
    our_service: RuntimeService, bell: QuantumCircuit
) -> None:
    shots = 4000
    sim = our_service.backend(IDEAL)

    result = Sampler(mode=sim).run([_isa(bell, sim)], shots=shots).result(timeout=JOB_TIMEOUT)

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
    our_service: RuntimeService, bell_state: QuantumCircuit, ry_entangler: QuantumCircuit
) -> None:
    sim = our_service.backend(IDEAL)
    bell_isa = _isa(bell_state, sim)
    sweep_isa = _isa(ry_entangler, sim)
    zz = SparsePauliOp("ZZ").apply_layout(bell_isa.layout)
    observables = [
        [SparsePauliOp("ZZ").apply_layout(sweep_isa.layout)],
        [SparsePauliOp("IZ").apply_layout(sweep_isa.layout)],
    ]
    thetas = np.linspace(0.0, np.pi, 5).reshape(5, 1)

    result = (
        Estimator(mode=sim)
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
    our_service: RuntimeService, bell: QuantumCircuit
) -> None:
    wren = our_service.backend(WREN)
    isa = _isa(bell, wren)

    with Session(wren, max_time=600) as session:
        job = Sampler(mode=session).run([isa], shots=50)
        counts = job.result(timeout=JOB_TIMEOUT)[0].data.meas.get_counts()
        details = session.details()

    assert sum(counts.values()) == 50
    assert job.session_id == session.session_id
    assert our_service.job(job.job_id()).session_id == session.session_id
    assert details["mode"] == "dedicated"
    assert details["backend_name"] == WREN
    assert details["accepting_jobs"] is True
    after = session.details()
    assert after["accepting_jobs"] is False
    assert session.status() == "Closed"
    assert _ids(our_service.jobs(session_id=session.session_id)) == [job.job_id()]
    with pytest.raises(InvalidStateError, match="closed"):
        Sampler(mode=session).run([isa], shots=50)


def test_batch_groups_jobs_and_cancel_closes_it(
    our_service: RuntimeService, bell: QuantumCircuit
) -> None:
    wren = our_service.backend(WREN)
    isa = _isa(bell, wren)

    with Batch(wren) as batch:
        jobs = [Sampler(mode=batch).run([isa], shots=20) for _ in range(2)]
        _wait_final(jobs)
        batch.cancel()

    assert all(job.status() == JobStatus.DONE for job in jobs)
    assert all(job.session_id == batch.session_id for job in jobs)
    details = batch.details()
    assert details["mode"] == "batch"
    assert details["state"] == "closed"
    assert details["accepting_jobs"] is False
    assert _ids(our_service.jobs(session_id=batch.session_id)) == _ids(jobs)[::-1]


# -- listing, reading, cancelling, deleting ------------------------------------------------------


def test_jobs_paging_and_filters(
    our_service: RuntimeService,
    bell: QuantumCircuit,
    bell_state: QuantumCircuit,
    unique_tag: str,
) -> None:
    sim = our_service.backend(IDEAL)
    wren = our_service.backend(WREN)
    on_sim = Sampler(mode=sim, options={"environment": {"job_tags": [unique_tag]}})
    on_wren = Sampler(
        mode=wren, options={"environment": {"job_tags": [unique_tag, f"{unique_tag}-wren"]}}
    )
    estimator = Estimator(mode=sim, options={"environment": {"job_tags": [unique_tag]}})

    state_isa = _isa(bell_state, sim)
    zz = SparsePauliOp("ZZ").apply_layout(state_isa.layout)

    submitted = [
        on_sim.run([_isa(bell, sim)], shots=10),
        on_wren.run([_isa(bell, wren)], shots=10),
        estimator.run([(state_isa, zz)]),
        on_sim.run([_isa(bell, sim)], shots=10),
    ]
    _wait_final(submitted)
    ids = _ids(submitted)
    newest_first = ids[::-1]

    def listed(limit: int | None = 10, skip: int = 0, **filters: Any) -> list[str]:
        tags = filters.pop("tags", [unique_tag])
        return _ids(our_service.jobs(limit, skip, tags=tags, **filters))

    assert listed() == newest_first
    assert listed(limit=2) == newest_first[:2]
    assert listed(limit=2, skip=1) == newest_first[1:3]
    assert listed(limit=None, skip=3) == newest_first[3:]
    assert listed(limit=None, descending=False) == ids
    assert listed(backend=WREN) == [ids[1]]
    assert listed(program="estimator") == [ids[2]]
    assert listed(tags=[unique_tag, f"{unique_tag}-wren"]) == [ids[1]]
    assert listed(pending=False) == newest_first
    assert listed(pending=True) == []
    second, third = submitted[1].creation_date, submitted[2].creation_date
    assert second is not None
    assert third is not None
    between = second + (third - second) / 2
    assert listed(created_after=between) == newest_first[:2]
    assert listed(created_before=between) == newest_first[2:]


def test_created_after_and_before_include_a_jobs_own_creation_time(
    our_service: RuntimeService, robin_bell: RanJob
) -> None:
    # Both bounds are inclusive, so a job's own creation time as both bounds lists exactly that
    # job. Checked on every job of the module's service.
    missed = []
    for job in our_service.jobs(limit=None):
        created = job.creation_date
        assert created is not None
        found = _ids(our_service.jobs(None, created_after=created, created_before=created))
        if found != [job.job_id()]:
            missed.append((job.job_id(), created.isoformat(), found))

    assert missed == []


def test_job_by_id_reads_back_the_same_job(our_service: RuntimeService, robin_bell: RanJob) -> None:
    again = our_service.job(robin_bell.job.job_id())

    assert again.job_id() == robin_bell.job.job_id()
    assert again.status() == JobStatus.DONE
    assert again.program_id == "sampler"
    assert again.backend_name == ROBIN
    assert isinstance(again.creation_date, datetime)
    assert again.result()[0].data.meas.get_counts() == robin_bell.counts
    circuit, _, shots = again.inputs()["pubs"][0]
    assert circuit.num_qubits == 7
    assert shots == NOISY_SHOTS


def test_cancel_queued_and_running_jobs(
    our_service: RuntimeService,
    bell: QuantumCircuit,
    slow_pub: tuple[QuantumCircuit, Any],
    service_workers: int,
    unique_tag: str,
) -> None:
    sim = our_service.backend(IDEAL)
    sampler = Sampler(mode=sim, options={"environment": {"job_tags": [unique_tag]}})
    bell_isa = _isa(bell, sim)
    # One slow job per worker, so that the next one has to wait in the queue.
    running = [sampler.run([slow_pub], shots=10) for _ in range(service_workers)]
    queued = sampler.run([bell_isa], shots=10)
    everything = [*running, queued]
    try:
        for job in running:
            _wait_for_status(job, JobStatus.RUNNING)
        assert queued.status() == JobStatus.QUEUED
        pending = our_service.jobs(None, pending=True, tags=[unique_tag])
        assert set(_ids(pending)) == set(_ids(everything))
        assert sim.status().pending_jobs >= 1

        queued.cancel()
        for job in running:
            job.cancel()
    finally:
        _cancel_quietly(everything)

    for job in everything:
        assert our_service.job(job.job_id()).status() == JobStatus.CANCELLED
    with pytest.raises(JobCancelledError):
        our_service.job(queued.job_id()).result()
    with pytest.raises(InvalidStateError):  # 409: it has ended
        running[0].cancel()
    assert "Cancelled" in running[0].logs()

    # The workers are free again: the next job runs.
    after = sampler.run([bell_isa], shots=10).result(timeout=JOB_TIMEOUT)
    assert sum(after[0].data.meas.get_counts().values()) == 10


def _wait_for_status(job: Job, wanted: JobStatus) -> None:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        status = job.status()
        if status == wanted:
            return
        assert status in {JobStatus.INITIALIZING, JobStatus.QUEUED, JobStatus.RUNNING}, status
        time.sleep(0.1)
    raise AssertionError(f"job {job.job_id()} never reached {wanted}")


def _cancel_quietly(jobs: list[Job]) -> None:
    for job in jobs:
        with contextlib.suppress(InvalidStateError):
            job.cancel()


def test_delete_job(our_service: RuntimeService, bell: QuantumCircuit) -> None:
    sim = our_service.backend(IDEAL)
    job = Sampler(mode=sim).run([_isa(bell, sim)], shots=10)
    job.wait(timeout=JOB_TIMEOUT, poll_interval=0.1)

    our_service.delete_job(job.job_id())

    with pytest.raises(JobNotFoundError):
        our_service.job(job.job_id())
    assert job.job_id() not in _ids(our_service.jobs(None))
    with pytest.raises(JobNotFoundError):
        our_service.delete_job(job.job_id())


def test_tags_update_and_read_back(
    our_service: RuntimeService, robin_bell: RanJob, unique_tag: str
) -> None:
    new_tags = [unique_tag, "physics"]

    assert robin_bell.job.update_tags(new_tags) == new_tags

    assert our_service.job(robin_bell.job.job_id()).tags == new_tags
    assert _ids(our_service.jobs(tags=[unique_tag])) == [robin_bell.job.job_id()]


def test_metrics_and_logs(robin_bell: RanJob) -> None:
    metrics = robin_bell.job.metrics()

    stamps = {
        name: datetime.fromisoformat(metrics["timestamps"][name])
        for name in ("created", "running", "finished")
    }
    assert stamps["created"] <= stamps["running"] <= stamps["finished"]
    assert metrics["usage"]["status"] == "complete"
    assert metrics["usage"]["quantum_seconds"] > 0
    assert robin_bell.job.usage() == metrics["usage"]["quantum_seconds"]
    logs = robin_bell.job.logs()
    assert ROBIN in logs
    assert "Completed" in logs


def test_usage_grows_by_what_a_job_is_charged(
    our_service: RuntimeService, local_service: LocalService, bell: QuantumCircuit
) -> None:
    limit = 1_000_000.0
    local_service.runtime.set_usage_limit(local_service.instance, limit)
    try:
        wren = our_service.backend(WREN)
        before = our_service.usage()
        job = Sampler(mode=wren).run([_isa(bell, wren)], shots=100)
        job.result(timeout=JOB_TIMEOUT)
        after = our_service.usage()
    finally:
        local_service.runtime.set_usage_limit(local_service.instance, None)

    charged = job.usage()
    assert charged > 0
    grown = after["usage_consumed_seconds"] - before["usage_consumed_seconds"]
    assert grown == pytest.approx(charged, abs=0.01)
    assert after["usage_limit_reached"] is False
    assert after["usage_limit_seconds"] == limit


# -- failures ------------------------------------------------------------------------------------


def test_a_non_isa_circuit_sent_raw_fails_with_its_reason(
    our_service: RuntimeService, bell: QuantumCircuit
) -> None:
    from jupyter_qrt.runtime.wire.encoding import dumps, sampler_params

    # Our Sampler refuses it before sending; through the REST resource it reaches the device.
    body = {
        "program_id": "sampler",
        "params": sampler_params([bell], shots=10),
        "log_level": "WARNING",
        "backend": WREN,
    }
    created = our_service.api.create_job(dumps(body))
    job = our_service.job(str(created["id"]))

    with pytest.raises(JobFailedError) as failure:
        job.result(timeout=JOB_TIMEOUT)

    assert failure.value.reason_code == INVALID_PUB
    assert "'h'" in (failure.value.reason or "")
    assert job.status() == JobStatus.ERROR
    assert "'h'" in (job.error_message() or "")


def test_too_many_shots_fail_with_their_reason(
    our_service: RuntimeService, bell: QuantumCircuit
) -> None:
    sim = our_service.backend(IDEAL)
    job = Sampler(mode=sim).run([_isa(bell, sim)], shots=200_000)

    with pytest.raises(JobFailedError, match="100000") as failure:
        job.result(timeout=JOB_TIMEOUT)

    assert failure.value.reason_code == INVALID_PUB
    assert job.status() == JobStatus.ERROR


def test_a_too_wide_circuit_is_refused_before_sending(
    our_service: RuntimeService, wide_circuit: QuantumCircuit
) -> None:
    sim = our_service.backend(IDEAL)
    before = our_service.jobs(None)

    with pytest.raises(NotISAError, match="33 qubits"):
        Sampler(mode=sim).run([wide_circuit], shots=10)

    assert _ids(our_service.jobs(None)) == _ids(before)


def test_an_unknown_job_is_not_found(our_service: RuntimeService) -> None:
    with pytest.raises(JobNotFoundError):
        our_service.job("no-such-job")
