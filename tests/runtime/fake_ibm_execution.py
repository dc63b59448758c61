"""Real execution for the fake IBM cloud: decode ``params``, run on qiskit, encode the result.

The job's ``params`` are decoded with the official ``RuntimeDecoder`` (a test dependency), the
pubs run on qiskit's ``StatevectorSampler`` / ``StatevectorEstimator``, and the
``PrimitiveResult`` is encoded with the official ``RuntimeEncoder``: what a client decodes is a
real result in the real wire format.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_SHOTS = 4096


class ExecutionError(Exception):
    """The job cannot run; the message becomes the job's failure reason."""


def execute(program_id: str, params_json: str) -> str:
    """Run a sampler or estimator job and return the result text (RuntimeEncoder JSON).

    Parameters
    ----------
    program_id
        ``"sampler"`` or ``"estimator"``.
    params_json
        The job's ``params`` exactly as the client sent them (RuntimeEncoder JSON).

    Raises
    ------
    ExecutionError
        Unknown program, undecodable params, or a pub qiskit refuses.
    """
    from qiskit.primitives import StatevectorEstimator, StatevectorSampler
    from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

    try:
        params = json.loads(params_json, cls=RuntimeDecoder)
    except Exception as exc:
        raise ExecutionError(f"Unable to decode the job parameters: {exc}") from exc
    if not isinstance(params, dict) or not isinstance(params.get("pubs"), list):
        raise ExecutionError("The job parameters have no 'pubs' list.")
    options: dict[str, Any] = params.get("options") or {}
    try:
        if program_id == "sampler":
            seed = (options.get("simulator") or {}).get("seed_simulator")
            sampler = StatevectorSampler(
                default_shots=int(options.get("default_shots") or DEFAULT_SHOTS), seed=seed
            )
            result = sampler.run([tuple(pub) for pub in params["pubs"]]).result()
        elif program_id == "estimator":
            estimator = StatevectorEstimator(
                default_precision=float(options.get("default_precision") or 0.0),
                seed=options.get("seed_estimator"),
            )
            pubs = [
                tuple(p[:3]) + ((p[3],) if len(p) > 3 and p[3] is not None else ())
                for p in params["pubs"]
            ]
            result = estimator.run(pubs).result()
        else:
            raise ExecutionError(
                f"The fake runs only 'sampler' and 'estimator', not {program_id!r}."
            )
    except ExecutionError:
        raise
    except Exception as exc:
        raise ExecutionError(f"{type(exc).__name__}: {exc}") from exc
    return json.dumps(result, cls=RuntimeEncoder)
