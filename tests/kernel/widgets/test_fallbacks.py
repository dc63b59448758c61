"""What a saved notebook keeps: each widget's static bundle through IPython's display path."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from IPython.core.formatters import DisplayFormatter

from jupyter_qrt.kernel import widgets
from jupyter_qrt.kernel.widgets._static import PLOTLY_MIME

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _formatted(widget: Any) -> dict[str, Any]:
    data, _metadata = DisplayFormatter().format(widget)
    return data


def test_every_widget_leaves_text_html_and_its_figure_in_the_output(
    service: Any, bell_job: Any, sweep_job: Any
) -> None:
    counts = bell_job.result()[0].data.meas.get_counts()
    made = {
        "histogram": widgets.histogram(bell_job.result()),
        "expectation": widgets.expectation_plot(sweep_job.result(), parameter_values=[0, 1, 2]),
        "monitor": widgets.job_monitor(bell_job, service=service),
        "backends": widgets.backend_browser(service),
        "jobs": widgets.jobs_table(service, 5),
        "instances": widgets.instance_picker(service),
        "dashboard": widgets.dashboard(service),
        "account": widgets.account_setup(),
    }
    made["backends"].selected = "qrt_wren"
    for name, widget in made.items():
        data = _formatted(widget)
        assert {"text/plain", "text/html", WIDGET_VIEW} <= set(data), name
    hist = _formatted(made["histogram"])
    assert [f"{k}: {v}" in hist["text/plain"] for k, v in counts.items()] == [True] * len(counts)
    assert sorted(hist[PLOTLY_MIME]["data"][0]["y"]) == sorted(float(v) for v in counts.values())
    assert PLOTLY_MIME in _formatted(made["expectation"])
    assert PLOTLY_MIME in _formatted(made["backends"])
    # What nbformat stores must be JSON.
    for widget in made.values():
        json.dumps(_formatted(widget))


def test_loading_the_widgets_package_imports_no_widget_plotting_or_qiskit_module() -> None:
    code = (
        "import sys, jupyter_qrt.kernel.widgets as w; w.job_monitor; "
        "print([m for m in ('ipywidgets', 'plotly', 'qiskit', 'anywidget') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_no_submodule_shadows_an_interface_function() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(widgets.__path__):
        importlib.import_module(f"{widgets.__name__}.{info.name}")
    assert sorted(widgets.__all__) == [
        "account_setup",
        "backend_browser",
        "dashboard",
        "expectation_plot",
        "histogram",
        "instance_picker",
        "job_monitor",
        "jobs_table",
    ]
    for name in widgets.__all__:
        assert callable(getattr(widgets, name)), name
        assert not hasattr(getattr(widgets, name), "__path__"), name
