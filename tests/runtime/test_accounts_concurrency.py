"""Several processes saving to one accounts file at once: nothing lost, never half a file.

The workers run in spawned processes (a fresh interpreter each, importing only this module and
the account store), so they really are separate processes contending for the file.
"""

from __future__ import annotations

import errno
import fcntl
import json
import multiprocessing
import os
import subprocess
import sys
import time
import types
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

import pytest

from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.runtime.accounts import file as account_file

WORKERS = 8
SAVES_EACH = 5
TIMEOUT_S = 60.0


def _save_many(path: str, worker: int, start: Barrier) -> None:
    store = AccountStore(path)
    start.wait(timeout=TIMEOUT_S)
    for n in range(SAVES_EACH):
        store.save(Account(token=f"WorkerKey-{worker:02d}-{n:02d}"), name=f"w{worker}-{n}")


def _save_one(path: str, saving: Event) -> None:
    store = AccountStore(path)
    account = Account(token="LateKey-0000000")
    saving.set()  # from here on, only the lock can keep this process from writing
    store.save(account, name="late")


def _posix_msvcrt() -> types.ModuleType:
    """``msvcrt.locking`` as Windows defines it, on POSIX byte-range locks.

    Lets the Windows branch of the lock run here: locks are per process, on ``nbytes`` from the
    current position, and ``LK_NBLCK`` fails at once with ``EACCES`` when another process holds
    them. (msvcrt exists only on Windows; this is the operating system, not our code.)
    """
    module = types.ModuleType("msvcrt")
    unlock, nonblocking = 0, 2  # LK_UNLCK and LK_NBLCK, as in msvcrt

    def locking(fd: int, mode: int, nbytes: int) -> None:
        start = os.lseek(fd, 0, os.SEEK_CUR)
        if mode == unlock:
            fcntl.lockf(fd, fcntl.LOCK_UN, nbytes, start)
            return
        if mode != nonblocking:
            raise NotImplementedError(f"mode {mode}")
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, nbytes, start)
        except OSError:
            raise OSError(errno.EACCES, "Permission denied") from None

    module.LK_UNLCK, module.LK_NBLCK = unlock, nonblocking  # type: ignore[attr-defined]
    module.locking = locking  # type: ignore[attr-defined]
    return module


def _act_as_windows() -> None:
    """This process takes the Windows branch of the lock, and has no fcntl to fall back on."""
    sys.modules["msvcrt"] = _posix_msvcrt()
    sys.modules["fcntl"] = None  # type: ignore[assignment]  # any import of it now fails
    account_file.sys = types.SimpleNamespace(platform="win32")  # type: ignore[attr-defined,assignment]


def _save_one_as_on_windows(path: str, saving: Event) -> None:
    _act_as_windows()
    _save_one(path, saving)


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
    saving = ctx.Event()
    fd = os.open(tmp_path / "qiskit-ibm.json.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = ctx.Process(target=_save_one, args=(str(path), saving))
        proc.start()
        assert saving.wait(timeout=TIMEOUT_S), "the saving process never got to save()"
        # A grace period, not synchronisation: proving that nothing happens needs some time in
        # which it could have happened (the process signalled it is about to save).
        proc.join(timeout=1.0)
        # Held lock: the other process, saving by now, cannot have written anything.
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


def test_the_windows_lock_makes_a_save_wait_too(tmp_path: Path) -> None:
    path = tmp_path / "qiskit-ibm.json"
    AccountStore(path).save(Account(token="FirstKey-00000000"), name="first")
    before = path.read_bytes()
    ctx = multiprocessing.get_context("spawn")
    saving = ctx.Event()
    msvcrt = _posix_msvcrt()
    fd = os.open(tmp_path / "qiskit-ibm.json.lock", os.O_RDWR)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # what _lock takes on Windows: the first byte
        proc = ctx.Process(target=_save_one_as_on_windows, args=(str(path), saving))
        proc.start()
        assert saving.wait(timeout=TIMEOUT_S), "the saving process never got to save()"
        proc.join(timeout=1.0)  # a grace period, as above
        assert proc.is_alive()  # retrying, not failing, while the byte is locked
        assert path.read_bytes() == before
    finally:
        os.close(fd)
    proc.join(timeout=TIMEOUT_S)
    if proc.is_alive():
        proc.kill()
        pytest.fail("the saving process did not finish after the lock was released")
    assert proc.exitcode == 0
    assert set(AccountStore(path).accounts()) == {"first", "late"}


def test_the_client_imports_where_there_is_no_fcntl() -> None:
    script = (
        "import sys; sys.modules['fcntl'] = None\n"  # as on Windows: importing it fails
        "from jupyter_qrt.runtime import RuntimeService, AccountStore\n"
        "print(RuntimeService.__name__, AccountStore.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["RuntimeService", "AccountStore"]
