"""A fake of the remote IBM cloud, on the ``responses`` library, for the runtime client's tests.

It answers, through callbacks that keep state (not canned strings), with the shapes recorded in
``shared/reference/runtime-rest-api.md``:

- IBM Cloud IAM ``POST https://iam.cloud.ibm.com/identity/token``: a table of API keys; JWT-shaped
  tokens with ``iat``/``exp`` (on :attr:`FakeIBMCloud.clock`); unknown keys get IAM's 400
  ``BXNIM0415E`` body.
- IBM Cloud Global Search (``POST .../v3/resources/search``, paged with ``search_cursor``) and
  Global Catalog (``GET .../api/v1/{plan id}``, 403 for archived plans).
- The runtime API at ``https://quantum.cloud.ibm.com/api/v1`` (us-east) and
  ``https://eu-de.quantum.cloud.ibm.com/api/v1``: backends from the qiskit-ibm-runtime
  fake_provider snapshots, usage, jobs (run for real on qiskit's statevector primitives), job
  listing, sessions, metrics, logs, tags. Every call must carry a valid ``Authorization: Bearer``
  and the ``Service-CRN`` of an instance of the token's account in the host's region.

Use it through the fixtures of ``tests/runtime/conftest.py``: ``fake_ibm`` (this fake, active for
the test), ``runtime_api`` (a ``RuntimeAPI`` on it, as the key's us-east instance) and
``no_sleep`` (the transport's sleep, recording waits)::

    def test_submit(fake_ibm, runtime_api):
        job = runtime_api.create_job(body)            # body: RuntimeEncoder JSON of a V2 job
        runtime_api.job(job["id"])                    # Running (one step per GET)
        runtime_api.job(job["id"])                    # Completed: the pubs ran for real
        result_text = runtime_api.job_results(job["id"])
        assert fake_ibm.count("POST", "/api/v1/jobs") == 1

Or by hand: ``with FakeIBMCloud(clock=...).active() as fake: ...``. The unmodified official
client works against it too (its default URLs are the fake's), see ``test_fake_ibm.py``.

Knobs (all plain attributes or methods):

- ``fake_ibm.api_key``, ``fake_ibm.crn`` / ``fake_ibm.eu_crn``: a key IAM accepts and its instances;
  ``add_key()``, ``add_instance()``, ``plans`` (catalog entries; ``None`` answers 403).
- ``fail(method, path, status=... | error=..., times=N, after_handling=False)``: the next N matching
  calls fail (5xx bursts, 429 with ``Retry-After``, connection errors, read timeouts). With
  ``after_handling=True`` the call takes effect first and only the answer is lost (a job is
  created, then 502 or a read timeout).
- ``plan_next_job(final="Failed", reason_code=1517)`` (or ``"Cancelled", reason_code=1305``),
  ``advance_on_get``, ``advance_job()``, ``add_job(crn=..., status=..., plan=JobPlan(...))``
  (stored jobs, e.g. for listing), ``jobs``/``sessions`` (the stored state), ``jobs_count_offset``
  (a lying ``count``),
  ``max_jobs_page``, ``logs_available``, ``set_backend()``, ``revoke_tokens()``,
  ``token_lifetime``, ``opaque_tokens``, ``iam_gate`` (a ``threading.Event``: IAM answers only
  once it is set; ``iam_arrivals`` counts the requests that reached IAM), ``require_crn``,
  ``search_page_size``.
- Records: ``calls`` (method, path, query, headers, body, status, timeout of every request),
  ``count(method, path_regex)``, ``calls_to(method, path_regex)``.

Where the reference is silent the fake chooses, and says so here: results of a job still queued
or running answer 404 (a failed or cancelled job's results are its error text, which the official
client reads); a CRN the token may not use, or one of another region, answers 403; a missing
``Service-CRN`` answers 400; a job in a closed session answers 400.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses
import urllib3.exceptions

from .fake_ibm_models import Call, Reply, error_reply, json_reply
from .fake_ibm_runtime import FakeRuntimeService

IAM_URL = "https://iam.cloud.ibm.com"
SEARCH_URL = "https://api.global-search-tagging.cloud.ibm.com"
CATALOG_URL = "https://globalcatalog.cloud.ibm.com/api/v1"
RUNTIME_URL = "https://quantum.cloud.ibm.com/api/v1"
EU_RUNTIME_URL = "https://eu-de.quantum.cloud.ibm.com/api/v1"
IAM_GATE_TIMEOUT_S = 30.0

_RUNTIME_HOST = re.compile(
    r"https://(?:(?P<region>[a-z0-9-]+)\.)?quantum\.cloud\.ibm\.com(?P<path>/.*)"
)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def crn_for(account: str, instance_id: str, region: str = "us-east") -> str:
    """The CRN of a Qiskit Runtime instance, in IBM's format."""
    return f"crn:v1:bluemix:public:quantum-computing:{region}:a/{account}:{instance_id}::"


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass
class Fault:
    """The next ``times`` calls matching ``method``/``path`` fail this way."""

    method: str
    path: re.Pattern[str]
    times: int
    status: int | None = None
    error: BaseException | str | None = None  # an exception, or a connection_error() kind
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    after_handling: bool = False


