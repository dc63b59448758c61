"""Dispatch a job's decoded params to the Sampler, Estimator or Executor program."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_qrt.local.devices import Device
from jupyter_qrt.local.jobs.request import PROGRAMS

from .estimator import execute_estimator
from .executor import execute_executor
from .inputs import pub_list
from .report import ExecutionError, ExecutionReport
from .sampler import execute_sampler

__all__ = ["PROGRAMS", "run_program"]


def run_program(
    program_id: str,
    device: Device,
    params: Mapping[str, Any],
    *,
    seed: int | None = None,
) -> ExecutionReport:
    """Run a job's decoded ``params`` with the ``sampler``, ``estimator`` or ``executor`` program.

    Parameters
    ----------
    program_id
        ``"sampler"``, ``"estimator"`` or ``"executor"``.
    device
        Where to run.
    params
        The job's params as the wire decoder leaves them: ``pubs``, ``options``, ``version``
        and, for the estimator, an optional ``resilience_level``; for the executor, its
        ``ParamsModel`` (see :mod:`.executor`).
    seed
        Simulator seed when the options set none (``options.simulator.seed_simulator`` wins).

    Returns
    -------
    ExecutionReport
        The result, the quantum seconds to charge, timestamps and log lines.

    Raises
    ------
    ExecutionError
        The program, params, pubs or options cannot run on ``device``; nothing ran.
    """
    if program_id not in PROGRAMS:
        raise ExecutionError(
            f"The local service has no program {program_id!r}; it runs 'sampler' and "
            "'estimator' (the V2 primitives) and 'executor'."
        )
    if program_id == "executor":
        return execute_executor(device, params, seed=seed)
    if not isinstance(params, Mapping):
        raise ExecutionError("The job's params must be an object holding 'pubs' and 'options'.")
    version = params.get("version", 2)
    if version != 2:
        raise ExecutionError(
            f"The local service runs version 2 primitives only, not version {version!r}. "
            "Use SamplerV2 / EstimatorV2."
        )
    options = params.get("options") or {}
    if not isinstance(options, Mapping):
        raise ExecutionError("The job's 'options' must be an object of primitive options.")
    pubs = pub_list(params.get("pubs"))
    if program_id == "sampler":
        return execute_sampler(device, pubs, options=options, seed=seed)
    if params.get("resilience_level") is not None:
        options = {**options, "resilience_level": params["resilience_level"]}
    return execute_estimator(device, pubs, options=options, seed=seed)
