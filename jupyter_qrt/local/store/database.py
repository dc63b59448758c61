"""The SQLite database of the local runtime service.

One file, ``runtime.sqlite3`` in the data dir, in WAL mode so that readers (worker processes
fetching a job's params) never wait for the writer. Params live in their own table,
``job_params``, apart from the ``jobs`` rows that polls, lists and the scheduler read. It holds
job params and results and key hashes, so only its owner may read it: a new data dir is made
0700, and the database and its ``-wal``/``-shm`` files are 0600 (SQLite gives those two the
database file's mode; files of an older version are tightened when opened). The schema is
versioned with ``PRAGMA user_version``; a data dir written by a newer version is refused rather
than guessed at.

The core holds one connection guarded by a lock: every call is a few milliseconds of SQLite, so a
lock costs less than a connection per thread and keeps transactions simple. Writes go through
:meth:`Store.transaction` (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a job's result and its status
change land together or not at all. Whatever fails in a transaction, COMMIT included, is rolled
back, so the connection never stays inside a transaction; a database that is locked by another
program, full or failing is a :class:`StoreUnavailableError` (a 503 saying nothing was changed).

A write waits up to ``BUSY_TIMEOUT_MS`` for a lock another process holds. A thread that must not
wait that long (the scheduler's dispatcher) sets a shorter wait for itself with
:meth:`Store.limit_busy_wait`, and tries again later when a write fails.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .failures import StoreUnavailableError, raise_if_unavailable, roll_back

__all__ = [
    "DB_FILENAME",
    "LOCK_FILENAME",
    "SCHEMA_VERSION",
    "DataDirBusyError",
    "DataDirLock",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "open_readonly",
]

log = logging.getLogger(__name__)

DB_FILENAME = "runtime.sqlite3"
LOCK_FILENAME = "service.lock"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 10_000

_SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE instances (
    crn TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    plan TEXT NOT NULL,
    pricing_type TEXT NOT NULL,
    usage_limit_seconds REAL,
    usage_consumed_seconds REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    instance_crn TEXT NOT NULL REFERENCES instances(crn),
    user_id TEXT NOT NULL,
    salt BLOB NOT NULL,
    key_hash BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    instance_crn TEXT NOT NULL REFERENCES instances(crn),
    user_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    accepting_jobs INTEGER NOT NULL DEFAULT 1,
    max_ttl INTEGER NOT NULL,
    interactive_ttl INTEGER NOT NULL,
    created REAL NOT NULL,
    activated_at REAL,
    closed_at REAL,
    last_job_started REAL,
    last_job_completed REAL,
    timestamps TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    instance_crn TEXT NOT NULL REFERENCES instances(crn),
    user_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    program_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    reason_code INTEGER,
    priority INTEGER NOT NULL DEFAULT 1,
    session_id TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    cost INTEGER NOT NULL,
    log_level TEXT,
    runtime TEXT NOT NULL DEFAULT '',
    private INTEGER NOT NULL DEFAULT 0,
    caller TEXT,
    params TEXT NOT NULL,
    estimated_seconds REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    running REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    quantum_seconds REAL,
    usage_seconds REAL,
    qiskit_version TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',
    logs TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_queue ON jobs(status, priority, seq);
CREATE INDEX jobs_instance ON jobs(instance_crn, seq);
CREATE INDEX jobs_session ON jobs(session_id);
CREATE TABLE results (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    data BLOB NOT NULL
);
"""

# Version 2: params (up to tens of MB each) leave the jobs rows, which every status poll, list
# page and claim reads; only the worker running the job and an explicit request read them.
_PARAMS_OUT_OF_JOBS = """
CREATE TABLE job_params (
    job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    data TEXT NOT NULL
);
INSERT INTO job_params(job_id, data) SELECT id, params FROM jobs;
ALTER TABLE jobs DROP COLUMN params;
"""

# Migrations from version N to N+1, applied in order; version 0 is an empty file. Never change
# one that has shipped: data dirs written by it exist.
_MIGRATIONS: dict[int, str] = {0: _SCHEMA_V1, 1: _PARAMS_OUT_OF_JOBS}


class StoreError(RuntimeError):
    """The database cannot be opened or has an unknown schema."""