@dataclass
class Token:
    """A token IAM issued."""

    account: str
    issued_at: float
    expires_at: float
    revoked: bool = False


@dataclass
class FakeInstance:
    """A Qiskit Runtime instance as Global Search and the runtime API see it."""

    crn: str
    name: str
    account: str
    plan_id: str
    region: str = "us-east"
    tags: list[str] = field(default_factory=list)
    allocated: bool = True
    usage_consumed_seconds: float = 12.0
    usage_limit_seconds: float = 600.0
    usage_limit_reached: bool = False


def connection_error(kind: str, url: str = "https://fake") -> BaseException:
    """An exception as ``requests`` raises it for ``kind``.

    ``"refused"`` (never connected), ``"connect_timeout"``, ``"read_timeout"`` (sent, no answer)
    or ``"reset"`` (connection dropped after sending).
    """
    if kind == "refused":
        reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
        return requests.exceptions.ConnectionError(
            urllib3.exceptions.MaxRetryError(None, url, reason)
        )
    if kind == "connect_timeout":
        return requests.exceptions.ConnectTimeout(f"Connection to {url} timed out")
    if kind == "read_timeout":
        return requests.exceptions.ReadTimeout(f"Read timed out ({url})")
    if kind == "reset":
        return requests.exceptions.ConnectionError(
            urllib3.exceptions.ProtocolError(
                "Connection aborted.", ConnectionResetError(104, "reset")
            )
        )
    raise ValueError(f"unknown connection error kind {kind!r}")


