"""Twirling options read as IBM's primitives read them: which parts twirl, and the shot count.

IBM's rules (``qiskit_ibm_runtime/options/twirling_options.py``, 0.51), for a pub run ``shots``
times:

- ``enable_gates`` / ``enable_measure``: off for the Sampler; for the Estimator, unset means
  on from resilience level 2 (gates) and level 1 (measurements). The Estimator's default
  resilience level is 1, so its default twirls measurements.
- ``shots_per_randomization`` "auto" (the default): ``max(64, ceil(shots / 32))`` if
  ``num_randomizations`` is also "auto" (64 for PEC), else ``ceil(shots / num_randomizations)``.
- ``num_randomizations`` "auto" (the default): ``ceil(shots / shots_per_randomization)``.
- The pub runs ``num_randomizations * shots_per_randomization`` shots, which covers ``shots``.
  When both are given, their product takes precedence over ``default_shots`` (and over the
  Estimator's default precision); shots or a precision given in the pub itself are always
  obeyed, so then ``shots_per_randomization`` grows to ``ceil(shots / num_randomizations)``
  if the product falls short.

Twirling itself is simulated by its effect on the noise: a twirled part of the circuit gets the
Pauli-twirled channel of its calibration noise (:mod:`.pauli_noise`), averaged over
randomizations, so every shot is drawn from that average channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from qiskit import QuantumCircuit

from .report import ExecutionError, JobLog

__all__ = ["Twirling", "explicit_size"]

_STRATEGIES = frozenset({"active", "active-accum", "active-circuit", "all"})
#: The Estimator's resilience level when the job sets none (IBM's default).
DEFAULT_RESILIENCE_LEVEL = 1


def _count(value: Any, what: str) -> int | None:
    """A positive count, ``None`` for "auto"/unset, or an error saying what to pass."""
    if value is None or value == "auto":
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise ExecutionError(
            f"twirling.{what} must be a whole number >= 1 or 'auto', not {value!r}."
        )
    return int(value)


def explicit_size(pub: Any, position: int) -> bool:
    """Whether a wire pub sets its own shots (Sampler, 2) or precision (Estimator, 3).

    Pub objects (``SamplerPub``, ``EstimatorPub``) always carry theirs, so they count as set.
    """
    if isinstance(pub, list | tuple):
        return len(pub) > position and pub[position] is not None
    return not isinstance(pub, QuantumCircuit)  # a bare circuit takes the default


@dataclass(frozen=True)
class Twirling:
    """The twirling of one job.

    Parameters
    ----------
    gates, measure
        Whether 2-qubit gates / measurements are twirled.
    num_randomizations, shots_per_randomization
        As set, or ``None`` for "auto".
    strategy
        IBM's twirling strategy (reported; the simulated channel is the same for all).
    pec
        PEC mitigation is on (changes the "auto" shots per randomization to 64).
    """

    gates: bool
    measure: bool
    num_randomizations: int | None
    shots_per_randomization: int | None
    strategy: str
    pec: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, estimator: bool) -> Twirling:
        """Read ``options["twirling"]`` (and, for the Estimator, the resilience level)."""
        twirling = options.get("twirling") or {}
        if not isinstance(twirling, Mapping):
            raise ExecutionError(f"Option 'twirling' must be an object, not {twirling!r}.")
        level = options.get("resilience_level", DEFAULT_RESILIENCE_LEVEL if estimator else 0)
        level = DEFAULT_RESILIENCE_LEVEL if level is None and estimator else level or 0
        gates = twirling.get("enable_gates")
        measure = twirling.get("enable_measure")
        if gates is None:
            gates = estimator and isinstance(level, int) and level >= 2
        if measure is None:
            measure = estimator and isinstance(level, int) and level >= 1
        strategy = twirling.get("strategy") or "active-accum"
        if strategy not in _STRATEGIES:
            raise ExecutionError(
                f"twirling.strategy {strategy!r} is not one of {', '.join(sorted(_STRATEGIES))}."
            )
        resilience = options.get("resilience") or {}
        pec = bool(isinstance(resilience, Mapping) and resilience.get("pec_mitigation"))
        return cls(
            gates=bool(gates),
            measure=bool(measure),
            num_randomizations=_count(twirling.get("num_randomizations"), "num_randomizations"),
            shots_per_randomization=_count(
                twirling.get("shots_per_randomization"), "shots_per_randomization"
            ),
            strategy=str(strategy),
            pec=pec,
        )

    @property
    def enabled(self) -> bool:
        """Anything is twirled."""
        return self.gates or self.measure

    def log_to(self, log: JobLog) -> None:
        """Say in the job's log what is twirled, and how it is simulated."""
        parts = [name for name, on in (("gates", self.gates), ("measurements", self.measure)) if on]
        if parts:
            log.record(
                f"Twirling {' and '.join(parts)}: their noise is simulated in its Pauli-twirled "
                "form (the average over randomizations)."
            )

    def plan(self, shots: int, explicit: bool) -> tuple[int, int]:
        """``(num_randomizations, shots_per_randomization)`` of a pub asking for ``shots``.

        ``explicit``: the pub set its shots (or precision) itself, so they must be covered.
        Without twirling: ``(0, shots)``, IBM's report of "no randomizations".
        """
        if not self.enabled:
            return 0, shots
        count, per = self.num_randomizations, self.shots_per_randomization
        if count is None and per is None:
            per = 64 if self.pec else max(64, math.ceil(shots / 32))
            count = math.ceil(shots / per)
        elif count is None:
            assert per is not None
            count = math.ceil(shots / per)
        elif per is None or (explicit and count * per < shots):
            per = math.ceil(shots / count)
        return count, per

    def total_shots(self, shots: int, explicit: bool) -> int:
        """Shots the pub runs: ``num_randomizations * shots_per_randomization`` (or ``shots``)."""
        count, per = self.plan(shots, explicit)
        return shots if count == 0 else count * per

    def metadata(self) -> dict[str, Any]:
        """The result metadata's ``twirling`` entry, as IBM's Estimator reports it."""
        return {
            "enable_gates": self.gates,
            "enable_measure": self.measure,
            "num_randomizations": self.num_randomizations or "auto",
            "shots_per_randomization": self.shots_per_randomization or "auto",
            "interleave_randomizations": True,
            "strategy": self.strategy,
        }
