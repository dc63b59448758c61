"""Instances from IBM Cloud Global Search and Catalog, against the fake IBM cloud."""

from __future__ import annotations

import pytest

from jupyter_qrt.runtime.errors import AuthError, TransportError
from jupyter_qrt.runtime.http.auth import IAMAuth
from jupyter_qrt.runtime.http.platform import Instance, list_instances

from .fake_ibm import FakeIBMCloud


def _list(fake: FakeIBMCloud, api_key: str | None = None) -> list[Instance]:
    auth = IAMAuth(api_key or fake.api_key, fake.iam_url)
    return list_instances(fake.search_url, fake.catalog_url, auth, sleep=lambda seconds: None)


def test_instances_with_plan_pricing_region_and_tags(fake_ibm: FakeIBMCloud) -> None:
    found = _list(fake_ibm)

    assert found == [
        Instance(
            crn=fake_ibm.crn,
            name="open-instance",
            plan="open",
            pricing_type="free",
            tags=("default",),
            region="us-east",
        ),
        Instance(
            crn=fake_ibm.eu_crn,
            name="paygo-eu",
            plan="pay-as-you-go",
            pricing_type="paygo",
            tags=(),
            region="eu-de",
        ),
    ]
    assert "not-allocated" not in [i.name for i in found]  # no doc.extensions: dropped


def test_the_search_request_is_the_official_one(fake_ibm: FakeIBMCloud) -> None:
    _list(fake_ibm)

    first = fake_ibm.calls_to("POST", "/v3/resources/search")[0]
    assert first.query == {"limit": ["100"]}
    assert first.json() == {
        "query": "service_name:quantum-computing",
        "fields": ["crn", "service_plan_unique_id", "name", "doc", "tags"],
    }
    assert first.headers["Authorization"].startswith("Bearer ")
    assert "Service-CRN" not in first.headers


def test_the_search_cursor_is_followed_to_the_end(fake_ibm: FakeIBMCloud) -> None:
    for n in range(5):
        fake_ibm.add_instance("acct0", f"extra-{n}", "plan-open")
    fake_ibm.search_page_size = 2  # 8 instances -> 4 pages, then an empty one

    found = _list(fake_ibm)

    assert len(found) == 7  # 8 minus the one without allocation
    searches = fake_ibm.calls_to("POST", "/v3/resources/search")
    assert len(searches) == 5
    assert "search_cursor" not in searches[0].json()
    assert [s.json()["search_cursor"] for s in searches[1:]] == [
        "cursor-2",
        "cursor-4",
        "cursor-6",
        "cursor-8",
    ]


def test_each_plan_is_looked_up_once(fake_ibm: FakeIBMCloud) -> None:
    for n in range(4):
        fake_ibm.add_instance("acct0", f"open-{n}", "plan-open")

    _list(fake_ibm)

    assert fake_ibm.count("GET", "/api/v1/plan-open") == 1
    assert fake_ibm.count("GET", "/api/v1/plan-paygo") == 1


@pytest.mark.parametrize("plan_id", ["plan-archived", "plan-that-does-not-exist"])
def test_a_plan_the_catalog_will_not_show_is_unknown(fake_ibm: FakeIBMCloud, plan_id: str) -> None:
    crn = fake_ibm.add_instance("acct0", "old", plan_id).crn

    (old,) = [i for i in _list(fake_ibm) if i.crn == crn]

    assert (old.plan, old.pricing_type) == ("unknown", "unknown")


def test_instances_are_sorted_like_the_official_client(fake_ibm: FakeIBMCloud) -> None:
    fake_ibm.instances.clear()
    for pricing in ["subscription", "paid", "unknown-to-us", "trial", "paygo", "free"]:
        fake_ibm.add_plan(f"plan-{pricing}", pricing.title(), pricing)
        fake_ibm.add_instance("acct0", pricing, f"plan-{pricing}")
    fake_ibm.add_instance("acct0", "archived", "plan-archived")

    order = [i.name for i in _list(fake_ibm)]

    assert order == ["free", "trial", "paygo", "paid", "subscription", "archived", "unknown-to-us"]


def test_only_the_accounts_own_instances_are_listed(fake_ibm: FakeIBMCloud) -> None:
    other_key = fake_ibm.add_key("other-key-000000000000", account="acct9")
    fake_ibm.add_instance("acct9", "theirs", "plan-open")

    assert [i.name for i in _list(fake_ibm, other_key)] == ["theirs"]
    assert "theirs" not in [i.name for i in _list(fake_ibm)]


def test_a_rejected_key_cannot_list_instances(fake_ibm: FakeIBMCloud) -> None:
    with pytest.raises(AuthError, match=r"Unable to list the instances.*rejected by IBM Cloud IAM"):
        _list(fake_ibm, "no-such-key-111111111")
    assert fake_ibm.count("POST", "/v3/resources/search") == 0


def test_a_failing_search_is_a_transport_error_naming_the_service(fake_ibm: FakeIBMCloud) -> None:
    fake_ibm.fail("POST", "/v3/resources/search", status=503, times=100)

    with pytest.raises(TransportError, match=r"Unable to list the instances.*Global Search"):
        _list(fake_ibm)
    assert fake_ibm.count("POST", "/v3/resources/search") == 6  # retried: a search changes nothing


def test_the_same_instances_as_the_official_client(fake_ibm: FakeIBMCloud) -> None:
    from qiskit_ibm_runtime.accounts import Account

    fake_ibm.add_instance("acct0", "old", "plan-archived")
    official = Account.create_account(
        channel="ibm_quantum_platform", token=fake_ibm.api_key, url="https://cloud.ibm.com"
    ).list_instances()

    ours = [i.as_dict() for i in _list(fake_ibm)]

    def key(d: dict[str, object]) -> tuple[object, ...]:
        return (d["crn"], d["name"], d["plan"], d["pricing_type"], list(d["tags"]))  # type: ignore[call-overload]

    assert sorted(map(key, ours)) == sorted(map(key, official))
