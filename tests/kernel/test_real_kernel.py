"""One real IPython kernel (jupyter_client's KernelManager): ``%load_ext jupyter_qrt``,
``%qrt_login local`` and a ``%%sampler`` Bell cell give Bell counts, as in a fresh notebook."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .conftest import BELL, IDEAL

ROOT = Path(__file__).resolve().parents[2]
CELL_TIMEOUT_SECONDS = 120
SHOTS = 200


def _kernelspec(where: Path) -> Path:
    # A kernelspec of this interpreter, so the kernel runs the code under test.
    spec = where / "kernels" / "qrt-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    return where


def test_notebook_flow_in_a_real_kernel(tmp_path: Path) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = _kernelspec(tmp_path / "jupyter")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QISKIT_IBM_", "QRT_")) and k not in {"IAM_URL", "JUPYTER_PATH"}
    }
    env.update(PYTHONPATH=str(ROOT), QRT_DATA_DIR=str(tmp_path / "data"))
    manager = KernelManager(
        kernel_name="qrt-test",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")]),
    )
    manager.start_kernel(env=env, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)

        def execute(code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            outputs: list[dict[str, Any]] = []
            reply = client.execute_interactive(
                code, timeout=CELL_TIMEOUT_SECONDS, output_hook=outputs.append
            )
            return reply["content"], outputs

        def text(outputs: list[dict[str, Any]]) -> str:
            parts = []
            for msg in outputs:
                content = msg["content"]
                if msg["msg_type"] == "stream":
                    parts.append(content["text"])
                elif "data" in content:
                    parts.append(content["data"].get("text/plain", ""))
            return "\n".join(parts)

        reply, _ = execute("%load_ext jupyter_qrt")
        assert reply["status"] == "ok"
        reply, outputs = execute("%qrt_login local")
        assert reply["status"] == "ok", reply
        assert "Logged in: account 'local' (local)" in text(outputs)
        reply, outputs = execute(
            f"%%sampler --backend {IDEAL} --shots {SHOTS} --out result\n{BELL}"
        )
        assert reply["status"] == "ok", (reply, text(outputs))
        shown = text(outputs)
        assert ": DONE" in shown  # the job monitor's last state
        assert "bitstring" in shown  # the histogram
        reply, outputs = execute("print(sorted(result[0].data.meas.get_counts().items()))")
        assert reply["status"] == "ok"
        counts = dict(eval(text(outputs)))  # our own printed list of (bitstring, count)
        assert set(counts) <= {"00", "11"}
        assert sum(counts.values()) == SHOTS
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
