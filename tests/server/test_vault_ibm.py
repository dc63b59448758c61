"""IBM Quantum Platform accounts through the vault: checked against the fake of the remote IBM
cloud (IAM, Global Search, Global Catalog), and the accounts file shared with the official client
in both directions."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.fake_ibm import FakeIBMCloud

from .conftest import Fetch, fetch_json
from .test_vault import error_of, file_entries, post


@pytest.fixture
def qrt_config() -> dict[str, Any]:
    return {"local_service": False}


@pytest.fixture
def fake_ibm() -> Iterator[FakeIBMCloud]:
    with FakeIBMCloud().active() as fake:
        yield fake


def ibm_body(fake: FakeIBMCloud, **extra: Any) -> dict[str, Any]:
    return {"name": "work", "token": fake.api_key, **extra}


async def test_no_instance_picks_the_free_one_and_says_so(
    jp_fetch: Fetch, fake_ibm: FakeIBMCloud, accounts_file: Path
) -> None:
    answer = await fetch_json(jp_fetch, "accounts", **post(ibm_body(fake_ibm)))
    assert answer["account"]["instance"] == fake_ibm.crn
    assert answer["account"]["channel"] == "ibm_quantum_platform"
    assert "No instance given: picked 'open-instance' (open plan" in answer["message"]
    assert file_entries(accounts_file)["work"]["instance"] == fake_ibm.crn
    assert fake_ibm.api_key not in json.dumps(answer)


async def test_region_and_plan_preferences_steer_the_pick(
    jp_fetch: Fetch, fake_ibm: FakeIBMCloud
) -> None:
    body = ibm_body(fake_ibm, region="eu-de", plans_preference=["pay-as-you-go"])
    answer = await fetch_json(jp_fetch, "accounts", **post(body))
    assert answer["account"]["instance"] == fake_ibm.eu_crn


async def test_an_instance_name_or_crn_is_checked_against_the_key_s_instances(
    jp_fetch: Fetch, fake_ibm: FakeIBMCloud
) -> None:
    answer = await fetch_json(jp_fetch, "accounts", **post(ibm_body(fake_ibm, instance="paygo-eu")))
    assert answer["account"]["instance"] == fake_ibm.eu_crn
    foreign = fake_ibm.crn.replace("acct0", "acct9")
    message = await error_of(
        jp_fetch, 400, "accounts", **post(ibm_body(fake_ibm, name="other", instance=foreign))
    )
    assert "was not found among the instances this API key can use" in message
    assert "'open-instance'" in message
    assert "'paygo-eu'" in message
    assert "not-allocated" not in message  # no allocation: not usable, as the official client says


async def test_iam_failing_is_a_502_and_a_refused_key_a_400(
    jp_fetch: Fetch, fake_ibm: FakeIBMCloud, accounts_file: Path
) -> None:
    fake_ibm.fail("POST", "/identity/token", status=503, times=5)
    message = await error_of(jp_fetch, 502, "accounts", **post(ibm_body(fake_ibm)))
    assert message.startswith("IAM at https://iam.cloud.ibm.com could not be reached")
    fake_ibm.faults.clear()
    wrong = "W" * 44
    message = await error_of(jp_fetch, 400, "accounts", **post(ibm_body(fake_ibm, token=wrong)))
    assert message.startswith("The API key was refused by IAM at https://iam.cloud.ibm.com")
    assert wrong not in message
    assert not accounts_file.exists()


async def test_an_account_saved_here_is_read_by_the_official_client(
    jp_fetch: Fetch, fake_ibm: FakeIBMCloud, accounts_file: Path
) -> None:
    body = ibm_body(fake_ibm, set_default=True)
    await fetch_json(jp_fetch, "accounts", **post(body))
    from qiskit_ibm_runtime import QiskitRuntimeService

    saved = QiskitRuntimeService.saved_accounts(filename=str(accounts_file))
    assert saved["work"]["token"] == fake_ibm.api_key
    assert saved["work"]["instance"] == fake_ibm.crn
    assert saved["work"]["channel"] == "ibm_quantum_platform"
    # set_default: the official client loads it when asked for no account by name.
    from qiskit_ibm_runtime.accounts import AccountManager

    assert AccountManager.get(filename=str(accounts_file)).instance == fake_ibm.crn
    assert file_entries(accounts_file)["work"]["is_default_account"] is True


async def test_an_account_saved_by_the_official_client_appears_here(
    jp_fetch: Fetch, fake_ibm: FakeIBMCloud, accounts_file: Path
) -> None:
    from qiskit_ibm_runtime import QiskitRuntimeService

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        QiskitRuntimeService.save_account(
            token=fake_ibm.api_key,
            instance=fake_ibm.crn,
            channel="ibm_quantum_platform",
            filename=str(accounts_file),
            name="theirs",
            set_as_default=True,
        )
    listed = await fetch_json(jp_fetch, "accounts")
    theirs = next(a for a in listed["accounts"] if a["name"] == "theirs")
    assert theirs["instance"] == fake_ibm.crn
    assert theirs["fingerprint"] == "..." + fake_ibm.api_key[-4:]
    assert listed["default"] == "theirs"
    assert fake_ibm.api_key not in json.dumps(listed)
    # ... and it can be deleted here; the official client no longer finds it.
    await jp_fetch("jupyter-qrt", "accounts", "theirs", method="DELETE")
    assert QiskitRuntimeService.saved_accounts(filename=str(accounts_file)) == {}
