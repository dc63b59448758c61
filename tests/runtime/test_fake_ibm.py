"""The fake IBM cloud is faithful: the unmodified official client runs jobs against it."""

from __future__ import annotations

import warnings

import pytest

from .fake_ibm import FakeIBMCloud
from .fake_ibm_models import JobPlan


def test_the_official_client_runs_a_sampler_and_an_estimator_on_the_fake(
    fake_ibm: FakeIBMCloud,
) -> None:
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import EstimatorV2, QiskitRuntimeService, SamplerV2

    service = QiskitRuntimeService(
        channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn
    )
    backend = service.backend("fake_manila")
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    measured = bell.copy()
    measured.measure_all()
    pass_manager = generate_preset_pass_manager(backend=backend, optimization_level=1)
    isa, measured = pass_manager.run(bell), pass_manager.run(measured)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sampler_job = SamplerV2(mode=backend).run([measured], shots=300)
        estimator_job = EstimatorV2(mode=backend).run(
            [(isa, SparsePauliOp(["ZZ"]).apply_layout(isa.layout))]
        )

    counts = sampler_job.result()[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 300
    assert float(estimator_job.result()[0].data.evs) == pytest.approx(1.0)
    assert {job.job_id() for job in service.jobs(limit=5)} == {
        sampler_job.job_id(),
        estimator_job.job_id(),
    }
    assert fake_ibm.count("POST", "/api/v1/jobs") == 2


def test_the_official_client_sees_failures_the_way_the_service_reports_them(
    fake_ibm: FakeIBMCloud,
) -> None:
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.exceptions import RuntimeJobNotFound

    service = QiskitRuntimeService(
        channel="ibm_quantum_platform", token=fake_ibm.api_key, instance=fake_ibm.crn
    )
    plan = JobPlan("Cancelled", reason_code=1305, reason="Ran too long")
    job = fake_ibm.add_job(crn=fake_ibm.crn, status="Queued", plan=plan)

    official = service.job(job.id)  # reads the job: Running
    assert official.status() == "ERROR"  # reads it again: Cancelled 1305, "ran too long"
    with pytest.raises(RuntimeJobNotFound):
        service.job("no-such-job")
