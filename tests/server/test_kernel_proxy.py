"""Proof: a real kernel started by the Jupyter server runs Bell circuits keyless through the proxy.

One kernel (each start costs seconds) runs, on the embedded ``local`` account and on a second
account ``ibm`` backed by another :class:`LocalService` standing in for IBM:

- jupyter-qrt's own ``RuntimeService()`` / ``RuntimeService("ibm")`` with our ``Sampler``;
- IBM's tutorial code, unmodified: ``QiskitRuntimeService()`` + ``SamplerV2(mode=backend)`` and
  the executor-based ``Sampler`` (the ``executor`` program, through the same proxy), with
  the environment the extension gives kernels (for ``ibm``, the same variables pointed at that
  account, as the extension sets them when ``ibm`` is the default);
- the magics as a person types them: ``%load_ext jupyter_qrt``, ``%qrt_login ibm``, ``%%sampler``.

The kernel's environment holds no API key (checked), and the accounts file the kernel could read
holds none for ``local``. Bell on the ideal simulator gives only 00 and 11, summing to the shots:
that is exact, no statistics involved.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.local.server import LocalService
from jupyter_qrt.runtime.accounts import Account, AccountStore
from jupyter_qrt.server.app import DEFAULT_ALLOWED_HOSTS, QRTExtension

SHOTS = 200
KERNEL_TIMEOUT_S = 240

KERNEL_CODE = """
import json, os, warnings
warnings.filterwarnings("ignore", category=DeprecationWarning)
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)
bell.measure_all()
SHOTS = %(shots)d
IDEAL = "qrt_ideal_simulator"
out = {"keys_in_env": [k for k, v in os.environ.items() if v in %(secrets)r]}

from jupyter_qrt.runtime import RuntimeService, Sampler
for name in ("local", "ibm"):
    service = RuntimeService() if name == "local" else RuntimeService(name)
    backend = service.backend(IDEAL)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)
    result = Sampler(mode=backend).run([isa], shots=SHOTS).result(timeout=120)
    out["ours-" + name] = result[0].data.meas.get_counts()
    out["ours-url-" + name] = service.account.url

from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2
def official(name):
    if name != "local":
        for var in ("QISKIT_IBM_URL", "GLOBAL_SEARCH_URL", "GLOBAL_CATALOG_URL"):
            os.environ[var] = os.environ[var].replace("/runtime/local/", "/runtime/" + name + "/")
        os.environ["QISKIT_IBM_INSTANCE"] = %(ibm_instance)r
    # IBM's tutorial code, unmodified:
    service = QiskitRuntimeService()
    backend = service.backend(IDEAL)
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(bell)
    job = SamplerV2(mode=backend).run([isa], shots=SHOTS)
    # ... and IBM's executor-based Sampler (program "executor"), also unmodified:
    from qiskit_ibm_runtime.executor_sampler import Sampler as ExecutorSampler
    executor_job = ExecutorSampler(mode=backend).run([isa], shots=SHOTS)
    return (
        job.result()[0].data.meas.get_counts(),
        executor_job.result()[0].data.meas.get_counts(),
    )
for name in ("local", "ibm"):
    out["official-" + name], out["executor-" + name] = official(name)

# The magics, as a person types them, through the server (the kernel holds no key).
ip = get_ipython()
ip.run_line_magic("load_ext", "jupyter_qrt")
ip.run_line_magic("qrt_login", "ibm")
ip.run_cell_magic("sampler", f"--backend {IDEAL} --shots {SHOTS} --out magic_result", "bell")
out["magics-ibm"] = magic_result[0].data.meas.get_counts()
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def ibm_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalService]:
    service = LocalService(tmp_path_factory.mktemp("ibm-stand-in"), workers=1)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def qrt_config(ibm_service: LocalService) -> dict[str, Any]:
    return {"allowed_hosts": [*DEFAULT_ALLOWED_HOSTS, f"127.0.0.1:{ibm_service.port}"]}


def extension(serverapp: Any) -> QRTExtension:
    (app,) = serverapp.extension_manager.extension_apps["jupyter_qrt"]
    assert isinstance(app, QRTExtension)
    return app


async def run_in_kernel(serverapp: Any, code: str) -> str:
    """Start a kernel with the server's kernel manager, run ``code``, return its stdout."""
    manager = serverapp.kernel_manager
    kernel_id = await manager.start_kernel()
    client = manager.get_kernel(kernel_id).client()
    stdout: list[str] = []
    errors: list[str] = []

    def on_output(message: dict[str, Any]) -> None:
        content = message["content"]
        if message["msg_type"] == "stream" and content.get("name") == "stdout":
            stdout.append(content["text"])
        elif message["msg_type"] == "error":
            errors.append("\n".join(content.get("traceback") or [content.get("evalue", "")]))

    try:
        client.start_channels()
        await client.wait_for_ready(timeout=120)
        reply = await client.execute_interactive(
            code, output_hook=on_output, timeout=KERNEL_TIMEOUT_S
        )
        assert reply["content"]["status"] == "ok", "\n".join(errors)
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(kernel_id, now=True)
    return "".join(stdout)


async def test_a_kernel_runs_bell_keyless_with_both_clients_on_two_accounts(
    jp_serverapp: Any, http_server_client: Any, accounts_file: Path, ibm_service: LocalService
) -> None:
    app = extension(jp_serverapp)
    local = await app.embedded.ready()
    key = ibm_service.runtime.create_key(ibm_service.instance, "jupyter-kernel-proof")
    AccountStore(str(accounts_file)).save(
        Account(
            name="ibm",
            channel="local",
            token=key,
            url=ibm_service.url,
            instance=ibm_service.instance,
        ),
        set_as_default=False,
    )
    app.update_kernel_env()  # what the server does once the local service is up
    secrets = [key, local.api_key]
    code = KERNEL_CODE % {"shots": SHOTS, "secrets": secrets, "ibm_instance": ibm_service.instance}

    stdout = await run_in_kernel(jp_serverapp, code)

    line = next(line for line in stdout.splitlines() if line.startswith("RESULT "))
    out = json.loads(line.removeprefix("RESULT "))
    assert out["keys_in_env"] == []
    # %qrt_login names the server account's own channel, not the kernel's way to the proxy.
    assert "Logged in: account 'ibm' (local), instance" in stdout
    assert out["ours-url-ibm"].endswith("/jupyter-qrt/runtime/ibm/experimental/api/v1")
    assert out["ours-url-local"].endswith("/jupyter-qrt/runtime/local/experimental/api/v1")
    runs = ("ours", "official", "executor")
    for run in [f"{r}-{n}" for r in runs for n in ("local", "ibm")] + ["magics-ibm"]:
        counts = out[run]
        assert set(counts) <= {"00", "11"}, (run, counts)
        assert sum(counts.values()) == SHOTS, (run, counts)
    # Each account's jobs ran on its own service: the stand-in holds exactly the 'ibm' runs.
    ibm_jobs = ibm_service.runtime.jobs(ibm_service.instance)
    # ours, the official client's SamplerV2 and executor Sampler, the magic's
    assert len(ibm_jobs["jobs"]) == 4
    assert sorted(job["program"]["id"] for job in ibm_jobs["jobs"]) == [
        "executor",
        "sampler",
        "sampler",
        "sampler",
    ]
    assert os.environ["QRT_KERNEL_TOKEN"] not in (key, local.api_key)
