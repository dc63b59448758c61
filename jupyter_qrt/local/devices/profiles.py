"""Processor profiles: the gate set, timing and typical calibration figures of a device family.

A profile says what a generation of superconducting processors looks like on paper (native
two-qubit gate, pulse lengths, typical coherence and error rates). The calibrations module draws
each simulated device's per-qubit and per-coupler values around these medians, so two devices of
one profile differ the way two real chips of one generation do.

The figures are of the order published for the public processor generations; the family names
say "-like" on purpose: these are simulations, not those processors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CONTROL_FLOW", "EAGLE_LIKE", "FALCON_LIKE", "HERON_LIKE", "ProcessorProfile"]

#: Control-flow instructions the simulated devices accept (qiskit-aer runs all of them).
CONTROL_FLOW = ("if_else", "for_loop", "switch_case", "while_loop")


@dataclass(frozen=True)
class ProcessorProfile:
    """What a family of simulated processors looks like.

    Lengths are in nanoseconds, coherence times in microseconds, frequencies in GHz; the error
    figures are medians around which each device's values are drawn.
    """

    family: str
    revision: str
    two_qubit_gate: str
    dt_ns: float
    single_qubit_gate_ns: float
    two_qubit_gate_ns: tuple[float, float]
    readout_ns: float
    reset_ns: float
    t1_us: float
    t2_over_t1: float
    single_qubit_error: float
    two_qubit_error: float
    readout_error: float
    frequency_ghz: tuple[float, float]
    anharmonicity_ghz: float
    timing_constraints: dict[str, int] = field(
        default_factory=lambda: {
            "acquire_alignment": 16,
            "granularity": 16,
            "min_length": 64,
            "pulse_alignment": 16,
        }
    )
    rep_delay_range_us: tuple[float, float] = (0.0, 500.0)
    default_rep_delay_us: float = 250.0
    backend_version: str = "1.0.0"
    online_date: str = "2025-01-01T00:00:00+00:00"
    clops_h: int | None = None
    quantum_volume: int | None = None

    @property
    def two_qubit_gate_is_directed(self) -> bool:
        """``True`` when the native two-qubit gate runs one way per coupler (``ecr``)."""
        return self.two_qubit_gate == "ecr"


FALCON_LIKE = ProcessorProfile(
    family="Falcon-like (simulated)",
    revision="5.11",
    two_qubit_gate="cx",
    dt_ns=2 / 9,
    single_qubit_gate_ns=35.55555555555556,
    two_qubit_gate_ns=(270.0, 560.0),
    readout_ns=5351.11111111111,
    reset_ns=5514.666666666666,
    t1_us=120.0,
    t2_over_t1=0.9,
    single_qubit_error=2.5e-4,
    two_qubit_error=8e-3,
    readout_error=2.0e-2,
    frequency_ghz=(4.75, 5.25),
    anharmonicity_ghz=-0.34,
    backend_version="1.2.6",
    online_date="2021-04-28T04:00:00+00:00",
    quantum_volume=32,
)

EAGLE_LIKE = ProcessorProfile(
    family="Eagle-like (simulated)",
    revision="3",
    two_qubit_gate="ecr",
    dt_ns=0.5,
    single_qubit_gate_ns=60.0,
    two_qubit_gate_ns=(533.3333333333333, 660.0),
    readout_ns=1300.0,
    reset_ns=1860.0,
    t1_us=230.0,
    t2_over_t1=0.7,
    single_qubit_error=2.5e-4,
    two_qubit_error=7.5e-3,
    readout_error=1.5e-2,
    frequency_ghz=(4.55, 5.0),
    anharmonicity_ghz=-0.31,
    timing_constraints={
        "acquire_alignment": 8,
        "granularity": 8,
        "min_length": 16,
        "pulse_alignment": 8,
    },
    backend_version="1.1.79",
    online_date="2023-01-23T05:00:00+00:00",
    clops_h=180000,
)

HERON_LIKE = ProcessorProfile(
    family="Heron-like (simulated)",
    revision="2",
    two_qubit_gate="cz",
    dt_ns=4.0,
    single_qubit_gate_ns=32.0,
    two_qubit_gate_ns=(68.0, 68.0),
    readout_ns=2280.0,
    reset_ns=2312.0,
    t1_us=250.0,
    t2_over_t1=0.8,
    single_qubit_error=2.0e-4,
    two_qubit_error=5.0e-3,
    readout_error=1.2e-2,
    frequency_ghz=(4.5, 5.1),
    anharmonicity_ghz=-0.31,
    timing_constraints={
        "acquire_alignment": 1,
        "granularity": 1,
        "min_length": 2,
        "pulse_alignment": 1,
    },
    rep_delay_range_us=(0.0, 2000.0),
    backend_version="1.0.0",
    online_date="2025-02-20T05:00:00+00:00",
    clops_h=340000,
)
