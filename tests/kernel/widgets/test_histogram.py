"""The histogram: values in the widget's figure and in its static fallback."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from jupyter_qrt.kernel.widgets._static import PLOTLY_MIME
from jupyter_qrt.kernel.widgets.histogram_data import OTHER, outcome_counts
from jupyter_qrt.kernel.widgets.histogram_view import Histogram


def _bars(hist: Histogram) -> list[dict[str, Any]]:
    return hist._repr_mimebundle_()[PLOTLY_MIME]["data"]


def test_counts_of_a_local_sampler_job_are_in_the_figure_and_the_fallback(bell_job: Any) -> None:
    result = bell_job.result()
    hist = Histogram(result)
    counts = result[0].data.meas.get_counts()
    bundle = hist._repr_mimebundle_()
    (trace,) = bundle[PLOTLY_MIME]["data"]
    assert dict(zip(trace["x"], trace["y"], strict=True)) == {
        k: float(v) for k, v in counts.items()
    }
    assert set(trace["x"]) <= {"00", "11"}
    for outcome, count in counts.items():
        assert f"<td>{outcome}</td><td>{count}</td>" in bundle["text/html"]
        assert f"{outcome}: {count}" in bundle["text/plain"]
    # The live view shows the same figure through its Output.
    assert hist._out.outputs[0]["data"][PLOTLY_MIME]["data"] == bundle[PLOTLY_MIME]["data"]


def test_pub_register_bit_order_and_probabilities(bell_job: Any) -> None:
    hist = Histogram(bell_job.result())
    hist.pub = 1  # X on qubit 0, measured into register "c"
    assert hist.register == "c"
    assert _bars(hist)[0]["x"] == ["01"]
    hist.reverse_bits = True
    assert _bars(hist)[0]["x"] == ["10"]
    hist.probabilities = True
    assert _bars(hist)[0]["y"] == [1.0]
    assert (
        hist._repr_mimebundle_()[PLOTLY_MIME]["layout"]["yaxis"]["title"]["text"] == "probability"
    )


def test_several_results_side_by_side_with_labels(bell_job: Any) -> None:
    noisy = {"00": 180, "01": 15, "10": 12, "11": 193}
    hist = Histogram([bell_job.result(), noisy], labels=["ideal", "noisy"])
    ideal_trace, noisy_trace = _bars(hist)
    assert (ideal_trace["name"], noisy_trace["name"]) == ("ideal", "noisy")
    assert noisy_trace["x"] == ["00", "01", "10", "11"]
    assert noisy_trace["y"] == [180.0, 15.0, 12.0, 193.0]
    assert ideal_trace["y"][1:3] == [0.0, 0.0]  # outcomes only the noisy run saw
    assert "<th>ideal</th><th>noisy</th>" in hist._repr_mimebundle_()["text/html"]


def test_65536_outcomes_become_top_k_bars_and_one_other_bar_in_a_small_payload() -> None:
    rng = np.random.default_rng(7)
    counts = {format(n, "016b"): int(c) for n, c in enumerate(rng.integers(1, 50, 2**16))}
    counts["1" * 16] = 10_000  # the one clear peak must be among the bars
    hist = Histogram(counts, top_k=16)
    (trace,) = _bars(hist)
    assert len(trace["x"]) == 17
    assert trace["x"][-1] == OTHER
    assert "1" * 16 in trace["x"]
    assert sum(trace["y"]) == sum(counts.values())  # nothing lost: the rest is in "other"
    payload = len(json.dumps(hist._repr_mimebundle_()))
    assert payload < 200_000


@pytest.mark.parametrize("num_bits", [10, 70])
def test_bitarray_counting_agrees_with_qiskit(num_bits: int) -> None:
    from qiskit.primitives import BitArray

    rng = np.random.default_rng(3)
    nbytes = (num_bits + 7) // 8
    raw = rng.integers(0, 256, size=(300, nbytes), dtype=np.uint8)
    raw[:, 0] &= (1 << (num_bits - 8 * (nbytes - 1))) - 1  # bits beyond num_bits are zero
    bits = BitArray(raw, num_bits)
    keys, values, width = outcome_counts(bits)
    texts = [format(int(k), f"0{width}b") for k in keys] if width else keys.tolist()
    assert dict(zip(texts, values.tolist(), strict=True)) == bits.get_counts()


def test_bad_input_gets_one_message_that_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match="counts dict"):
        Histogram(42)
    with pytest.raises(ValueError, match="one label per result"):
        Histogram([{"0": 1}, {"1": 1}], labels=["only one"])


def test_the_controls_drive_the_figure() -> None:
    hist = Histogram({"00": 6, "01": 1, "10": 1, "11": 2}, top_k=4)
    mode, bars, bits = hist.children[0].children[:3]
    mode.value = True  # what clicking "probabilities" does
    bars.value = 2
    bits.value = True
    (trace,) = _bars(hist)
    assert trace["x"] == ["00", "11", OTHER]
    assert trace["y"] == [0.6, 0.2, 0.2]
    assert "2 outcomes summed in 'other'" in hist._note.value
