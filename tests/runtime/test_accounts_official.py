"""The accounts file and account rules against the official client, qiskit-ibm-runtime 0.51.

Both clients share ``~/.qiskit/qiskit-ibm.json``: each must load what the other writes, and our
``local`` accounts must not disturb the official client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from qiskit_ibm_runtime import QiskitRuntimeService
from qiskit_ibm_runtime.accounts import AccountManager
from qiskit_ibm_runtime.accounts.exceptions import AccountAlreadyExistsError, InvalidAccountError
from qiskit_ibm_runtime.accounts.exceptions import AccountNotFoundError as OfficialNotFound
from qiskit_ibm_runtime.accounts.utils import get_global_catalog_api_url, get_global_search_api_url
from qiskit_ibm_runtime.api.auth import CloudAuth
from qiskit_ibm_runtime.api.utils import default_runtime_url_resolver

from jupyter_qrt.runtime.accounts import Account, AccountStore, resolve_account
from jupyter_qrt.runtime.errors import AccountNotFoundError

TOKEN = "fake-api-key-for-tests-only-9Qa2"
CRN_US = "crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:inst-1::"
CRN_EU = "crn:v1:bluemix:public:quantum-computing:eu-de:a/acc123:inst-2::"
CRN_STAGING = "crn:v1:staging:public:quantum-computing:us-east:a/acc123:inst-3::"
FIELDS = (
    "channel",
    "token",
    "url",
    "instance",
    "region",
    "plans_preference",
    "tags",
    "verify",
    "private_endpoint",
    "proxies",
)


def _ours_as_official(account: Account) -> dict[str, Any]:
    """Our account in the shape of the official ``saved_accounts()`` values."""
    return {f: getattr(account, f) for f in FIELDS if getattr(account, f) is not None}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "qiskit-ibm.json"


def test_official_accounts_load_in_ours_with_the_same_fields(path: Path) -> None:
    filename = str(path)
    QiskitRuntimeService.save_account(token=TOKEN, instance=CRN_US, filename=filename)
    QiskitRuntimeService.save_account(
        channel="ibm_cloud",
        token="CloudKeyCloudKey-1234",
        instance=CRN_EU,
        url="https://test.cloud.ibm.com",
        name="everything",
        proxies={
            "urls": {"https": "http://proxy:3128"},
            "username_ntlm": "u",
            "password_ntlm": "p",
        },
        verify=False,
        private_endpoint=True,
        region="eu-de",
        plans_preference=["open"],
        tags=["course"],
        set_as_default=True,
        filename=filename,
    )
    QiskitRuntimeService.save_account(
        token=TOKEN, name="by-name", instance="my-instance", filename=filename
    )
    theirs = QiskitRuntimeService.saved_accounts(filename=filename)
    ours = AccountStore(path).accounts()
    assert set(ours) == set(theirs) == {"default-ibm-quantum-platform", "everything", "by-name"}
    for name, fields in theirs.items():
        assert _ours_as_official(ours[name]) == fields
    assert AccountStore(path).default_name() == "everything"


def test_our_accounts_load_in_the_official_client_with_the_same_fields(path: Path) -> None:
    store = AccountStore(path)
    accounts = [
        Account(token=TOKEN, instance=CRN_US),
        Account(
            channel="ibm_cloud",
            name="everything",
            token="CloudKeyCloudKey-1234",
            instance=CRN_EU,
            url="https://test.cloud.ibm.com",
            region="eu-de",
            plans_preference=["open", "flex"],
            tags=["course"],
            verify=False,
            private_endpoint=True,
            proxies={"urls": {"https": "http://proxy:3128"}},
        ),
        Account(name="named", token=TOKEN, instance="my-instance"),
    ]
    for account in accounts:
        store.save(account)
    store.save(
        Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-00000001"), name="lab"
    )
    theirs = QiskitRuntimeService.saved_accounts(filename=str(path))
    assert set(theirs) == {"default-ibm-quantum-platform", "everything", "named"}
    for name, account in store.accounts().items():
        if name != "lab":
            assert theirs[name] == _ours_as_official(account)


def test_same_account_gives_the_same_bytes(tmp_path: Path) -> None:
    official, ours = tmp_path / "official.json", tmp_path / "ours.json"
    QiskitRuntimeService.save_account(
        token=TOKEN, instance=CRN_US, filename=str(official), set_as_default=True
    )
    QiskitRuntimeService.save_account(
        token=TOKEN, name="tags", tags=["a"], region="us-east", filename=str(official)
    )
    store = AccountStore(ours)
    store.save(Account(token=TOKEN, instance=CRN_US), set_as_default=True)
    store.save(Account(token=TOKEN, tags=["a"], region="us-east"), name="tags")
    assert ours.read_bytes() == official.read_bytes()


def test_a_literal_local_channel_would_break_the_official_loader(path: Path) -> None:
    # Why local accounts are stored as channel "ibm_quantum" + a "jupyter_qrt" object.
    path.write_text(json.dumps({"lab": {"channel": "local", "token": "t", "url": "http://x"}}))
    with pytest.raises(InvalidAccountError):
        QiskitRuntimeService.saved_accounts(filename=str(path))


def test_local_accounts_coexist_with_the_official_client(path: Path) -> None:
    store = AccountStore(path)
    store.save(Account(token=TOKEN, instance=CRN_US), name="work")
    store.save(
        Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-00000001"),
        set_as_default=True,
    )
    filename = str(path)
    assert set(QiskitRuntimeService.saved_accounts(filename=filename)) == {"work"}
    # The official default discovery ignores our default mark and still finds an IBM account.
    assert AccountManager.get(filename=filename).token == TOKEN
    assert store.get().channel == "local"
    # Their writes keep our entry.
    QiskitRuntimeService.save_account(token=TOKEN, name="theirs", filename=filename)
    QiskitRuntimeService.delete_account(name="work", filename=filename)
    assert set(store.accounts()) == {"default-local", "theirs"}
    assert store.get().channel == "local"
    # An official default set later wins over our mark.
    QiskitRuntimeService.save_account(
        token=TOKEN, name="theirs", set_as_default=True, overwrite=True, filename=filename
    )
    assert store.get().name == "theirs"


def test_the_official_client_will_not_clobber_our_accounts(path: Path) -> None:
    AccountStore(path).save(Account(token=TOKEN), name="a")
    before = path.read_bytes()
    with pytest.raises(AccountAlreadyExistsError):
        QiskitRuntimeService.save_account(token="OtherKey-000000", name="a", filename=str(path))
    assert path.read_bytes() == before


# -- URL derivation agrees with the official functions ----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://cloud.ibm.com",
        "https://test.cloud.ibm.com",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080/experimental/api/v1",
    ],
)
@pytest.mark.parametrize("instance", [CRN_US, CRN_EU, CRN_STAGING, "my-instance", None])
@pytest.mark.parametrize("private", [False, True])
def test_urls_match_the_official_client(
    url: str, instance: str | None, private: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = Account(token=TOKEN, url=url, instance=instance, private_endpoint=private)
    if instance is not None:
        assert account.runtime_url() == default_runtime_url_resolver(url, instance, private)
        assert account.iam_url({}) == CloudAuth(TOKEN, instance, private=private).tm.url
    assert account.global_search_url({}) == get_global_search_api_url(url)
    assert account.global_catalog_url({}) == get_global_catalog_api_url(url)
    monkeypatch.setenv("IAM_URL", "http://127.0.0.1:9")
    assert account.iam_url() == CloudAuth(TOKEN, instance or "", private=private).tm.url


# -- which account is used: ours against _discover_account ---------------------------------


def _official_discover(filename: str, **kwargs: Any) -> Any:
    service = object.__new__(QiskitRuntimeService)
    return service._discover_account(filename=filename, **kwargs)


SAVED: dict[str, dict[str, dict[str, Any]]] = {
    "flagged": {
        "work": {"token": "WorkKeyWorkKey-0001", "instance": CRN_US, "set_as_default": True},
        "other": {"token": "OtherKeyOtherKey-02", "instance": CRN_EU},
        "default-ibm-cloud": {"token": "CloudKeyCloud-0003", "channel": "ibm_cloud"},
    },
    "names": {
        "zeta": {"token": "ZetaKeyZetaKey-0004", "channel": "ibm_cloud"},
        "default-ibm-cloud": {"token": "CloudKeyCloud-0003", "channel": "ibm_cloud"},
        "default-ibm-quantum-platform": {"token": "PlatformKey-00005"},
    },
    "last-of-channel": {
        "alpha": {"token": "AlphaKeyAlpha-0006"},
        "beta": {"token": "BetaKeyBetaKe-0007", "instance": CRN_EU},
        "gamma": {"token": "GammaKeyGamma-0008", "channel": "ibm_cloud"},
    },
    "only-cloud-default": {
        "default-ibm-cloud": {"token": "CloudKeyCloud-0003", "channel": "ibm_cloud"},
    },
}
ENV_TOKEN = {"QISKIT_IBM_TOKEN": "EnvKeyEnvKeyEnv-09", "QISKIT_IBM_INSTANCE": CRN_EU}
CASES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("flagged", {}, {}),
    ("flagged", {}, {"name": "other"}),
    ("flagged", {}, {"name": "other", "token": "InlineKeyInline-10", "channel": "ibm_cloud"}),
    ("flagged", {}, {"name": "other", "instance": CRN_US}),
    ("flagged", {}, {"token": "InlineKeyInline-10"}),
    ("flagged", {}, {"token": "InlineKeyInline-10", "channel": "ibm_cloud", "instance": CRN_US}),
    ("flagged", {}, {"token": "InlineKeyInline-10", "url": "https://test.cloud.ibm.com"}),
    ("flagged", ENV_TOKEN, {}),
    ("flagged", ENV_TOKEN, {"channel": "ibm_cloud"}),
    ("flagged", {**ENV_TOKEN, "QISKIT_IBM_CHANNEL": "ibm_cloud"}, {}),
    ("flagged", {**ENV_TOKEN, "QISKIT_IBM_URL": "https://test.cloud.ibm.com"}, {}),
    ("flagged", ENV_TOKEN, {"name": "other"}),
    ("flagged", {}, {"channel": "ibm_cloud"}),
    ("flagged", {"QISKIT_IBM_CHANNEL": "ibm_cloud"}, {}),
    ("names", {}, {}),
    ("names", {"QISKIT_IBM_CHANNEL": "ibm_cloud"}, {}),
    ("names", {}, {"channel": "ibm_cloud"}),
    ("last-of-channel", {}, {}),
    ("last-of-channel", {}, {"channel": "ibm_cloud"}),
    ("last-of-channel", {"QISKIT_IBM_CHANNEL": "ibm_cloud"}, {}),
    ("only-cloud-default", {}, {}),
    ("only-cloud-default", {}, {"channel": "ibm_quantum_platform"}),
    ("only-cloud-default", {}, {"instance": CRN_US}),
]


@pytest.mark.parametrize(("saved", "env", "kwargs"), CASES)
def test_resolve_account_picks_what_the_official_client_picks(
    saved: str,
    env: dict[str, str],
    kwargs: dict[str, Any],
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, spec in SAVED[saved].items():
        QiskitRuntimeService.save_account(name=name, filename=str(path), **spec)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    theirs = _official_discover(str(path), **kwargs)
    ours = resolve_account(store=AccountStore(path), env=env, **kwargs)
    assert (ours.channel, ours.token, ours.instance, ours.url) == (
        theirs.channel,
        theirs.token,
        theirs.instance,
        theirs.url,
    )


def test_both_find_nothing_in_an_empty_file(path: Path) -> None:
    path.write_text("{}")
    with pytest.raises(OfficialNotFound):
        _official_discover(str(path))
    with pytest.raises(AccountNotFoundError):
        resolve_account(store=AccountStore(path), env={})
