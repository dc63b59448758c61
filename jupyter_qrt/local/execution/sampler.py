"""The Sampler program: shots of each pub, one ``BitArray`` per classical register.

Results carry what IBM's sampler program puts in them: per pub ``{"circuit_metadata": ...}``
and, at the top, ``{"execution": {"execution_spans": ...}, "version": 2}`` with one
``DoubleSliceSpan`` per simulator run (pubs with the same shot count share a run).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from qiskit import QuantumCircuit
from qiskit.primitives import PrimitiveResult
from qiskit.primitives.containers import BitArray, DataBin, SamplerPubResult
from qiskit.primitives.containers.sampler_pub import SamplerPub

from jupyter_qrt.local.devices import Device
from jupyter_qrt.local.jobs.request import DEFAULT_SHOTS
from jupyter_qrt.runtime.wire.result_types import DoubleSliceSpan, ExecutionSpans

from .inputs import RunSettings, device_target, positive_int, runnable_circuit, sampler_pub
from .methods import SimulationPlan
from .report import ExecutionReport, JobLog, completed_report
from .simulate import ShotBits, pack_register, plan_shots, run_shots

__all__ = ["DEFAULT_SHOTS", "execute_sampler", "run_sampler"]


def _pub_result(
    circuit: QuantumCircuit, pub: SamplerPub, bits: ShotBits, plan: SimulationPlan
) -> SamplerPubResult:
    shape = tuple(pub.shape)
    registers: dict[str, BitArray] = {}
    for register in circuit.cregs:
        clbits = [circuit.find_bit(bit).index for bit in register]
        packed = pack_register(bits, clbits)
        packed = packed.reshape(*shape, *packed.shape[1:])
        registers[register.name] = BitArray(packed, register.size)
    return SamplerPubResult(
        DataBin(**registers, shape=shape),
        metadata={"circuit_metadata": pub.circuit.metadata, "simulation": plan.metadata()},
    )


def execute_sampler(
    device: Device,
    pubs: Sequence[Any],
    *,
    default_shots: int = DEFAULT_SHOTS,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> ExecutionReport:
    """Sample every pub on ``device``.

    Parameters
    ----------
    device
        Where to run.
    pubs
        Sampler pubs: ``[circuit, parameter_values, shots|None]`` (values an ndarray whose last
        axis runs over ``circuit.parameters``), a circuit, or a ``SamplerPub``.
    default_shots
        Shots of pubs that name none, unless ``options["default_shots"]`` is set.
    options
        Sampler options as the official client sends them (``default_shots``, ``execution``,
        ``simulator``, ``twirling``, ``dynamical_decoupling``, ...).
    seed
        Simulator seed when the options set none (``options["simulator"]["seed_simulator"]``).

    Returns
    -------
    ExecutionReport
        ``result`` holds one ``SamplerPubResult`` per pub, with one ``BitArray`` per classical
        register of the circuit, named like the register, shaped like the pub.

    Raises
    ------
    ExecutionError
        A pub or option cannot run on ``device``; nothing ran.
    """
    options = options or {}
    log = JobLog()
    given = options.get("default_shots")  # null, like a missing value, means the default
    shots_default = positive_int(default_shots if given is None else given, "default_shots")
    settings = RunSettings.from_options(device, options, seed, log)
    target = device_target(device)
    coerced = [sampler_pub(i, pub, shots_default, device) for i, pub in enumerate(pubs)]
    circuits = [runnable_circuit(pub.circuit, device, target, i) for i, pub in enumerate(coerced)]
    for index, circuit in enumerate(circuits):
        if not circuit.cregs:
            log.record(
                f"Pub {index} has no classical register: its result holds no data.",
                logging.WARNING,
            )
    log.record(
        f"Sampling {len(coerced)} pub(s) on {device.name} "
        + ("(ideal, no noise)." if device.simulator else "with its calibrated noise model.")
    )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    results: list[SamplerPubResult | None] = [None] * len(coerced)
    spans: list[DoubleSliceSpan] = []
    device_seconds = 0.0
    total_shots = 0
    by_shots: dict[int, list[int]] = {}
    for index, pub in enumerate(coerced):
        by_shots.setdefault(int(pub.shots), []).append(index)
    # Every run is planned (and a run too big for memory refused) before any runs.
    runs = []
    for shots, members in by_shots.items():
        batches = [(circuits[i], coerced[i].parameter_values) for i in members]
        runs.append((shots, members, batches, plan_shots(batches, shots, device)))
    for run, (shots, members, batches, plan) in enumerate(runs):
        span_start = datetime.now(UTC)
        bits = run_shots(batches, shots, settings.seed_for(run), device, plan)
        span_stop = datetime.now(UTC)
        slices: dict[int, tuple[Any, ...]] = {}
        for i, pub_bits in zip(members, bits, strict=True):
            pub = coerced[i]
            results[i] = _pub_result(circuits[i], pub, pub_bits, plan)
            size = int(pub.parameter_values.size)
            # The shape ends with the shots: IBM's layout, and what the client's span needs.
            slices[i] = ((*pub.shape, shots), slice(0, size), slice(0, shots))
            device_seconds += size * shots * settings.shot_seconds(circuits[i], target)
            total_shots += size * shots
        spans.append(DoubleSliceSpan(span_start, span_stop, slices))
    metadata = {"execution": {"execution_spans": ExecutionSpans(spans)}, "version": 2}
    return completed_report(
        results,
        metadata,
        device=device,
        device_seconds=device_seconds,
        started=started,
        clock=clock,
        log=log,
        shots=total_shots,
    )


def run_sampler(
    device: Device,
    pubs: Sequence[Any],
    *,
    default_shots: int = DEFAULT_SHOTS,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> PrimitiveResult:
    """Sample every pub on ``device`` and return just the result (see :func:`execute_sampler`)."""
    return execute_sampler(
        device, pubs, default_shots=default_shots, options=options, seed=seed
    ).result
