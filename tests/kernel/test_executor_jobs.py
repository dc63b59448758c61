"""Executor jobs in the kernel: ``%qrt_job`` reopens one as it reopens a Sampler job.

A job of the ``executor`` program (here from our ``Executor``: a twirled Bell pair as a samplex
item on the ideal simulator) returns a ``QuantumProgramResult``. ``%qrt_job ID`` returns that
result and draws its counts: the registers' bits with the samplex's measurement flips undone,
so an ideal Bell pair shows 00 and 11 only, all randomizations together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from samplomatic import build
from samplomatic.quantum_program import QuantumProgram, QuantumProgramResult
from samplomatic.transpiler import generate_boxing_pass_manager

from jupyter_qrt.kernel.program_view import as_counts_result
from jupyter_qrt.local.server import LocalService

from .conftest import IDEAL, Shown, bars
from .test_magics import run

RANDOMIZATIONS, SHOTS = 8, 25


def _executor_job(service: LocalService) -> str:
    from jupyter_qrt.runtime import Executor, RuntimeService

    with RuntimeService(service.account()) as client:
        backend = client.backend(IDEAL)
        bell = QuantumCircuit(2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure_all()
        isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)
        boxed = generate_boxing_pass_manager(enable_gates=True, enable_measures=True).run(isa)
        template, samplex = build(boxed)
        program = QuantumProgram(shots=SHOTS)
        program.append_samplex_item(template, samplex=samplex, shape=(RANDOMIZATIONS,))
        job = Executor(mode=backend).run(program)
        job.result(timeout=120)
        return job.job_id()


def test_qrt_job_reopens_an_executor_job_with_its_counts(
    shell: Any, shown: Shown, capsys: pytest.CaptureFixture[str], local_service: LocalService
) -> None:
    job_id = _executor_job(local_service)
    run(shell, capsys, "%qrt_login")
    reopened, out, err = run(shell, capsys, f"%qrt_job {job_id}")
    assert reopened.success, err
    assert f"Job {job_id} (executor) on {IDEAL}" in out
    assert "An executor job" in out
    result = reopened.result
    assert isinstance(result, QuantumProgramResult)
    raw = np.asarray(result[0]["meas"])
    assert raw.shape == (RANDOMIZATIONS, SHOTS, 2)
    (figure,) = shown.figures()
    heights = bars(figure)
    assert set(heights) == {"00", "11"}, heights
    assert sum(heights.values()) == RANDOMIZATIONS * SHOTS


def test_the_counts_view_undoes_flips_and_names_registers() -> None:
    bits = np.array([[[True, False], [False, True]]])  # (1 randomization, 2 shots, 2 bits)
    flips = np.array([[[True, False]]])  # bit 0 flipped in that randomization
    items = [{"_meas": bits, "measurement_flips._meas": flips, "pauli_signs": np.ones((1, 3))}]
    result = as_counts_result(items)
    data = result[0].data
    assert list(data) == ["meas"]
    # little-endian: column 0 is bit 0, the rightmost character
    assert data["meas"].get_counts() == {"00": 1, "11": 1}
