"""The OpenAPI 3 description of the local runtime service, kept next to this module.

``openapi.json`` documents every path the service serves (a test checks it against the tornado
routes); :func:`load_openapi` reads it once per process, and :func:`openapi_text` gives the text
served at ``GET /openapi.json``.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["OPENAPI_FILE", "load_openapi", "openapi_text"]

OPENAPI_FILE = "openapi.json"
"""Name of the description's file inside this package."""


@lru_cache(maxsize=1)
def _read() -> dict[str, Any]:
    text = (
        resources.files("jupyter_qrt.local.http").joinpath(OPENAPI_FILE).read_text(encoding="utf-8")
    )
    document: dict[str, Any] = json.loads(text)
    return document


def load_openapi() -> dict[str, Any]:
    """The OpenAPI description as a dict (a fresh copy: callers may change it)."""
    return copy.deepcopy(_read())


@lru_cache(maxsize=1)
def openapi_text() -> str:
    """The OpenAPI description as the JSON text served (made once per process)."""
    return json.dumps(_read())
