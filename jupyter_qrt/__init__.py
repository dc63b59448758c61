"""jupyter-qrt: Qiskit Runtime inside Jupyter.

Importing this package is cheap on purpose: the Jupyter hooks import their layer inside the
function, so ``import jupyter_qrt`` never pulls in qiskit, jupyter_server or IPython.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    """The server extension (imported only when Jupyter loads it)."""
    from .server.app import QRTExtension

    return [{"module": "jupyter_qrt", "app": QRTExtension}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension: ``labextension/`` built into ``jupyter_qrt/labextension``.

    ``jupyter labextension develop`` links ``dest`` to ``src`` for an editable install; a wheel
    ships the same files as shared-data under ``share/jupyter/labextensions/jupyter-qrt``.
    """
    return [{"src": "labextension", "dest": "jupyter-qrt"}]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext jupyter_qrt``: register the magics (the kernel layer is imported here)."""
    from .kernel import load_ipython_extension as load

    load(ipython)
