"""RuntimeService: one account and one instance of a Qiskit Runtime service.

The facade over accounts, IAM, the REST resources and backends. Creating it with an instance CRN
sends no request; the first call that needs the service exchanges the API key for a bearer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import requests

from jupyter_qrt.runtime.accounts import CRN, Account, AccountStore, resolve_account
from jupyter_qrt.runtime.accounts.crn import is_crn
from jupyter_qrt.runtime.errors import BackendNotFoundError, InvalidInputError, QRTError
from jupyter_qrt.runtime.http.auth import IAMAuth, RuntimeAuth
from jupyter_qrt.runtime.http.jupyter import server_directory
from jupyter_qrt.runtime.http.platform import Instance, list_instances, preferred_instances
from jupyter_qrt.runtime.http.rest import RuntimeAPI
from jupyter_qrt.runtime.http.transport import Transport

if TYPE_CHECKING:
    from jupyter_qrt.runtime.backends.backend import RuntimeBackend

    from .job import Job

__all__ = ["RuntimeService"]

logger = logging.getLogger(__name__)


class RuntimeService:
    """Qiskit Runtime for one account and one instance.

    Parameters
    ----------
    account
        An :class:`Account`, the name of a saved account, or ``None`` for the environment
        (``QISKIT_IBM_TOKEN`` ...) or else the default saved account.
    instance
        Instance CRN or name; overrides the account's. Without one, the first instance the key
        can use is picked (free plans first) and a warning says which.
    channel, token, url
        Give an account inline instead of a saved one.
    accounts_file
        Accounts file to read (default ``~/.qiskit/qiskit-ibm.json``).
    http
        A ``requests.Session`` to use (tests, proxies); one is made otherwise.
    env
        Environment to read instead of ``os.environ``.
    """

    def __init__(
        self,
        account: Account | str | None = None,
        *,
        instance: str | None = None,
        channel: str | None = None,
        token: str | None = None,
        url: str | None = None,
        accounts_file: str | None = None,
        http: requests.Session | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(account, Account):
            resolved = account
        else:
            store = AccountStore(accounts_file) if accounts_file else None
            resolved = resolve_account(
                account,
                channel=channel,
                token=token,
                url=url,
                store=store,
                env=env,
                directory=lambda server: server_directory(server, http),
            )
        if instance:
            resolved = replace(resolved, instance=instance)
        self._env = env
        self._account = resolved
        self._http = http or requests.Session()
        # Per-request settings win over the session's in requests, so every layer gets them.
        self._verify: bool = resolved.verify if resolved.verify is not None else True
        self._proxies: dict[str, str] = dict((resolved.proxies or {}).get("urls") or {})
        self._http.verify = self._verify
        self._http.proxies.update(self._proxies)
        self._iam = IAMAuth(
            resolved.token,
            resolved.iam_url(env),
            session=self._http,
            verify=self._verify,
            proxies=self._proxies or None,
        )
        self._instances: list[Instance] | None = None
        self._crn = self._resolve_instance(resolved.instance)
        # The runtime URL derives from the CRN (its region), not from an instance name.
        self._account = resolved = replace(resolved, instance=self._crn)
        self._transport = Transport(
            resolved.runtime_url(),
            auth=RuntimeAuth(self._iam, service_crn=self._crn),
            session=self._http,
            verify=self._verify,
            proxies=self._proxies or None,
        )
        self.api = RuntimeAPI(self._transport)
        self._configurations: dict[str, dict[str, Any]] = {}

    # -- account and instance -----------------------------------------------------------------

    @property
    def account(self) -> Account:
        """The account in use (its token is masked in every repr)."""
        return self._account

    @property
    def channel(self) -> str:
        """``ibm_quantum_platform``, ``ibm_cloud`` or ``local``."""
        return self._account.channel

    @property
    def instance(self) -> str:
        """CRN of the instance in use."""
        return self._crn

    def _resolve_instance(self, instance: str | None) -> str:
        if is_crn(instance):
            return str(CRN.parse(instance))
        found = self.instances()
        if not found:
            raise QRTError(
                "This API key can use no Qiskit Runtime instance. Create one on IBM Quantum "
                "Platform, or use the local runtime (channel='local')."
            )
        if instance:
            matches = [i for i in found if i.name == instance]
            if not matches:
                names = ", ".join(sorted(i.name for i in found))
                raise InvalidInputError(
                    f"No instance named {instance!r} for this API key. Known instances: {names}. "
                    "Pass the instance's name or CRN."
                )
            return matches[0].crn
        account = self._account
        candidates = preferred_instances(
            found,
            region=account.region,
            tags=account.tags,
            plans_preference=account.plans_preference,
        )
        chosen = candidates[0]
        logger.warning(
            "No instance given: using %r (%s plan, CRN %s). Pass instance=... or save it "
            "with the account to choose another.",
            chosen.name,
            chosen.plan,
            chosen.crn,
        )
        return chosen.crn

    def instances(self, *, refresh: bool = False) -> list[Instance]:
        """Instances the API key can use (IBM Cloud Global Search and Catalog)."""
        if self._instances is None or refresh:
            self._instances = list_instances(
                self._account.global_search_url(self._env),
                self._account.global_catalog_url(self._env),
                self._iam,
                session=self._http,
                verify=self._verify,
                proxies=self._proxies or None,
            )
        return list(self._instances)

    def usage(self) -> dict[str, Any]:
        """Usage of the instance: seconds consumed, limit, whether the limit is reached."""
        return self.api.usage()

    # -- backends -----------------------------------------------------------------------------

    def _configuration(self, name: str) -> dict[str, Any]:
        if name not in self._configurations:
            self._configurations[name] = self.api.backend_configuration(name)
        return self._configurations[name]

    def _make_backend(self, name: str) -> RuntimeBackend:
        from jupyter_qrt.runtime.backends.backend import RuntimeBackend

        api = self.api
        return RuntimeBackend(
            name,
            self._configuration(name),
            properties=lambda: api.backend_properties(name),
            status=lambda: api.backend_status(name),
            service=self,
        )

    def _matching(
        self,
        name: str | None,
        operational: bool | None,
        simulator: bool | None,
        min_num_qubits: int | None,
    ) -> list[tuple[dict[str, Any], RuntimeBackend]]:
        """Listed devices and their backends that pass the filters.

        The cheap fields of ``GET /backends`` filter first; the configuration decides what the
        listing does not say.
        """
        out = []
        for device in self.api.backends():
            if name is not None and device.get("name") != name:
                continue
            if operational is not None and _is_online(device) != operational:
                continue
            if not _may_match(device.get("is_simulator"), simulator):
                continue
            qubits = device.get("qubits")
            if min_num_qubits is not None and qubits is not None and qubits < min_num_qubits:
                continue
            backend = self._make_backend(str(device["name"]))
            if simulator is not None and backend.simulator != simulator:
                continue
            if min_num_qubits is not None and backend.num_qubits < min_num_qubits:
                continue
            out.append((device, backend))
        return out

    def backends(
        self,
        name: str | None = None,
        *,
        operational: bool | None = None,
        simulator: bool | None = None,
        min_num_qubits: int | None = None,
    ) -> list[RuntimeBackend]:
        """Backends of the instance, optionally filtered.

        Parameters
        ----------
        name
            Only the backend of this name.
        operational
            Only backends that are (or are not) online.
        simulator
            Only simulators (``True``) or only devices (``False``).
        min_num_qubits
            Only backends with at least this many qubits.
        """
        return [b for _, b in self._matching(name, operational, simulator, min_num_qubits)]

    def backend(self, name: str) -> RuntimeBackend:
        """The backend of this name.

        Raises
        ------
        BackendNotFoundError
            The instance has no such backend; the message lists the ones it has.
        """
        if not isinstance(name, str) or not name:
            raise InvalidInputError("backend() takes a backend name, e.g. service.backend('name').")
        names = [str(d.get("name")) for d in self.api.backends()]
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise BackendNotFoundError(
                f"No backend named {name!r} on this instance. Available: {known}. "
                "See service.backends()."
            )
        return self._make_backend(name)

    def least_busy(
        self,
        *,
        operational: bool = True,
        simulator: bool | None = False,
        min_num_qubits: int | None = None,
    ) -> RuntimeBackend:
        """The backend with the shortest queue among those that pass the filters."""
        candidates = []
        for device, backend in self._matching(
            None, True if operational else None, simulator, min_num_qubits
        ):
            queue = device.get("queue_length")
            if queue is None:
                queue = backend.status().pending_jobs
            candidates.append((int(queue), backend.name, backend))
        if not candidates:
            raise BackendNotFoundError(
                "No backend matches the filters "
                f"(operational={operational}, simulator={simulator}, "
                f"min_num_qubits={min_num_qubits}); relax them or see service.backends()."
            )
        return min(candidates, key=lambda c: (c[0], c[1]))[2]

    # -- jobs ---------------------------------------------------------------------------------

    def job(self, job_id: str) -> Job[Any]:
        """The job of this id (raises :class:`JobNotFoundError` when the instance has none).

        Its :meth:`~Job.result` is what its program returns: a ``PrimitiveResult`` for a
        sampler or estimator job, a ``QuantumProgramResult`` for an executor job.
        """
        from .job import Job

        if not isinstance(job_id, str) or not job_id:
            raise InvalidInputError("job() takes a job id string, e.g. service.job('d0fd6...').")
        details = self.api.job(job_id, exclude_params=True)
        return Job(job_id, self.api, details=details)

    def jobs(
        self,
        limit: int | None = 10,
        skip: int = 0,
        *,
        backend: str | None = None,
        pending: bool | None = None,
        program: str | None = None,
        tags: Iterable[str] | None = None,
        session_id: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        descending: bool = True,
    ) -> list[Job[Any]]:
        """Jobs of the instance, newest first, filtered and paged on the service."""
        from .job import Job

        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise InvalidInputError("limit must be a number >= 0, or None for all jobs.")
        found = self.api.jobs(
            limit,
            skip,
            backend=backend,
            pending=pending,
            program=program,
            tags=tags,  # a str is one tag
            session_id=session_id,
            created_after=created_after,
            created_before=created_before,
            descending=descending,
        )
        return [Job(str(d["id"]), self.api, details=d) for d in found]

    def delete_job(self, job_id: str) -> None:
        """Delete a job and its results from the service."""
        self.api.delete_job(job_id)

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> RuntimeService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<RuntimeService(channel='{self.channel}', instance='{self._crn}', "
            f"url='{self._account.runtime_url()}')>"
        )


def _may_match(listed: Any, wanted: bool | None) -> bool:
    """False only when the listing says for sure that the flag differs."""
    return wanted is None or listed is None or bool(listed) == wanted


def _is_online(device: Mapping[str, Any]) -> bool:
    status = device.get("status")
    if isinstance(status, Mapping):
        return str(status.get("name", "")).lower() == "online"
    return str(status or "").lower() in ("online", "active")
