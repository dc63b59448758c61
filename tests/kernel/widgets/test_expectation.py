"""The expectation plot: values and error bars in the figure and the fallback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from jupyter_qrt.kernel.widgets._static import PLOTLY_MIME
from jupyter_qrt.kernel.widgets.expectation import ExpectationPlot

ANGLES = [0.0, np.pi / 2, np.pi]


def test_a_sweep_is_lines_with_error_bands_holding_the_estimates(sweep_job: Any) -> None:
    result = sweep_job.result()
    evs, stds = result[0].data.evs, result[0].data.stds
    assert evs.shape == (2, 3)
    # <Z> = cos(theta), <X> = sin(theta) on the ideal simulator. precision=0.05 gives standard
    # errors near 0.05 (0 where the state is an eigenstate); 5 standard errors (plus 1e-9 for
    # the exact cases) fail a correct run with probability below 1e-6 per value.
    expected = np.array([np.cos(ANGLES), np.sin(ANGLES)])
    assert np.all(np.abs(evs - expected) <= 5 * stds + 1e-9)

    plot = ExpectationPlot(result, parameter_values=ANGLES, labels=["RY sweep"])
    bundle = plot._repr_mimebundle_()
    lines = [t for t in bundle[PLOTLY_MIME]["data"] if t.get("mode") == "lines+markers"]
    bands = [t for t in bundle[PLOTLY_MIME]["data"] if t.get("fill") == "toself"]
    assert [t["name"] for t in lines] == ["RY sweep [0]", "RY sweep [1]"]
    assert np.allclose([t["y"] for t in lines], evs)
    assert np.allclose(lines[0]["x"], ANGLES)
    assert np.allclose(bands[0]["y"][:3], evs[0] + stds[0])
    assert f"{evs[1][1]:.4f}" in bundle["text/html"]
    assert f"{stds[1][1]:.4f}" in bundle["text/plain"]


def test_without_a_sweep_each_value_is_a_point_with_an_error_bar(sweep_job: Any) -> None:
    result = sweep_job.result()
    bundle = ExpectationPlot(result)._repr_mimebundle_()
    (trace,) = bundle[PLOTLY_MIME]["data"]
    assert np.allclose(trace["y"], result[0].data.evs.reshape(-1))
    assert np.allclose(trace["error_y"]["array"], result[0].data.stds.reshape(-1))


def test_a_sweep_of_the_wrong_length_says_what_to_pass(sweep_job: Any) -> None:
    with pytest.raises(ValueError, match="one value per parameter set"):
        ExpectationPlot(sweep_job.result(), parameter_values=[0.0, 1.0])


def test_a_sampler_result_is_pointed_to_the_histogram(bell_job: Any) -> None:
    with pytest.raises(TypeError, match="histogram"):
        ExpectationPlot(bell_job.result())
