"""Running circuits from the notebook: ``sampler()`` and ``estimator()`` (the cell magics' work).

Both check every input first (:mod:`.checks`), transpile to the backend with
``generate_preset_pass_manager`` unless the circuits already are ISA circuits (the runtime's
ISA check), submit with the runtime's primitives, show the job's live status, and when the job
is done its result (histogram or expectation values). Nothing is submitted when a check fails.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from jupyter_qrt.runtime.errors import BackendNotFoundError, NotISAError

from . import display
from .cells import as_circuits
from .checks import (
    check_fits,
    check_measured,
    check_mode,
    check_optimization_level,
    check_precision,
    check_shots,
    parameter_values,
    parse_observables,
)
from .connection import Connection, current

__all__ = ["DEFAULT_OPTIMIZATION_LEVEL", "LEAST_BUSY", "estimator", "sampler"]

logger = logging.getLogger(__name__)

LEAST_BUSY = "least_busy"
DEFAULT_OPTIMIZATION_LEVEL = 2
_TAKING_JOBS = ("Pending", "In progress, accepting new jobs")


def _backend(connection: Connection, name: str | None, width: int) -> Any:
    service = connection.service
    if name in (None, "", LEAST_BUSY):
        return service.least_busy(min_num_qubits=width)
    names = sorted(str(d.get("name")) for d in service.api.backends())
    if name not in names:
        # The runtime's message points at service.backends(); in a notebook it is a magic.
        raise BackendNotFoundError(
            f"No backend named {name!r} on this instance. Available: {', '.join(names)}. Pick "
            "one with --backend NAME (see %qrt_backends)."
        )
    return service.backend(name)


def _to_isa(circuits: Sequence[Any], backend: Any, level: int) -> list[Any]:
    from jupyter_qrt.runtime.backends.isa import check_isa

    out, todo = [], []
    for circuit in circuits:
        try:
            check_isa(circuit, backend.target, backend_name=backend.name)
            out.append(circuit)
        except NotISAError:
            out.append(None)
            todo.append(circuit)
    if todo:
        from qiskit.transpiler import generate_preset_pass_manager

        manager = generate_preset_pass_manager(optimization_level=level, backend=backend)
        done = iter(manager.run(todo) if len(todo) > 1 else [manager.run(todo[0])])
        out = [c if c is not None else next(done) for c in out]
    return out


def _mode(connection: Connection, backend: Any, mode: str | None) -> Any:
    if mode is None:
        return backend
    from jupyter_qrt.runtime import Batch, Session

    key = (mode, backend.name)
    session = connection.sessions.get(key)
    # Reuse this kernel's session while it still takes jobs; it may have expired meanwhile.
    if session is None or session.status() not in _TAKING_JOBS:
        session = (Session if mode == "session" else Batch)(backend)
        connection.sessions[key] = session
    return session


def _prepare(
    circuits: Any,
    *,
    backend: str | None,
    optimization_level: int,
    params: Any,
    session: bool,
    batch: bool,
) -> tuple[Connection, Any, list[Any], Any, str | None]:
    check_optimization_level(optimization_level)
    mode = check_mode(session, batch)
    connection = current()
    found = as_circuits(circuits, what="circuits")
    values = parameter_values(found, params)
    target = _backend(connection, backend, max(c.num_qubits for c in found))
    check_fits(found, target)
    return connection, target, found, values, mode


def _finish(job: Any, connection: Connection, wait: bool) -> Any:
    monitor = display.job_monitor(job, service=connection.service, follow=not wait)
    if not wait:
        return job
    # The widget follows the job by itself; the text monitor is updated from here.
    update = getattr(monitor, "update", None)
    job.wait(callback=(lambda _job, status: update(status)) if callable(update) else None)
    # The job has ended: show it now, from this cell, rather than when the poller next looks
    # (its update could arrive after the cell, where a saved notebook would not keep it).
    monitor.refresh()
    return job.result()


def sampler(
    circuits: Any,
    *,
    backend: str | None = None,
    shots: int | None = None,
    optimization_level: int = DEFAULT_OPTIMIZATION_LEVEL,
    params: Any = None,
    session: bool = False,
    batch: bool = False,
    tags: Sequence[str] | None = None,
    wait: bool = True,
) -> Any:
    """Sample circuits on a backend; what ``%%sampler`` does.

    Parameters
    ----------
    circuits
        A ``QuantumCircuit``, OpenQASM 2/3 text, or a list of them; each must measure.
    backend
        A backend name, or ``"least_busy"``/``None`` for the least busy device wide enough.
    shots
        Shots per circuit (the service's default when ``None``); at most the backend's maximum.
    optimization_level
        Transpiler level 0..3 (skipped when the circuits already are ISA circuits).
    params
        Values of the circuits' parameters: an array of shape ``(..., num_parameters)``.
    session, batch
        Run inside a session (or a batch) of this kernel on that backend.
    tags
        Job tags.
    wait
        Wait for the result (shown as a histogram) and return it; ``False`` returns the job at
        once while its status keeps updating.

    Returns
    -------
    PrimitiveResult or Job
    """
    from jupyter_qrt.runtime import Sampler

    connection, target, found, values, mode = _prepare(
        circuits,
        backend=backend,
        optimization_level=optimization_level,
        params=params,
        session=session,
        batch=batch,
    )
    check_measured(found)
    check_shots(shots, target)
    isa = _to_isa(found, target, optimization_level)
    pubs = [(c, values) if c.num_parameters else c for c in isa]
    primitive = Sampler(mode=_mode(connection, target, mode))
    if tags:
        primitive.options.environment.job_tags = list(tags)
    job = primitive.run(pubs, shots=shots)
    result = _finish(job, connection, wait)
    if wait:
        display.histogram(result)
    return result


def estimator(
    circuits: Any,
    observables: Any,
    *,
    backend: str | None = None,
    precision: float | None = None,
    optimization_level: int = DEFAULT_OPTIMIZATION_LEVEL,
    params: Any = None,
    session: bool = False,
    batch: bool = False,
    tags: Sequence[str] | None = None,
    wait: bool = True,
) -> Any:
    """Expectation values of observables on circuits; what ``%%estimator`` does.

    Parameters
    ----------
    circuits
        A ``QuantumCircuit``, OpenQASM text, or a list of them (measurements are ignored).
    observables
        ``"ZZ, 0.5*XX"`` (comma-separated observables, ``+`` between the terms of one), a
        ``SparsePauliOp`` or a list of them; each as wide as the circuits.
    precision
        Target standard error of each value (the service's default when ``None``).
    params
        Parameter values, shape ``(..., num_parameters)``: a sweep is drawn as a line plot.

    The other parameters are those of :func:`sampler`.

    Returns
    -------
    PrimitiveResult or Job
    """
    import numpy as np

    from jupyter_qrt.runtime import Estimator
    from jupyter_qrt.runtime.errors import InvalidInputError

    connection, target, found, values, mode = _prepare(
        circuits,
        backend=backend,
        optimization_level=optimization_level,
        params=params,
        session=session,
        batch=batch,
    )
    check_precision(precision)
    ops = parse_observables(observables)
    for circuit in found:
        for op in ops:
            if op.num_qubits != circuit.num_qubits:
                raise InvalidInputError(
                    f"Observable {op.paulis[0].to_label()!r} acts on {op.num_qubits} qubits but "
                    f"circuit {circuit.name!r} has {circuit.num_qubits}: give one Pauli letter "
                    "per qubit of the circuit."
                )
    # Measurements do not belong in an estimator circuit; drop them rather than refuse.
    bare = [c.remove_final_measurements(inplace=False) for c in found]
    isa = _to_isa(bare, target, optimization_level)
    pubs: list[Any] = []
    for circuit in isa:
        laid_out = [op.apply_layout(circuit.layout) for op in ops]
        if circuit.num_parameters:
            # Observables along the first axis, parameter sets along the second: (k, n) values.
            grid = np.empty((len(laid_out), 1), dtype=object)
            for n, op in enumerate(laid_out):
                grid[n, 0] = op
            pubs.append((circuit, grid.tolist(), values))
        else:
            pubs.append((circuit, laid_out))
    primitive = Estimator(mode=_mode(connection, target, mode))
    if tags:
        primitive.options.environment.job_tags = list(tags)
    job = primitive.run(pubs, precision=precision)
    result = _finish(job, connection, wait)
    if wait:
        display.expectation_plot(result, parameter_values=_sweep_axis(values))
    return result


def _sweep_axis(values: Any) -> Any:
    """The x axis of a sweep: the swept values of a one-parameter sweep, else ``None``.

    ``values`` has shape ``(n, num_parameters)``; the plot takes one value per point, so a
    sweep of several parameters (or a grid) is shown point by point instead.
    """
    if values is None or values.ndim != 2 or values.shape[1] != 1:
        return None
    return values[:, 0]
