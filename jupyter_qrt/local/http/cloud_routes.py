"""Handlers of the IBM Cloud parts the clients need besides the runtime API.

``POST /identity/token`` (IAM: API key -> bearer token), ``POST /globalsearch/v3/resources/search``
(the caller's instances), ``GET /globalcatalog/{id}`` (a plan's name and pricing) and
``GET /openapi.json`` (the description of everything served).
"""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import parse_qs

from jupyter_qrt.local.identity import cloud
from jupyter_qrt.local.identity.iam import APIKEY_GRANT_TYPE, IAM_ERROR_KEY_NOT_FOUND
from jupyter_qrt.runtime.redact import mask_secret

from .base import PUBLIC_BODY_LIMIT, ServiceHandler
from .errors import APIFailure
from .openapi import openapi_text
from .query import QueryArguments

__all__ = [
    "CatalogEntryHandler",
    "GlobalSearchHandler",
    "IdentityTokenHandler",
    "OpenAPIHandler",
]

logger = logging.getLogger(__name__)

_IAM_PROPERTY_MISSING = "BXNIM0109E"
_IAM_UNSUPPORTED_GRANT = "BXNIM0308E"
# A token request is a form of two fields (clients add one or two more, e.g. response_type).
_MAX_FORM_FIELDS = 16


class IdentityTokenHandler(ServiceHandler):
    """``POST /identity/token``: exchange an API key of this service for a bearer token.

    The body is a form (``grant_type``, ``apikey``), as IBM Cloud IAM takes it; errors have IAM's
    shape (``errorCode``, ``errorMessage``, ``context``), not the runtime API's. Anyone may call
    it, so it reads a small form only (:data:`.handlers_base.PUBLIC_BODY_LIMIT`; 413 beyond).
    """

    auth = "none"
    body_limit = PUBLIC_BODY_LIMIT

    def _iam_error(self, status: int, code: str, message: str) -> None:
        now_ms = int(time.time() * 1000)
        self.write_json(
            {
                "errorCode": code,
                "errorMessage": message,
                "context": {
                    "requestId": uuid.uuid4().hex,
                    "requestType": "incoming.Identity_Token",
                    "userAgent": self.request.headers.get("User-Agent", ""),
                    "url": self.request.full_url(),
                    "startTime": now_ms,
                    "endTime": now_ms,
                    "elapsedTime": "0",
                    "locale": "en_US",
                    "clusterName": "jupyter-qrt-local",
                },
            },
            status,
        )

    async def post(self) -> None:
        """Answer the token, or IAM's 400."""
        try:
            form = parse_qs(
                self.body_bytes().decode("utf-8"),
                keep_blank_values=True,
                max_num_fields=_MAX_FORM_FIELDS,
            )
        except UnicodeDecodeError:
            form = {}
        except ValueError:  # more fields than max_num_fields
            self._iam_error(
                400,
                _IAM_PROPERTY_MISSING,
                f"The form has more than {_MAX_FORM_FIELDS} fields; send grant_type and apikey.",
            )
            return
        grant_type = (form.get("grant_type") or [""])[0]
        api_key = (form.get("apikey") or [""])[0]
        if not grant_type:
            self._iam_error(400, _IAM_PROPERTY_MISSING, "Property missing or empty: grant_type.")
            return
        if grant_type != APIKEY_GRANT_TYPE:
            self._iam_error(
                400,
                _IAM_UNSUPPORTED_GRANT,
                f"Unsupported grant type {grant_type!r}; this service exchanges API keys only "
                f"(grant_type={APIKEY_GRANT_TYPE}).",
            )
            return
        if not api_key:
            self._iam_error(400, _IAM_PROPERTY_MISSING, "Property missing or empty: apikey.")
            return
        key = await self.call(self.runtime.verify_api_key, api_key)
        if key is None:
            logger.info("IAM: refused API key %s", mask_secret(api_key))
            self._iam_error(400, IAM_ERROR_KEY_NOT_FOUND, "Provided API key could not be found.")
            return
        self.write_json(self.context.signer.issue(key))


class GlobalSearchHandler(ServiceHandler):
    """``POST /globalsearch/v3/resources/search``: the instance of the caller's key."""

    auth = "bearer"

    async def post(self) -> None:
        """Search; the body is ``{"query", "fields"[, "search_cursor"]}``."""
        body = await self.call(self.json_body, allow_empty=True)
        query = body.get("query") or ""
        fields = body.get("fields")
        cursor = body.get("search_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise APIFailure(400, "search_cursor must be a string from a previous answer.")
        if not isinstance(query, str):
            raise APIFailure(400, "query must be a string, e.g. 'service_name:quantum-computing'.")
        if fields is not None and (
            not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
        ):
            raise APIFailure(400, "fields must be a list of field names, e.g. ['crn', 'name'].")
        limit = QueryArguments(self).integer("limit", 10, minimum=1, maximum=1000)
        assert self.claims is not None  # set by the bearer check in prepare()
        instance = await self.call(self.runtime.instance, self.claims.instance_crn)
        self.write_json(cloud.search_result([instance], query=query, fields=fields, limit=limit))


class CatalogEntryHandler(ServiceHandler):
    """``GET /globalcatalog/{id}``: display name and pricing of a local plan (public)."""

    auth = "none"
    body_limit = PUBLIC_BODY_LIMIT

    async def get(self, catalog_id: str) -> None:
        """The catalog entry, or 404."""
        instances = await self.call(self.runtime.list_instances)
        entry = cloud.catalog_entry(catalog_id, instances)
        if entry is None:
            raise APIFailure(404, f"No catalog entry {catalog_id!r} in the local service.")
        self.write_json(entry)


class OpenAPIHandler(ServiceHandler):
    """``GET /openapi.json``: the OpenAPI 3 description of this service."""

    auth = "none"
    body_limit = PUBLIC_BODY_LIMIT

    async def get(self) -> None:
        """The description (made and encoded in a thread: it is tens of kB)."""
        await self.call_text(openapi_text)
