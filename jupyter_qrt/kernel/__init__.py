"""The kernel layer of jupyter-qrt: IPython magics, the functions behind them, and display.

``%load_ext jupyter_qrt`` registers :class:`~.magics.QRTMagics`. Every magic is a thin shell
around a function importable from here with the same behaviour::

    from jupyter_qrt.kernel import login, sampler
    login("local")
    result = sampler(bell, backend="qrt_ideal_simulator", shots=1000)

Parts: ``errors`` (one-line errors), ``server_link`` (the server extension's account list and
status, when the kernel runs under Jupyter), ``connection`` (login state, the in-process local
service of plain IPython), ``setup`` (the first account), ``cells`` (what a cell means),
``checks`` (inputs checked before anything is submitted), ``run`` (sampler, estimator),
``info`` (accounts, instances, backends, usage, versions, jobs), ``display`` (widgets, or plain
text without them), ``magics``. This layer may import ``jupyter_qrt.runtime`` and, lazily,
``jupyter_qrt.local``; never ``jupyter_qrt.server`` or jupyter_server. Importing it is cheap:
qiskit, ipywidgets and plotly load inside the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "accounts",
    "backends",
    "estimator",
    "instances",
    "job",
    "jobs",
    "load_ipython_extension",
    "login",
    "logout",
    "sampler",
    "usage",
    "version",
]

_LAZY = {
    "login": "connection",
    "logout": "connection",
    "accounts": "info",
    "backends": "info",
    "instances": "info",
    "job": "info",
    "jobs": "info",
    "usage": "info",
    "version": "info",
    "sampler": "run",
    "estimator": "run",
}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics with ``ipython`` (what ``%load_ext jupyter_qrt`` calls)."""
    from .magics import QRTMagics

    ipython.register_magics(QRTMagics)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
