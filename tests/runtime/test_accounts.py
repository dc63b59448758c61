"""Accounts: CRNs, account values, derived URLs, masking, and which account gets used."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from jupyter_qrt.runtime.accounts import (
    CRN,
    Account,
    AccountStore,
    resolve_account,
)
from jupyter_qrt.runtime.accounts.crn import CRN_SHAPE
from jupyter_qrt.runtime.errors import (
    AccountNotFoundError,
    InvalidInputError,
    QRTError,
)
from jupyter_qrt.runtime.http.auth import BearerAuth, IAMAuth
from jupyter_qrt.runtime.redact import mask_secret

TOKEN = "fake-api-key-for-tests-only-9Qa2"
OTHER_TOKEN = "another-fake-api-key-for-tests-77Zk"
CRN_US = "crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:inst-1::"
CRN_EU = "crn:v1:bluemix:public:quantum-computing:eu-de:a/acc123:inst-2::"
CRN_STAGING = "crn:v1:staging:public:quantum-computing:us-east:a/acc123:inst-3::"


@pytest.fixture
def store(tmp_path: Path) -> AccountStore:
    return AccountStore(tmp_path / "qiskit-ibm.json")


# -- CRN -----------------------------------------------------------------------------------------


def test_crn_parts_are_exposed_and_str_gives_it_back() -> None:
    crn = CRN.parse(CRN_EU)
    assert (crn.cname, crn.region, crn.account_id, crn.service_instance) == (
        "bluemix",
        "eu-de",
        "acc123",
        "inst-2",
    )
    assert str(crn) == CRN_EU
    assert not crn.is_staging
    assert CRN.parse(CRN_STAGING).cname == "staging"
    assert CRN.parse(CRN_STAGING).is_staging


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:inst-1", "has 8"),
        ("crn:v2:bluemix:public:quantum-computing:us-east:a/acc123:inst-1::", "version"),
        ("crn:v1:bluemix:public:cloud-object-storage:us-east:a/acc123:inst-1::", "service name"),
        ("crn:v1:bluemix:public:quantum-computing::a/acc123:inst-1::", "region"),
        ("crn:v1:bluemix:public:quantum-computing:US_EAST:a/acc123:inst-1::", "region"),
        ("crn:v1:bluemix:public:quantum-computing:us-east:acc123:inst-1::", "scope"),
        ("crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:::", "service instance"),
        ("crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:inst-1::\n", "whitespace"),
    ],
)
def test_invalid_crn_names_the_wrong_part_and_shows_the_shape(text: str, names: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        CRN.parse(text)
    message = str(err.value)
    assert names in message
    assert CRN_SHAPE in message


def test_a_non_crn_is_not_echoed_in_the_error() -> None:
    with pytest.raises(InvalidInputError) as err:
        CRN.parse(TOKEN)
    assert "starts with 'crn:'" in str(err.value)
    assert TOKEN not in str(err.value)


# -- Account values ------------------------------------------------------------------------------


def test_account_defaults_match_the_official_client() -> None:
    account = Account(token=TOKEN)
    assert account.channel == "ibm_quantum_platform"
    assert account.url == "https://cloud.ibm.com"
    assert (account.verify, account.private_endpoint, account.instance) == (True, False, None)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"channel": "ibm_quantum", "token": TOKEN}, "channel 'ibm_quantum'"),
        ({"token": ""}, "token is empty"),
        ({"token": TOKEN + "\n"}, "whitespace"),
        ({"token": TOKEN, "instance": "crn:v1:bluemix:public:x"}, "Invalid instance CRN"),
        ({"token": TOKEN, "url": "cloud.ibm.com"}, "http(s) URL"),
        ({"token": TOKEN, "url": "http://[::1"}, "url 'http://[::1' is malformed"),
        ({"token": TOKEN, "url": "https://cloud.ibm.com:99999"}, "is malformed (Port out of"),
        ({"channel": "local", "token": TOKEN, "url": "http://127.0.0.1:x"}, "is malformed"),
        ({"token": TOKEN, "region": "mars"}, "region 'mars'"),
        ({"token": TOKEN, "tags": "one"}, "tags must be a list"),
        ({"token": TOKEN, "verify": "yes"}, "verify must be True or False"),
        ({"token": TOKEN, "proxies": {"url": "x"}}, "unknown keys url"),
        ({"token": TOKEN, "proxies": {"username_ntlm": "u"}}, "both 'username_ntlm'"),
        ({"channel": "local", "token": TOKEN}, "needs url="),
        (
            {"channel": "local", "token": TOKEN, "url": "http://h:1", "private_endpoint": True},
            "IBM Cloud",
        ),
    ],
)
def test_bad_account_values_are_refused_with_the_field_named(
    kwargs: dict[str, object], names: str
) -> None:
    with pytest.raises(InvalidInputError) as err:
        Account(name="mine", **kwargs)  # type: ignore[arg-type]
    assert names in str(err.value)
    assert "'mine'" in str(err.value)
    assert TOKEN not in str(err.value)


def test_accounts_are_immutable_and_replace_revalidates() -> None:
    account = Account(token=TOKEN, instance=CRN_US)
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.instance = CRN_EU  # type: ignore[misc]
    assert dataclasses.replace(account, instance=CRN_EU).crn == CRN.parse(CRN_EU)
    with pytest.raises(InvalidInputError):
        dataclasses.replace(account, instance="crn:broken")


def test_local_account_needs_the_local_services_key() -> None:
    with pytest.raises(InvalidInputError, match="API key of the local runtime service"):
        Account(channel="local", url="http://127.0.0.1:8765")
    assert Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-01").is_local


# -- masking -------------------------------------------------------------------------------------


def test_repr_and_str_show_only_the_last_four_characters() -> None:
    account = Account(
        name="work",
        token=TOKEN,
        instance=CRN_US,
        proxies={
            "urls": {"https": "http://alice:proxy-secret@proxy:3128"},
            "username_ntlm": "alice",
            "password_ntlm": "ntlm-secret",
        },
    )
    for text in (repr(account), str(account), f"{account}", repr([account])):
        assert TOKEN not in text
        assert TOKEN[-4:] in text
        assert "proxy-secret" not in text
        assert "ntlm-secret" not in text
    assert account.masked_token == "..." + TOKEN[-4:]
    assert Account(token="short").masked_token == "****"


def test_repr_survives_a_malformed_proxy_url() -> None:
    account = Account(token=TOKEN, proxies={"urls": {"https": "http://alice:proxy-secret@[::1"}})
    text = repr(account)
    assert "proxy-secret" not in text
    assert "'https': '***'" in text


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("abcdefghijkl", "...ijkl"),
        ("abcdefghi", "...fghi"),
        ("abcdefgh", "****"),  # eight or fewer: the last four would be half of it
        ("abcde", "****"),
        ("", "<none>"),
        (None, "<none>"),
    ],
)
def test_secrets_are_masked_to_their_last_four_characters(secret: str | None, shown: str) -> None:
    assert mask_secret(secret) == shown


def test_a_short_key_is_fully_masked_in_auth_reprs() -> None:
    assert "'****'" in repr(IAMAuth("Key-1234", "https://iam.cloud.ibm.com"))
    assert "'****'" in repr(BearerAuth("Tok-5678"))
    assert "1234" not in repr(IAMAuth("Key-1234", "https://iam.cloud.ibm.com"))


def test_a_key_given_as_an_account_name_is_masked_and_explained(store: AccountStore) -> None:
    store.save(Account(token=TOKEN, instance=CRN_US), name="work")
    with pytest.raises(AccountNotFoundError) as err:
        store.get(OTHER_TOKEN)
    message = str(err.value)
    assert OTHER_TOKEN not in message
    assert "'...77Zk' (masked: it looks like an API key)" in message
    assert "Saved accounts: 'work'" in message
    assert "pass it as token=..." in message
    with pytest.raises(AccountNotFoundError, match=r"No account named 'wrok'.*Saved accounts"):
        store.get("wrok")  # an ordinary name is shown as typed


def test_no_token_in_errors_or_log_records(
    store: AccountStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="jupyter_qrt")
    messages: list[str] = []
    account = Account(name="work", token=TOKEN, instance=CRN_US)
    store.save(account, set_as_default=True)
    store.save(Account(token=OTHER_TOKEN, instance=CRN_EU), name="other")
    for attempt in (
        lambda: store.save(account),
        lambda: store.save(Account(token=OTHER_TOKEN), name="third", set_as_default=True),
        lambda: store.get("missing"),
        lambda: store.get(OTHER_TOKEN),  # a key passed where an account name goes
        lambda: resolve_account(OTHER_TOKEN, channel="ibm_cloud", store=store, env={}),
        lambda: Account(token=TOKEN, instance="crn:v1:nope"),
        lambda: resolve_account(url="https://cloud.ibm.com", store=store, env={}),
        lambda: resolve_account(
            channel="local", store=AccountStore(store.path.parent / "x"), env={}
        ),
    ):
        with pytest.raises(QRTError) as err:
            attempt()
        messages += [str(err.value), repr(err.value)]
    resolved = resolve_account("work", token=OTHER_TOKEN, store=store, env={})
    resolve_account(token=TOKEN, instance=CRN_US, store=store, env={})
    messages += [repr(resolved), str(resolved), repr(store.accounts()), repr(store)]
    messages += [record.getMessage() for record in caplog.records]
    assert any("ignored" in record.getMessage() for record in caplog.records)
    for text in messages:
        assert TOKEN not in text
        assert OTHER_TOKEN not in text


# -- derived URLs (reference section 2.1) -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "instance", "private", "runtime"),
    [
        ("https://cloud.ibm.com", CRN_US, False, "https://quantum.cloud.ibm.com/api/v1"),
        ("https://cloud.ibm.com", CRN_EU, False, "https://eu-de.quantum.cloud.ibm.com/api/v1"),
        (
            "https://cloud.ibm.com",
            CRN_US,
            True,
            "https://private.us-east.quantum.cloud.ibm.com/api/v1",
        ),
        ("http://127.0.0.1:8080", CRN_US, False, "http://quantum.127.0.0.1/api/v1"),
        (
            "http://127.0.0.1:8080/experimental/api/v1",
            CRN_US,
            False,
            "http://127.0.0.1:8080/experimental/api/v1",
        ),
        ("http://127.0.0.1:8080", "myname", False, "http://127.0.0.1:8080"),
        (
            "https://test.cloud.ibm.com",
            CRN_EU,
            False,
            "https://eu-de.quantum.test.cloud.ibm.com/api/v1",
        ),
    ],
)
def test_runtime_url_follows_the_official_resolver(
    url: str, instance: str, private: bool, runtime: str
) -> None:
    for channel in ("ibm_quantum_platform", "ibm_cloud"):
        account = Account(
            channel=channel, token=TOKEN, url=url, instance=instance, private_endpoint=private
        )
        assert account.runtime_url() == runtime


@pytest.mark.parametrize(
    ("instance", "private", "iam"),
    [
        (CRN_US, False, "https://iam.cloud.ibm.com"),
        (None, False, "https://iam.cloud.ibm.com"),
        (CRN_US, True, "https://private.iam.cloud.ibm.com"),
        (CRN_STAGING, False, "https://iam.test.cloud.ibm.com"),
        (CRN_STAGING, True, "https://private.iam.test.cloud.ibm.com"),
    ],
)
def test_iam_url_is_not_derived_from_url(instance: str | None, private: bool, iam: str) -> None:
    account = Account(
        token=TOKEN, url="https://elsewhere.example", instance=instance, private_endpoint=private
    )
    assert account.iam_url({}) == iam


def test_search_and_catalog_urls_come_from_the_url_host() -> None:
    account = Account(token=TOKEN, url="http://127.0.0.1:8080", instance=CRN_US)
    assert account.global_search_url({}) == "http://api.global-search-tagging.127.0.0.1"
    assert account.global_catalog_url({}) == "http://globalcatalog.127.0.0.1/api/v1"
    default = Account(token=TOKEN)
    assert default.global_search_url({}) == "https://api.global-search-tagging.cloud.ibm.com"
    assert default.global_catalog_url({}) == "https://globalcatalog.cloud.ibm.com/api/v1"


def test_environment_overrides_win_for_every_channel() -> None:
    env = {
        "IAM_URL": "http://127.0.0.1:9/iam",
        "GLOBAL_SEARCH_URL": "http://127.0.0.1:9/gs",
        "GLOBAL_CATALOG_URL": "http://127.0.0.1:9/gc",
    }
    for account in (
        Account(token=TOKEN, instance=CRN_STAGING, private_endpoint=True),
        Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-00000001"),
    ):
        assert account.iam_url(env) == env["IAM_URL"]
        assert account.global_search_url(env) == env["GLOBAL_SEARCH_URL"]
        assert account.global_catalog_url(env) == env["GLOBAL_CATALOG_URL"]


def test_environment_overrides_are_read_from_os_environ_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IAM_URL", "http://127.0.0.1:9")
    assert Account(token=TOKEN).iam_url() == "http://127.0.0.1:9"


def test_local_urls_hang_off_the_service_root() -> None:
    account = Account(
        channel="local", url="http://127.0.0.1:8765/", instance=CRN_US, token="LocalKey-00000001"
    )
    assert account.runtime_url() == "http://127.0.0.1:8765/api/v1"
    assert account.iam_url({}) == "http://127.0.0.1:8765"
    assert account.global_search_url({}) == "http://127.0.0.1:8765/globalsearch"
    assert account.global_catalog_url({}) == "http://127.0.0.1:8765/globalcatalog"


# -- resolve_account: which account is used ------------------------------------------------------


def _saved(store: AccountStore) -> None:
    store.save(Account(token=TOKEN, instance=CRN_US), name="work", set_as_default=True)
    store.save(Account(token=OTHER_TOKEN, instance=CRN_EU), name="other")


def test_named_account_beats_inline_token_and_environment(store: AccountStore) -> None:
    _saved(store)
    env = {"QISKIT_IBM_TOKEN": "EnvTokenEnvTokenEnv"}
    account = resolve_account("other", token="InlineTokenInline", store=store, env=env)
    assert (account.name, account.token) == ("other", OTHER_TOKEN)


def test_inline_token_beats_environment_and_saved(store: AccountStore) -> None:
    _saved(store)
    env = {"QISKIT_IBM_TOKEN": "EnvTokenEnvTokenEnv", "QISKIT_IBM_CHANNEL": "ibm_cloud"}
    account = resolve_account(token="InlineTokenInline", instance=CRN_EU, store=store, env=env)
    assert account.token == "InlineTokenInline"
    # As the official client does: an inline token without channel is ibm_quantum_platform.
    assert account.channel == "ibm_quantum_platform"
    assert account.instance == CRN_EU
    assert account.name is None


def test_environment_beats_the_default_saved_account(store: AccountStore) -> None:
    _saved(store)
    env = {
        "QISKIT_IBM_TOKEN": "EnvTokenEnvTokenEnv",
        "QISKIT_IBM_INSTANCE": CRN_EU,
        "QISKIT_IBM_CHANNEL": "ibm_cloud",
        "QISKIT_IBM_URL": "https://test.cloud.ibm.com",
    }
    account = resolve_account(store=store, env=env)
    assert (account.token, account.instance, account.channel, account.url) == (
        "EnvTokenEnvTokenEnv",
        CRN_EU,
        "ibm_cloud",
        "https://test.cloud.ibm.com",
    )
    # The channel argument decides the channel of the environment's account.
    assert resolve_account(channel="ibm_quantum_platform", store=store, env=env).channel == (
        "ibm_quantum_platform"
    )


def test_default_saved_account_is_the_last_resort(store: AccountStore) -> None:
    _saved(store)
    account = resolve_account(store=store, env={})
    assert (account.name, account.token) == ("work", TOKEN)
    assert resolve_account(instance=CRN_EU, store=store, env={}).instance == CRN_EU


def test_accounts_file_comes_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.json"
    AccountStore(path).save(Account(token=TOKEN), name="x", set_as_default=True)
    env = {"QRT_ACCOUNTS_FILE": str(path)}
    assert AccountStore(env=env).path == path
    assert AccountStore(tmp_path / "arg.json", env=env).path == tmp_path / "arg.json"
    assert resolve_account(env=env).name == "x"


def test_default_path_is_under_home(tmp_path: Path) -> None:
    assert AccountStore(env={"HOME": str(tmp_path)}).path == (
        tmp_path / ".qiskit" / "qiskit-ibm.json"
    )


def test_nothing_found_says_what_to_do(store: AccountStore) -> None:
    with pytest.raises(AccountNotFoundError) as err:
        resolve_account(store=store, env={})
    message = str(err.value)
    assert "QISKIT_IBM_TOKEN" in message
    assert "save" in message.lower()
    assert "'local'" in message
    assert str(store.path) in message


def test_url_alone_is_refused(store: AccountStore) -> None:
    with pytest.raises(InvalidInputError, match="url alone"):
        resolve_account(url="https://cloud.ibm.com", store=store, env={})
    with pytest.raises(InvalidInputError, match="API key of the local runtime service"):
        resolve_account(channel="local", url="http://127.0.0.1:8765", store=store, env={})
    local = resolve_account(
        channel="local", url="http://127.0.0.1:8765", token="LocalKey-01", store=store, env={}
    )
    assert local.runtime_url() == "http://127.0.0.1:8765/api/v1"


def test_local_channel_from_environment_and_saved(store: AccountStore) -> None:
    env = {
        "QISKIT_IBM_CHANNEL": "local",
        "QISKIT_IBM_URL": "http://127.0.0.1:7000",
        "QISKIT_IBM_TOKEN": "LocalKey-02",
    }
    assert resolve_account(store=store, env=env).url == "http://127.0.0.1:7000"
    store.save(
        Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-00000001"), name="lab"
    )
    assert resolve_account(channel="local", store=store, env={}).name == "lab"


def test_a_malformed_url_in_the_environment_names_the_variables(store: AccountStore) -> None:
    env = {"QISKIT_IBM_TOKEN": TOKEN, "QISKIT_IBM_URL": "https://[cloud.ibm.com"}
    with pytest.raises(
        InvalidInputError, match=r"QISKIT_IBM_\* environment variables .* is malformed"
    ) as err:
        resolve_account(store=store, env=env)
    assert TOKEN not in str(err.value)


def test_bad_channel_is_refused(store: AccountStore) -> None:
    with pytest.raises(InvalidInputError, match="channel 'ibm_quantum'"):
        resolve_account(channel="ibm_quantum", token=TOKEN, store=store, env={})
    with pytest.raises(InvalidInputError, match="QISKIT_IBM_CHANNEL"):
        resolve_account(store=store, env={"QISKIT_IBM_CHANNEL": "nope", "QISKIT_IBM_TOKEN": TOKEN})


def test_explicit_token_does_not_read_the_accounts_file(store: AccountStore) -> None:
    store.path.write_text("{ not json", encoding="utf-8")
    assert resolve_account(token=TOKEN, store=store, env={}).token == TOKEN
