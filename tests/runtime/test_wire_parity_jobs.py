"""The job bodies our Sampler/Estimator send over HTTP are the ones the official client sends.

Both clients talk to the local runtime service over real HTTP (service start, backends, target,
usage). The one request intercepted is ``POST /jobs``: the ``responses`` library records the
body as it leaves ``requests`` and answers ``{"id", "backend"}``, so no job runs. Then the
official ``SamplerV2``/``EstimatorV2.run`` (qiskit-ibm-runtime 0.51) and our ``Sampler``/
``Estimator.run`` are given the same pubs and options, and the two recorded bodies must be equal:
first as documents (``params`` decoded by the official ``RuntimeDecoder``: circuits, arrays and
observables compared as objects, which gives a readable diff), then as text.

Normalisation, only where the clients legitimately differ: both write the same backend name and
add no version string or seed of their own, so a job body needs none. In a session only
``session_id`` differs (each client opens its own session): it is replaced by a placeholder. An
option explicitly set to ``None`` (the estimator's ``default_shots``) is sent as ``null`` by the
official client but unset by ours (our ``Options`` document "assigning None unsets"; the service
reads both as its default): such a ``null`` is dropped from the official ``params.options`` and
then only the decoded documents are compared, not the texts.

When the official client refuses an input (``ValueError``/``TypeError``), ours must refuse it
too, and neither may have sent a job.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.runtime import Estimator, RuntimeService, Sampler, Session
from jupyter_qrt.runtime.errors import InvalidInputError

from .wire_inputs import (
    IDEAL_SIMULATOR_GATES,
    estimator_options,
    estimator_pubs,
    sampler_options,
    sampler_pubs,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from qiskit_ibm_runtime import EstimatorV2, QiskitRuntimeService, RuntimeDecoder, SamplerV2
    from qiskit_ibm_runtime import Session as OfficialSession

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BACKEND = "qrt_ideal_simulator"  # a simulator: the official client skips ISA checks there
DEVICE = "qrt_robin"  # a simulated device (7 qubits, cx), for sessions
PARITY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SESSION_PLACEHOLDER = "<session of the client>"


class Clients:
    """The local service with both clients on it, and a recorder of ``POST /jobs`` bodies."""

    def __init__(self, local: LocalService, official: Any, ours: RuntimeService) -> None:
        self.local = local
        self.official = official
        self.ours = ours
        self.official_backend = official.backend(BACKEND)
        self.our_backend = ours.backend(BACKEND)

    def posted_jobs(self, submit: Callable[[], Any], bodies: list[str] | None = None) -> list[str]:
        """Call ``submit`` with ``POST /jobs`` intercepted; the bodies it posted, in order
        (appended to ``bodies`` as they come, so they are known even when ``submit`` raises)."""
        bodies = [] if bodies is None else bodies
        jobs_url = f"{self.local.api_url}/jobs"

        def record(request: Any) -> tuple[int, dict[str, str], str]:
            body = request.body
            bodies.append(body.decode() if isinstance(body, bytes) else str(body))
            reply = {"id": f"recorded-{len(bodies)}", "backend": BACKEND}
            return 200, {"Content-Type": "application/json"}, json.dumps(reply)

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            # everything but POST /jobs goes to the local service for real
            mock.add_passthru(re.compile(re.escape(self.local.url) + "/"))
            mock.add_callback("POST", jobs_url, callback=record)
            submit()
        return bodies


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    """The local service (no job ever reaches it) and both clients connected to it."""
    with LocalService(tmp_path_factory.mktemp("wire-service"), workers=1) as local:
        environment = local.env()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(tmp_path_factory.mktemp("official-home")))
            for name, value in environment.items():
                patch.setenv(name, value)
            official = QiskitRuntimeService()
        home = str(tmp_path_factory.mktemp("our-home"))
        with RuntimeService(env={**environment, "HOME": home}) as ours:
            yield Clients(local, official, ours)


def event(text: str) -> None:
    """Count ``text`` in hypothesis' statistics (a no-op in the example-based tests)."""
    if currently_in_test_context():
        hypothesis_event(text)


def _decoded(body: str, session_id: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body, cls=RuntimeDecoder)
    if session_id is not None:
        assert document.get("session_id") == session_id  # each client's own session
        document["session_id"] = SESSION_PLACEHOLDER
    return document


