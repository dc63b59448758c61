"""What the scenarios do in the browser: open a notebook, run it, save it, read its outputs.

JupyterLab's kernel indicator reads idle before the kernel is connected, so a notebook counts
as ready only once the status bar says ``Idle`` after the kernel's name appeared, and a run
counts as done only once every code cell's prompt shows ``[n]``. Every wait is bounded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Request, WebSocket, expect

__all__ = [
    "ReceivedTraffic",
    "bell_cell",
    "cell_outputs_text",
    "code_cell",
    "drawn_segments",
    "new_notebook",
    "open_notebook",
    "post_json",
    "record_job_states",
    "recorded_job_states",
    "rendered_counts",
    "run_all_cells",
    "run_cell",
    "run_from_cell",
    "save_notebook",
    "storage_of",
    "wait_kernel_idle",
    "wait_prompts",
]

KERNEL_START_MS = 120_000
"""A kernel's first start imports IPython and more: seconds, much more on a busy machine."""

RUN_MS = 240_000
"""Running a notebook of a few small jobs (a job waits for a worker process)."""

_PROMPT = re.compile(r"^\[(\d+)\]:?$")


def new_notebook(path: Path, *cells: str) -> Path:
    """Write a notebook of code ``cells`` (nbformat 4) at ``path``."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{n}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for n, source in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))
    return path


def bell_cell(backend: str, shots: int) -> str:
    """A ``%%sampler`` cell sampling a Bell pair on ``backend``."""
    return "\n".join(
        [
            f"%%sampler --backend {backend} --shots {shots}",
            "from qiskit import QuantumCircuit",
            "bell = QuantumCircuit(2)",
            "bell.h(0)",
            "bell.cx(0, 1)",
            "bell.measure_all()",
            "bell",
        ]
    )


def wait_kernel_idle(page: Page, timeout_ms: int = KERNEL_START_MS) -> None:
    """Wait until the status bar shows the kernel connected and ``Idle``."""
    status = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle"))
    expect(status.first).to_be_visible(timeout=timeout_ms)


def open_notebook(page: Page, base_url: str, path: str) -> None:
    """Open ``path`` (relative to the notebook dir) in JupyterLab on a fresh workspace."""
    page.goto(f"{base_url}/lab/tree/{path}?reset")
    expect(page.locator(".jp-NotebookPanel .jp-Notebook").first).to_be_visible(
        timeout=KERNEL_START_MS
    )
    wait_kernel_idle(page)


def run_all_cells(page: Page) -> None:
    """Run > Run All Cells, through the menu as a person would."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()


def code_cell(page: Page, index: int) -> Locator:
    """Code cell ``index`` (0-based) of the open notebook."""
    return page.locator(".jp-NotebookPanel .jp-CodeCell").nth(index)


