"""``QRTExtension``: the jupyter-qrt server extension and its configuration.

Enabled on install (``jupyter-config/server-config/jupyter_qrt.json``). Configure it as any
Jupyter application, e.g. in ``jupyter_server_config.py``::

    c.QRTExtension.allow_user_accounts = False          # a classroom: the operator's accounts only
    c.QRTExtension.read_only_accounts = [{"name": "class", "token": "...", "instance": "crn:..."}]

At start it (in this order, before any kernel or terminal can start):

1. takes a classroom key out of the server's environment (``QISKIT_IBM_TOKEN`` with
   ``QISKIT_IBM_INSTANCE``, as a JupyterHub spawner sets them) into a read-only account, so that
   no kernel or terminal inherits it;
2. puts ``QRT_SERVER_URL`` and a random ``QRT_KERNEL_TOKEN`` in the environment kernels inherit,
   and, with :attr:`~QRTExtension.kernel_official_env`, the ``QISKIT_IBM_*``/``IAM_URL``/
   ``GLOBAL_*`` variables that point the official client at the proxy, keyless;
3. registers the pre-save guard and the routes, and starts the embedded local service in the
   background (the server does not wait for it).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from traitlets import Bool, Dict, Float, Int, List, Unicode, Union, default

from jupyter_qrt._version import __version__

from .callers import NAMESPACE
from .classroom import scrub_process_environ
from .embedded import EmbeddedLocal
from .iam import ProxyBearers

__all__ = ["DEFAULT_ALLOWED_HOSTS", "QRTExtension"]

DEFAULT_ALLOWED_HOSTS = [
    "quantum.cloud.ibm.com",
    "*.quantum.cloud.ibm.com",
    "iam.cloud.ibm.com",
    "private.iam.cloud.ibm.com",
    "iam.test.cloud.ibm.com",
    "api.global-search-tagging.cloud.ibm.com",
    "globalcatalog.cloud.ibm.com",
]
"""The upstream hosts the proxy may reach by default: IBM Quantum Platform, IAM, Global
Search and Global Catalog (the embedded local service is always allowed)."""

CLASSROOM_ACCOUNT = "classroom"
"""The name of the read-only account taken from the server's environment."""


def _with_loopback(no_proxy: str) -> str:
    hosts = [part.strip() for part in no_proxy.split(",") if part.strip()]
    return ",".join([*hosts, *(h for h in ("127.0.0.1", "localhost", "::1") if h not in hosts)])


