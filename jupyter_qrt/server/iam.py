"""The IAM route kernels use: the kernel token in, a short-lived proxy bearer out.

A kernel's official client (``QiskitRuntimeService()``) finds ``IAM_URL`` pointing here and
``QISKIT_IBM_TOKEN`` holding the kernel token (not an API key). It posts IAM's form
(``grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=<kernel token>``) to
``<IAM_URL>/identity/token`` and gets IAM's JSON answer with a JWT-shaped bearer
(the official client reads ``exp`` from it). That bearer opens the runtime proxy only, and lives
for :data:`BEARER_LIFETIME_SECONDS`; its signing secret lives in memory, so a restart of the
server invalidates every bearer (clients fetch a new one by themselves).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from jupyter_qrt.local.identity.iam import APIKEY_GRANT_TYPE, BearerRejected, TokenSigner

from .callers import Caller, QRTHandler, callers

__all__ = ["BEARER_LIFETIME_SECONDS", "IAMTokenHandler", "ProxyBearers"]

log = logging.getLogger(__name__)

BEARER_LIFETIME_SECONDS = 3600
_MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class _Kernels:
    """The identity a proxy bearer is issued to (the kernels of this server)."""

    key_id: str = "jupyter-kernel"
    instance_crn: str = ""
    user_id: str = "jupyter-kernel"


class ProxyBearers:
    """Issues and checks the bearers of the runtime proxy (HMAC-signed, in-memory secret)."""

    def __init__(self, lifetime_seconds: int = BEARER_LIFETIME_SECONDS) -> None:
        self._signer = TokenSigner(secrets.token_bytes(32), lifetime_seconds=lifetime_seconds)

    def issue(self) -> dict[str, object]:
        """IAM's answer body with a fresh bearer."""
        return self._signer.issue(_Kernels())

    def verify(self, token: str) -> bool:
        """Whether ``token`` is a live bearer of this server."""
        try:
            self._signer.verify(token)
        except BearerRejected:
            return False
        return True


class IAMTokenHandler(QRTHandler):
    """``POST /jupyter-qrt/iam/identity/token``: IAM's API-key exchange, for the kernel token."""

    def _find_caller(self) -> Caller | None:
        # IAM is called anonymously: the credential (the kernel token) is in the form, and
        # :meth:`post` checks it.
        return Caller.KERNEL

    @callers(Caller.KERNEL)
    async def post(self) -> None:
        """Answer a bearer for the kernel token, or IAM's 400."""
        await self._exchange()

    def check_xsrf_cookie(self) -> None:
        """IAM's form carries its own credential (the kernel token): no cookie to forge."""

    def _iam_error(self, code: str, message: str) -> None:
        self.set_status(400)
        self.finish({"errorCode": code, "errorMessage": message})

    async def _exchange(self) -> None:
        body = self.request.body or b""
        if len(body) > _MAX_FORM_BYTES:
            self._iam_error("BXNIM0109E", "The form is too large; send grant_type and apikey.")
            return
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        grant = (form.get("grant_type") or [""])[0]
        presented = (form.get("apikey") or [""])[0]
        if grant != APIKEY_GRANT_TYPE:
            self._iam_error(
                "BXNIM0103E", f"Unsupported grant type; send grant_type={APIKEY_GRANT_TYPE}."
            )
            return
        if not hmac.compare_digest(presented.encode(), self.qrt.kernel_token.encode()):
            log.info("jupyter-qrt IAM: refused a token that is not this server's kernel token")
            self._iam_error(
                "BXNIM0415E",
                "Provided API key could not be found. In a Jupyter kernel, QISKIT_IBM_TOKEN must "
                "be the kernel token jupyter-qrt set (restart the kernel if the server restarted).",
            )
            return
        self.finish(self.qrt.bearers.issue())
