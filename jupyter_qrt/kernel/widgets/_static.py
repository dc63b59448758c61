"""Static fallbacks: the text, HTML and plotly JSON a widget leaves in a saved notebook.

A live widget shows through ``application/vnd.jupyter.widget-view+json``; nbconvert, GitHub and a
notebook opened without its kernel cannot render that, so every widget of this package adds
``text/plain``, ``text/html`` and, when it draws a figure, ``application/vnd.plotly.v1+json`` to
its mimebundle. Plain Python: no ipywidgets or plotly import here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "PLOTLY_MIME",
    "StaticFallback",
    "esc",
    "figure_data",
    "figure_output",
    "fmt_number",
    "html_table",
]

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def esc(value: Any) -> str:
    """HTML-escaped text of ``value`` (``""`` for None)."""
    return "" if value is None else html.escape(str(value))


def fmt_number(value: Any, digits: int = 3) -> str:
    """A number for a table cell: ``"-"`` when missing, short scientific form when small."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}"


def html_table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, caption: str | None = None
) -> str:
    """An HTML table (every cell escaped)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<table class="qrt-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def figure_data(figure: Any) -> dict[str, Any]:
    """The plotly mimebundle value of a ``go.Figure`` or a figure dict: plain JSON."""
    if isinstance(figure, Mapping):  # already plotly JSON (built without plotly's validators)
        return dict(figure)
    # to_json goes through plotly's encoder (numpy, dates); loading it back gives plain lists.
    data: dict[str, Any] = json.loads(figure.to_json())
    data.setdefault("config", {})
    data["config"].setdefault("displaylogo", False)
    return data


def figure_output(figure: Mapping[str, Any], text: str, html: str) -> tuple[dict[str, Any], ...]:
    """The ``outputs`` of an ``ipywidgets.Output`` that shows a plotly figure.

    JupyterLab draws the plotly JSON; a page that renders saved widget state without plotly's
    renderer (nbconvert's embedded widgets) falls back to the HTML table, then to the text.
    """
    return (
        {
            "output_type": "display_data",
            "data": {PLOTLY_MIME: dict(figure), "text/html": html, "text/plain": text},
            "metadata": {},
        },
    )


class StaticFallback:
    """Mixin for an ipywidgets ``DOMWidget``: adds the static fallback to its mimebundle.

    Subclasses implement :meth:`_fallback_text`, :meth:`_fallback_html` and, when they draw,
    :meth:`_fallback_figure` (a ``go.Figure`` or None).
    """

    def _fallback_text(self) -> str:
        raise NotImplementedError

    def _fallback_html(self) -> str:
        raise NotImplementedError

    def _fallback_figure(self) -> Any:
        return None

    def static_bundle(self) -> dict[str, Any]:
        """``text/plain``, ``text/html`` and (when drawn) the plotly figure, without the widget."""
        bundle: dict[str, Any] = {
            "text/plain": self._fallback_text(),
            "text/html": self._fallback_html(),
        }
        figure = self._fallback_figure()
        if figure is not None:
            bundle[PLOTLY_MIME] = figure_data(figure)
        return bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # ipywidgets gives text/plain and the widget view; the static parts come after so a
        # frontend with a live widget manager still picks the view.
        parent = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        metadata = None
        if isinstance(parent, tuple):  # anywidget answers (data, metadata)
            parent, metadata = parent
        bundle = self.static_bundle()
        if parent:
            bundle.update({k: v for k, v in parent.items() if k != "text/plain"})
        return bundle if metadata is None else (bundle, metadata)
