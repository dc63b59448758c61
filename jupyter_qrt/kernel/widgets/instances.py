"""The instance picker: name, plan, region, CRN and usage left; the choice is an observable trait.

Changing the choice changes what the next job uses: :attr:`InstancePicker.crn` is a traitlet the
magics observe, and :meth:`InstancePicker.service` gives a ``RuntimeService`` on the chosen
instance. Paid plans are flagged, since jobs there are billed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w
import traitlets

from ._static import StaticFallback, esc, html_table

__all__ = ["InstancePicker", "usage_left"]

logger = logging.getLogger(__name__)

_FREE = {"free", "trial", "open", "unknown"}
_HEADER = ["name", "plan", "region", "CRN", "usage left"]


def usage_left(usage: Mapping[str, Any]) -> str:
    """Usage left as a user reads it, from ``GET /instances/usage``."""
    consumed = float(usage.get("usage_consumed_seconds") or 0)
    limit = usage.get("usage_limit_seconds", usage.get("usage_allocation_seconds"))
    if usage.get("usage_limit_reached"):
        return "none: the usage limit is reached"
    if limit is None:
        return f"no limit ({consumed:g} s used)"
    return f"{max(0.0, float(limit) - consumed):g} s of {float(limit):g} s"


class InstancePicker(StaticFallback, w.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """Choose the instance the next job uses (use :func:`...widgets.instance_picker`).

    Attributes
    ----------
    crn
        CRN of the chosen instance (observe it to follow the choice).
    """

    crn = traitlets.Unicode("")

    def __init__(
        self, service: Any, *, service_factory: Callable[[str], Any] | None = None
    ) -> None:
        self._service = service
        self._factory = service_factory or self._default_factory
        self.instances = list(service.instances())
        self._usage: dict[str, str] = {}
        options = [(f"{i.name} ({i.plan}, {i.region or '-'})", i.crn) for i in self.instances]
        current = service.instance if any(i.crn == service.instance for i in self.instances) else ""
        pick = w.Dropdown(options=options, value=current or (options[0][1] if options else None))
        pick.description = "instance"
        self._table = w.HTML()
        self._warning = w.HTML()
        super().__init__(children=[pick, self._warning, self._table])
        self.crn = pick.value or ""
        w.link((pick, "value"), (self, "crn"))
        self.observe(lambda _c: self._render(), "crn")
        self._render()

    @traitlets.validate("crn")
    def _known_instance(self, proposal: Any) -> str:
        value = str(proposal["value"])
        known = [i.crn for i in self.instances]
        if value and known and value not in known:
            names = ", ".join(f"{i.name} ({i.crn})" for i in self.instances)
            raise traitlets.TraitError(
                f"{value!r} is not an instance this account can use; choose one of: {names}."
            )
        return value

    def _default_factory(self, crn: str) -> Any:
        from jupyter_qrt.runtime import RuntimeService

        return RuntimeService(self._service.account, instance=crn)

    def service(self) -> Any:
        """A ``RuntimeService`` on the chosen instance (the one given when it is unchanged)."""
        if self.crn == self._service.instance:
            return self._service
        return self._factory(self.crn)

    def _usage_of(self, crn: str) -> str:
        if crn not in self._usage:
            try:
                target = self._service if crn == self._service.instance else self._factory(crn)
                self._usage[crn] = usage_left(target.usage())
            except Exception as exc:  # one unreachable instance must not hide the others
                logger.warning("Could not read the usage of %s: %s", crn, exc)
                self._usage[crn] = "unknown"
        return self._usage[crn]

    def rows(self) -> list[list[str]]:
        """One row per instance: name, plan, region, CRN, usage left."""
        return [
            [i.name, i.plan, i.region or "-", i.crn, self._usage_of(i.crn)] for i in self.instances
        ]

    def _render(self) -> None:
        self._table.value = html_table(_HEADER, self.rows(), caption="Instances")
        chosen = next((i for i in self.instances if i.crn == self.crn), None)
        paid = chosen is not None and chosen.pricing_type.lower() not in _FREE
        self._warning.value = (
            f"<b>{esc(chosen.name)} is on a paid plan ({esc(chosen.plan)}): jobs are billed.</b>"
            if paid and chosen is not None
            else ""
        )

    def _fallback_text(self) -> str:
        lines = [f"Instances (chosen: {self.crn or 'none'})"]
        lines += ["  " + ", ".join(row) for row in self.rows()]
        return "\n".join(lines)

    def _fallback_html(self) -> str:
        return f"{self._warning.value}{self._table.value}"
