"""IBM Cloud resource names (CRNs) of Qiskit Runtime instances.

A Qiskit Runtime instance is named by a CRN of ten ``:``-separated parts::

    crn:v1:bluemix:public:quantum-computing:us-east:a/<account id>:<instance id>::

that is ``crn``, version, cname (``bluemix``, or ``staging`` for IBM's test cloud), ctype, service
name, region, scope (``a/`` + the owning account), service instance, and an empty resource type
and resource.

The region decides the runtime API host (``us-east`` -> ``quantum.cloud.ibm.com``, others ->
``<region>.quantum.cloud.ibm.com``) and the cname ``staging`` selects IBM's test IAM, so a CRN is
checked whole before anything is derived from it. The functions at the end derive those IBM Cloud
addresses exactly as qiskit-ibm-runtime 0.51 does (``default_runtime_url_resolver``, ``CloudAuth``,
``accounts/utils.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeGuard
from urllib.parse import urlsplit

from jupyter_qrt.runtime.errors import InvalidInputError

__all__ = [
    "CRN",
    "CRN_SHAPE",
    "global_catalog_api_url",
    "global_search_api_url",
    "iam_api_url",
    "is_crn",
    "runtime_api_url",
]

CRN_SHAPE = "crn:v1:bluemix:public:quantum-computing:<region>:a/<account id>:<instance id>::"
"""The shape of a Qiskit Runtime instance CRN, as shown in error messages."""

_SERVICE_NAME = "quantum-computing"
# The region becomes a host-name label of the API URL, so it must be one.
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~/-]+")
_PART_NAMES = (
    "'crn' prefix",
    "version",
    "cname",
    "ctype",
    "service name",
    "region",
    "scope",
    "service instance",
    "resource type",
    "resource",
)


def is_crn(value: object) -> TypeGuard[str]:
    """Whether ``value`` is meant as a CRN (a string starting with ``crn:``).

    This is the official client's test: anything else given as an instance is an instance name.
    It does not validate; :meth:`CRN.parse` does.
    """
    return isinstance(value, str) and value.startswith("crn:")


@dataclass(frozen=True)
class CRN:
    """A validated CRN of a Qiskit Runtime instance.

    Build one with :meth:`CRN.parse`; ``str(crn)`` gives the CRN text back unchanged.

    Attributes
    ----------
    cname
        ``bluemix`` for IBM Cloud, ``staging`` for IBM's test cloud.
    ctype
        ``public`` (or ``dedicated``/``local``).
    region
        Location of the instance, e.g. ``us-east`` or ``eu-de``.
    account_id
        The IBM Cloud account that owns the instance (the part after ``a/``).
    service_instance
        The instance id.
    resource_type, resource
        The last two parts, empty for an instance.
    """

    cname: str
    ctype: str
    region: str
    account_id: str
    service_instance: str
    resource_type: str = ""
    resource: str = ""
    version: str = "v1"

    @classmethod
    def parse(cls, text: str) -> CRN:
        """Parse and check the CRN of a Qiskit Runtime instance.

        Parameters
        ----------
        text
            The CRN, e.g. ``crn:v1:bluemix:public:quantum-computing:us-east:a/abc:def::``.

        Returns
        -------
        CRN
            The parsed CRN.

        Raises
        ------
        InvalidInputError
            Naming the part that is wrong and showing the expected shape.
        """
        if not isinstance(text, str):
            raise _invalid(f"a CRN must be a string, got {type(text).__name__}")
        if not text.startswith("crn:"):
            # Do not echo the value: whatever it is, it is not a CRN, and it might be a key
            # passed in the wrong argument.
            raise _invalid("a CRN starts with 'crn:'")
        if any(ch.isspace() for ch in text):
            raise _invalid(f"{text!r} contains whitespace (a line break from copy and paste?)")
        parts = text.split(":")
        if len(parts) != len(_PART_NAMES):
            raise _invalid(
                f"{text!r} has {len(parts)} ':'-separated parts, a CRN has {len(_PART_NAMES)} "
                "(an instance CRN ends with '::')"
            )
        _, version, cname, ctype, service, region, scope, instance, rtype, resource = parts
        for index, value in enumerate(parts[:8]):
            if not value:
                raise _invalid(f"the {_PART_NAMES[index]} of {text!r} is empty")
        if version != "v1":
            raise _invalid(f"the version of {text!r} is {version!r}, expected 'v1'")
        if service != _SERVICE_NAME:
            raise _invalid(
                f"the service name of {text!r} is {service!r}: this is not a Qiskit Runtime "
                f"instance (expected {_SERVICE_NAME!r})"
            )
        if not _HOST_LABEL.fullmatch(region):
            raise _invalid(
                f"the region of {text!r} is {region!r}, expected a region such as 'us-east' "
                "or 'eu-de' (lower-case letters, digits, '-')"
            )
        account_id = scope.removeprefix("a/")
        if not scope.startswith("a/") or not _TOKEN_CHARS.fullmatch(account_id):
            raise _invalid(
                f"the scope of {text!r} is {scope!r}, expected 'a/<account id>' (the IBM Cloud "
                "account that owns the instance)"
            )
        if not _TOKEN_CHARS.fullmatch(instance):
            raise _invalid(f"the service instance of {text!r} is {instance!r}")
        return cls(
            cname=cname,
            ctype=ctype,
            region=region,
            account_id=account_id,
            service_instance=instance,
            resource_type=rtype,
            resource=resource,
            version=version,
        )

    @property
    def is_staging(self) -> bool:
        """Whether the instance lives on IBM's staging cloud (cname ``staging``)."""
        return self.cname == "staging"

    def __str__(self) -> str:
        return ":".join(
            (
                "crn",
                self.version,
                self.cname,
                self.ctype,
                _SERVICE_NAME,
                self.region,
                f"a/{self.account_id}",
                self.service_instance,
                self.resource_type,
                self.resource,
            )
        )


