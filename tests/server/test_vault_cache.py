"""The vault reads the accounts file again only when it changed (every proxied call asks it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.server.embedded import EmbeddedLocal
from jupyter_qrt.server.vault import AccountUnknown, Vault

FAKE_KEY = "fake-api-key-for-tests-only-0001"
OTHER_FAKE_KEY = "fake-api-key-for-tests-only-0002"
CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:inst-1::"


def test_an_unchanged_file_is_read_once_and_a_change_is_seen_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "qiskit-ibm.json"
    AccountStore(str(path)).save(Account(name="ibm", token=FAKE_KEY, instance=CRN), name="ibm")
    vault = Vault(
        accounts_file=str(path),
        read_only=[],
        default=None,
        allow_user_accounts=True,
        embedded=EmbeddedLocal(tmp_path / "local", catalog="builtin", workers=1, enabled=False),
    )
    reads = 0
    read = vault.store.accounts

    def counted() -> dict[str, Account]:
        nonlocal reads
        reads += 1
        return read()

    monkeypatch.setattr(vault.store, "accounts", counted)
    for _ in range(5):
        assert vault.account("ibm").token == FAKE_KEY
    assert reads == 1
    with pytest.raises(AccountUnknown):
        vault.account("other")
    # Another program (e.g. the official client) saves an account: the next call sees it.
    AccountStore(str(path)).save(
        Account(name="other", token=OTHER_FAKE_KEY, instance=CRN), name="other"
    )
    assert vault.account("other").token == OTHER_FAKE_KEY
    assert reads == 2
