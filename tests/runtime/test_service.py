"""RuntimeService, Sampler, Estimator, Job, Session and Batch against the fake IBM cloud."""

from __future__ import annotations

import json
import logging
import re
import warnings
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.runtime import (
    Account,
    AccountNotFoundError,
    AccountStore,
    BackendNotFoundError,
    Batch,
    Estimator,
    InvalidInputError,
    InvalidStateError,
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JobStatus,
    JobTimeoutError,
    NotISAError,
    RuntimeService,
    Sampler,
    Session,
    UsageLimitError,
)

from .fake_ibm import FakeIBMCloud
from .fake_ibm_models import JobPlan

BACKEND = "fake_manila"


@pytest.fixture
def service(fake_ibm: FakeIBMCloud) -> RuntimeService:
    return RuntimeService(
        Account(channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn)
    )


def bell(measure: bool = True) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    return circuit


def isa(circuit: QuantumCircuit, backend: Any) -> QuantumCircuit:
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


def finish(job: Any) -> Any:
    job.wait(timeout=30, poll_interval=0.01)
    return job.result()


# -- service -----------------------------------------------------------------------------------


def test_a_service_with_a_crn_sends_nothing_until_used(fake_ibm: FakeIBMCloud) -> None:
    RuntimeService(
        Account(channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn)
    )
    assert fake_ibm.calls == []


def test_service_reads_the_environment(
    fake_ibm: FakeIBMCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QISKIT_IBM_TOKEN", fake_ibm.api_key)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", fake_ibm.crn)
    service = RuntimeService()
    assert service.instance == fake_ibm.crn
    assert BACKEND in [b.name for b in service.backends()]


def test_service_uses_a_saved_account_by_name(fake_ibm: FakeIBMCloud, tmp_path: Any) -> None:
    path = tmp_path / "accounts.json"
    store = AccountStore(path)
    store.save(
        Account(channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn),
        name="work",
    )
    service = RuntimeService("work", accounts_file=str(path))
    assert service.backend(BACKEND).num_qubits == 5
    with pytest.raises(AccountNotFoundError, match="work"):
        RuntimeService("play", accounts_file=str(path))


def test_without_an_instance_the_free_one_is_picked_and_named(
    fake_ibm: FakeIBMCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="jupyter_qrt.runtime.facade.service")
    service = RuntimeService(Account(channel="ibm_quantum_platform", token=fake_ibm.api_key))
    assert service.instance == fake_ibm.crn
    assert "open-instance" in caplog.text
    assert fake_ibm.api_key not in caplog.text
    assert {i.crn for i in service.instances()} >= {fake_ibm.crn, fake_ibm.eu_crn}
    assert BACKEND in [b.name for b in service.backends()]


def test_an_instance_given_by_name_reaches_its_regions_runtime(fake_ibm: FakeIBMCloud) -> None:
    account = Account(channel="ibm_quantum_platform", token=fake_ibm.api_key)
    service = RuntimeService(account, instance="paygo-eu")
    assert service.instance == fake_ibm.eu_crn
    assert service.account.runtime_url() == "https://eu-de.quantum.cloud.ibm.com/api/v1"
    assert service.backends()
    assert fake_ibm.count("GET", "/api/v1/backends") == 1


def test_verify_false_reaches_every_request(fake_ibm: FakeIBMCloud) -> None:
    import requests

    seen: list[object] = []

    class RecordingSession(requests.Session):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            seen.append(kwargs.get("verify"))
            return super().send(request, **kwargs)

    account = Account(channel="ibm_quantum_platform", token=fake_ibm.api_key, verify=False)
    service = RuntimeService(account, http=RecordingSession())
    service.instances()
    service.backends()
    assert len(seen) >= 4  # IAM, search, catalog, runtime
    assert set(seen) == {False}


def test_an_unknown_instance_name_lists_the_known_ones(fake_ibm: FakeIBMCloud) -> None:
    account = Account(channel="ibm_quantum_platform", token=fake_ibm.api_key)
    with pytest.raises(InvalidInputError, match="open-instance"):
        RuntimeService(account, instance="nope")


