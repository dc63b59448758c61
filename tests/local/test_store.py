"""The local service's SQLite store: schema versioning, WAL, atomic transactions, durability,
and files that only their owner can read."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_qrt.local.core import LocalRuntime
from jupyter_qrt.local.store import database as store_module
from jupyter_qrt.local.store.database import (
    DB_FILENAME,
    SCHEMA_VERSION,
    Store,
    StoreError,
    StoreUnavailableError,
    open_readonly,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path)
    opened.open()
    yield opened
    opened.close()


def test_a_new_store_has_the_current_schema_in_wal_mode(store: Store) -> None:
    with store.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"instances", "keys", "jobs", "results", "sessions", "meta"} <= tables


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    store.set_meta("answer", "42")

    def half_done() -> None:
        with store.transaction() as conn:
            conn.execute("UPDATE meta SET value = '0' WHERE key = 'answer'")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        half_done()
    assert store.get_meta("answer") == "42"


def test_data_survive_closing_and_opening_again(tmp_path: Path) -> None:
    first = Store(tmp_path)
    first.open()
    first.set_meta("k", "v")
    first.close()
    second = Store(tmp_path)
    second.open()
    assert second.get_meta("k") == "v"
    second.close()


def test_a_database_from_a_newer_version_is_refused_with_advice(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="newer than this jupyter-qrt"):
        store.open()
    assert not store.is_open


def _next_migration(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """Make ``script`` the migration from the current schema version to the next."""
    migrations = {**store_module._MIGRATIONS, SCHEMA_VERSION: script}
    monkeypatch.setattr(store_module, "_MIGRATIONS", migrations)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)


def test_a_migration_runs_as_sqlite_parses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = Store(tmp_path)
    current.open()
    current.close()
    _next_migration(
        monkeypatch,
        "CREATE TABLE notes (text TEXT NOT NULL);\n"
        "INSERT INTO notes(text) VALUES ('one; two');\n"
        "INSERT INTO meta(key, value) VALUES ('migrated', 'yes; really')",
    )
    store = Store(tmp_path)
    store.open()
    try:
        with store.reading() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
            assert conn.execute("SELECT text FROM notes").fetchone()[0] == "one; two"
        assert store.get_meta("migrated") == "yes; really"
    finally:
        store.close()


def test_a_failed_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Store(tmp_path)
    first.open()
    first.set_meta("k", "v")
    first.close()
    _next_migration(
        monkeypatch,
        "CREATE TABLE notes (text TEXT);\nUPDATE meta SET value = 'lost';\nNOT SQL AT ALL;",
    )
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path).open()
    monkeypatch.undo()
    again = Store(tmp_path)
    again.open()
    try:
        with again.reading() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "notes" not in tables
        assert again.get_meta("k") == "v"
    finally:
        again.close()


def test_using_a_closed_store_says_to_start_first(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"start\(\)"):
        Store(tmp_path).get_meta("x")


def test_a_read_only_connection_sees_committed_writes(store: Store) -> None:
    store.set_meta("k", "v1")
    reader = open_readonly(store.path)
    try:
        assert reader.execute("SELECT value FROM meta WHERE key='k'").fetchone()[0] == "v1"
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("UPDATE meta SET value = 'x'")
    finally:
        reader.close()


def _database_files(data_dir: Path) -> list[Path]:
    return [data_dir / (DB_FILENAME + suffix) for suffix in ("", "-wal", "-shm")]


def test_the_data_dir_and_database_are_private_to_their_owner(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    runtime = LocalRuntime(data_dir)
    runtime.start(run_jobs=False)
    try:
        runtime.create_instance("course")  # a write: the WAL holds it
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        for file in _database_files(data_dir):
            assert file.exists(), file
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        runtime.stop()


def test_a_database_others_could_read_is_made_private_when_opened(tmp_path: Path) -> None:
    first = Store(tmp_path)
    first.open()
    first.set_meta("k", "v")
    first.close()
    database = tmp_path / DB_FILENAME
    database.chmod(0o644)  # as an older version left it
    again = Store(tmp_path)
    again.open()
    try:
        assert again.get_meta("k") == "v"
        for file in _database_files(tmp_path):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        again.close()


# ------------------------------------------------------------------ failed writes
def test_a_commit_that_fails_is_rolled_back_and_the_next_write_succeeds(store: Store) -> None:
    # Without WAL (a file system without shared memory), COMMIT needs every reader gone: a
    # reader holding its snapshot makes it fail with SQLITE_BUSY, and SQLite keeps the
    # transaction open. The store must roll it back, or every later write fails.
    with store.reading() as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA busy_timeout=50")
    store.set_meta("answer", "42")
    reader = sqlite3.connect(store.path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM meta").fetchall()  # holds a shared lock
        with pytest.raises(StoreUnavailableError) as failed:
            store.set_meta("answer", "0")
        assert failed.value.status == 503
        assert "try again" in failed.value.message
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert store.get_meta("answer") == "42"  # the failed write changed nothing
    store.set_meta("answer", "43")
    assert store.get_meta("answer") == "43"


def test_a_full_database_says_so_and_the_next_write_succeeds(store: Store) -> None:
    store.set_meta("answer", "42")
    with store.reading() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")  # a disk with no room left
    with pytest.raises(StoreUnavailableError) as failed:
        store.set_meta("big", "x" * 100_000)
    assert failed.value.status == 503
    assert "full" in failed.value.message
    assert store.get_meta("big") is None
    with store.reading() as conn:
        conn.execute(f"PRAGMA max_page_count={2**30}")  # room again
    store.set_meta("big", "x" * 100_000)
    assert store.get_meta("big") == "x" * 100_000


def test_a_locked_database_gets_a_clear_busy_error_and_later_writes_succeed(
    store: Store,
) -> None:
    with store.reading() as conn:
        conn.execute("PRAGMA busy_timeout=50")
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        with pytest.raises(StoreUnavailableError) as failed:
            store.set_meta("answer", "0")
        assert failed.value.status == 503
        assert "busy" in failed.value.message
        other.execute("ROLLBACK")
    finally:
        other.close()
    store.set_meta("answer", "1")
    assert store.get_meta("answer") == "1"
