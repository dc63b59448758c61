"""The guard: no known API key is ever written into a file saved through Jupyter.

:class:`KeyGuard` is registered as a pre-save hook of the contents manager. It looks for every
key the vault holds (and the classroom key taken from the environment) in the model being saved
(notebook sources, outputs, metadata; text files), replaces each with a marker that says why,
and logs which file was redacted (never the key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .vault import Vault

__all__ = ["KeyGuard"]


class KeyGuard:
    """The pre-save hook (see the module docstring)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def pre_save_hook(self, model: dict[str, Any], path: str, **kwargs: Any) -> None:
        """Redact every known key in ``model`` in place."""