def _assert_same(ours: Any, theirs: Any, where: str = "body") -> None:
    """Deep equality of decoded bodies; arrays by dtype, shape and values."""
    assert type(ours) is type(theirs), f"{where}: {type(ours)} != {type(theirs)}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} items != {len(theirs)}"
        for index, (mine, their) in enumerate(zip(ours, theirs, strict=True)):
            _assert_same(mine, their, f"{where}[{index}]")
    elif isinstance(theirs, np.ndarray):
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), where
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def _without_null_options(document: dict[str, Any]) -> bool:
    """Drop options set to None from the official params (see the module docstring)."""
    options = document["params"]["options"]
    nulls = [name for name, value in options.items() if value is None]
    for name in nulls:
        del options[name]
    return bool(nulls)


def _assert_same_bodies(
    ours: str, theirs: str, sessions: tuple[str, str] | None = None, *, text: bool = True
) -> None:
    our_session, their_session = sessions or (None, None)
    their_document = _decoded(theirs, their_session)
    if _without_null_options(their_document):
        event("an option set to None: decoded documents compared")
        _assert_same(_decoded(ours, our_session), their_document)
        return
    _assert_same(_decoded(ours, our_session), their_document)
    if not text:
        return
    if sessions is None:
        assert ours == theirs
    else:
        assert ours.replace(our_session or "", "") == theirs.replace(their_session or "", "")


def _run_both(
    clients: Clients, kind: str, pubs: list[Any], options: dict[str, Any], **run: Any
) -> tuple[list[str], list[str] | None]:
    """Our posted bodies and the official ones (None when the official client refused)."""
    official_class = SamplerV2 if kind == "sampler" else EstimatorV2
    our_class = Sampler if kind == "sampler" else Estimator

    def official_run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            official_class(mode=clients.official_backend, options=options).run(pubs, **run)

    theirs: list[str] | None = []
    try:
        clients.posted_jobs(official_run, theirs)
    except (ValueError, TypeError):
        assert theirs == [], "the official client refused the input after posting a job"
        theirs = None

    def our_run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            our_class(mode=clients.our_backend, options=options).run(pubs, **run)

    if theirs is None:
        event("refused by both")
        posted: list[str] = []
        with pytest.raises(InvalidInputError):
            clients.posted_jobs(our_run, posted)
        return posted, None
    event("same body")
    return clients.posted_jobs(our_run), theirs


@PARITY
@given(
    pubs=st.lists(sampler_pubs(gates=IDEAL_SIMULATOR_GATES), min_size=1, max_size=3),
    shots=st.none() | st.integers(1, 5000),
    options=sampler_options(),
)
def test_sampler_posts_the_official_body(
    clients: Clients, pubs: list[Any], shots: int | None, options: dict[str, Any]
) -> None:
    """Generated sampler pubs (sweeps, per-pub shots) and options give the official body."""
    ours, theirs = _run_both(clients, "sampler", pubs, options, shots=shots)
    if theirs is None:
        assert ours == []
        return
    assert len(ours) == len(theirs) == 1
    _assert_same_bodies(ours[0], theirs[0])


@PARITY
@given(
    pubs=st.lists(estimator_pubs(gates=IDEAL_SIMULATOR_GATES), min_size=1, max_size=3),
    precision=st.none() | st.floats(0.001, 0.5),
    options=estimator_options(),
)
def test_estimator_posts_the_official_body(
    clients: Clients, pubs: list[Any], precision: float | None, options: dict[str, Any]
) -> None:
    """Generated estimator pubs (observable kinds, sweeps, per-pub precision) and options,
    resilience included, give the official body."""
    ours, theirs = _run_both(clients, "estimator", pubs, options, precision=precision)
    if theirs is None:  # e.g. observables and parameter values that do not broadcast
        assert ours == []
        return
    assert len(ours) == len(theirs) == 1
    _assert_same_bodies(ours[0], theirs[0])


def _sweep_circuit(measure: bool) -> QuantumCircuit:
    theta, phi = Parameter("θ"), Parameter("phi")
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.rz(theta, 1)
    circuit.cx(1, 2)
    circuit.p(2 * phi + 1, 2)
    if measure:
        circuit.measure_all()
    return circuit


