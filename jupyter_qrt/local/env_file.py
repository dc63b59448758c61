"""The ``--env-file`` of ``jupyter-qrt serve``: the client environment, in a file of its own.

::

    written = EnvFile.write(Path("qrt.env"), "export QISKIT_IBM_URL=...\\n")
    ...                                  # the service runs; a shell sources the file
    written.remove()                     # when the service stops

The file appears whole or not at all (written next to it, then renamed), so a shell waiting for
it (``until [ -s qrt.env ]``) never reads half of it; it is readable by its owner only, as it
holds an API key.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EnvFile"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnvFile:
    """An environment file this process wrote.

    Attributes
    ----------
    path
        Where it is.
    identity
        ``(st_dev, st_ino)`` of the file written: :meth:`remove` leaves a file that replaced it.
    """

    path: Path
    identity: tuple[int, int]

    @classmethod
    def write(cls, path: Path, text: str) -> EnvFile:
        """Write ``text`` to ``path`` atomically, mode ``0600``, replacing any file there.

        Raises
        ------
        OSError
            The file could not be written (nothing is left behind).
        """
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        # Created 0600 from the start: the key is never readable by others, not even briefly.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        status = path.stat()
        return cls(path, (status.st_dev, status.st_ino))

    def remove(self) -> None:
        """Remove the file, unless it is gone or another file has taken its place."""
        try:
            status = self.path.stat()
            if (status.st_dev, status.st_ino) == self.identity:
                self.path.unlink()
        except OSError as exc:  # the service stops anyway: say so, do not fail
            if not isinstance(exc, FileNotFoundError):
                logger.warning("Could not remove %s: %s", self.path, exc)