def run_cell(page: Page, index: int) -> None:
    """Run code cell ``index`` in place (Ctrl+Enter) and wait until it shows ``[n]``."""
    cell = code_cell(page, index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    expect(cell.locator(".jp-InputArea-prompt")).to_have_text(
        re.compile(r"^\[\d+\]:?$"), timeout=RUN_MS
    )


def run_from_cell(page: Page, index: int) -> None:
    """Select code cell ``index``, then Run > Run Selected Cell and All Below."""
    code_cell(page, index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")  # command mode: the menu acts on the selected cell
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run Selected Cell and All Below")).click()


def prompts(page: Page) -> list[str]:
    """The input prompts of the code cells, e.g. ``["[1]:", "[*]:"]``."""
    # textContent, not innerText: a cell scrolled out of a long notebook is not rendered
    # (JupyterLab's windowing), and its innerText is empty.
    texts: list[str] = page.locator(
        ".jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt"
    ).evaluate_all("ps => ps.map(p => p.textContent)")
    return [text.strip() for text in texts]


def wait_prompts(page: Page, timeout_ms: int = RUN_MS) -> list[int]:
    """Wait until every code cell shows ``[n]`` and the kernel is idle; the numbers, in order.

    A cell that raised shows its error: the wait fails with the error's text.
    """
    page.wait_for_function(
        """() => {
            const ps = [...document.querySelectorAll(
                '.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')];
            return ps.length > 0 && ps.every(p => /^\\[\\d+\\]:?$/.test(p.textContent.trim()));
        }""",
        timeout=timeout_ms,
    )
    wait_kernel_idle(page)
    errors = page.locator('[data-mime-type="application/vnd.jupyter.error"]').all_inner_texts()
    assert not errors, "a cell raised:\n" + "\n".join(errors)
    found = [_PROMPT.match(p) for p in prompts(page)]
    return [int(m.group(1)) for m in found if m]


def cell_outputs_text(page: Page, index: int) -> str:
    """The rendered text of code cell ``index``'s outputs."""
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(index)
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def rendered_counts(page: Page, cell: int) -> dict[str, int]:
    """The counts code cell ``cell`` shows: plotly bars if any, else the table's rows."""
    output = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(cell).locator(".jp-OutputArea")
    plots: list[Any] = output.locator(".js-plotly-plot").evaluate_all(
        "els => els.map(el => (el.data || []).map(t => [t.x, t.y]))"
    )
    counts: dict[str, int] = {}
    for traces in plots:
        for xs, ys in traces:
            for x, y in zip(xs or [], ys or [], strict=False):
                counts[str(x)] = counts.get(str(x), 0) + int(y)
    if counts:
        return counts
    rows: list[list[str]] = output.locator("table tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return {row[0]: int(row[1]) for row in rows if len(row) >= 2 and row[1].isdigit()}


def record_job_states(page: Page) -> None:
    """Record, from now on, every status each job monitor of the page shows.

    A ``MutationObserver`` reads the monitors' ``[data-qrt="job-summary"]`` after every change
    of the page, so no state the page drew is missed, however short; states the page never drew
    (a job that ended between two polls) are not there. :func:`recorded_job_states` reads them.
    """
    page.evaluate(
        """() => {
            const seen = (window.__qrtJobStates = window.__qrtJobStates || {});
            const look = () => {
                for (const el of document.querySelectorAll('[data-qrt="job-summary"]')) {
                    const job = el.getAttribute('data-qrt-job');
                    const status = el.getAttribute('data-qrt-status');
                    const states = (seen[job] = seen[job] || []);
                    if (states[states.length - 1] !== status) states.push(status);
                }
            };
            new MutationObserver(look).observe(document.body, {
                subtree: true, childList: true, attributes: true, characterData: true,
            });
            look();
        }"""
    )


def recorded_job_states(page: Page) -> dict[str, list[str]]:
    """Job id -> the statuses its monitor showed, in order (see :func:`record_job_states`)."""
    states: dict[str, list[str]] = page.evaluate("() => window.__qrtJobStates || {}")
    return states


def drawn_segments(plot: Locator) -> dict[str, int]:
    """Line segments of a plotly figure's line traces: ``data`` counts them in the figure's data
    (pairs of points between ``None`` gaps), ``svg`` in the paths plotly drew (one ``M`` per
    segment)."""
    counted: dict[str, int] = plot.evaluate(
        """el => {
            let data = 0;
            for (const t of el.data || []) {
                if (t.mode !== 'lines') continue;
                let run = 0;
                for (const x of [...(t.x || []), null]) {
                    if (x === null || x === undefined) {
                        if (run > 1) data += run - 1;
                        run = 0;
                    } else {
                        run += 1;
                    }
                }
            }
            let svg = 0;
            for (const path of el.querySelectorAll('.scatterlayer .trace path.js-line')) {
                svg += ((path.getAttribute('d') || '').match(/M/g) || []).length;
            }
            return {data, svg};
        }"""
    )
    return counted


def save_notebook(page: Page, path: Path, timeout_ms: int = 30_000) -> dict[str, Any]:
    """Save with Ctrl+S; wait until the file on disk holds the run's outputs; return it."""
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel-toolbar .jp-mod-dirty')"
        " && !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')",
        timeout=timeout_ms,
    )
    saved: dict[str, Any] = json.loads(path.read_text())
    assert any(c.get("outputs") for c in saved["cells"]), "the saved notebook has no outputs"
    return saved


def post_json(page: Page, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST`` JSON from the page's own context, as the extension's widgets do: the session
    cookie and the ``_xsrf`` cookie echoed in ``X-XSRFToken``. Returns status and body.

    Returns once the page's ``requestfinished`` event was dispatched, so a
    :class:`ReceivedTraffic` has read the answer before the page navigates away (a navigation
    drops the previous document's response bodies)."""
    with page.expect_request_finished(
        lambda request: request.method == "POST" and request.url.endswith(path)
    ):
        result: dict[str, Any] = page.evaluate(
            """async ([path, body]) => {
                const xsrf = (document.cookie.match('(^|;)\\\\s*_xsrf=([^;]*)') || [])[2] || '';
                const response = await fetch(path, {
                    method: 'POST',
                    credentials: 'same-origin',
                    headers: {'Content-Type': 'application/json', 'X-XSRFToken': xsrf},
                    body: JSON.stringify(body),
                });
                return {status: response.status, body: await response.text()};
            }""",
            [path, body],
        )
    return result


def storage_of(page: Page) -> str:
    """Everything in the page's ``localStorage`` and ``sessionStorage``, as one JSON text."""
    text: str = page.evaluate(
        """() => JSON.stringify({
            local: Object.fromEntries(Object.entries(localStorage)),
            session: Object.fromEntries(Object.entries(sessionStorage)),
        })"""
    )
    return text


@dataclass
class ReceivedTraffic:
    """Every response body, websocket frame and server-sent event the page received, kept as
    it arrives.

    A body is read when its request finished (so large script bundles are read before the
    browser may drop them from its buffer); a response whose body cannot be read (a redirect,
    an aborted stream) is listed in ``unreadable``.
    """

    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    events: list[tuple[str, bytes]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> ReceivedTraffic:
        page.on("requestfinished", self._on_finished)
        page.on("websocket", self._on_websocket)
        # A server-sent event stream (the sidebar's jobs/events) never finishes, so its body is
        # never readable: its messages come from the DevTools protocol as they arrive.
        devtools = page.context.new_cdp_session(page)
        devtools.on("Network.eventSourceMessageReceived", self._on_event)
        devtools.send("Network.enable")
        return self

    def _on_event(self, message: dict[str, Any]) -> None:
        data = f"{message.get('eventName', '')}\n{message.get('data', '')}"
        self.events.append((f"event-stream {message.get('requestId', '')}", data.encode()))

    def _on_finished(self, request: Request) -> None:
        response = request.response()
        if response is None:
            return
        try:
            self.bodies.append((response.url, response.body()))
        except Exception:  # redirects and some cached responses have no body to read
            self.unreadable.append(f"{response.status} {response.url}")

    def _on_websocket(self, socket: WebSocket) -> None:
        def keep(payload: str | bytes) -> None:
            data = payload.encode() if isinstance(payload, str) else payload
            self.frames.append((socket.url, data))

        socket.on("framereceived", keep)

    def containing(self, secret: str) -> list[str]:
        """The URLs of the bodies, frames and events that contain ``secret``."""
        needle = secret.encode()
        received = [*self.bodies, *self.frames, *self.events]
        return [url for url, data in received if needle in data]
