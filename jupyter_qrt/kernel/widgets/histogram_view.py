"""The histogram widget: Sampler counts or probabilities, top-k with "other", several results.

Controls: counts/probabilities, how many bars (top k; the rest summed in one "other" bar), bit
order, the PUB and the classical register, and one bar group per result (``labels=``). The figure
is plotly JSON built from the aggregate (never one bar per outcome), shown through an
``ipywidgets.Output`` and kept in the static fallback.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import traitlets

from ._static import StaticFallback, figure_output, html_table
from .histogram_data import Aggregate, aggregate, outcome_counts, read_series

__all__ = ["Histogram", "histogram_figure"]

_DEFAULT_TOP_K = 32
#: Most tables (PUB and register) the saved text and HTML hold.
_SAVED_VIEWS = 16


def histogram_figure(
    agg: Aggregate, labels: list[str], *, probabilities: bool, title: str
) -> dict[str, Any]:
    """Plotly figure JSON (a dict) of an aggregate: one bar trace per series."""
    traces = []
    for label, values in zip(labels, agg.values, strict=True):
        traces.append(
            {
                "type": "bar",
                "name": label,
                "x": list(agg.outcomes),
                "y": values,
                "text": [f"{v:.3g}" if probabilities else f"{int(v)}" for v in values],
                "textposition": "auto",
            }
        )
    return {
        "data": traces,
        "layout": {
            "title": {"text": title},
            "barmode": "group",
            "xaxis": {"title": {"text": "outcome"}, "type": "category"},
            "yaxis": {"title": {"text": "probability" if probabilities else "counts"}},
            "showlegend": len(traces) > 1,
            "margin": {"t": 40, "l": 50, "r": 10, "b": 50},
        },
        "config": {"displaylogo": False},
    }


class Histogram(StaticFallback, w.VBox):  # type: ignore[misc]  # ipywidgets has no types
    """Histogram of one or several Sampler results (use :func:`...widgets.histogram`).

    Attributes
    ----------
    probabilities
        Heights as probabilities instead of counts.
    top_k
        Bars shown besides "other".
    reverse_bits
        Bit 0 on the left instead of qiskit's right.
    pub, register
        Which PUB and which classical register are shown.
    """

    probabilities = traitlets.Bool(False)
    top_k = traitlets.Int(_DEFAULT_TOP_K)
    reverse_bits = traitlets.Bool(False)
    pub = traitlets.Int(0)
    register = traitlets.Unicode("")

    def __init__(
        self, results: Any, *, labels: list[str] | None = None, top_k: int = _DEFAULT_TOP_K
    ) -> None:
        self._series = read_series(results, labels)
        self._labels = [s.label for s in self._series]
        pubs = min(len(s.pubs) for s in self._series)
        mode = w.ToggleButtons(options=[("counts", False), ("probabilities", True)])
        bars = w.BoundedIntText(
            value=top_k, min=1, max=4096, description="top k", layout={"width": "140px"}
        )
        bits = w.Checkbox(value=False, description="bit 0 on the left", indent=False)
        self._pub_pick = w.Dropdown(
            options=list(range(pubs)), description="PUB", layout={"width": "140px"}
        )
        names = list(self._series[0].pubs[0])
        self._reg_pick = w.Dropdown(
            options=names, value=names[0], description="register", layout={"width": "200px"}
        )
        self._note = w.HTML()
        self._out = w.Output()
        controls = w.HBox([mode, bars, bits, self._pub_pick, self._reg_pick])
        self._pub_pick.layout.display = None if pubs > 1 else "none"
        super().__init__(children=[controls, self._out, self._note])
        self.top_k = max(1, int(top_k))
        self.register = names[0]
        for control, name in ((mode, "probabilities"), (bars, "top_k"), (bits, "reverse_bits")):
            w.link((control, "value"), (self, name))
        w.link((self._pub_pick, "value"), (self, "pub"))
        w.link((self._reg_pick, "value"), (self, "register"))
        self._cache: dict[tuple[int, str], list[Any]] = {}
        self._last: tuple[tuple[Any, ...], Aggregate] | None = None
        self._saved: dict[tuple[Any, ...], tuple[str, Aggregate]] = {}
        self.observe(self._redraw, ["probabilities", "top_k", "reverse_bits", "register"])
        self.observe(lambda _c: self._set_registers(), "pub")
        self._redraw()

    # -- data ---------------------------------------------------------------------------------

    def _set_registers(self) -> None:
        names = list(self._series[0].pubs[self.pub])
        self._reg_pick.options = names
        self._reg_pick.layout.display = None if len(names) > 1 else "none"
        if self.register not in names:
            self.register = names[0]
        else:
            self._redraw()

    def _counts(self) -> list[Any]:
        key = (self.pub, self.register)
        if key not in self._cache:
            per_series = []
            for series in self._series:
                registers = series.pubs[self.pub]
                source = registers.get(self.register, next(iter(registers.values())))
                per_series.append(outcome_counts(source))
            self._cache[key] = per_series
        return self._cache[key]

    def aggregate(self) -> Aggregate:
        """The bars as shown now (outcomes, heights per series, shots per series)."""
        key = (self.pub, self.register, self.top_k, self.probabilities, self.reverse_bits)
        if self._last is None or self._last[0] != key:  # one aggregation per state, not per view
            agg = aggregate(
                self._counts(),
                top_k=self.top_k,
                probabilities=self.probabilities,
                reverse_bits=self.reverse_bits,
            )
            self._last = (key, agg)
        return self._last[1]

    def figure_json(self) -> dict[str, Any]:
        """The plotly figure as JSON (what the browser receives)."""
        agg = self.aggregate()
        return histogram_figure(
            agg, self._labels, probabilities=self.probabilities, title=self._title(agg)
        )

    def figure(self) -> Any:
        """The figure as a ``plotly.graph_objects.Figure``."""
        import plotly.graph_objects as go

        return go.Figure(self.figure_json())

    def _title(self, agg: Aggregate, pub: int | None = None, register: str | None = None) -> str:
        pub = self.pub if pub is None else pub
        where = f"PUB {pub}, register {self.register if register is None else register}"
        shots = ", ".join(str(t) for t in agg.totals)
        return f"{where}: {shots} shots, {agg.distinct} distinct outcomes"

    # -- rendering ----------------------------------------------------------------------------

    def _redraw(self, _change: Any = None) -> None:
        if not self.register:
            return
        figure = self.figure_json()
        self._out.outputs = figure_output(figure, self._fallback_text(), self._fallback_html())
        agg = self.aggregate()
        self._note.value = (
            f"<small>{agg.distinct - len(agg.outcomes) + 1} outcomes summed in 'other'</small>"
            if agg.outcomes and agg.outcomes[-1] == "other"
            else ""
        )

    def _views(self) -> list[tuple[str, Aggregate]]:
        """(title, bars) of what the saved notebook shows: the drawn PUB first, then the others.

        The figure draws one PUB and register at a time (the pickers choose); a saved notebook
        has no pickers, so its text and HTML also hold every other PUB's registers (at most
        :data:`_SAVED_VIEWS` tables), with the same top k, bit order and counts/probabilities.
        """
        agg = self.aggregate()
        views = [(self._title(agg), agg)]
        style = (self.top_k, self.probabilities, self.reverse_bits)
        for pub in range(min(len(s.pubs) for s in self._series)):
            for register in self._series[0].pubs[pub]:
                if (pub, register) == (self.pub, self.register):
                    continue
                if len(views) >= _SAVED_VIEWS:
                    return views
                key = (pub, register, *style)
                if key not in self._saved:
                    counts = [
                        outcome_counts(s.pubs[pub].get(register, next(iter(s.pubs[pub].values()))))
                        for s in self._series
                    ]
                    other = aggregate(
                        counts,
                        top_k=self.top_k,
                        probabilities=self.probabilities,
                        reverse_bits=self.reverse_bits,
                    )
                    self._saved[key] = (self._title(other, pub, register), other)
                views.append(self._saved[key])
        return views

    def _fallback_text(self) -> str:
        lines: list[str] = []
        for title, agg in self._views():
            if lines:
                lines.append("")
            lines.append(title)
            for label, values in zip(self._labels, agg.values, strict=True):
                cells = ", ".join(
                    f"{o}: {v:.4g}" if self.probabilities else f"{o}: {int(v)}"
                    for o, v in zip(agg.outcomes, values, strict=True)
                )
                lines.append(f"{label}: {cells}")
        return "\n".join(lines)

    def _fallback_html(self) -> str:
        tables = []
        for title, agg in self._views():
            rows = [
                [o, *(f"{v[i]:.4g}" if self.probabilities else int(v[i]) for v in agg.values)]
                for i, o in enumerate(agg.outcomes)
            ]
            tables.append(html_table(["outcome", *self._labels], rows, caption=title))
        return "".join(tables)

    def _fallback_figure(self) -> Any:
        return self.figure_json()
