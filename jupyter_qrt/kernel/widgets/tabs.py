"""The dashboard: tabs for the account and its instances, the backends, and the jobs.

Tabs other than the first are built when first opened, so showing the dashboard costs one
instance listing, not a backend and jobs listing too; choosing another instance in the picker
rebuilds them for that instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ._static import StaticFallback, esc, html_table

__all__ = ["Dashboard"]

TITLES = ("Account", "Backends", "Jobs")


class Dashboard(StaticFallback, w.Tab):  # type: ignore[misc]  # ipywidgets has no types
    """Account/instances, backends, jobs (use :func:`...widgets.dashboard`)."""

    def __init__(
        self,
        service: Any,
        *,
        jobs_limit: int = 20,
        service_factory: Callable[[str], Any] | None = None,
    ) -> None:
        from .instances import InstancePicker

        self._service = service
        self._jobs_limit = jobs_limit
        account = service.account
        summary = html_table(
            ["account", "channel", "instance"],
            [[account.name or "(from the environment)", service.channel, service.instance]],
        )
        self.picker = InstancePicker(service, service_factory=service_factory)
        self._parts: dict[int, Any] = {0: self.picker}
        first = w.VBox([w.HTML(summary), self.picker])
        self._summary = summary
        super().__init__(children=[first, w.VBox(), w.VBox()], titles=TITLES)
        self.observe(lambda change: self.part(change["new"]), "selected_index")
        self.picker.observe(lambda _change: self._instance_changed(), "crn")

    def _instance_changed(self) -> None:
        """Backends and jobs belong to an instance: rebuild them for the new choice."""
        for index in (1, 2):
            stale = self._parts.pop(index, None)
            if stale is not None:
                stale.close()
                self.children[index].children = []
        if self.selected_index in (1, 2):
            self.part(self.selected_index)

    def part(self, index: int | None) -> Any:
        """The widget of tab ``index``, built on first use (the picker, browser or jobs table)."""
        if index is None:
            return None
        if index not in self._parts:
            if index == 1:
                from .backends import BackendBrowser

                self._parts[1] = BackendBrowser(self.picker.service())
            else:
                from .jobs_view import JobsTable

                self._parts[2] = JobsTable(self.picker.service(), limit=self._jobs_limit)
            self.children[index].children = [self._parts[index]]
        return self._parts[index]

    def _fallback_text(self) -> str:
        return "\n\n".join(p._fallback_text() for _, p in sorted(self._parts.items()))

    def _fallback_html(self) -> str:
        parts = [
            f"<h4>{esc(TITLES[i])}</h4>{p._fallback_html()}" for i, p in sorted(self._parts.items())
        ]
        return self._summary + "".join(parts)
