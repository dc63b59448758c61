"""Classroom mode: the operator's accounts are read-only, users may not add any, and the classroom
key taken from the server's environment reaches no kernel and no terminal."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from jupyter_qrt.server.vault import USER_ACCOUNTS_OFF

from .conftest import Fetch, fetch_json
from .test_vault import error_of, post

CLASS_KEY = "qrtCLASSROOM_" + "k3y" * 12 + "_END"
CLASS_CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/class0:inst-class0::"
TEACHER_KEY = "qrtTEACHER_" + "t" * 36


@pytest.fixture
def qrt_config(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # What a JupyterHub spawner does: the key in the single-user server's environment.
    monkeypatch.setenv("QISKIT_IBM_TOKEN", CLASS_KEY)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", CLASS_CRN)
    return {
        "allow_user_accounts": False,
        "read_only_accounts": [{"name": "teacher", "token": TEACHER_KEY, "plan": "open"}],
        "local_service": False,
    }


async def test_the_list_marks_the_operator_s_accounts_read_only(jp_fetch: Fetch) -> None:
    listed = await fetch_json(jp_fetch, "accounts")
    assert listed["allow_user_accounts"] is False
    by_name = {a["name"]: a for a in listed["accounts"]}
    assert list(by_name) == ["local", "teacher", "classroom"]
    assert by_name["classroom"]["read_only"] is True
    assert by_name["classroom"]["instance"] == CLASS_CRN
    assert by_name["teacher"]["read_only"] is True
    assert CLASS_KEY not in json.dumps(listed)
    assert TEACHER_KEY not in json.dumps(listed)
    assert (await fetch_json(jp_fetch, "status"))["mode"] == "classroom"


async def test_users_may_not_add_or_delete_but_may_choose_the_default(jp_fetch: Fetch) -> None:
    body = {"name": "mine", "token": "m" * 44}
    assert await error_of(jp_fetch, 403, "accounts", **post(body)) == USER_ACCOUNTS_OFF
    message = await error_of(jp_fetch, 403, "accounts", "classroom", method="DELETE")
    assert "cannot be deleted" in message
    patch = {"method": "PATCH", "body": json.dumps({"default": True})}
    assert (await fetch_json(jp_fetch, "accounts", "classroom", **patch))["default"] == "classroom"
    assert os.environ["QISKIT_IBM_INSTANCE"] == CLASS_CRN


async def test_a_real_kernel_does_not_inherit_the_classroom_key(jp_serverapp: Any) -> None:
    assert os.environ.get("QISKIT_IBM_TOKEN") != CLASS_KEY  # taken out at start-up
    manager = jp_serverapp.kernel_manager
    kernel_id = await manager.start_kernel()
    client = manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        code = (
            "import os, json; print(json.dumps({'token': os.environ.get('QISKIT_IBM_TOKEN'), "
            "'all': '\\n'.join(os.environ.values())}))"
        )
        msg_id = client.execute(code)
        printed = ""
        for _ in range(50):  # bounded: a handful of iopub messages come per execution
            message = await client.get_iopub_msg(timeout=30)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                printed += message["content"]["text"]
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                break
        seen = json.loads(printed)
        # The official client in the kernel gets the kernel token, never the classroom key.
        assert seen["token"] == os.environ["QRT_KERNEL_TOKEN"]
        assert CLASS_KEY not in seen["all"]
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(kernel_id, now=True)


async def test_a_terminal_does_not_inherit_the_classroom_key(
    jp_fetch: Fetch, jp_ws_fetch: Any
) -> None:
    created = json.loads((await jp_fetch("api", "terminals", method="POST", body="{}")).body)
    ws = await jp_ws_fetch("terminals", "websocket", created["name"])
    try:
        ws.write_message(json.dumps(["stdin", "echo BEGIN${QISKIT_IBM_TOKEN}END; env | wc -c\r"]))
        output = ""
        for _ in range(200):  # bounded: the shell echoes, then prints the line
            raw = await asyncio.wait_for(ws.read_message(), 30)
            if raw is None:
                break
            kind, *rest = json.loads(raw)
            if kind == "stdout":
                output += rest[0]
            if "BEGINqrtk_" in output or "BEGINEND" in output:
                break
        assert "BEGINqrtk_" in output  # the kernel token, as kernels get it
        assert CLASS_KEY not in output
    finally:
        ws.close()
        await jp_fetch("api", "terminals", created["name"], method="DELETE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_the_key_is_scrubbed_from_the_process_s_initial_environment() -> None:
    # A kernel runs as the same user as the server and may read /proc/<server pid>/environ,
    # which os.environ.pop alone leaves untouched.
    # The key is passed reversed too, so that the needle itself is not in the environment.
    code = (
        "import os\n"
        "from jupyter_qrt.server.classroom import scrub_process_environ\n"
        "key = os.environ['REVERSED'][::-1].encode()\n"
        "def seen(): return open('/proc/self/environ', 'rb').read().count(key)\n"
        "before = seen()\n"
        "count = scrub_process_environ(['QISKIT_IBM_TOKEN'])\n"
        "os.environ.pop('QISKIT_IBM_TOKEN')\n"
        "print(before, count, seen())\n"
    )
    env = {**os.environ, "QISKIT_IBM_TOKEN": CLASS_KEY, "REVERSED": CLASS_KEY[::-1]}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1", "0"]
