"""Several processes saving to one accounts file at once: nothing lost, never half a file.

The workers run in spawned processes (a fresh interpreter each, importing only this module and
the account store), so they really are separate processes contending for the file.
"""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from jupyter_qrt.runtime.accounts import Account, AccountStore

WORKERS = 8
SAVES_EACH = 5
TIMEOUT_S = 60.0


def _save_many(path: str, worker: int, start: Barrier) -> None:
    store = AccountStore(path)
    start.wait(timeout=TIMEOUT_S)
    for n in range(SAVES_EACH):
        store.save(Account(token=f"WorkerKey-{worker:02d}-{n:02d}"), name=f"w{worker}-{n}")


def _save_one(path: str) -> None:
    AccountStore(path).save(Account(token="LateKey-0000000"), name="late")


def test_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "qiskit-ibm.json"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WORKERS)
    procs = [
        ctx.Process(target=_save_many, args=(str(path), worker, start)) for worker in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    reads = 0
    try:
        # Read while they write: every read must be a whole, valid file.
        deadline = time.monotonic() + TIMEOUT_S
        while any(proc.is_alive() for proc in procs) and time.monotonic() < deadline:
            if path.exists():
                json.loads(path.read_text(encoding="utf-8"))
                reads += 1
    finally:
        for proc in procs:
            proc.join(timeout=TIMEOUT_S)
            if proc.is_alive():
                proc.kill()
    assert [proc.exitcode for proc in procs] == [0] * WORKERS
    saved = AccountStore(path).accounts()
    expected = {f"w{w}-{n}" for w in range(WORKERS) for n in range(SAVES_EACH)}
    assert set(saved) == expected
    assert saved["w3-4"].token == "WorkerKey-03-04"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qiskit-ibm.json", "qiskit-ibm.json.lock"]


def test_a_save_waits_for_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "qiskit-ibm.json"
    AccountStore(path).save(Account(token="FirstKey-00000000"), name="first")
    before = path.read_bytes()
    ctx = multiprocessing.get_context("spawn")
    fd = os.open(tmp_path / "qiskit-ibm.json.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = ctx.Process(target=_save_one, args=(str(path),))
        proc.start()
        proc.join(timeout=1.0)
        # Held lock: the other process cannot have written anything.
        assert proc.is_alive()
        assert path.read_bytes() == before
    finally:
        os.close(fd)
    proc.join(timeout=TIMEOUT_S)
    if proc.is_alive():
        proc.kill()
        pytest.fail("the saving process did not finish after the lock was released")
    assert proc.exitcode == 0
    assert set(AccountStore(path).accounts()) == {"first", "late"}
