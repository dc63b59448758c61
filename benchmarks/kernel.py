"""Kernel-layer benchmarks: ``python -m benchmarks kernel [--quick]``.

- (a) ``%load_ext jupyter_qrt`` in a fresh IPython process: the seconds the magic itself takes
  (timed inside the process, after IPython has started), median over fresh processes. Target:
  under 0.3 s (qiskit, plotly and ipywidgets must not load here).
- (b) a Bell circuit at 4096 shots on the local service (``jupyter-qrt serve``, a subprocess):
  ``%qrt_login`` + a ``%%sampler`` cell in an IPython shell, from cell start to counts ready
  (the histogram shown), against the equivalent qiskit-ibm-runtime code on the same service
  (``QiskitRuntimeService()``, transpile with ``generate_preset_pass_manager``, ``SamplerV2``,
  ``result()``, counts). The second row leaves out connecting on both sides (the ``%%sampler``
  cell alone; ``SamplerV2`` + transpile + result). The two sides run in turn, so machine load
  hits both alike. Target: ours <= 0.5 of theirs.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks._table import Row, print_table
from benchmarks.local import _environ, _interleaved_medians, _load, running_service

IDEAL = "qrt_ideal_simulator"
SHOTS = 4096

_LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", "jupyter_qrt")
elapsed = time.perf_counter() - start
import sys
heavy = [m for m in ("qiskit", "plotly", "ipywidgets") if m in sys.modules]
assert not heavy, heavy
print(elapsed)
"""

_BELL = """
from qiskit import QuantumCircuit
bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)
bell.measure_all()
bell
"""


def load_ext_rows(quick: bool) -> list[Row]:
    """``%load_ext jupyter_qrt`` timed inside fresh IPython processes."""
    times = []
    for _ in range(3 if quick else 7):
        with tempfile.TemporaryDirectory(prefix="qrt-bench-home-") as home:
            out = subprocess.run(
                [sys.executable, "-c", _LOAD_EXT],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "HOME": home, "IPYTHONDIR": home},
            ).stdout
        times.append(float(out.strip().splitlines()[-1]))
    return [
        Row("%load_ext jupyter_qrt (fresh process)", statistics.median(times), None, "s", "< 0.3")
    ]


class _Ours:
    """An IPython shell with the extension loaded, logged in through the service's env."""

    def __init__(self) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        InteractiveShell.clear_instance()
        self.shell = InteractiveShell.instance(config=config)
        self.shell.run_line_magic("load_ext", "jupyter_qrt")

    def _run(self, cell: str) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            result = self.shell.run_cell(cell)  # type: ignore[no-untyped-call]
        if not result.success:
            raise RuntimeError(
                f"the cell failed: {result.error_in_exec or result.error_before_exec}"
            )
        return result.result

    def login(self) -> None:
        self._run("%qrt_login")

    def sample(self) -> dict[str, int]:
        result = self._run(f"%%sampler --backend {IDEAL} --shots {SHOTS}\n{_BELL}")
        counts: dict[str, int] = result[0].data.meas.get_counts()
        assert sum(counts.values()) == SHOTS, counts
        return counts

    def login_and_sample(self) -> dict[str, int]:
        self.login()
        return self.sample()


class _Theirs:
    """The same work with qiskit-ibm-runtime, as its tutorials write it."""

    def __init__(self) -> None:
        self.service: Any = None

    def connect(self) -> None:
        from qiskit_ibm_runtime import QiskitRuntimeService

        self.service = QiskitRuntimeService()

    def sample(self) -> dict[str, int]:
        from qiskit import QuantumCircuit
        from qiskit.transpiler import generate_preset_pass_manager
        from qiskit_ibm_runtime import SamplerV2

        bell = QuantumCircuit(2)
        bell.h(0)
        bell.cx(0, 1)
        bell.measure_all()
        backend = self.service.backend(IDEAL)
        isa = generate_preset_pass_manager(optimization_level=2, backend=backend).run(bell)
        result = SamplerV2(mode=backend).run([isa], shots=SHOTS).result()
        counts: dict[str, int] = result[0].data.meas.get_counts()
        assert sum(counts.values()) == SHOTS, counts
        return counts

    def connect_and_sample(self) -> dict[str, int]:
        self.connect()
        return self.sample()


def sampler_rows(env: dict[str, str], quick: bool) -> list[Row]:
    """%%sampler Bell at 4096 shots vs qiskit-ibm-runtime, same service."""
    import warnings

    repeat = 3 if quick else 7
    with (
        tempfile.TemporaryDirectory(prefix="qrt-bench-home-") as home,
        _environ({**env, "HOME": home}),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        ours, theirs = _Ours(), _Theirs()
        (full_ours, _), (full_theirs, _) = _interleaved_medians(
            [ours.login_and_sample, theirs.connect_and_sample], repeat
        )
        ours.login()
        theirs.connect()
        (cell_ours, _), (cell_theirs, _) = _interleaved_medians(
            [ours.sample, theirs.sample], repeat
        )
        from jupyter_qrt.kernel import connection

        if connection._current is not None:
            connection._current.close()
            connection._current = None
    return [
        Row("login + %%sampler Bell 4096 shots to counts", full_ours, full_theirs, "s", "<= 0.5"),
        Row("  %%sampler cell alone (logged in)", cell_ours, cell_theirs, "s", "<= 0.5"),
    ]


def main(quick: bool = False) -> None:
    """Print the kernel benchmark tables."""
    print(f"\nkernel benchmarks; before: {_load()}")
    print_table("kernel: extension load (median, fresh processes)", load_ext_rows(quick))
    with running_service() as env:
        print_table(
            "kernel: %%sampler vs qiskit-ibm-runtime on the same service (median)",
            sampler_rows(env, quick),
        )
    print(f"after: {_load()}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
