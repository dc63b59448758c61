"""The ES modules of this package's anywidgets, composed from their files.

An anywidget's module is one text: it cannot import a sibling file. Widgets that talk to the
Jupyter server from the page (the account form, the job monitor's cancel button) need the same
helpers (the server's base URL, the ``_xsrf`` cookie), kept once in ``page.js`` and put before
the widget's own module here.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["HERE", "compose"]

HERE = Path(__file__).resolve().parent


def compose(*names: str) -> str:
    """The text of the modules ``names`` (files of this package), in order, as one module."""
    return "\n".join((HERE / name).read_text(encoding="utf-8") for name in names)
