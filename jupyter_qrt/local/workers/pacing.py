"""Pacing: a job holds its device for the device time it is charged, scaled by a factor.

The simulator finishes a small job in milliseconds, where the device it stands for would be busy
for a second or more; so nothing is ever seen Queued behind another job or Running, and a
timeout, a live status display or a cancel button never meets a real running job. With pacing on
for a device (opt-in, off by default):

- a job on it stays Running until ``factor`` times its quantum seconds (the device time model of
  :mod:`jupyter_qrt.local.devices.timing`, plus the per-job overhead) have passed since it
  started; its result is kept back until then;
- the device runs one job at a time, as a real one does: the next job on it stays Queued while a
  job holds it, whatever workers are free (jobs on other devices still use them);
- the hold is a run like any other: a cancel ends it at once, Cancelled and charged the device
  time that passed, i.e. the time it ran divided by the factor (never more than the job would
  have cost had it completed, give or take the simulation's own moments), and its
  ``max_execution_time`` stops it (Cancelled, reason code 1305, charged that time).

A factor of 1 is real time; tests use larger ones to see states, demos smaller ones to keep
things quick. ``jupyter-qrt serve --pacing 1 --pacing qrt_wren=0.2`` or
``LocalService(pacing={"qrt_wren": 0.2})``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .protocol import JobDone
    from .slot import WorkerSlot

__all__ = ["Pacing", "PacingLike", "pacing_spec"]

PacingLike = Union["Pacing", float, int, Mapping[str, float], None]
"""What ``pacing=`` takes: a :class:`Pacing`, one factor for every device, or a factor per device
name (devices not named are not paced); ``None`` or 0: off."""

_SPEC_HELP = (
    "Give --pacing FACTOR (every device) or --pacing DEVICE=FACTOR, with FACTOR a number >= 0 "
    "(1 = real device time, 0 = off), e.g. --pacing 1 or --pacing qrt_wren=0.5."
)


@dataclass(frozen=True)
class Pacing:
    """Pacing factors: ``default`` for every device, ``per_device`` overriding it by name.

    A factor of 0 means not paced. Factors are finite numbers >= 0.
    """

    default: float = 0.0
    per_device: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in [("default", self.default), *self.per_device.items()]:
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"The pacing factor of {name} must be a number >= 0, not {value!r}."
                )

    def factor(self, backend: str) -> float:
        """The factor of ``backend`` (0: not paced)."""
        return float(self.per_device.get(backend, self.default))

    def enabled(self, backend: str) -> bool:
        """Whether jobs on ``backend`` hold it."""
        return self.factor(backend) > 0.0

    @property
    def any(self) -> bool:
        """Whether any device may be paced."""
        return self.default > 0.0 or any(v > 0.0 for v in self.per_device.values())

    def hold_seconds(self, backend: str, quantum_seconds: float) -> float:
        """How long a job charged ``quantum_seconds`` holds ``backend``, from its start."""
        return self.factor(backend) * max(float(quantum_seconds), 0.0)

    def charged_seconds(self, backend: str, ran_seconds: float) -> float:
        """Device seconds that ``ran_seconds`` of wall time on ``backend`` stand for."""
        factor = self.factor(backend)
        return ran_seconds / factor if factor > 0.0 else ran_seconds

    # -- used by the scheduler's dispatcher thread, on its worker slots -------------------------

    def busy(self, slots: Iterable[WorkerSlot]) -> set[str]:
        """The paced devices that have a job running (their next job waits)."""
        return {s.job.backend for s in slots if s.job is not None and self.enabled(s.job.backend)}

    def hold(self, slot: WorkerSlot, result: JobDone, now: float) -> bool:
        """Keep the result of the slot's job back until its device time has passed.

        Returns True when it is held (in ``slot.held`` until ``slot.hold_until``).
        """
        job = slot.job
        if job is None or not self.enabled(job.backend):
            return False
        until = slot.started + self.hold_seconds(job.backend, result.quantum_seconds)
        if until <= now:
            return False
        slot.held, slot.hold_until = result, until
        return True

    def released(self, slots: Iterable[WorkerSlot], now: float) -> list[tuple[WorkerSlot, JobDone]]:
        """Take the held results whose hold has ended out of their slots."""
        due: list[tuple[WorkerSlot, JobDone]] = []
        for slot in slots:
            if slot.held is not None and slot.hold_until is not None and now >= slot.hold_until:
                due.append((slot, slot.held))
                slot.held = slot.hold_until = None
        return due

    @classmethod
    def coerce(cls, value: PacingLike) -> Pacing:
        """A :class:`Pacing` from what ``pacing=`` accepts (see :data:`PacingLike`)."""
        if value is None:
            return cls()
        if isinstance(value, Pacing):
            return value
        if isinstance(value, Mapping):
            return cls(per_device={str(k): _number(v) for k, v in value.items()})
        return cls(default=_number(value))

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Pacing:
        """Pacing from ``--pacing`` values: ``FACTOR`` or ``DEVICE=FACTOR`` (later ones win).

        Raises
        ------
        ValueError
            A value of neither form; the message says what to give.
        """
        default = 0.0
        per_device: dict[str, float] = {}
        for spec in specs:
            name, sep, text = spec.strip().rpartition("=")
            if sep and not name.strip():
                raise ValueError(f"--pacing {spec!r} names no device. {_SPEC_HELP}")
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"--pacing {spec!r} is not a factor. {_SPEC_HELP}") from None
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"--pacing {spec!r}: the factor must be >= 0. {_SPEC_HELP}")
            if sep:
                per_device[name.strip()] = value
            else:
                default = value
        return cls(default=default, per_device=per_device)


def pacing_spec(text: str) -> str:
    """The ``type`` of the ``--pacing`` option: ``text`` if :meth:`Pacing.parse` takes it."""
    try:
        Pacing.parse([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"A pacing factor must be a number >= 0, not {value!r}.")
    return float(value)
