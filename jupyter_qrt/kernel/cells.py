"""What the body of a ``%%sampler``/``%%estimator`` cell means.

The body is either OpenQASM text, recognised by its header (``OPENQASM 2.0;`` or
``OPENQASM 3``, after blank lines and ``//`` comments), or Python run in the notebook's
namespace whose last expression (or the variable named by ``--circuit``) is a
``QuantumCircuit`` or a list of them. Every problem is a :class:`~.errors.CellError` of one
line saying what to change.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .errors import CellError, one_line

__all__ = ["as_circuits", "cell_circuits", "is_qasm", "parse_qasm"]

_HEADER = re.compile(r"^\s*OPENQASM\s+([0-9]+)(\.[0-9]+)?\s*;?", re.IGNORECASE)


def _first_code_line(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("//"):
            return stripped
    return ""


def is_qasm(text: str) -> bool:
    """Whether ``text`` starts (after comments) with an OpenQASM header."""
    return bool(_HEADER.match(_first_code_line(text)))


def parse_qasm(text: str) -> Any:
    """The circuit of OpenQASM 2 or 3 text."""
    match = _HEADER.match(_first_code_line(text))
    version = match.group(1) if match else "?"
    try:
        if version == "2":
            from qiskit import qasm2

            return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        if version == "3":
            from qiskit import qasm3

            return qasm3.loads(text)
    except ImportError as exc:
        raise CellError(
            f"Reading OpenQASM 3 needs an extra package ({exc.name}): pip install "
            "qiskit-qasm3-import, or write the circuit in Python."
        ) from None
    except Exception as exc:  # the parsers raise their own error types
        raise CellError(
            f"The OpenQASM {version} text does not parse: {one_line(str(exc))} Fix the cell."
        ) from None
    raise CellError(f"OpenQASM {version} is not supported: write OpenQASM 2.0 or 3.")


def as_circuits(value: Any, *, what: str = "The cell's value") -> list[Any]:
    """``value`` as a list of circuits (a circuit, OpenQASM text, or a list/tuple of those)."""
    from qiskit import QuantumCircuit

    if isinstance(value, str):
        if not is_qasm(value):
            raise CellError(
                f"{what} is text without an OpenQASM header: start it with 'OPENQASM 2.0;' or "
                "'OPENQASM 3.0;', or build a QuantumCircuit."
            )
        return [parse_qasm(value)]
    if isinstance(value, QuantumCircuit):
        return [value]
    if isinstance(value, (list, tuple)) and value:
        out: list[Any] = []
        for item in value:
            out.extend(as_circuits(item, what=what))
        return out
    kind = "None" if value is None else type(value).__name__
    raise CellError(
        f"{what} is {kind}, not a QuantumCircuit: end the cell with the circuit (or a list of "
        "circuits), or name it with --circuit VAR."
    )


def _run_python(body: str, namespace: dict[str, Any]) -> Any:
    """Run ``body`` in ``namespace``; the value of its last line if it is an expression."""
    try:
        tree = ast.parse(body, filename="<cell>")
    except SyntaxError as exc:
        raise CellError(
            f"Syntax error on line {exc.lineno} of the cell: {exc.msg}. Fix the cell."
        ) from None
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body[-1].value)
        tree.body.pop()
    try:
        exec(compile(tree, "<cell>", "exec"), namespace)  # the user's own cell, as IPython would
        return eval(compile(last, "<cell>", "eval"), namespace) if last is not None else None
    except Exception as exc:
        line = _cell_line(exc)
        where = f" on line {line} of the cell" if line else ""
        raise CellError(
            f"The cell raised {type(exc).__name__}{where}: {one_line(str(exc))}. Fix the cell."
        ) from None


def _cell_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<cell>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def cell_circuits(
    body: str, namespace: dict[str, Any], *, circuit_var: str | None = None
) -> list[Any]:
    """The circuits a cell builds (see the module docstring)."""
    if not body.strip():
        raise CellError(
            "The cell is empty: write Python whose last line is a QuantumCircuit, or OpenQASM "
            "text starting with 'OPENQASM 2.0;' or 'OPENQASM 3.0;'."
        )
    if is_qasm(body):
        return [parse_qasm(body)]
    value = _run_python(body, namespace)
    if circuit_var is not None:
        if circuit_var not in namespace:
            raise CellError(
                f"The cell defines no variable {circuit_var!r}: assign the circuit to it, or "
                "fix --circuit."
            )
        value = namespace[circuit_var]
        return as_circuits(value, what=f"--circuit {circuit_var}")
    return as_circuits(value)
