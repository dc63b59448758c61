"""The IPython magics of jupyter-qrt: thin shells around the functions of this package.

Each magic parses its line with IPython's ``magic_arguments`` and calls the importable function
with the same behaviour (``%qrt_login`` -> :func:`jupyter_qrt.kernel.login`, ``%%sampler`` ->
:func:`jupyter_qrt.kernel.sampler`, ...). Every error a person can cause is shown as ONE line
(IPython's ``UsageError``: on stderr, no traceback) that says what to do, and nothing is
submitted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from jupyter_qrt.runtime.errors import QRTError

from . import connection, info, run
from .cells import cell_circuits
from .checks import check_identifier
from .errors import one_line

__all__ = ["QRTMagics"]

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(name: str) -> Callable[[F], F]:
    """Turn the errors a person can cause into one ``UsageError`` line."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: QRTMagics, line: str, cell: str | None = None) -> Any:
            try:
                args = parse_argstring(wrapper, line)
            except UsageError as exc:
                raise UsageError(
                    f"{name}: {one_line(str(exc))}. See {name}? for the options."
                ) from None
            try:
                return method(self, args, cell) if cell is not None else method(self, args)
            except QRTError as exc:
                raise UsageError(one_line(str(exc))) from None
            except KeyboardInterrupt:
                raise UsageError(
                    "Interrupted; a job already submitted goes on: see %qrt_jobs."
                ) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def _shell_value(shell: Any, name: str | None, option: str) -> Any:
    if name is None:
        return None
    if name not in shell.user_ns:
        raise UsageError(
            f"No variable named {name!r} for {option}: define it in an earlier cell, or fix "
            f"{option}."
        )
    return shell.user_ns[name]


def _primitive_arguments(func: Any) -> Any:
    for decorator in reversed(
        [
            argument("--backend", default=None, help="backend name, or least_busy (default)"),
            argument("-O", dest="optimization_level", type=int, default=2, help="0..3"),
            argument("--params", default=None, metavar="VAR", help="parameter values variable"),
            argument("--circuit", default=None, metavar="VAR", help="the circuit's variable"),
            argument("--out", default=None, metavar="VAR", help="store the result in VAR"),
            argument("--session", action="store_true", help="run in a session"),
            argument("--batch", action="store_true", help="run in a batch"),
            argument("--no-wait", action="store_true", help="return the job at once"),
            argument("--tags", nargs="+", default=None, help="job tags"),
        ]
    ):
        func = decorator(func)
    return func


@magics_class
class QRTMagics(Magics):
    """``%qrt_*`` line magics and the ``%%sampler``/``%%estimator`` cell magics."""

    @magic_arguments()
    @argument("account", nargs="?", default=None, help="account name (default: the default)")
    @argument("--instance", default=None, help="instance name or CRN")
    @line_magic
    @_one_line_errors("%qrt_login")
    def qrt_login(self, args: Any) -> None:
        """Connect to an account; say which account, channel, instance and plan are in use."""
        connection.login(args.account, args.instance)

    @magic_arguments()
    @line_magic
    @_one_line_errors("%qrt_logout")
    def qrt_logout(self, args: Any) -> None:
        """Forget the connection."""
        connection.logout()

    @magic_arguments()
    @line_magic
    @_one_line_errors("%qrt_accounts")
    def qrt_accounts(self, args: Any) -> None:
        """List the account names (the default marked with *)."""
        info.accounts()

    @magic_arguments()
    @line_magic
    @_one_line_errors("%qrt_instances")
    def qrt_instances(self, args: Any) -> None:
        """Show the instances the account can use."""
        info.instances()

    @magic_arguments()
    @argument("--min-qubits", type=int, default=None, help="at least this many qubits")
    @argument("--simulator", dest="simulator", action="store_true", default=None)
    @argument("--no-simulator", dest="simulator", action="store_false")
    @argument("--operational", action="store_true", help="only online backends")
    @line_magic
    @_one_line_errors("%qrt_backends")
    def qrt_backends(self, args: Any) -> None:
        """Show the backends, filtered."""
        info.backends(
            min_qubits=args.min_qubits, simulator=args.simulator, operational=args.operational
        )

    @magic_arguments()
    @line_magic
    @_one_line_errors("%qrt_usage")
    def qrt_usage(self, args: Any) -> None:
        """Say how much of the instance's usage is left."""
        info.usage()

    @magic_arguments()
    @line_magic
    @_one_line_errors("%qrt_version")
    def qrt_version(self, args: Any) -> None:
        """Show the versions of jupyter-qrt, qiskit, qiskit-aer and the server extension."""
        info.version()

    @magic_arguments()
    @argument("--limit", type=int, default=10, help="how many jobs (newest first)")
    @line_magic
    @_one_line_errors("%qrt_jobs")
    def qrt_jobs(self, args: Any) -> None:
        """Show the newest jobs."""
        info.jobs(args.limit)

    @magic_arguments()
    @argument("job_id", help="the job's id")
    @line_magic
    @_one_line_errors("%qrt_job")
    def qrt_job(self, args: Any) -> Any:
        """Reopen a job: its status, and its result when it is done."""
        return info.job(args.job_id)

    def _cell(self, args: Any, cell: str) -> tuple[list[Any], Any]:
        check_identifier(args.out, "--out")
        check_identifier(args.circuit, "--circuit")
        check_identifier(args.params, "--params")
        values = _shell_value(self.shell, args.params, "--params")
        connection.current()  # not logged in: say so before running the cell
        assert self.shell is not None
        return cell_circuits(cell, self.shell.user_ns, circuit_var=args.circuit), values

    def _store(self, args: Any, value: Any) -> Any:
        if args.out is not None and self.shell is not None:
            self.shell.user_ns[args.out] = value
        return value

    @magic_arguments()
    @argument("--shots", type=int, default=None, help="shots per circuit")
    @_primitive_arguments
    @cell_magic
    @_one_line_errors("%%sampler")
    def sampler(self, args: Any, cell: str) -> Any:
        """Run the cell's circuit(s) with the Sampler; show the status, then a histogram.

        The cell is Python whose last expression is a circuit (or a list of them), or OpenQASM
        2/3 text. The ``PrimitiveResult`` is the cell's value (the job with ``--no-wait``).
        """
        circuits, values = self._cell(args, cell)
        return self._store(
            args,
            run.sampler(
                circuits,
                backend=args.backend,
                shots=args.shots,
                optimization_level=args.optimization_level,
                params=values,
                session=args.session,
                batch=args.batch,
                tags=args.tags,
                wait=not args.no_wait,
            ),
        )

    @magic_arguments()
    @argument("--observables", required=True, help='"ZZ, 0.5*XX" or a variable name')
    @argument("--precision", type=float, default=None, help="target standard error")
    @_primitive_arguments
    @cell_magic
    @_one_line_errors("%%estimator")
    def estimator(self, args: Any, cell: str) -> Any:
        """Expectation values of the observables on the cell's circuit(s), with error bars."""
        spec: Any = args.observables.strip().strip("'\"")
        if spec.isidentifier() and self.shell is not None and spec in self.shell.user_ns:
            spec = self.shell.user_ns[spec]
        circuits, values = self._cell(args, cell)
        return self._store(
            args,
            run.estimator(
                circuits,
                spec,
                backend=args.backend,
                precision=args.precision,
                optimization_level=args.optimization_level,
                params=values,
                session=args.session,
                batch=args.batch,
                tags=args.tags,
                wait=not args.no_wait,
            ),
        )
