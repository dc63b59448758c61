"""The accounts file on disk: read with located errors, locked, written atomically with mode 0600.

This module knows JSON and the filesystem, not accounts: :mod:`.account_store` maps the entries
to :class:`~jupyter_qrt.runtime.accounts.Account` objects.

Writes are atomic (a temporary file in the same directory, fsync, ``os.replace``) with mode
0600, and serialised between processes by a lock on ``<file>.lock`` (``flock`` on POSIX, a
locked byte with ``msvcrt.locking`` on Windows), so two processes saving at once lose nothing and
a reader never sees half a file. A malformed file is never modified: every error says where it is
and how to fix it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jupyter_qrt.runtime.errors import AccountError, AccountsFileError

__all__ = ["AccountsFile"]


class AccountsFile:
    """One accounts file: a JSON object mapping account names to entries.

    Parameters
    ----------
    path
        The file. A symlink is followed when writing: the file it points to is replaced.

    Notes
    -----
    Reading never creates or changes the file. :meth:`locked` creates its directory (mode 0700)
    and a ``<file>.lock`` next to it, which stays (removing it would race with other writers).
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def path(self) -> Path:
        """The file."""
        return self._path

    def __repr__(self) -> str:
        return f"AccountsFile({str(self._path)!r})"

    def read(self) -> dict[str, Any]:
        """The file as a dict; ``{}`` when it does not exist or is empty.

        Raises
        ------
        AccountsFileError
            The file cannot be read, is not UTF-8 JSON, or is not a JSON object; the message
            says where.
        """
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError as exc:
            raise self.malformed(f"it is not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise AccountsFileError(
                f"The accounts file {self._path} cannot be read: {exc.strerror}. Check that it "
                "is a file you may read, or point QRT_ACCOUNTS_FILE at another file."
            ) from None
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.malformed(
                f"it is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        if not isinstance(data, dict):
            raise self.malformed("it must be a JSON object mapping account names to accounts")
        return data

    def malformed(self, problem: str, *, name: str | None = None) -> AccountsFileError:
        """The error for a malformed file (or, with ``name``, a malformed entry of it).

        Parameters
        ----------
        problem
            What is wrong, as a clause (no final full stop).
        name
            The account whose entry is wrong; the remedy then says how to delete it.
        """
        remedy = (
            f"Fix that entry, or remove it with AccountStore({str(self._path)!r}).delete({name!r})"
            if name
            else "Fix the file, or move it away and save your accounts again"
        )
        return AccountsFileError(
            f"The accounts file {self._path} is malformed: {problem}. {remedy}. "
            "The file was not changed."
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the advisory lock of the file (serialises read-modify-write between processes).

        Raises
        ------
        AccountError
            The directory or the lock file could not be created.
        """
        target = self._target()
        try:
            target.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            fd = os.open(target.with_name(target.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _unwritable(target, exc) from None
        try:
            try:
                _lock(fd)  # e.g. ENOLCK on an NFS home without a lock daemon
            except OSError as exc:
                raise _unwritable(target, exc) from None
            try:
                yield
            finally:
                _unlock(fd)
        finally:
            os.close(fd)

    def write(self, raw: Mapping[str, Any]) -> None:
        """Replace the file with ``raw`` (sorted keys, indent 4, mode 0600), atomically.

        Call it inside :meth:`locked`, after reading, so no other writer's change is lost.

        Raises
        ------
        AccountError
            The file could not be written; it was not changed.
        """
        target = self._target()
        text = json.dumps(raw, sort_keys=True, indent=4)
        tmp_name: str | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
            )
            with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp made it 0600
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
            tmp_name = None
            _fsync_dir(target.parent)
        except OSError as exc:
            raise _unwritable(target, exc) from None
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def _target(self) -> Path:
        # Replace the file a symlink points to, not the symlink (dotfile managers link it).
        return Path(os.path.realpath(self._path))


def _unwritable(target: Path, exc: OSError) -> AccountError:
    return AccountError(
        f"Could not write the accounts file {target}: {exc.strerror or exc}. Check that its "
        "directory is writable and the disk is not full (the file was not changed)."
    )


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_WINDOWS_RETRY_S = 0.05  # between attempts to take a lock another process holds (Windows)


def _lock(fd: int) -> None:
    """Block until this process holds the lock of ``fd``, as ``flock(LOCK_EX)`` does."""
    # Imported here: fcntl exists on POSIX only, msvcrt on Windows only, and this module must
    # import on both.
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)  # the lock is on the first byte of the lock file
        while True:  # LK_NBLCK never waits, and LK_LOCK gives up after ten seconds
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EDEADLOCK):
                    raise
            time.sleep(_WINDOWS_RETRY_S)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)


def _unlock(fd: int) -> None:
    """Release the lock :func:`_lock` took (closing ``fd`` would too, but later on Windows)."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