class Store:
    """The service's SQLite database: one connection, one lock, explicit transactions.

    Parameters
    ----------
    data_dir
        The directory holding the database (created if missing).
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / DB_FILENAME
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._thread_local = threading.local()

    def limit_busy_wait(self, milliseconds: int) -> None:
        """Make this thread's writes wait at most ``milliseconds`` for another process's lock.

        Past that, they raise ``sqlite3.OperationalError`` ("database is locked").
        """
        self._thread_local.busy_ms = int(milliseconds)

    def open(self) -> None:
        """Open (or create) the database and bring its schema up to date."""
        with self._lock:
            if self._conn is not None:
                return
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _make_private(self.path)
            conn = _connect(self.path)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                _migrate(conn, self.path)
            except BaseException:
                conn.close()
                raise
            self._conn = conn

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` succeeded and :meth:`close` has not been called since."""
        return self._conn is not None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction; roll it back if anything fails.

        Raises
        ------
        StoreUnavailableError
            The database is locked by another program, full, or cannot be written; nothing was
            changed and the next transaction starts afresh.
        """
        busy_ms: int | None = getattr(self._thread_local, "busy_ms", None)
        with self._lock:
            conn = self._require()
            if conn.in_transaction:  # never expected: a rollback that failed before
                log.warning("Rolling back a transaction left open on %s", self.path)
                roll_back(conn, self.path)
            if busy_ms is not None:
                conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
            try:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    raise_if_unavailable(exc, self.path)
                    raise
                try:
                    yield conn
                    # COMMIT inside the try: a COMMIT that fails (SQLITE_BUSY without WAL, FULL,
                    # IOERR) leaves the transaction open, and every later BEGIN would fail.
                    conn.execute("COMMIT")
                except BaseException as exc:
                    roll_back(conn, self.path)
                    if isinstance(exc, sqlite3.OperationalError) and not conn.in_transaction:
                        raise_if_unavailable(exc, self.path)
                    raise
            finally:
                if busy_ms is not None:  # the other threads wait as long as ever
                    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Hold the connection for reads (each statement sees a consistent snapshot).

        Raises
        ------
        StoreUnavailableError
            The database is locked by another program or cannot be read.
        """
        with self._lock:
            conn = self._require()
            try:
                yield conn
            except sqlite3.OperationalError as exc:
                if conn.in_transaction:  # a read transaction of the block (GET /jobs)
                    roll_back(conn, self.path)
                raise_if_unavailable(exc, self.path)
                raise

    def get_meta(self, key: str) -> str | None:
        """The value of ``key`` in the meta table, or None."""
        with self.reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set ``key`` in the meta table."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(
                "The local runtime store is not open: call LocalRuntime.start() first."
            )
        return self._conn


class DataDirBusyError(StoreError):
    """Another service already runs jobs from this data dir."""


class DataDirLock:
    """An exclusive lock on a data dir, held by the one service that runs its jobs.

    Two services running the jobs of one database would each take the other's running jobs
    for interrupted ones. The lock is an ``flock`` on ``service.lock``: the kernel drops it
    when the process dies, so a crash never leaves a stale lock behind.
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / LOCK_FILENAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`DataDirBusyError` naming the holder's pid."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirBusyError(
                f"Another jupyter-qrt service (pid {holder}) is running jobs from "
                f"{self.path.parent}. Stop it first, or give this one another --data-dir."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to an existing database (used by worker processes)."""
    # timeout= is SQLite's busy timeout.
    return sqlite3.connect(
        f"file:{Path(path).as_posix()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
    )


def _make_private(path: Path) -> None:
    """Create the database file 0600 if missing; take others' access to it and its companions.

    Not ``os.umask``: it is process-wide, and other threads (a Jupyter server's) create files too.
    """
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = file.stat().st_mode
            if mode & 0o077:
                file.chmod(mode & 0o700)
        except FileNotFoundError:
            continue
        except PermissionError:  # another user's file: SQLite decides whether it can be used
            log.warning("Cannot make %s private to its owner; others may be able to read it", file)


def _connect(path: Path) -> sqlite3.Connection:
    # timeout= is SQLite's busy timeout; isolation_level=None: we issue BEGIN/COMMIT ourselves;
    # check_same_thread=False: the lock in Store serialises every use of the connection.
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.row_factory = sqlite3.Row
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The database {path} has schema version {version}, newer than this jupyter-qrt "
            f"understands ({SCHEMA_VERSION}). Upgrade jupyter-qrt, or use another --data-dir."
        )
    while version < SCHEMA_VERSION:
        log.info("Upgrading %s from schema version %d to %d", path, version, version + 1)
        # One script, one transaction: the migration and its new version land together or not
        # at all (SQLite parses the statements, so a ';' inside a literal is no end).
        script = (
            f"BEGIN IMMEDIATE;\n{_MIGRATIONS[version]};\n"
            f"PRAGMA user_version={version + 1};\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version += 1
