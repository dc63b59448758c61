"""Calibration ids: each device's calibration has a stable id; unknown ids are refused.

The IBM service serves ``GET /backends/{name}/configuration|properties?calibration_id=...`` for
the calibrations it knows and refuses any other id; qiskit-ibm-runtime 0.51 turns the refusal of
``service.backend(name, calibration_id=...)`` into ``QiskitBackendNotFoundError``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from qiskit.providers.exceptions import QiskitBackendNotFoundError

from jupyter_qrt.local.devices import builtin_catalog
from jupyter_qrt.local.server import LocalService

from .core_helpers import cheap_body

WREN = "qrt_wren"
IDEAL = "qrt_ideal_simulator"
GRANT = "urn:ibm:params:oauth:grant-type:apikey"
UNKNOWN = "cal_20200101T0000Z_0000000000"


@pytest.fixture(scope="module")
def headers(local_service: LocalService) -> dict[str, str]:
    answer = requests.post(
        f"{local_service.url}/identity/token",
        data={"grant_type": GRANT, "apikey": local_service.api_key},
        timeout=30,
    )
    answer.raise_for_status()
    return {
        "Authorization": f"Bearer {answer.json()['access_token']}",
        "Service-CRN": local_service.instance,
        "Accept": "application/json",
    }


def _get(service: LocalService, headers: dict[str, str], path: str, **params: str) -> Any:
    return requests.get(f"{service.api_url}{path}", headers=headers, params=params, timeout=30)


def test_each_calibration_has_a_stable_id_in_properties_and_configuration(
    local_service: LocalService, headers: dict[str, str]
) -> None:
    properties = _get(local_service, headers, f"/backends/{WREN}/properties").json()
    configuration = _get(local_service, headers, f"/backends/{WREN}/configuration").json()
    calibration_id = properties["calibration_id"]
    assert calibration_id == configuration["calibration_id"]
    # The id names the calibration's date and content: the same seed gives the same id, another
    # seed (other calibrations) another one.
    assert calibration_id.startswith("cal_20260115T0600Z_")
    assert builtin_catalog().get(WREN).calibration_id == calibration_id
    assert builtin_catalog(seed=7).get(WREN).calibration_id != calibration_id


def test_known_calibration_id_is_served(
    local_service: LocalService, headers: dict[str, str]
) -> None:
    current = _get(local_service, headers, f"/backends/{WREN}/properties").json()["calibration_id"]
    for kind in ("properties", "configuration"):
        answer = _get(local_service, headers, f"/backends/{WREN}/{kind}", calibration_id=current)
        assert answer.status_code == 200, answer.text
        assert answer.json()["calibration_id"] == current


@pytest.mark.parametrize("kind", ["properties", "configuration"])
@pytest.mark.parametrize("backend", [WREN, IDEAL])
def test_unknown_calibration_id_is_refused_with_404(
    local_service: LocalService, headers: dict[str, str], kind: str, backend: str
) -> None:
    answer = _get(local_service, headers, f"/backends/{backend}/{kind}", calibration_id=UNKNOWN)
    assert answer.status_code == 404, answer.text
    message = answer.json()["errors"][0]["message"]
    assert UNKNOWN in message
    assert "omit calibration_id" in message


def test_official_client_backend_with_calibration_id(official_service: Any) -> None:
    current = official_service.backend(WREN).properties().to_dict()["calibration_id"]
    pinned = official_service.backend(WREN, calibration_id=current)
    assert pinned.calibration_id == current
    assert pinned.num_qubits == 5
    assert pinned.properties().to_dict()["calibration_id"] == current
    with pytest.raises(QiskitBackendNotFoundError):
        official_service.backend(WREN, calibration_id=UNKNOWN)


def test_job_with_unknown_calibration_id_is_refused_and_nothing_is_queued(
    local_service: LocalService, headers: dict[str, str]
) -> None:
    before = _get(local_service, headers, "/jobs").json()["count"]
    answer = requests.post(
        f"{local_service.api_url}/jobs",
        headers=headers,
        json=cheap_body(WREN, calibration_id=UNKNOWN),
        timeout=30,
    )
    assert answer.status_code == 404, answer.text
    assert UNKNOWN in answer.json()["errors"][0]["message"]
    assert _get(local_service, headers, "/jobs").json()["count"] == before


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SamplerV2 warns in 0.51
def test_official_client_runs_on_a_pinned_calibration(official_service: Any, bell: Any) -> None:
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2

    current = official_service.backend(WREN).properties().to_dict()["calibration_id"]
    pinned = official_service.backend(WREN, calibration_id=current)
    isa = generate_preset_pass_manager(backend=pinned, optimization_level=1).run(bell)
    sampler = SamplerV2(mode=pinned)
    result = sampler.run([isa], shots=100).result(timeout=120)
    assert sum(result[0].data.meas.get_counts().values()) == 100
