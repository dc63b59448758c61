"""The extension's own small settings file: the user's choice of default account.

Where the default account is stored depends on the account:

- an account of the accounts file: its ``is_default_account`` mark in that file (so the official
  client agrees), and this file remembers that the user chose "the file's default";
- ``local`` or a read-only (operator's) account, which the accounts file does not hold: this file
  only, ``{"default_account": "<name>"}``.

It also lists the saved ``local`` accounts that are keys of the embedded local service
(``"embedded_accounts"``): their URL follows the service, whose port changes at each start.

The file is ``<jupyter data dir>/jupyter-qrt/server-settings.json`` (per user, next to the
embedded service's data), written atomically with mode 0600. It holds no secret. A missing or
unreadable file means "no choice made" (a warning is logged for an unreadable one).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["SETTINGS_FILENAME", "ServerSettings"]

log = logging.getLogger(__name__)

SETTINGS_FILENAME = "server-settings.json"


class ServerSettings:
    """Reads and writes the settings file (see the module docstring).

    Parameters
    ----------
    path
        The file; ``None`` keeps the settings in memory only.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory: dict[str, Any] = {}

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return dict(self._memory)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("jupyter-qrt: ignoring the unreadable settings file %s: %s", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Any:
        """The value of ``key``, or None."""
        return self._read().get(key)

    def set(self, key: str, value: Any) -> None:
        """Set ``key`` (``None`` removes it) and write the file atomically (mode 0600)."""
        with self._lock:
            data = self._read()
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
            if self.path is None:
                self._memory = data
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, indent=2, sort_keys=True)
                os.chmod(temp, 0o600)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
