"""Client benchmarks: ``python -m benchmarks client``.

- import time of our client vs qiskit-ibm-runtime, each in fresh interpreters;
- decoding a large Sampler result and encoding a 156-qubit ISA circuit (``client_wire``).
"""

from __future__ import annotations

from benchmarks._table import Row, fresh_process_seconds, print_table

IMPORTS = {
    "import package": ("import jupyter_qrt.runtime", "import qiskit_ibm_runtime"),
    "import service + sampler": (
        "from jupyter_qrt.runtime import RuntimeService, Sampler",
        "from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2",
    ),
    "import service + sampler + qiskit": (
        "import qiskit; from jupyter_qrt.runtime import RuntimeService, Sampler",
        "import qiskit; from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2",
    ),
}


def import_rows(quick: bool) -> list[Row]:
    """Fresh-process import times (interpreter start-up included on both sides).

    Our package imports qiskit only when a backend, pub or result needs it; the last row shows
    the cost once qiskit is loaded anyway (as it is in any notebook that builds a circuit).
    """
    repeat = 3 if quick else 7
    rows = []
    for label, (ours, theirs) in IMPORTS.items():
        rows.append(
            Row(
                label,
                fresh_process_seconds(ours, repeat=repeat),
                fresh_process_seconds(theirs, repeat=repeat),
                "s",
                "" if "qiskit" in label else "<= 0.333",
            )
        )
    return rows


def main(quick: bool = False) -> None:
    """Print the client benchmark tables."""
    from benchmarks.client_wire import decode_rows, encode_rows

    print_table("client: import (fresh process, median)", import_rows(quick))
    print_table("client: wire decoding", decode_rows(quick))
    print_table("client: wire encoding", encode_rows(quick))


if __name__ == "__main__":
    main()
