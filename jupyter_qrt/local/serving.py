"""How the local service is served: its data dir, the loopback rule, the devices served, and
the environment that points clients at it (used by :mod:`.server` and :mod:`.cli`)."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .devices import DeviceCatalog

__all__ = [
    "CATALOG_CHOICES",
    "CHANNEL",
    "ServiceStartError",
    "catalog_named",
    "default_data_dir",
    "is_loopback_host",
    "service_env",
    "url_host",
]

logger = logging.getLogger(__name__)

CATALOG_CHOICES = ("builtin", "ibm-snapshots", "all")
"""Names of the device catalogs ``catalog=`` and ``--catalog`` accept."""

CHANNEL = "ibm_quantum_platform"
"""The channel the printed environment selects: the IBM protocol, spoken by this service."""

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_NO_SNAPSHOTS = (
    "No IBM device snapshots to serve: they come with qiskit-ibm-runtime, which is not installed."
)


class ServiceStartError(RuntimeError):
    """The service could not start (port taken, data dir unusable, ...); the message says why."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the standalone service keeps its data when no data dir is given.

    ``$QRT_DATA_DIR``, else ``$XDG_DATA_HOME/jupyter-qrt/local``, else
    ``~/.local/share/jupyter-qrt/local``.
    """
    environ = os.environ if env is None else env
    explicit = environ.get("QRT_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "jupyter-qrt" / "local"


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def catalog_named(name: str) -> DeviceCatalog:
    """The device catalog called ``name`` (one of :data:`CATALOG_CHOICES`).

    ``ibm-snapshots`` needs qiskit-ibm-runtime (its snapshots are served); ``all`` without it
    serves the builtin devices, with a warning.

    Raises
    ------
    ValueError
        ``name`` is not one of them, or is ``ibm-snapshots`` and no snapshot is installed.
    """
    from .devices import builtin_catalog, ibm_snapshot_catalog

    if name == "builtin":
        return builtin_catalog()
    if name in {"ibm-snapshots", "all"}:
        snapshots = ibm_snapshot_catalog()
        if not snapshots.names():
            # A service with no devices at all is no use: say so at start, not at the first job.
            if name == "ibm-snapshots":
                raise ValueError(
                    f"{_NO_SNAPSHOTS} Install it (pip install qiskit-ibm-runtime), or use the "
                    "builtin devices (--catalog builtin)."
                )
            logger.warning(
                "%s Serving the builtin devices only (pip install qiskit-ibm-runtime adds them).",
                _NO_SNAPSHOTS,
            )
            return builtin_catalog()
        return snapshots if name == "ibm-snapshots" else builtin_catalog().merged(snapshots)
    raise ValueError(f"Unknown device catalog {name!r}; use one of {', '.join(CATALOG_CHOICES)}.")


def url_host(host: str) -> str:
    """``host`` as it goes in a URL that reaches this machine (a wildcard becomes loopback)."""
    # A wildcard address cannot be connected to; on this machine loopback reaches it.
    if host in {"", "0.0.0.0"}:
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _with_loopback(no_proxy: str) -> str:
    hosts = [part.strip() for part in no_proxy.split(",") if part.strip()]
    for name in ("127.0.0.1", "localhost", "::1"):
        if name not in hosts:
            hosts.append(name)
    return ",".join(hosts)


def service_env(
    url: str, api_key: str, instance_crn: str, *, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment that points the clients at a local service whose root is ``url``.

    With these set, ``QiskitRuntimeService()`` of the official client and our ``RuntimeService()``
    connect with no arguments: the ``/experimental/api/v1`` URL is used verbatim by both, IAM and
    Global Search/Catalog are this service's.

    Parameters
    ----------
    url
        Root URL of the service (no trailing ``/``).
    api_key, instance_crn
        The key and the instance it is bound to.
    environ
        The current environment (default ``os.environ``): its ``NO_PROXY``/``no_proxy`` hosts
        are kept, the loopback names added (Python reads the lower-case one first).
    """
    current = os.environ if environ is None else environ
    return {
        "QISKIT_IBM_URL": f"{url}/experimental/api/v1",
        "QISKIT_IBM_TOKEN": api_key,
        "QISKIT_IBM_INSTANCE": instance_crn,
        "QISKIT_IBM_CHANNEL": CHANNEL,
        "IAM_URL": url,
        "GLOBAL_SEARCH_URL": f"{url}/globalsearch",
        "GLOBAL_CATALOG_URL": f"{url}/globalcatalog",
        "NO_PROXY": _with_loopback(current.get("NO_PROXY", "")),
        "no_proxy": _with_loopback(current.get("no_proxy", "")),
    }
