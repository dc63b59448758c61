"""Accounts in a Jupyter kernel under jupyter-qrt: names and the default go through the server's
proxy with the kernel token, never a key from the accounts file the kernel can also read."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.runtime.accounts import Account, AccountStore, resolve_account
from jupyter_qrt.runtime.accounts.jupyter import JupyterServer
from jupyter_qrt.runtime.errors import AccountNotFoundError

SERVER = "http://127.0.0.1:8888/a%40b"
KERNEL_TOKEN = "qrtk_kernel-token"
SECRET = "a-real-api-key-in-the-file"
CRN_DEFAULT = "crn:v1:bluemix:public:quantum-computing:us-east:a/abc123:inst-default::"
CRN_OTHER = "crn:v1:bluemix:public:quantum-computing:us-east:a/abc123:inst-other::"


def kernel_env(**extra: str) -> dict[str, str]:
    """What the extension gives kernels (QRTExtension.kernel_env), default account 'work'."""
    proxy = f"{SERVER}/jupyter-qrt/runtime/work"
    return {
        "QRT_SERVER_URL": SERVER,
        "QRT_KERNEL_TOKEN": KERNEL_TOKEN,
        "QISKIT_IBM_URL": f"{proxy}/experimental/api/v1",
        "QISKIT_IBM_TOKEN": KERNEL_TOKEN,
        "QISKIT_IBM_CHANNEL": "ibm_quantum_platform",
        "QISKIT_IBM_INSTANCE": CRN_DEFAULT,
        "IAM_URL": f"{SERVER}/jupyter-qrt/iam",
        "GLOBAL_SEARCH_URL": f"{proxy}/globalsearch",
        "GLOBAL_CATALOG_URL": f"{proxy}/globalcatalog",
        **extra,
    }


@pytest.fixture
def store(tmp_path: Path) -> AccountStore:
    """An accounts file the kernel can read, holding real keys."""
    store = AccountStore(str(tmp_path / "qiskit-ibm.json"))
    store.save(Account(name="other", token=SECRET, instance=CRN_OTHER))
    store.save(Account(name="work", token=SECRET, instance=CRN_DEFAULT), set_as_default=True)
    return store


def directory(seen: list[str]) -> Any:
    def read(server: JupyterServer) -> Mapping[str, Any]:
        seen.append(server.url)
        return {
            "default": "work",
            "accounts": [
                {"name": "local", "instance": None},
                {"name": "work", "instance": CRN_DEFAULT},
                {"name": "other", "instance": CRN_OTHER},
            ],
        }

    return read


def test_a_named_account_goes_through_the_proxy_for_that_name_without_a_key(
    store: AccountStore,
) -> None:
    account = resolve_account("other", store=store, env=kernel_env())
    assert account.token == KERNEL_TOKEN
    assert account.runtime_url() == f"{SERVER}/jupyter-qrt/runtime/other/experimental/api/v1"
    # The environment points at the default's routes; a named account ignores them.
    assert account.iam_url() == f"{SERVER}/jupyter-qrt/iam"
    assert account.global_search_url(kernel_env()) == (
        f"{SERVER}/jupyter-qrt/runtime/other/globalsearch"
    )
    assert account.global_catalog_url(kernel_env()) == (
        f"{SERVER}/jupyter-qrt/runtime/other/globalcatalog"
    )


def test_the_servers_list_gives_a_named_account_its_instance(store: AccountStore) -> None:
    seen: list[str] = []
    account = resolve_account("other", store=store, env=kernel_env(), directory=directory(seen))
    assert seen == [SERVER]
    assert account.instance == CRN_OTHER
    assert account.token == KERNEL_TOKEN


def test_an_unknown_name_lists_the_servers_accounts(store: AccountStore) -> None:
    with pytest.raises(AccountNotFoundError, match=r"no account named 'nope'.*local, work, other"):
        resolve_account("nope", store=store, env=kernel_env(), directory=directory([]))


def test_the_default_is_the_account_the_kernel_environment_names(store: AccountStore) -> None:
    seen: list[str] = []
    env = kernel_env(IAM_URL="https://iam.example/elsewhere")
    account = resolve_account(store=store, env=env, directory=directory(seen))
    assert seen == []  # the environment says it all: no call to the server
    assert account.name == "work"
    assert account.instance == CRN_DEFAULT
    assert account.iam_url(env) == f"{SERVER}/jupyter-qrt/iam"


def test_without_the_official_variables_the_default_is_the_servers(store: AccountStore) -> None:
    env = {"QRT_SERVER_URL": SERVER, "QRT_KERNEL_TOKEN": KERNEL_TOKEN}
    account = resolve_account(store=store, env=env, directory=directory([]))
    assert (account.name, account.instance, account.token) == ("work", CRN_DEFAULT, KERNEL_TOKEN)


def test_a_key_the_user_set_or_passed_is_used_direct(store: AccountStore) -> None:
    from_env = resolve_account(store=store, env=kernel_env(QISKIT_IBM_TOKEN="user-key"))
    assert from_env.token == "user-key"
    assert from_env.jupyter_server is None
    inline = resolve_account(token="inline-key", store=store, env=kernel_env())
    assert inline.token == "inline-key"
    assert inline.jupyter_server is None


def test_outside_a_kernel_names_still_come_from_the_accounts_file(store: AccountStore) -> None:
    account = resolve_account("other", store=store, env={})
    assert account.token == SECRET