def test_an_invalid_crn_is_refused_before_any_request(fake_ibm: FakeIBMCloud) -> None:
    account = Account(channel="ibm_quantum_platform", token=fake_ibm.api_key)
    with pytest.raises(InvalidInputError, match="crn"):
        RuntimeService(account, instance="crn:v1:nonsense")
    assert fake_ibm.calls == []


def test_backends_filters_and_least_busy(service: RuntimeService) -> None:
    names = [b.name for b in service.backends()]
    assert BACKEND in names
    assert all(b.num_qubits >= 5 for b in service.backends(min_num_qubits=5))
    assert service.backends(min_num_qubits=1000) == []
    busy = service.least_busy(min_num_qubits=2)
    assert busy.name in names
    assert busy.status().operational


def test_an_unknown_backend_lists_the_available_ones(service: RuntimeService) -> None:
    with pytest.raises(BackendNotFoundError, match=BACKEND):
        service.backend("ibm_nowhere")


def test_usage_reports_the_instance(service: RuntimeService) -> None:
    assert "usage_consumed_seconds" in service.usage()


# -- sampler -----------------------------------------------------------------------------------


def test_sampler_runs_a_bell_pair_to_counts(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    job = Sampler(mode=backend).run([isa(bell(), backend)], shots=1000)
    assert job.backend_name == BACKEND
    counts = finish(job)[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 1000
    assert job.status() == "DONE"
    assert fake_ibm.count("POST", "/api/v1/jobs") == 1


def test_our_job_request_is_byte_identical_to_the_official_clients(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2

    backend = service.backend(BACKEND)
    circuit = isa(bell(), backend)
    ours = Sampler(mode=backend, options={"default_shots": 2000})
    ours.options.environment.job_tags = ["t1"]
    ours.options.max_execution_time = 300
    ours.run([circuit])

    official = QiskitRuntimeService(
        channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = SamplerV2(
            mode=official.backend(BACKEND),
            options={
                "default_shots": 2000,
                "environment": {"job_tags": ["t1"]},
                "max_execution_time": 300,
            },
        )
        theirs.run([circuit])
    first, second = (c.body for c in fake_ibm.calls_to("POST", "/api/v1/jobs"))
    ours_text, our_circuits = _split_circuits(first)
    theirs_text, their_circuits = _split_circuits(second)
    assert ours_text == theirs_text
    assert our_circuits == their_circuits == [circuit]
    assert json.loads(first)["tags"] == ["t1"]


def _split_circuits(body: str) -> tuple[str, list[QuantumCircuit]]:
    """The body with each QPY circuit replaced by a marker, and the circuits.

    qiskit's QPY writer orders a transpiled circuit's layout registers by set iteration, so the
    same circuit can give different bytes from one dump to the next (in either client); the
    circuits are therefore compared decoded, and everything else byte for byte.
    """
    from jupyter_qrt.runtime.wire.decoding import loads

    pattern = re.compile(r'\{"__type__": "QuantumCircuit", "__value__": "[^"]*"\}')
    circuits = [loads(m.group(0)) for m in pattern.finditer(body)]
    return pattern.sub("<circuit>", body), circuits


def test_a_non_isa_circuit_is_refused_before_any_request(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    with pytest.raises(NotISAError, match="generate_preset_pass_manager"):
        Sampler(mode=backend).run([bell()])
    assert fake_ibm.count("POST", "/api/v1/jobs") == 0


@pytest.mark.parametrize(
    ("pubs", "words"),
    [
        ("OPENQASM 2.0;", "list of sampler pubs"),
        (QuantumCircuit(1), r"for one pub write \[pub\]"),
        ([], "at least one sampler pub"),
        ([(QuantumCircuit(1), [1.0, 2.0])], "Sampler pub 0 is not valid"),
    ],
)
def test_bad_sampler_input_gets_one_clear_message(
    service: RuntimeService, fake_ibm: FakeIBMCloud, pubs: Any, words: str
) -> None:
    backend = service.backend(BACKEND)
    with pytest.raises(InvalidInputError, match=words):
        Sampler(mode=backend).run(pubs)
    with pytest.raises(InvalidInputError, match="shots must be positive"):
        Sampler(mode=backend).run([isa(bell(), backend)], shots=0)
    assert fake_ibm.count("POST", "/api/v1/jobs") == 0


def test_a_primitive_without_a_mode_says_what_to_pass() -> None:
    with pytest.raises(InvalidInputError, match="mode="):
        Sampler()


def test_a_full_allocation_is_refused_before_submitting(
    service: RuntimeService, fake_ibm: FakeIBMCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = service.backend(BACKEND)
    monkeypatch.setattr(
        type(service),
        "usage",
        lambda self: {
            "usage_limit_reached": True,
            "usage_consumed_seconds": 600,
            "usage_limit_seconds": 600,
        },
    )
    with pytest.raises(UsageLimitError, match="600 of 600 seconds"):
        Sampler(mode=backend).run([isa(bell(), backend)])
    assert fake_ibm.count("POST", "/api/v1/jobs") == 0


# -- estimator ---------------------------------------------------------------------------------


def test_estimator_sweeps_a_parameter_with_the_right_shapes(service: RuntimeService) -> None:
    backend = service.backend(BACKEND)
    theta = Parameter("θ")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    circuit = isa(circuit, backend)
    observables = [
        [SparsePauliOp("ZZ").apply_layout(circuit.layout)],
        [SparsePauliOp("ZI").apply_layout(circuit.layout)],
    ]
    values = [[0.0], [1.0], [3.14159]]
    job = Estimator(mode=backend).run([(circuit, observables, values)], precision=0.01)
    result = finish(job)[0]
    assert result.data.evs.shape == (2, 3)
    assert result.data.stds.shape == (2, 3)
    assert result.data.evs[0, 0] == pytest.approx(1.0, abs=0.05)  # precision 0.01: 5 sigma


# -- job lifecycle -----------------------------------------------------------------------------


def test_wait_reports_each_status_once_and_times_out_clearly(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    job = Sampler(mode=backend).run([isa(bell(), backend)])
    seen: list[JobStatus] = []
    assert job.wait(timeout=30, callback=lambda j, s: seen.append(s), poll_interval=0.01) == "DONE"
    assert seen == [JobStatus.RUNNING, JobStatus.DONE]

    fake_ibm.advance_on_get = False
    stuck = Sampler(mode=backend).run([isa(bell(), backend)])
    with pytest.raises(JobTimeoutError, match="still QUEUED"):
        stuck.wait(timeout=0.05, poll_interval=0.01)


def test_a_failed_job_raises_with_its_reason_code(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    fake_ibm.plan_next_job(final="Failed", reason_code=1517, reason="Error in transpilation")
    job = Sampler(mode=backend).run([isa(bell(), backend)])
    with pytest.raises(JobFailedError, match="1517") as info:
        finish(job)
    assert info.value.reason_code == 1517
    assert job.status() == "ERROR"


def test_a_job_that_ran_too_long_is_an_error_with_1305(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    fake_ibm.plan_next_job(final="Cancelled", reason_code=1305, reason="Ran too long")
    job = Sampler(mode=backend).run([isa(bell(), backend)])
    with pytest.raises(JobCancelledError, match="maximum execution time") as info:
        finish(job)
    assert info.value.reason_code == 1305
    assert job.status() == "ERROR"


def test_jobs_job_cancel_delete_tags_metrics_logs(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    circuit = isa(bell(), backend)
    done = Sampler(mode=backend).run([circuit])
    finish(done)
    fake_ibm.advance_on_get = False
    queued = Sampler(mode=backend).run([circuit])

    listed = service.jobs(limit=None)
    assert [j.job_id() for j in listed] == [queued.job_id(), done.job_id()]
    assert [j.job_id() for j in service.jobs(limit=1, skip=1)] == [done.job_id()]
    assert [j.job_id() for j in service.jobs(pending=True)] == [queued.job_id()]

    again = service.job(done.job_id())
    assert again.status() == "DONE"
    assert again.program_id == "sampler"
    assert again.creation_date is not None
    assert again.result()[0].data.meas.num_shots == 4096

    queued.cancel()
    assert service.job(queued.job_id()).status() == "CANCELLED"
    with pytest.raises(InvalidStateError):
        queued.cancel()

    assert done.update_tags(["a", "b"]) == ["a", "b"]
    assert done.update_tags(tag for tag in ("c", "d")) == ["c", "d"]  # type: ignore[arg-type]
    for bad in (None, "c", ["c", ""]):
        with pytest.raises(InvalidInputError, match="tags must be a list"):
            done.update_tags(bad)  # type: ignore[arg-type]
    assert done.tags == ["c", "d"]
    assert "timestamps" in done.metrics()
    assert isinstance(done.logs(), str)

    service.delete_job(done.job_id())
    with pytest.raises(JobNotFoundError, match=done.job_id()):
        service.job(done.job_id())


def test_an_unknown_job_is_not_found(service: RuntimeService) -> None:
    with pytest.raises(JobNotFoundError, match="nope"):
        service.job("nope")


def test_a_failed_job_listed_after_the_fact_reports_its_reason(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    stored = fake_ibm.add_job(
        crn=fake_ibm.crn, status="Queued", plan=JobPlan("Failed", reason_code=1517, reason="bad")
    )
    job = service.job(stored.id)
    job.wait(timeout=10, poll_interval=0.01)
    assert "1517" in (job.error_message() or "")


# -- sessions and batches ----------------------------------------------------------------------


def test_session_jobs_carry_the_session_and_exit_closes_it(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    backend = service.backend(BACKEND)
    circuit = isa(bell(), backend)
    with Session(backend, max_time=600) as session:
        job = Sampler(mode=session).run([circuit])
        assert job.session_id == session.session_id
        assert finish(job)[0].data.meas.num_shots == 4096
        assert session.details()["mode"] == "dedicated"
    created = json.loads(fake_ibm.calls_to("POST", "/api/v1/sessions")[0].body)
    assert created == {
        "mode": "dedicated",
        "backend": BACKEND,
        "instance": fake_ibm.crn,
        "max_ttl": 600,
    }
    patch = fake_ibm.calls_to("PATCH", f"/api/v1/sessions/{session.session_id}")
    assert [json.loads(c.body) for c in patch] == [{"accepting_jobs": False}]
    assert json.loads(fake_ibm.calls_to("POST", "/api/v1/jobs")[0].body)["session_id"] == (
        session.session_id
    )


def test_batch_cancel_and_reattach(service: RuntimeService, fake_ibm: FakeIBMCloud) -> None:
    backend = service.backend(BACKEND)
    batch = Batch(backend)
    Sampler(mode=batch).run([isa(bell(), backend)])
    assert Batch.from_id(batch.session_id, service).session_id == batch.session_id
    with pytest.raises(InvalidInputError, match=r"Batch\.from_id"):
        Session.from_id(batch.session_id, service)
    batch.cancel()
    assert fake_ibm.count("DELETE", f"/api/v1/sessions/{batch.session_id}/close") == 1


def test_wait_reads_again_soon_then_backs_off_to_the_poll_interval(
    service: RuntimeService, fake_ibm: FakeIBMCloud
) -> None:
    from jupyter_qrt.runtime.facade.job import Job

    backend = service.backend(BACKEND)
    submitted = Sampler(mode=backend).run([isa(bell(), backend)])
    fake_ibm.advance_on_get = False
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        # a fake clock: the pauses are the behaviour under test, and none is waited for
        pauses.append(seconds)
        if len(pauses) == 9:
            fake_ibm.advance_on_get = True

    job = Job(submitted.job_id(), service.api, poll_interval=0.5, sleep=sleep)
    assert job.wait() == "DONE"
    assert pauses[:9] == pytest.approx(
        [0.05, 0.075, 0.1125, 0.16875, 0.253125, 0.3796875, 0.5, 0.5, 0.5]
    )
