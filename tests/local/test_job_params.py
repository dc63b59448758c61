"""Job params (up to tens of MB each) stay out of the hot rows: status polls, job lists and the
scheduler's claims never read them; only an explicit ``exclude_params=false`` and the worker that
runs the job do. A data dir of schema version 1 (params in the jobs table) is migrated."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.local.core import LocalRuntime
from jupyter_qrt.local.store import database as store_module
from jupyter_qrt.local.store.database import Store

from .core_helpers import IDEAL, WAIT, bell, cheap_body, sampler_params


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    core = LocalRuntime(tmp_path, max_body_bytes=1_000_000)
    core.start(run_jobs=False)
    yield core
    core.stop()


class ReadLog:
    """The (table, column) pairs the statements of a connection read, from SQLite's authorizer.

    Setting an authorizer expires the connection's prepared statements, so cached statements are
    prepared (and authorized) again: every read is seen.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads: set[tuple[str, str]] = set()

    def _authorize(self, action: int, arg1: Any, arg2: Any, *_: Any) -> int:
        if action == sqlite3.SQLITE_READ:
            self.reads.add((str(arg1), str(arg2)))
        return sqlite3.SQLITE_OK

    def __enter__(self) -> ReadLog:
        with self.store.reading() as conn:
            conn.set_authorizer(self._authorize)
        return self

    def __exit__(self, *_: object) -> None:
        with self.store.reading() as conn:
            conn.set_authorizer(None)

    def tables(self) -> set[str]:
        return {table for table, _ in self.reads}

    def read_params(self) -> bool:
        return ("jobs", "params") in self.reads or "job_params" in self.tables()


def test_polls_lists_and_claims_never_read_the_params(runtime: LocalRuntime) -> None:
    crn = runtime.default_instance.crn
    body = cheap_body()
    body["params"]["padding"] = "x" * 500_000
    job_id = runtime.create_job(crn, "alice", body)["id"]
    store: Store = runtime._store
    with ReadLog(store) as poll:
        details = runtime.job(crn, job_id)  # exclude_params=true, as every status poll asks
    assert "params" not in details
    assert "jobs" in poll.tables()  # the log works
    assert not poll.read_params()
    with ReadLog(store) as listing:
        page = runtime.jobs(crn, limit=10)
    assert [job["id"] for job in page["jobs"]] == [job_id]
    assert not listing.read_params()
    with ReadLog(store) as claim:
        claimed = runtime._queue.claim_next("worker-0")
    assert claimed is not None
    assert claimed.job_id == job_id
    assert not claim.read_params()
    # Asked for explicitly, the params come whole.
    with ReadLog(store) as asked:
        full = runtime.job(crn, job_id, exclude_params=False)
    assert full["params"] == body["params"]
    assert asked.read_params()


def _v1_data_dir(
    data_dir: Path, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """A data dir as the version writing schema 1 left it: one Queued job, params in ``jobs``."""
    with monkeypatch.context() as patched:
        patched.setattr(store_module, "SCHEMA_VERSION", 1)
        core = LocalRuntime(data_dir)
        core.start(run_jobs=False)
        crn = core.default_instance.crn
        core.stop()
    conn = sqlite3.connect(data_dir / store_module.DB_FILENAME)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        # The INSERT of the schema-1 code, params in the jobs row.
        conn.execute(
            "INSERT INTO jobs(id, instance_crn, user_id, backend, program_id, status, priority, "
            "session_id, tags, cost, log_level, runtime, private, caller, params, "
            "estimated_seconds, created) "
            "VALUES ('oldjob', ?, 'alice', ?, 'sampler', 'Queued', 1, NULL, '[]', 600, NULL, '', "
            "0, NULL, ?, 1.0, 1800000000.0)",
            (crn, IDEAL, json.dumps(params, separators=(",", ":"))),
        )
        conn.commit()
    finally:
        conn.close()
    return crn, "oldjob"


def test_a_schema_1_data_dir_opens_and_its_jobs_keep_their_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sampler_params(bell(), shots=64)
    crn, job_id = _v1_data_dir(tmp_path, params, monkeypatch)
    core = LocalRuntime(tmp_path, workers=1)
    core.start()
    try:
        assert core.job(crn, job_id, exclude_params=False)["params"] == params
        # The worker finds the params where they are now, and runs the job.
        core.wait_for_job(crn, job_id, WAIT)
        final = core.job(crn, job_id)
        assert final["state"]["status"] == "Completed", final
        assert core.job_results(crn, job_id)
        with core._store.reading() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == store_module.SCHEMA_VERSION
            columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
        assert "params" not in columns  # out of the hot rows
    finally:
        core.stop()


def _params_rows(runtime: LocalRuntime, job_id: str) -> int:
    with runtime._store.reading() as conn:
        found = conn.execute("SELECT COUNT(*) FROM job_params WHERE job_id = ?", (job_id,))
        return int(found.fetchone()[0])


def test_a_private_jobs_params_go_when_it_ends_and_any_jobs_when_it_is_deleted(
    runtime: LocalRuntime,
) -> None:
    crn = runtime.default_instance.crn
    private = runtime.create_job(crn, "alice", cheap_body(private=True))["id"]
    public = runtime.create_job(crn, "alice", cheap_body())["id"]
    runtime.cancel_job(crn, private)
    runtime.cancel_job(crn, public)
    assert _params_rows(runtime, private) == 0  # never returned, no longer needed
    assert _params_rows(runtime, public) == 1  # returned when asked for
    runtime.delete_job(crn, public)
    assert _params_rows(runtime, public) == 0
