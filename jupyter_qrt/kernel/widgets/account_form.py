"""The account setup widget: the API key goes from the browser to the server, never the kernel.

An anywidget with its own small ES module (``account_form.js`` after ``page.js``): the key field
lives only in the browser's DOM, and the browser ``POST``\\ s it to the server extension
(``<base url>/jupyter-qrt/accounts`` with the page's XSRF cookie). The kernel learns only the
outcome: the new account's summary (name, channel, instance, plan, masked fingerprint) in
:attr:`AccountSetup.result`, or the reason in :attr:`AccountSetup.error`. No trait ever holds a
key, so neither widget state nor a saved notebook can. Without the server extension (plain
IPython) the widget says to use ``%qrt_login``, which prompts for the key with ``getpass``.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from ._esm import compose
from ._static import StaticFallback, esc, html_table
from .server_link import server_link

__all__ = ["ESM", "NO_SERVER_MESSAGE", "AccountSetup"]

#: The widget's ES module: the page helpers, then the form.
ESM = compose("page.js", "account_form.js")

NO_SERVER_MESSAGE = (
    "This kernel runs without the jupyter-qrt server extension, so there is nowhere safe to "
    "send a key from this form. Run %qrt_login instead: it prompts for the key with getpass "
    "and saves it to ~/.qiskit/qiskit-ibm.json (mode 0600), never into the notebook."
)
SERVER_MESSAGE = (
    "Your API key goes from this page straight to the Jupyter server, which keeps it; "
    "the kernel and the notebook never see it."
)
#: Field names a summary must never carry into the kernel.
_SECRET_FIELDS = frozenset({"token", "apikey", "api_key", "key"})
CHANNELS = ("ibm_quantum_platform", "ibm_cloud", "local")


class AccountSetup(StaticFallback, anywidget.AnyWidget):
    """Form to save an account (use :func:`...widgets.account_setup`).

    Attributes
    ----------
    name, channel, instance, url, set_default
        The account's fields as typed in the form (no key); ``url`` is the service's URL, for
        an account of another service than the channel's own (e.g. a ``jupyter-qrt serve``).
    server
        True when the server extension is there to receive the key.
    result
        The saved account's summary, as the server answered (``{}`` until saved).
    error
        Why the last attempt failed ("" otherwise).
    """

    _esm = ESM

    name = traitlets.Unicode("default").tag(sync=True)
    channel = traitlets.Unicode("ibm_quantum_platform").tag(sync=True)
    instance = traitlets.Unicode("").tag(sync=True)
    url = traitlets.Unicode("").tag(sync=True)
    set_default = traitlets.Bool(True).tag(sync=True)
    server = traitlets.Bool(False).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    result = traitlets.Dict().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        *,
        name: str = "default",
        channel: str = "ibm_quantum_platform",
        instance: str | None = None,
        url: str | None = None,
        set_default: bool = True,
        env: Any = None,
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}.")
        available = server_link(env) is not None
        super().__init__(
            name=name,
            channel=channel,
            instance=instance or "",
            url=url or "",
            set_default=set_default,
            server=available,
            message=SERVER_MESSAGE if available else NO_SERVER_MESSAGE,
        )

    @traitlets.validate("result")
    def _no_secret_in_result(self, proposal: Any) -> dict[str, Any]:
        # Whatever the browser reports, a key never enters kernel state.
        return {k: v for k, v in dict(proposal["value"]).items() if k.lower() not in _SECRET_FIELDS}

    def _fallback_text(self) -> str:
        if self.result:
            return f"Account {self.result.get('name')!r} saved ({self.result.get('channel')})."
        return f"Account setup. {self.message}"

    def _fallback_html(self) -> str:
        if self.result:
            fields = ["name", "channel", "instance", "plan", "fingerprint"]
            return html_table(
                fields, [[self.result.get(f) for f in fields]], caption="Saved account"
            )
        return (
            f"<div class='qrt-account-setup'><b>Account setup</b><p>{esc(self.message)}</p></div>"
        )