def test_a_sampler_job_with_everything_set_posts_the_official_body(clients: Clients) -> None:
    """Sweeps of two shapes, per-pub shots, twirling, dynamical decoupling, execution,
    simulator and environment options: one body, identical on the wire."""
    circuit = _sweep_circuit(measure=True)
    sweep = np.linspace(0, np.pi, 12).reshape(2, 3, 2)
    pubs = [(circuit, sweep, 300), (circuit, {("θ", "phi"): sweep[0]}), (circuit, [[0.1, 0.2]])]
    options = {
        "default_shots": 2000,
        "twirling": {"enable_gates": True, "num_randomizations": 16, "strategy": "all"},
        "dynamical_decoupling": {"enable": True, "sequence_type": "XY4"},
        "execution": {"init_qubits": False, "rep_delay": 0.0002},
        "simulator": {"seed_simulator": 7},
        "environment": {"log_level": "INFO", "job_tags": ["wire", "parity"]},
        "max_execution_time": 300,
    }
    ours, theirs = _run_both(clients, "sampler", pubs, options, shots=100)
    assert theirs is not None
    assert len(ours) == len(theirs) == 1
    _assert_same_bodies(ours[0], theirs[0])
    params = json.loads(theirs[0], cls=RuntimeDecoder)["params"]
    assert [pub[2] for pub in params["pubs"]] == [300, 100, 100]
    assert params["pubs"][0][1].shape == (2, 3, 2)


def test_an_estimator_job_with_everything_set_posts_the_official_body(clients: Clients) -> None:
    """Observables as a string, a SparsePauliOp, a dict and an array; sweeps; per-pub
    precision; resilience with ZNE and measurement mitigation; twirling; DD."""
    circuit = _sweep_circuit(measure=False)
    values = np.linspace(0, 1, 6).reshape(3, 2)
    pubs = [
        (circuit, "ZZI", [0.1, 0.2]),
        (circuit, SparsePauliOp(["XXI", "IZZ"], [0.5, -1.0]), values[0]),
        (circuit, [{"ZIZ": 1.0}, "XXX", SparsePauliOp("YYI")], values, 0.05),
    ]
    options = {
        "default_precision": 0.02,
        "resilience_level": 2,
        "resilience": {
            "measure_mitigation": True,
            "zne_mitigation": True,
            "zne": {"noise_factors": [1, 3, 5], "extrapolator": "exponential"},
        },
        "twirling": {"enable_measure": True},
        "dynamical_decoupling": {"enable": True, "sequence_type": "XpXm"},
        "seed_estimator": 11,
    }
    ours, theirs = _run_both(clients, "estimator", pubs, options, precision=0.01)
    assert theirs is not None
    assert len(ours) == len(theirs) == 1
    _assert_same_bodies(ours[0], theirs[0])
    params = json.loads(theirs[0], cls=RuntimeDecoder)["params"]
    assert [pub[3] for pub in params["pubs"]] == [0.01, 0.01, 0.05]
    assert params["resilience_level"] == 2


def test_a_job_in_a_session_posts_the_official_body(clients: Clients) -> None:
    """In a session both bodies carry their own session's id and are otherwise the same.

    On a device: the official client opens no session on a simulator."""
    official_device = clients.official.backend(DEVICE)
    manager = generate_preset_pass_manager(
        backend=official_device, optimization_level=1, seed_transpiler=5
    )
    circuit = manager.run(_sweep_circuit(measure=True))
    pubs = [(circuit, [[0.3, 0.4]], 50)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with OfficialSession(backend=official_device) as official_session:
            theirs = clients.posted_jobs(
                lambda: SamplerV2(mode=official_session).run(pubs)  # type: ignore[no-untyped-call]
            )
            their_session = official_session.session_id
    with Session(clients.ours.backend(DEVICE)) as our_session:
        ours = clients.posted_jobs(lambda: Sampler(mode=our_session).run(pubs))
        our_session_id = our_session.session_id
    assert len(ours) == len(theirs) == 1
    assert our_session_id != their_session
    # Decoded documents only: qiskit's QPY writer orders a transpiled circuit's layout registers
    # by set iteration, so the same circuit's bytes can differ between two dumps in one process.
    _assert_same_bodies(ours[0], theirs[0], sessions=(our_session_id, their_session), text=False)
