"""Seeded calibration data for simulated devices, in the IBM ``BackendProperties`` JSON format.

:func:`generate_properties` draws one device's calibration: T1/T2, qubit frequencies, readout
errors, gate errors and lengths, around the medians of its :class:`ProcessorProfile`. The draw is
deterministic for a ``(seed, device name)`` pair, so every process of the service (and every
restart) serves the same numbers, while two devices of one profile still differ.

Each device gets a few realistic blemishes, all still operational: one qubit with short T1 and
poor readout, and one coupler whose two-qubit error is about three times the median.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .profiles import ProcessorProfile
from .topologies import Topology

__all__ = ["Blemishes", "generate_properties"]

# Readout errors are estimated from this many shots on the real thing, so they come in steps.
_READOUT_SHOTS = 4096


@dataclass(frozen=True)
class Blemishes:
    """Where a generated device is a little worse than its profile.

    Parameters
    ----------
    weak_qubit
        The qubit with short T1/T2, poor readout and higher single-qubit error.
    noisy_coupler
        The coupled pair whose two-qubit gate error is about three times the median.
    """

    weak_qubit: int
    noisy_coupler: tuple[int, int]


def _rng(seed: int, name: str) -> np.random.Generator:
    # crc32, not hash(): str hashes are salted per process and must not change the draw.
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def _nduv(date: datetime, name: str, unit: str, value: float) -> dict[str, Any]:
    return {"date": date.isoformat(), "name": name, "unit": unit, "value": value}


def _round_to(value: float, step: float) -> float:
    return float(max(step, round(value / step) * step))


def choose_blemishes(topology: Topology, seed: int, name: str) -> Blemishes:
    """Pick the weak qubit and the noisy coupler of a device, deterministically."""
    rng = _rng(seed, name + "/blemishes")
    weak = int(rng.integers(topology.num_qubits))
    # The noisy coupler avoids the weak qubit, so the two blemishes are seen separately.
    candidates = [edge for edge in topology.edges if weak not in edge] or list(topology.edges)
    coupler = candidates[int(rng.integers(len(candidates)))] if candidates else (weak, weak)
    return Blemishes(weak, coupler)


def generate_properties(
    name: str,
    topology: Topology,
    profile: ProcessorProfile,
    *,
    seed: int,
    calibrated_at: datetime,
    backend_version: str | None = None,
) -> dict[str, Any]:
    """Draw a device's calibration and return it as a ``BackendProperties`` dict.

    Parameters
    ----------
    name
        Device name, written to ``backend_name`` and mixed into the seed.
    topology
        Which qubits are coupled (one two-qubit gate entry per allowed direction).
    profile
        The family medians to draw around.
    seed
        Catalog seed; the same ``(seed, name)`` always gives the same properties.
    calibrated_at
        Time of the calibration (timezone-aware); individual measurements are dated up to a
        few hours before it.
    backend_version
        Overrides the profile's ``backend_version``.

    Returns
    -------
    dict
        JSON-ready properties: ``backend_name``, ``backend_version``, ``last_update_date``,
        ``qubits``, ``gates``, ``general``.
    """
    rng = _rng(seed, name)
    blemishes = choose_blemishes(topology, seed, name)
    n = topology.num_qubits

    def measured_at() -> datetime:
        return calibrated_at - timedelta(seconds=int(rng.integers(60, 6 * 3600)))

    t1 = np.clip(profile.t1_us * rng.lognormal(0.0, 0.3, n), 0.25 * profile.t1_us, None)
    t2 = t1 * profile.t2_over_t1 * rng.lognormal(0.0, 0.3, n)
    frequency = rng.uniform(*profile.frequency_ghz, n)
    anharmonicity = profile.anharmonicity_ghz + rng.normal(0.0, 0.004, n)
    p1_given_0 = profile.readout_error * 0.6 * rng.lognormal(0.0, 0.35, n)
    p0_given_1 = profile.readout_error * 1.4 * rng.lognormal(0.0, 0.35, n)
    sq_error = np.clip(profile.single_qubit_error * rng.lognormal(0.0, 0.4, n), 5e-5, None)

    weak = blemishes.weak_qubit
    t1[weak] *= 0.3
    t2[weak] *= 0.3
    p1_given_0[weak] *= 2.5
    p0_given_1[weak] *= 2.5
    sq_error[weak] *= 4.0
    # Physics: T2 can never exceed 2 * T1 (and the noise model relies on it).
    t2 = np.minimum(t2, 1.9 * t1)

    step = 1.0 / _READOUT_SHOTS
    qubits: list[list[dict[str, Any]]] = []
    for q in range(n):
        p10 = _round_to(float(p1_given_0[q]), step)
        p01 = _round_to(float(p0_given_1[q]), step)
        coherence_date = measured_at()
        readout_date = measured_at()
        qubits.append(
            [
                _nduv(coherence_date, "T1", "us", float(t1[q])),
                _nduv(coherence_date, "T2", "us", float(t2[q])),
                _nduv(calibrated_at, "frequency", "GHz", float(frequency[q])),
                _nduv(calibrated_at, "anharmonicity", "GHz", float(anharmonicity[q])),
                _nduv(readout_date, "readout_error", "", (p10 + p01) / 2),
                _nduv(readout_date, "prob_meas0_prep1", "", p01),
                _nduv(readout_date, "prob_meas1_prep0", "", p10),
                _nduv(readout_date, "readout_length", "ns", profile.readout_ns),
            ]
        )

    gates: list[dict[str, Any]] = []

    def gate(kind: str, on: tuple[int, ...], date: datetime, **values: float) -> None:
        parameters = []
        if "error" in values:
            parameters.append(_nduv(date, "gate_error", "", values["error"]))
        parameters.append(_nduv(date, "gate_length", "ns", values["length"]))
        gates.append(
            {
                "qubits": list(on),
                "gate": kind,
                "parameters": parameters,
                "name": kind + "_".join(str(q) for q in on),
            }
        )

    for q in range(n):
        date = measured_at()
        error = float(sq_error[q])
        length = profile.single_qubit_gate_ns
        gate("id", (q,), date, error=error, length=length)
        gate("rz", (q,), calibrated_at, error=0.0, length=0.0)
        gate("sx", (q,), date, error=error, length=length)
        gate("x", (q,), date, error=error, length=length)
        gate("reset", (q,), calibrated_at, length=profile.reset_ns)

    granularity = profile.timing_constraints.get("granularity", 1) * profile.dt_ns
    general: list[dict[str, Any]] = []
    for a, b in topology.edges:
        date = measured_at()
        error = profile.two_qubit_error * float(rng.lognormal(0.0, 0.35))
        if (a, b) == blemishes.noisy_coupler:
            error *= 3.0
        error = min(error, 0.03)
        length = _round_to(float(rng.uniform(*profile.two_qubit_gate_ns)), granularity)
        if profile.two_qubit_gate_is_directed:
            pairs = [(a, b) if rng.random() < 0.5 else (b, a)]
        else:
            pairs = [(a, b), (b, a)]
        for pair in pairs:
            gate(profile.two_qubit_gate, pair, date, error=error, length=length)
        coupling = float(rng.uniform(0.0015, 0.0025))
        general.append(_nduv(calibrated_at, f"jq_{a}{b}", "GHz", coupling))
        general.append(_nduv(calibrated_at, f"zz_{a}{b}", "GHz", -(coupling**2) * 15.0))

    return {
        "backend_name": name,
        "backend_version": backend_version or profile.backend_version,
        "last_update_date": calibrated_at.isoformat(),
        "qubits": qubits,
        "gates": gates,
        "general": general,
    }
