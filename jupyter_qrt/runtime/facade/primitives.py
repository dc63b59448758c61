"""Sampler and Estimator with the V2 primitive semantics, run on a Qiskit Runtime service.

Circuits must be ISA circuits of the backend: they are checked before any request is sent, and
the error names the first offending instruction and how to transpile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from jupyter_qrt.runtime.errors import InvalidInputError, UsageLimitError
from jupyter_qrt.runtime.wire.options import (
    EstimatorOptions,
    Options,
    SamplerOptions,
    runtime_fields,
)

from .session import Session

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from jupyter_qrt.runtime.backends.backend import RuntimeBackend

    from .job import Job

__all__ = ["Estimator", "Sampler"]

logger = logging.getLogger(__name__)


class _Primitive:
    """What Sampler, Estimator and Executor share: where jobs go, options, and submission."""

    program_id: ClassVar[str]
    _options_class: ClassVar[type[Options]]

    def __init__(
        self,
        mode: RuntimeBackend | Session | None = None,
        *,
        options: Options | Mapping[str, Any] | None = None,
    ) -> None:
        from jupyter_qrt.runtime.backends.backend import RuntimeBackend

        if isinstance(mode, Session):
            self._session: Session | None = mode
            self._backend = mode.backend()
            service = mode.service
        elif isinstance(mode, RuntimeBackend):
            self._session = None
            self._backend = mode
            service = mode.service
        else:
            name = type(self).__name__
            raise InvalidInputError(
                f"{name} needs mode=: a backend (service.backend('name') or "
                f"service.least_busy()) or a Session/Batch, e.g. {name}(mode=backend)."
            )
        from .service import RuntimeService

        if not isinstance(service, RuntimeService):
            raise InvalidInputError(
                "This backend does not belong to a RuntimeService; get it with service.backend()."
            )
        self._service = service
        self._options = self._options_class()
        if options is not None:
            self._options.update(options)

    @property
    def options(self) -> Any:
        """The primitive's options; set them as attributes (``sampler.options.default_shots``)."""
        return self._options

    @property
    def mode(self) -> Session | None:
        """The session or batch jobs go into, if any."""
        return self._session

    def backend(self) -> RuntimeBackend:
        """The backend jobs run on."""
        return self._backend

    def _check_circuits(self, circuits: Iterable[Any]) -> None:
        from jupyter_qrt.runtime.backends.isa import check_isa

        target = self._backend.target
        for circuit in circuits:
            check_isa(circuit, target, backend_name=self._backend.name)

    def _check_usage(self) -> None:
        usage = self._service.usage()
        if usage.get("usage_limit_reached"):
            used = usage.get("usage_consumed_seconds")
            limit = usage.get("usage_limit_seconds", usage.get("usage_allocation_seconds"))
            raise UsageLimitError(
                f"Instance {self._service.instance} has used its allocation "
                f"({used} of {limit} seconds). Wait for the next usage period, ask the "
                "instance's administrator for more time, or pick another instance.",
                status_code=None,
            )

    def _submit(self, params: dict[str, Any]) -> Job[Any]:
        from jupyter_qrt.runtime.wire.encoding import dumps

        from .job import Job

        self._check_usage()
        fields = runtime_fields(self._options)
        # Key order as the official client writes it, so the request bodies are identical.
        body: dict[str, Any] = {"program_id": self.program_id, "params": params}
        if "runtime" in fields:
            body["runtime"] = fields["runtime"]
        body["log_level"] = fields["log_level"]
        body["backend"] = self._backend.name
        if self._session is not None:
            body["session_id"] = self._session.session_id
        for key in ("tags", "cost", "private"):
            if key in fields:
                body[key] = fields[key]
        response = self._service.api.create_job(dumps(body))
        job: Job[Any] = Job(
            str(response["id"]),
            self._service.api,
            backend_name=response.get("backend", self._backend.name),
            program_id=self.program_id,
            session_id=response.get("session_id", body.get("session_id")),
            poll_interval=0.1 if self._session is not None else 0.5,
        )
        logger.info("Submitted %s job %s to %s", self.program_id, job.job_id(), job.backend_name)
        return job


class Sampler(_Primitive):
    """Sample bitstrings from ISA circuits (V2 semantics).

    Examples
    --------
    >>> sampler = Sampler(mode=backend)                        # doctest: +SKIP
    >>> job = sampler.run([isa_circuit], shots=1000)          # doctest: +SKIP
    >>> job.result()[0].data.meas.get_counts()                # doctest: +SKIP
    """

    program_id = "sampler"
    _options_class = SamplerOptions

    def run(self, pubs: Any, *, shots: int | None = None) -> Job[PrimitiveResult[Any]]:
        """Submit the pubs and return the job at once.

        Parameters
        ----------
        pubs
            Circuits, or tuples ``(circuit, parameter_values[, shots])``.
        shots
            Shots for every pub that does not give its own.
        """
        from jupyter_qrt.runtime.wire.encoding import sampler_params

        params = sampler_params(pubs, shots=shots, options=self._options.to_dict())
        self._check_circuits(pub.circuit for pub in params["pubs"])
        return self._submit(params)


class Estimator(_Primitive):
    """Estimate expectation values of observables on ISA circuits (V2 semantics).

    Observables must be laid out on the backend's qubits, e.g.
    ``SparsePauliOp("ZZ").apply_layout(isa_circuit.layout)``.
    """

    program_id = "estimator"
    _options_class = EstimatorOptions

    def run(self, pubs: Any, *, precision: float | None = None) -> Job[PrimitiveResult[Any]]:
        """Submit the pubs and return the job at once.

        Parameters
        ----------
        pubs
            Tuples ``(circuit, observables[, parameter_values[, precision]])``.
        precision
            Target precision for every pub that does not give its own.
        """
        from jupyter_qrt.runtime.wire.encoding import estimator_params

        params = estimator_params(pubs, precision=precision, options=self._options.to_dict())
        self._check_circuits(pub.circuit for pub in params["pubs"])
        return self._submit(params)
