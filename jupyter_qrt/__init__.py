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