class FakeIBMCloud(FakeRuntimeService):
    """IAM, Global Search, Global Catalog and the runtime API of IBM Cloud, in memory.

    Parameters
    ----------
    clock
        Time source for tokens and job timestamps (share it with ``IAMAuth(clock=...)``).
    """

    iam_url = IAM_URL
    search_url = SEARCH_URL
    catalog_url = CATALOG_URL
    runtime_url = RUNTIME_URL
    eu_runtime_url = EU_RUNTIME_URL

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.clock = clock
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.keys: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.token_lifetime = 3600.0
        self.opaque_tokens = False  # True: IAM issues non-JWT tokens (only expires_in says when)
        # IAM holds every request until this is set (to let concurrent callers pile up)
        self.iam_gate: threading.Event | None = None
        self.iam_arrivals = 0  # requests that reached IAM, counted before the gate
        self.require_crn = True
        self.instances: list[FakeInstance] = []
        self.plans: dict[str, dict[str, Any] | None] = {}
        self.search_page_size = 100
        self._mock: responses.RequestsMock | None = None

        self.api_key = "fake-key-" + "k" * 24 + "AB12"
        self.add_key(self.api_key, account="acct0")
        self.add_plan("plan-open", "Open", "free")
        self.add_plan("plan-paygo", "Pay-As-You-Go", "paygo")
        self.plans["plan-archived"] = None  # the catalog answers 403 for archived plans
        self.crn = self.add_instance("acct0", "open-instance", "plan-open", tags=["default"]).crn
        self.eu_crn = self.add_instance("acct0", "paygo-eu", "plan-paygo", region="eu-de").crn
        self.add_instance("acct0", "not-allocated", "plan-open", allocated=False)

    # -- set-up -------------------------------------------------------------------------------

    def add_key(self, api_key: str, account: str) -> str:
        """Make IAM accept ``api_key`` for ``account``."""
        self.keys[api_key] = account
        return api_key

    def add_plan(self, plan_id: str, display_name: str, pricing: str) -> None:
        """Add a Global Catalog plan entry."""
        self.plans[plan_id] = {
            "id": plan_id,
            "name": display_name.lower().replace(" ", "-"),
            "overview_ui": {"en": {"display_name": display_name}},
            "metadata": {"pricing": {"type": pricing}},
        }

    def add_instance(
        self,
        account: str,
        name: str,
        plan_id: str,
        *,
        region: str = "us-east",
        tags: list[str] | None = None,
        allocated: bool = True,
    ) -> FakeInstance:
        """Add an instance of ``account`` (``allocated=False``: Global Search has no extensions)."""
        instance = FakeInstance(
            crn=crn_for(account, f"{name}-id", region),
            name=name,
            account=account,
            plan_id=plan_id,
            region=region,
            tags=list(tags or []),
            allocated=allocated,
        )
        self.instances.append(instance)
        return instance

    def instance(self, crn: str) -> FakeInstance | None:
        """The instance of that CRN, if any."""
        return next((i for i in self.instances if i.crn == crn), None)

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid (as if IAM revoked them)."""
        with self.lock:
            for token in self.tokens.values():
                token.revoked = True

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        error: BaseException | str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        after_handling: bool = False,
    ) -> Fault:
        """Make the next ``times`` calls to ``method`` ``path`` (a regex on the path) fail.

        ``error`` is an exception to raise or a :func:`connection_error` kind.
        """
        if (status is None) == (error is None):
            raise ValueError("give exactly one of status= and error=")
        if isinstance(error, str):
            connection_error(error)  # an unknown kind fails here, not inside a request
        fault = Fault(
            method.upper(),
            re.compile(path),
            times,
            status,
            error,
            dict(headers or {}),
            body,
            after_handling,
        )
        with self.lock:
            self.faults.append(fault)
        return fault

    def rate_limit(
        self, method: str, path: str, *, times: int = 1, retry_after: str | None = "1"
    ) -> Fault:
        """Answer the next ``times`` matching calls with 429 (and ``Retry-After``)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return self.fail(method, path, status=429, times=times, headers=headers)

    # -- records ------------------------------------------------------------------------------

    def calls_to(self, method: str, path: str) -> list[Call]:
        """Calls whose method is ``method`` and whose path fully matches the regex ``path``."""
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method.upper() and pattern.fullmatch(c.path)]

    def count(self, method: str, path: str) -> int:
        """How many calls ``calls_to`` finds."""
        return len(self.calls_to(method, path))

    # -- lifecycle ----------------------------------------------------------------------------

    @contextmanager
    def active(self) -> Iterator[FakeIBMCloud]:
        """Intercept ``requests`` while inside the block."""
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for method in _METHODS:
            mock.add_callback(method, re.compile(re.escape(IAM_URL) + r"/.*"), self._dispatch)
            mock.add_callback(method, re.compile(re.escape(SEARCH_URL) + r"/.*"), self._dispatch)
            mock.add_callback(method, re.compile(re.escape(CATALOG_URL) + r"/.*"), self._dispatch)
            mock.add_callback(method, _RUNTIME_HOST, self._dispatch)
        self._mock = mock
        with mock:
            yield self
        self._mock = None

    # -- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, request: requests.PreparedRequest) -> Reply:
        url = str(request.url)
        parts = urlsplit(url)
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        call = Call(
            method=str(request.method),
            url=url,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(request.headers),
            body=body,
            timeout=getattr(request, "req_kwargs", {}).get("timeout"),
        )
        if url.startswith(IAM_URL):
            with self.lock:
                self.iam_arrivals += 1
            gate = self.iam_gate
            # outside the lock: only IAM waits; bounded, so a test that never opens it still ends
            if gate is not None and not gate.wait(timeout=IAM_GATE_TIMEOUT_S):
                raise requests.ConnectionError("the fake's IAM gate was never opened")
        with self.lock:
            self.calls.append(call)
            fault = self._take_fault(call)
            try:
                if fault is not None and not fault.after_handling:
                    reply = self._fault_reply(fault)
                else:
                    reply = self._route(call)
                    if fault is not None:
                        reply = self._fault_reply(fault)
            except BaseException as exc:
                call.error = type(exc).__name__
                raise
            call.status = reply[0]
            return reply

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == call.method and fault.path.fullmatch(call.path):
                fault.times -= 1
                return fault
        return None

    @staticmethod
    def _fault_reply(fault: Fault) -> Reply:
        if isinstance(fault.error, str):
            raise connection_error(fault.error)  # a fresh exception for every failure
        if fault.error is not None:
            raise fault.error
        assert fault.status is not None
        if fault.body is not None:
            text = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
            return fault.status, dict(fault.headers), text
        status, headers, text = error_reply(fault.status, f"Fake failure {fault.status}")
        return status, {**headers, **fault.headers}, text

    def _route(self, call: Call) -> Reply:
        if call.url.startswith(IAM_URL):
            if call.method == "POST" and call.path == "/identity/token":
                return self._iam_token(call)
            return error_reply(404, "Not found")
        if call.url.startswith(SEARCH_URL):
            if call.method == "POST" and call.path == "/v3/resources/search":
                return self._search(call)
            return error_reply(404, "Not found")
        if call.url.startswith(CATALOG_URL):
            return self._catalog(call)
        match = _RUNTIME_HOST.fullmatch(call.url.split("?")[0])
        if match is None or not call.path.startswith("/api/v1/"):
            return error_reply(404, "Not found")
        return self._runtime(call, match.group("region") or "us-east")

    # -- IAM ----------------------------------------------------------------------------------

    def _iam_token(self, call: Call) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(call.body or "").items()}
        if form.get("grant_type") != "urn:ibm:params:oauth:grant-type:apikey":
            return json_reply(
                400, {"errorCode": "BXNIM0111E", "errorMessage": "Grant type missing or wrong."}
            )
        api_key = form.get("apikey")
        if not api_key:
            return json_reply(
                400, {"errorCode": "BXNIM0109E", "errorMessage": "Property missing or empty."}
            )
        account = self.keys.get(api_key)
        if account is None:
            return json_reply(
                400,
                {
                    "context": {"requestId": uuid.uuid4().hex},
                    "errorCode": "BXNIM0415E",
                    "errorMessage": "Provided API key could not be found.",
                },
            )
        now = self.clock()
        iat = int(now)
        exp = iat + int(self.token_lifetime)
        claims = {
            "iam_id": f"IBMid-{account}",
            "account": {"bss": account},
            "iat": iat,
            "exp": exp,
            "iss": "https://iam.cloud.ibm.com/identity",
            "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
            "jti": uuid.uuid4().hex,
        }
        token = f"{_b64url({'alg': 'RS256', 'typ': 'JWT', 'kid': 'fake'})}.{_b64url(claims)}.ZmFrZQ"
        if self.opaque_tokens:
            token = "opaque-" + uuid.uuid4().hex
        self.tokens[token] = Token(account=account, issued_at=iat, expires_at=exp)
        return json_reply(
            200,
            {
                "access_token": token,
                "refresh_token": "not_supported",
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime),
                "expiration": exp,
                "scope": "ibm openid",
                "ims_user_id": 1,
            },
        )

    def bearer_account(self, call: Call) -> str | None:
        """The account of the call's bearer token, if the token is valid now."""
        header = call.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = self.tokens.get(header[len("Bearer ") :])
        if token is None or token.revoked or self.clock() >= token.expires_at:
            return None
        return token.account

    # -- Global Search and Catalog ------------------------------------------------------------

    def _search(self, call: Call) -> Reply:
        account = self.bearer_account(call)
        if account is None:
            return error_reply(401, "The token is not valid.", "not_authorized")
        request = call.json() or {}
        limit = int((call.query.get("limit") or ["10"])[-1])
        page_size = max(1, min(limit, self.search_page_size))
        cursor = request.get("search_cursor")
        start = (
            int(cursor.split("-")[1])
            if isinstance(cursor, str) and cursor.startswith("cursor-")
            else 0
        )
        mine = [i for i in self.instances if i.account == account]
        page = mine[start : start + page_size]
        items = [
            {
                "crn": i.crn,
                "name": i.name,
                "service_plan_unique_id": i.plan_id,
                "doc": {"extensions": {"quantum_allocation": {"plan": i.plan_id}}}
                if i.allocated
                else {},
                "tags": list(i.tags),
            }
            for i in page
        ]
        body: dict[str, Any] = {"items": items, "limit": limit}
        if items:
            # As the real service: a live cursor on each non-empty page; the end is an empty page.
            body["search_cursor"] = f"cursor-{start + len(items)}"
        return json_reply(200, body)

    def _catalog(self, call: Call) -> Reply:
        if self.bearer_account(call) is None:
            return error_reply(401, "The token is not valid.", "not_authorized")
        plan_id = call.path.rsplit("/", 1)[-1]
        if plan_id not in self.plans:
            return error_reply(404, f"Catalog entry {plan_id} not found")
        entry = self.plans[plan_id]
        if entry is None:
            return error_reply(403, "Access to archived catalog entries is forbidden")
        return json_reply(200, entry)