def _invalid(problem: str) -> InvalidInputError:
    return InvalidInputError(
        f"Invalid instance CRN: {problem}. Expected the shape {CRN_SHAPE} "
        "(copy it from the instance's page on IBM Quantum Platform)."
    )


def runtime_api_url(cloud_url: str, crn: CRN | None, private_endpoint: bool = False) -> str:
    """The runtime API base for an IBM Cloud URL and instance, as the official resolver does.

    With a CRN and no ``experimental`` in ``cloud_url``:
    ``{scheme}://{region.}quantum.{host}/api/v1``, no region prefix for ``us-east``, and
    ``private.{region}.quantum.{host}`` for a private endpoint. The port of ``cloud_url`` is
    dropped, as the official client drops it. Otherwise ``cloud_url`` itself, unchanged.
    """
    if crn is None or "experimental" in cloud_url:
        return cloud_url
    parts = urlsplit(cloud_url)
    if private_endpoint:
        host = f"private.{crn.region}.quantum.{parts.hostname}"
    elif crn.region == "us-east":
        host = f"quantum.{parts.hostname}"
    else:
        host = f"{crn.region}.quantum.{parts.hostname}"
    return f"{parts.scheme}://{host}/api/v1"


def iam_api_url(crn: CRN | None, private_endpoint: bool = False) -> str:
    """IAM for runtime calls: ``https://[private.]iam[.test].cloud.ibm.com`` (test for staging)."""
    host = "iam.test.cloud.ibm.com" if crn is not None and crn.is_staging else "iam.cloud.ibm.com"
    return f"https://{'private.' if private_endpoint else ''}{host}"


def global_search_api_url(cloud_url: str) -> str:
    """Global Search for an IBM Cloud URL: ``{scheme}://api.global-search-tagging.{host}``."""
    parts = urlsplit(cloud_url)
    return f"{parts.scheme}://api.global-search-tagging.{parts.hostname}"


def global_catalog_api_url(cloud_url: str) -> str:
    """Global Catalog for an IBM Cloud URL: ``{scheme}://globalcatalog.{host}/api/v1``."""
    parts = urlsplit(cloud_url)
    return f"{parts.scheme}://globalcatalog.{parts.hostname}/api/v1"
