"""The in-process local service, as a plain script or IPython session uses it."""

from __future__ import annotations

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.runtime import RuntimeService, Sampler


def test_our_client_connects_with_the_services_account_and_no_environment() -> None:
    with LocalService() as local:
        account = local.account()
        assert account.channel == "local"
        assert local.api_key not in repr(account)
        service = RuntimeService(account)
        backend = service.backend("qrt_ideal_simulator")
        bell = QuantumCircuit(2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure_all()
        isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)
        job = Sampler(mode=backend).run([isa], shots=200)
        counts = job.result()[0].data.meas.get_counts()
        assert set(counts) <= {"00", "11"}
        assert sum(counts.values()) == 200
        assert service.usage()["usage_consumed_seconds"] > 0
