"""Which simulator samples a batch: stim for Clifford circuits on noisy devices, else qiskit-aer.

Both the Sampler and the Estimator (which samples its measurement bases) hand their batches to
:func:`sample_batches`. On a device with calibrated noise, every batch whose circuits are
Clifford after parameter binding goes to stim (:mod:`.stabilizer`) with the noise in Pauli form;
the rest go to qiskit-aer in one run (:func:`.simulate.run_shots`), with the twirled (Pauli)
noise model when the job twirls. Each batch comes back with its ``"simulation"`` metadata entry
(the shared convention: method, engine, noise, qubits) when this module chose the engine, or
``None`` when qiskit-aer's own path reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qiskit import QuantumCircuit
from qiskit.primitives.containers.bindings_array import BindingsArray

from jupyter_qrt.local.devices import Device

from .pauli_noise import pauli_noise_for, pauli_noise_model_for
from .simulate import ShotBits, active_qubits, plan_shots, run_shots
from .stabilizer import clifford_bits
from .twirling import Twirling

__all__ = ["STIM_NOISE", "sample_batches"]

#: The ``"noise"`` sentence of the stim path (gate noise is always in Pauli form), by whether
#: measurements are twirled.
STIM_NOISE = {
    False: "Pauli-twirled calibration noise: thermal relaxation + depolarizing per gate as "
    "Pauli channels, asymmetric readout errors",
    True: "Pauli-twirled calibration noise: thermal relaxation + depolarizing per gate as "
    "Pauli channels, readout bit flips at the mean readout error (twirled measurements)",
}


TWIRLED_AER_NOISE = (
    "Pauli-twirled calibration noise: thermal relaxation + depolarizing per gate as Pauli "
    "channels on the twirled parts, readout errors"
)
"""The ``noise`` of qiskit-aer runs of a job that twirls."""


def _simulation(circuit: QuantumCircuit, twirled_measure: bool) -> dict[str, Any]:
    return {
        "method": "stabilizer",
        "engine": "stim",
        "noise": STIM_NOISE[twirled_measure],
        "qubits": len(active_qubits([circuit])),
    }


def sample_batches(
    batches: Sequence[tuple[QuantumCircuit, BindingsArray]],
    shots: int,
    seed: int | None,
    device: Device,
    twirling: Twirling | None = None,
) -> tuple[list[ShotBits], list[dict[str, Any]]]:
    """Sample every binding of every batch ``shots`` times with the fitting simulator.

    Parameters
    ----------
    batches
        ``(circuit, bindings)`` pairs.
    shots
        Shots per binding.
    seed
        Seed of the call, or ``None``.
    device
        Where to run.
    twirling
        The job's twirling: twirled parts run with their Pauli-twirled noise on qiskit-aer too.

    Returns
    -------
    (bits, simulations)
        Per batch, its bits ``(bindings, shots, num_clbits)`` and its ``"simulation"``
        metadata (stim's, or the qiskit-aer plan's).

    Raises
    ------
    ExecutionError
        The simulation failed, or cannot fit in memory (see :func:`.simulate.plan_shots`).
    """
    noise = pauli_noise_for(device)
    twirled_measure = twirling is not None and twirling.measure
    if noise is not None:
        fast = clifford_bits(batches, shots, seed, noise, twirled_measure=twirled_measure)
    else:
        fast = [None] * len(batches)
    rest = [batch for batch, bits in zip(batches, fast, strict=True) if bits is None]
    slow: list[ShotBits] = []
    aer_simulation: dict[str, Any] = {}
    if rest:
        plan = plan_shots(rest, shots, device)  # a run too big for memory is refused here
        aer_simulation = plan.metadata()
        if twirling is not None and twirling.enabled and noise is not None:
            model = pauli_noise_model_for(
                device,
                active_qubits([c for c, _ in rest]),
                gates=twirling.gates,
                measure=twirling.measure,
            )
            slow = run_shots(rest, shots, seed, device, plan, noise_model=model)
            aer_simulation["noise"] = TWIRLED_AER_NOISE
        else:
            slow = run_shots(rest, shots, seed, device, plan)
    remaining = iter(slow)
    bits: list[ShotBits] = []
    simulations: list[dict[str, Any]] = []
    for (circuit, _), sampled in zip(batches, fast, strict=True):
        if sampled is None:
            bits.append(next(remaining))
            simulations.append(dict(aer_simulation))
        else:
            bits.append(sampled)
            simulations.append(_simulation(circuit, twirled_measure))
    return bits, simulations
