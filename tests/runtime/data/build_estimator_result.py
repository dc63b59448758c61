"""Writes ``estimator_bell_zz_xx.json``: an Estimator result text as IBM serves it.

Run once with the venv's Python (``python tests/runtime/data/build_estimator_result.py``); the
tests only read the JSON file. The text is what the official client's own encoder,
``qiskit_ibm_runtime.RuntimeEncoder`` (0.51; formerly ``qiskit_ibm_runtime.utils``), writes for
a known ``PrimitiveResult`` laid out like a real IBM estimator result (see README.md here).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from qiskit.primitives.containers import DataBin, PrimitiveResult, PubResult
from qiskit_ibm_runtime import RuntimeEncoder

HERE = Path(__file__).parent


def build() -> PrimitiveResult:
    """Two pubs of a Bell pair: <ZZ> alone (pub shape ()), then [<ZZ>, <XX>] (pub shape (2,))."""
    scalar = PubResult(
        DataBin(evs=np.array(0.9873046875), stds=np.array(0.0024658203125), shape=()),
        metadata={
            "shots": 4096,
            "target_precision": 0.015625,
            "circuit_metadata": {},
            "resilience": {},
            "num_randomizations": 32,
        },
    )
    pair = PubResult(
        DataBin(
            evs=np.array([0.9873046875, 0.96875]),
            stds=np.array([0.0024658203125, 0.00390625]),
            shape=(2,),
        ),
        metadata={
            "shots": 4096,
            "target_precision": 0.015625,
            "circuit_metadata": {},
            "resilience": {},
            "num_randomizations": 32,
        },
    )
    metadata = {
        "dynamical_decoupling": {
            "enable": True,
            "sequence_type": "XX",
            "extra_slack_distribution": "middle",
            "scheduling_method": "alap",
        },
        "twirling": {
            "enable_gates": False,
            "enable_measure": True,
            "num_randomizations": "auto",
            "shots_per_randomization": "auto",
            "interleave_randomizations": True,
            "strategy": "active-accum",
        },
        "resilience": {
            "measure_mitigation": True,
            "zne_mitigation": False,
            "pec_mitigation": False,
        },
        "version": 2,
    }
    return PrimitiveResult([scalar, pair], metadata=metadata)


if __name__ == "__main__":
    text = json.dumps(build(), cls=RuntimeEncoder)
    (HERE / "estimator_bell_zz_xx.json").write_text(text + "\n")