class QRTExtension(ExtensionApp):
    """The jupyter-qrt server extension: key vault, runtime proxy, local service, job watcher."""

    name = "jupyter_qrt"
    description = "Qiskit Runtime in Jupyter: keys kept server-side, a runtime proxy, offline runs."
    load_other_extensions = True

    accounts_file = Unicode(
        None,
        allow_none=True,
        config=True,
        help="The accounts file (qiskit-ibm-runtime's format, shared with it). Default: "
        "$QRT_ACCOUNTS_FILE, else ~/.qiskit/qiskit-ibm.json.",
    )
    default_account = Unicode(
        "",
        config=True,
        help="The account kernels and the sidebar use by default. Empty: the accounts file's "
        "default, else a read-only account, else 'local'.",
    )
    read_only_accounts = List(
        Dict(),
        config=True,
        help="Accounts from the operator, shown read-only and never written to the accounts file: "
        "a list of {'name', 'token', 'instance', 'channel' (default ibm_quantum_platform), "
        "'url', 'region', 'plan'}.",
    )
    allow_user_accounts = Bool(
        True,
        config=True,
        help="Whether users may add, change and delete accounts. False for a classroom: only the "
        "operator's read-only accounts and 'local'.",
    )
    classroom_from_env = Bool(
        True,
        config=True,
        help="Take QISKIT_IBM_TOKEN (with QISKIT_IBM_INSTANCE, QISKIT_IBM_CHANNEL, QISKIT_IBM_URL) "
        "from the server's environment as the read-only account 'classroom', and remove them "
        "from the environment before any kernel or terminal starts.",
    )
    allowed_hosts = List(
        Unicode(),
        default_value=DEFAULT_ALLOWED_HOSTS,
        config=True,
        help="Upstream hosts the runtime proxy may reach ('host', 'host:port' or '*.domain'). "
        "The embedded local service is always allowed. Anything else is refused (no SSRF).",
    )
    local_service = Bool(
        True, config=True, help="Run the embedded local runtime service (the 'local' account)."
    )
    local_data_dir = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Data dir of the embedded local service. "
        "Default: <jupyter data dir>/jupyter-qrt/local.",
    )
    local_catalog = Unicode(
        "builtin", config=True, help="Devices of the embedded local service (builtin, ...)."
    )
    local_workers = Int(2, config=True, help="Worker processes of the embedded local service.")
    local_pacing = Union(
        [Float(), Dict(value_trait=Float())],
        default_value=0.0,
        config=True,
        help="Pacing of the embedded local service (off: 0). A factor for every device, or "
        "{device: factor}: each job then holds its device for factor x its device time, one at "
        "a time, so queued and running jobs can be watched and cancelled (teaching, UI tests).",
    )
    watcher_interval = Float(
        2.0, config=True, help="Seconds between the job watcher's polls of an account."
    )
    watcher_max_interval = Float(
        30.0, config=True, help="Longest pause between polls while an upstream keeps failing."
    )
    kernel_official_env = Bool(
        True,
        config=True,
        help="Give kernels the environment that points the official qiskit-ibm-runtime client "
        "at the proxy (QISKIT_IBM_URL, QISKIT_IBM_TOKEN = the kernel token, IAM_URL, ...), so "
        "QiskitRuntimeService() works unmodified without a key.",
    )

    @property
    def _server(self) -> ServerApp:
        assert self.serverapp is not None, "the extension runs inside a Jupyter server"
        return self.serverapp

    @default("local_data_dir")
    def _default_local_data_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "jupyter-qrt" / "local")

    # -- start-up -------------------------------------------------------------------------------

    def initialize_settings(self) -> None:
        """Create the parts; take keys out of the environment; set the kernels' environment."""
        from .guard import KeyGuard
        from .settings import SETTINGS_FILENAME, ServerSettings
        from .upstream import Upstream
        from .vault import Vault
        from .watcher import WatcherHub

        self.kernel_token = "qrtk_" + secrets.token_urlsafe(32)
        self.bearers = ProxyBearers()
        self.embedded = EmbeddedLocal(
            Path(self.local_data_dir or self._default_local_data_dir()),
            catalog=self.local_catalog,
            workers=self.local_workers,
            pacing=self.local_pacing,
            enabled=self.local_service,
            on_ready=self.update_kernel_env,
        )
        env_account = self._take_classroom_env() if self.classroom_from_env else None
        self.vault = Vault(
            accounts_file=self.accounts_file,
            read_only=[*self.read_only_accounts, *([env_account] if env_account else [])],
            default=self.default_account or None,
            allow_user_accounts=self.allow_user_accounts,
            embedded=self.embedded,
            settings=ServerSettings(Path(jupyter_data_dir()) / "jupyter-qrt" / SETTINGS_FILENAME),
        )
        self.upstream = Upstream(
            vault=self.vault, embedded=self.embedded, allowed_hosts=list(self.allowed_hosts)
        )
        self.watcher = WatcherHub(
            upstream=self.upstream,
            interval=self.watcher_interval,
            max_interval=self.watcher_max_interval,
        )
        self.guard = KeyGuard(self.vault)
        contents = self._server.contents_manager
        contents.register_pre_save_hook(self.guard.pre_save_hook)  # type: ignore[no-untyped-call]
        self.update_kernel_env()

    def initialize_handlers(self) -> None:
        """Register the routes under ``<base_url>/jupyter-qrt/``."""
        from .routes import routes

        self.handlers.extend(routes())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the server listens: the kernels' environment with the final port, and the
        embedded local service started in the background (start-up does not wait for it)."""
        self.update_kernel_env()
        self.embedded.start_in_background()

    async def stop_extension(self) -> None:
        """Stop the watcher and the embedded local service (no worker outlives the server)."""
        self.watcher.stop()
        self.upstream.close()
        self.embedded.stop()

    # -- the environment ------------------------------------------------------------------------

    def _take_classroom_env(self) -> dict[str, str] | None:
        """The classroom account from ``QISKIT_IBM_*``, removed from the environment."""
        token = os.environ.get("QISKIT_IBM_TOKEN")
        if not token:
            return None
        scrub_process_environ(["QISKIT_IBM_TOKEN"])  # also out of /proc/<pid>/environ
        os.environ.pop("QISKIT_IBM_TOKEN", None)
        account = {"name": CLASSROOM_ACCOUNT, "token": token}
        for variable, field in (
            ("QISKIT_IBM_INSTANCE", "instance"),
            ("QISKIT_IBM_CHANNEL", "channel"),
            ("QISKIT_IBM_URL", "url"),
        ):
            value = os.environ.pop(variable, None)
            if value:
                account[field] = value
        self.log.info(
            "jupyter-qrt: took the classroom account from the environment; kernels and "
            "terminals will not see its key"
        )
        return account

    @property
    def server_url(self) -> str:
        """The URL kernels reach this server at (loopback, with the base URL)."""
        serverapp = self._server
        scheme = "https" if serverapp.certfile else "http"
        base = serverapp.base_url.rstrip("/")
        return f"{scheme}://127.0.0.1:{serverapp.port}{base}"

    def proxy_url(self, account: str) -> str:
        """The root of the runtime proxy for ``account``."""
        return f"{self.server_url}/{NAMESPACE}/runtime/{account}"

    def kernel_env(self) -> dict[str, str]:
        """The variables kernels get (no API key: the kernel token opens the proxy only)."""
        env = {"QRT_SERVER_URL": self.server_url, "QRT_KERNEL_TOKEN": self.kernel_token}
        # Kernels reach this server on loopback: never through a site proxy (which would see
        # the kernel token and cannot reach 127.0.0.1 anyway).
        no_proxy = _with_loopback(os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or "")
        env.update({"NO_PROXY": no_proxy, "no_proxy": no_proxy})
        if self.kernel_official_env:
            name = self.vault.default_name()
            proxy = self.proxy_url(name)
            env.update(
                {
                    "QISKIT_IBM_URL": f"{proxy}/experimental/api/v1",
                    "QISKIT_IBM_TOKEN": self.kernel_token,
                    "QISKIT_IBM_CHANNEL": "ibm_quantum_platform",
                    "IAM_URL": f"{self.server_url}/{NAMESPACE}/iam",
                    "GLOBAL_SEARCH_URL": f"{proxy}/globalsearch",
                    "GLOBAL_CATALOG_URL": f"{proxy}/globalcatalog",
                }
            )
            instance = self.vault.instance_of(name)
            if instance:
                env["QISKIT_IBM_INSTANCE"] = instance
            else:
                os.environ.pop("QISKIT_IBM_INSTANCE", None)
        return env

    def update_kernel_env(self) -> None:
        """Put :meth:`kernel_env` in the environment kernels started from now on inherit."""
        os.environ.update(self.kernel_env())

    def status(self) -> dict[str, Any]:
        """The ``status`` route's answer."""
        return {
            "version": __version__,
            "namespace": NAMESPACE,
            "default_account": self.vault.default_name(),
            "allow_user_accounts": self.allow_user_accounts,
            "mode": "classroom" if not self.allow_user_accounts else "personal",
            "local": self.embedded.health(),
            "watcher": self.watcher.status(),
        }
