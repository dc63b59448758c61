"""The job monitor's cancel button: it works while the cell that shows it still runs.

A ``%%sampler`` cell that waits for its job keeps the kernel busy, and a busy kernel reads no
widget message until the cell ends, so a button handled in the kernel cancels nothing while the
job runs (the click was read once the job had completed: "Could not cancel: already ended").
Under the jupyter-qrt server extension :class:`JobCancel` (``job_cancel.js``) cancels from the
page, through the server's runtime proxy for the job's account, as the Quantum sidebar does; the
monitor then sees Cancelled from the server's job watcher. Without the server it asks the kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anywidget
import traitlets

from ._esm import compose

__all__ = ["ESM", "JobCancel"]

#: The button's ES module: the page helpers, then the button.
ESM = compose("page.js", "job_cancel.js")


class JobCancel(anywidget.AnyWidget):
    """A job's cancel button.

    Attributes
    ----------
    job_id
        The job.
    account
        The server extension's account the job runs on; ``""`` without the extension (the
        button then asks the kernel to cancel).
    disabled
        True once the job has ended.
    message
        The outcome of the last click, as the page saw it ("Cancel requested.", or why not).
    """

    _esm = ESM

    job_id = traitlets.Unicode("").tag(sync=True)
    account = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        *,
        job_id: str,
        account: str,
        on_cancel: Callable[[], None],
        on_cancelled: Callable[[], None],
    ) -> None:
        super().__init__(job_id=job_id, account=account)
        self._cancel = on_cancel
        self._cancelled = on_cancelled
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        event = content.get("event") if isinstance(content, Mapping) else None
        if event == "cancel":  # no server: the kernel cancels
            self._cancel()
        elif event == "cancelled":  # the page cancelled it through the server
            self._cancelled()

    def click(self) -> None:
        """Cancel from the kernel, as the button does without the server extension."""
        self._cancel()
