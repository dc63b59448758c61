"""AccountStore: the accounts file on disk (real files in temporary directories)."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

import pytest

from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.runtime.errors import (
    AccountError,
    AccountExistsError,
    AccountNotFoundError,
    AccountsFileError,
)

TOKEN = "fake-api-key-for-tests-only-9Qa2"
CRN_US = "crn:v1:bluemix:public:quantum-computing:us-east:a/acc123:inst-1::"
CRN_EU = "crn:v1:bluemix:public:quantum-computing:eu-de:a/acc123:inst-2::"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "dot-qiskit" / "qiskit-ibm.json"


@pytest.fixture
def store(path: Path) -> AccountStore:
    return AccountStore(path)


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_every_field_round_trips(store: AccountStore) -> None:
    full = Account(
        channel="ibm_cloud",
        token=TOKEN,
        instance=CRN_EU,
        url="https://test.cloud.ibm.com",
        region="eu-de",
        plans_preference=["open", "premium"],
        tags=["class-a"],
        verify=False,
        private_endpoint=True,
        proxies={
            "urls": {"https": "http://proxy:3128"},
            "username_ntlm": "u",
            "password_ntlm": "p",
        },
    )
    local = Account(channel="local", url="http://127.0.0.1:8765", token="local-key-123456")
    assert store.save(full, name="full") == "full"
    assert store.save(local) == "default-local"
    assert store.save(Account(token=TOKEN)) == "default-ibm-quantum-platform"
    loaded = AccountStore(store.path).accounts()
    assert loaded["full"] == dataclasses.replace(full, name="full")
    assert loaded["default-local"] == dataclasses.replace(local, name="default-local")
    assert loaded["default-ibm-quantum-platform"].token == TOKEN
    assert list(loaded) == ["default-ibm-quantum-platform", "default-local", "full"]


def test_reading_a_missing_file_changes_nothing(store: AccountStore) -> None:
    assert store.accounts() == {}
    assert not store.path.parent.exists()
    assert store.delete("nobody") is False
    assert not store.path.parent.exists()


def test_file_is_0600_and_new_directory_0700(store: AccountStore) -> None:
    store.save(Account(token=TOKEN), name="a")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_a_world_readable_file_is_tightened_on_save(tmp_path: Path) -> None:
    path = tmp_path / "qiskit-ibm.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o644)
    AccountStore(path).save(Account(token=TOKEN), name="a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_saving_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "qiskit-ibm.json"
    real.parent.mkdir()
    real.write_text("{}", encoding="utf-8")
    link = tmp_path / "qiskit-ibm.json"
    link.symlink_to(real)
    AccountStore(link).save(Account(token=TOKEN), name="a")
    assert link.is_symlink()
    assert "a" in json.loads(real.read_text(encoding="utf-8"))


def test_no_temporary_files_are_left_behind(store: AccountStore) -> None:
    for n in range(3):
        store.save(Account(token=TOKEN), name=f"a{n}")
    store.delete("a1")
    names = sorted(p.name for p in store.path.parent.iterdir())
    assert names == ["qiskit-ibm.json", "qiskit-ibm.json.lock"]


def test_overwrite_is_refused_and_the_file_is_untouched(store: AccountStore) -> None:
    store.save(Account(token=TOKEN, instance=CRN_US), name="work")
    before = _snapshot(store.path)
    with pytest.raises(AccountExistsError, match="overwrite=True"):
        store.save(Account(token="ReplacementKey-123456", instance=CRN_EU), name="work")
    assert _snapshot(store.path) == before
    store.save(Account(token="ReplacementKey-123456", instance=CRN_EU), name="work", overwrite=True)
    assert store.get("work").instance == CRN_EU


def test_default_mark_rules(store: AccountStore) -> None:
    store.save(Account(token=TOKEN), name="a", set_as_default=True)
    before = _snapshot(store.path)
    with pytest.raises(AccountExistsError, match="'a' is already the default"):
        store.save(Account(token=TOKEN), name="b", set_as_default=True)
    assert _snapshot(store.path) == before
    store.save(Account(token=TOKEN), name="b", set_as_default=True, overwrite=True)
    assert store.default_name() == "b"
    raw = json.loads(store.path.read_text(encoding="utf-8"))
    assert "is_default_account" not in raw["a"]
    # Replacing the default account keeps its mark unless told otherwise.
    store.save(Account(token=TOKEN, instance=CRN_US), name="b", overwrite=True)
    assert store.default_name() == "b"
    store.save(Account(token=TOKEN), name="b", overwrite=True, set_as_default=False)
    assert store.default_name() is None


def test_delete(store: AccountStore) -> None:
    store.save(Account(token=TOKEN), name="a")
    store.save(Account(token=TOKEN), name="b")
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert list(store.accounts()) == ["b"]


def test_unknown_name_lists_the_saved_names(store: AccountStore) -> None:
    store.save(Account(token=TOKEN), name="work")
    store.save(
        Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-00000001"), name="lab"
    )
    with pytest.raises(AccountNotFoundError) as err:
        store.get("wrok")
    message = str(err.value)
    assert "'wrok'" in message
    assert "'work'" in message
    assert "'lab'" in message
    assert str(store.path) in message


def test_get_follows_the_official_default_rules(store: AccountStore) -> None:
    # No mark, no default name: the last account of the preferred channel.
    store.save(Account(token=TOKEN), name="alpha")
    store.save(Account(token=TOKEN), name="beta")
    store.save(Account(channel="ibm_cloud", token=TOKEN), name="cloud")
    assert store.get().name == "beta"
    assert store.get(channel="ibm_cloud").name == "cloud"
    # The channel's default name beats "the last one".
    store.save(Account(token=TOKEN), name="default-ibm-quantum-platform")
    assert store.get().name == "default-ibm-quantum-platform"
    # A mark beats everything, for any channel when none is asked for.
    store.save(Account(channel="ibm_cloud", token=TOKEN), name="marked", set_as_default=True)
    assert store.get().name == "marked"
    assert store.get(channel="ibm_quantum_platform").name == "default-ibm-quantum-platform"
    assert store.get(preferred_channel="ibm_cloud").name == "marked"


def test_get_by_channel_falls_back_to_the_other_ibm_default_name(store: AccountStore) -> None:
    # The official client does this: ibm_cloud and ibm_quantum_platform are one service.
    store.save(Account(token=TOKEN))
    assert store.get(channel="ibm_cloud").name == "default-ibm-quantum-platform"
    with pytest.raises(AccountNotFoundError, match="No local account"):
        store.get(channel="local")


def test_local_default(store: AccountStore) -> None:
    store.save(Account(token=TOKEN), name="work")
    store.save(
        Account(channel="local", url="http://127.0.0.1:8765", token="LocalKey-00000001"),
        set_as_default=True,
    )
    assert store.get().name == "default-local"
    assert store.get(channel="local").name == "default-local"
    assert store.get(channel="ibm_quantum_platform").name == "work"


def test_legacy_ibm_quantum_accounts_are_skipped(path: Path) -> None:
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "old": {
                    "channel": "ibm_quantum",
                    "token": "x",
                    "url": "https://auth.quantum.ibm.com",
                },
                "new": {"channel": "ibm_quantum_platform", "token": TOKEN},
            }
        ),
        encoding="utf-8",
    )
    store = AccountStore(path)
    assert list(store.accounts()) == ["new"]
    with pytest.raises(AccountNotFoundError, match="retired 'ibm_quantum'"):
        store.get("old")
    # Saving keeps the legacy entry as it was.
    store.save(Account(token=TOKEN), name="another")
    assert json.loads(path.read_text(encoding="utf-8"))["old"]["channel"] == "ibm_quantum"


def test_malformed_json_names_file_and_line_and_nothing_changes(path: Path) -> None:
    path.parent.mkdir()
    path.write_text(
        '{\n    "work": {\n        "channel": "ibm_quantum_platform"\n'
        '        "token": "abc"\n    }\n}',
        encoding="utf-8",
    )
    before = _snapshot(path)
    store = AccountStore(path)
    for attempt in (
        store.accounts,
        store.get,
        lambda: store.save(Account(token=TOKEN), name="x"),
        lambda: store.delete("work"),
    ):
        with pytest.raises(AccountsFileError) as err:
            attempt()
        message = str(err.value)
        assert str(path) in message
        assert "line 4, column 9" in message
        assert "not changed" in message
    assert _snapshot(path) == before


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ("[]", "JSON object mapping account names"),
        ('{"work": 3}', "account 'work' must be a JSON object"),
        ('{"work": {"token": "abc"}}', 'no "channel"'),
        ('{"work": {"channel": "ibm_quantum_platform", "token": "abc", "verify": "no"}}', "verify"),
        (
            '{"work": {"channel": "ibm_quantum_platform", "tags": "' + TOKEN + '", "token": "a"}}',
            "tags",
        ),
        ('{"work": {"channel": "ibm_quantum_platform"}}', "token is empty"),
        ('{"work": {"channel": "mars", "token": "abc"}}', "channel 'mars'"),
        (
            '{"work": {"channel": "ibm_cloud", "token": "abc", "url": "http://[::1"}}',
            "url 'http://[::1' is malformed (Invalid IPv6 URL)",
        ),
        ('{"work": {"channel": "ibm_quantum", "jupyter_qrt": 1, "token": "abc"}}', "jupyter_qrt"),
    ],
)
def test_wrong_shapes_name_the_account_and_nothing_changes(
    path: Path, content: str, names: str
) -> None:
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    before = _snapshot(path)
    store = AccountStore(path)
    with pytest.raises(AccountsFileError) as err:
        store.save(Account(token=TOKEN), name="x")
    message = str(err.value)
    assert names in message
    assert str(path) in message
    assert TOKEN not in message
    if "work" in content and content != "[]":
        assert "'work'" in message
    assert _snapshot(path) == before


def test_a_malformed_entry_can_be_deleted(path: Path) -> None:
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "bad": {"channel": "ibm_quantum_platform", "verify": "maybe", "token": "x"},
                "good": {"channel": "ibm_quantum_platform", "token": TOKEN},
            }
        ),
        encoding="utf-8",
    )
    store = AccountStore(path)
    with pytest.raises(AccountsFileError, match=r"\.delete\('bad'\)"):
        store.accounts()
    assert store.delete("bad") is True
    assert list(store.accounts()) == ["good"]


def test_an_empty_file_holds_no_accounts(path: Path) -> None:
    path.parent.mkdir()
    path.write_text("", encoding="utf-8")
    store = AccountStore(path)
    assert store.accounts() == {}
    store.save(Account(token=TOKEN), name="a")
    assert list(store.accounts()) == ["a"]


def test_unreadable_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(AccountsFileError, match="cannot be read"):
        AccountStore(tmp_path / "dir.json").accounts()


def test_unwritable_location_reports_and_changes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(AccountError, match="not changed"):
        AccountStore(blocker / "qiskit-ibm.json").save(Account(token=TOKEN), name="a")
    assert blocker.read_text(encoding="utf-8") == "x"


def test_a_file_system_without_locks_gives_one_clear_error(
    store: AccountStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from jupyter_qrt.runtime.accounts import file as account_file

    store.save(Account(token=TOKEN), name="kept")
    before = store.path.read_bytes()

    def no_locks(fd: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(account_file, "_lock", no_locks)
    with pytest.raises(AccountError, match="No locks available"):
        store.save(Account(token=TOKEN), name="other")
    assert store.path.read_bytes() == before
