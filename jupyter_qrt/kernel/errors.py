"""Errors of the kernel layer: one line each, saying what to do.

The magics turn every :class:`~jupyter_qrt.runtime.errors.QRTError` into IPython's
``UsageError`` (one line on stderr, no traceback); the importable functions raise these.
"""

from __future__ import annotations

from jupyter_qrt.runtime.errors import InvalidInputError, QRTError

__all__ = ["CellError", "NotLoggedInError", "one_line"]


class NotLoggedInError(QRTError):
    """No connection yet: ``%qrt_login`` (or :func:`jupyter_qrt.kernel.login`) first."""


class CellError(InvalidInputError):
    """The cell of a ``%%sampler``/``%%estimator`` magic does not give what the magic needs."""


def one_line(message: str) -> str:
    """``message`` on one line: the magics print exactly one line per error."""
    return " ".join(str(message).split())
