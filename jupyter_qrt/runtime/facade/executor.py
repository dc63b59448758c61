"""Executor: run a samplomatic ``QuantumProgram`` on the ``executor`` program of the service.

IBM's directed execution model: a program is a list of items, each a circuit with its sweep of
parameter values (``CircuitItem``) or a circuit template with a samplex that draws its
parameters, e.g. for twirling (``SamplexItem``); the result is the raw arrays of each item. Jobs
are posted as qiskit-ibm-runtime's ``Executor`` posts them, byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from jupyter_qrt.runtime.wire.options import ExecutorOptions

from .job import EXECUTOR_PROGRAM_ID
from .primitives import _Primitive

if TYPE_CHECKING:
    from jupyter_qrt.runtime.wire.program_result import QuantumProgramResult

    from .job import Job

__all__ = ["Executor"]


class Executor(_Primitive):
    """Run samplomatic quantum programs (the ``executor`` program of the service).

    Parameters
    ----------
    mode
        A backend (``service.backend('name')``) for job mode, or a :class:`Session` or
        :class:`Batch`.
    options
        :class:`ExecutorOptions` or a dict of them, e.g.
        ``{"execution": {"init_qubits": False}, "environment": {"job_tags": ["run-1"]}}``.

    Examples
    --------
    >>> from samplomatic.quantum_program import QuantumProgram       # doctest: +SKIP
    >>> program = QuantumProgram(shots=1000)                          # doctest: +SKIP
    >>> program.append_circuit_item(isa_circuit, parameter_values)    # doctest: +SKIP
    >>> job = Executor(mode=backend).run(program)                     # doctest: +SKIP
    >>> job.result()[0]["meas"].shape    # (*sweep shape, shots, bits)  # doctest: +SKIP
    """

    program_id = EXECUTOR_PROGRAM_ID
    _options_class = ExecutorOptions

    @property
    def options(self) -> ExecutorOptions:
        """The executor's options; set them as attributes
        (``executor.options.execution.init_qubits = False``)."""
        return cast("ExecutorOptions", self._options)

    def run(self, program: Any) -> Job[QuantumProgramResult]:
        """Submit the program and return its job at once.

        Every circuit (a samplex item's template too) must be an ISA circuit of the backend; this
        is checked before anything is sent.

        Parameters
        ----------
        program
            A samplomatic ``QuantumProgram`` with at least one item (qiskit-ibm-runtime's
            ``QuantumProgram`` is one).

        Returns
        -------
        Job
            Its :meth:`~Job.result` is a :class:`QuantumProgramResult`: per item, its arrays by
            name (classical registers as bool arrays of shape ``(*item shape, shots, bits)``,
            a samplex's outputs such as ``measurement_flips.<register>``).

        Raises
        ------
        InvalidInputError
            Not a ``QuantumProgram``, an empty one, or a value that does not fit the executor's
            schema (named).
        NotISAError
            A circuit the backend cannot run as it is.
        """
        from jupyter_qrt.runtime.wire.program import check_program, executor_params

        checked = check_program(program)
        self._check_circuits(item.circuit for item in checked.items)
        return self._submit(executor_params(checked, self._options.to_dict()))
