"""The guard: a known key never reaches a file saved through Jupyter's contents API."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.server.guard import MARKER, redact

from .conftest import Fetch

CANARY = "qrtCANARY_" + "c4n4ry" * 6 + "_END"


@pytest.fixture
def qrt_config() -> dict[str, Any]:
    return {"read_only_accounts": [{"name": "class", "token": CANARY}], "local_service": False}


def notebook_with(secret: str) -> dict[str, Any]:
    """A notebook model holding ``secret`` in a source, outputs, metadata and an attachment."""
    text_attachment = base64.b64encode(f"key={secret}\n".encode()).decode()
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"qrt": {"note": f"token {secret}"}},
        "cells": [
            {
                "id": "a1",
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {"tags": [secret]},
                "source": [f"service = RuntimeService(token='{secret}')\n", "print(1)"],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": [f"{secret}\n"]},
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "metadata": {},
                        "data": {"text/plain": [f"'{secret}'"], "text/html": [f"<b>{secret}</b>"]},
                    },
                ],
            },
            {
                "id": "m1",
                "cell_type": "markdown",
                "metadata": {},
                "source": f"my key: {secret} ![k](attachment:k.txt)",
                "attachments": {"k.txt": {"text/plain": text_attachment}},
            },
        ],
    }


async def test_a_notebook_saved_through_the_contents_api_loses_the_key(
    jp_fetch: Fetch, jp_root_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = {"type": "notebook", "format": "json", "content": notebook_with(CANARY)}
    await jp_fetch("api", "contents", "leak.ipynb", method="PUT", body=json.dumps(model))
    on_disk = (jp_root_dir / "leak.ipynb").read_text()
    assert CANARY not in on_disk
    saved = json.loads(on_disk)
    attachment = saved["cells"][1]["attachments"]["k.txt"]["text/plain"]
    attachment = "".join(attachment) if isinstance(attachment, list) else attachment
    assert CANARY not in base64.b64decode(attachment).decode()
    assert MARKER in base64.b64decode(attachment).decode()
    assert saved["cells"][0]["source"][0] == f"service = RuntimeService(token='{MARKER}')\n"
    assert saved["cells"][0]["outputs"][0]["text"] == [f"{MARKER}\n"]
    assert saved["metadata"]["qrt"]["note"] == f"token {MARKER}"
    warnings = [r.getMessage() for r in caplog.records if r.name == "jupyter_qrt.server.guard"]
    assert len(warnings) == 1
    assert "leak.ipynb" in warnings[0]
    assert CANARY not in caplog.text


async def test_a_text_file_saved_through_the_contents_api_loses_the_key(
    jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    model = {"type": "file", "format": "text", "content": f"QISKIT_IBM_TOKEN={CANARY}\n"}
    await jp_fetch("api", "contents", "env.sh", method="PUT", body=json.dumps(model))
    assert (jp_root_dir / "env.sh").read_text() == f"QISKIT_IBM_TOKEN={MARKER}\n"
    raw = base64.b64encode(f"{CANARY}!".encode()).decode()
    model = {"type": "file", "format": "base64", "content": raw}
    await jp_fetch("api", "contents", "key.bin", method="PUT", body=json.dumps(model))
    assert (jp_root_dir / "key.bin").read_bytes() == f"{MARKER}!".encode()


def test_short_secrets_are_not_matched_and_clean_models_are_untouched() -> None:
    short = "abc123def456"  # 12 characters: would match ordinary text by chance
    model: dict[str, Any] = {"type": "file", "format": "text", "content": f"x {short} y"}
    assert redact(model, [short]) == 0
    assert model["content"] == f"x {short} y"
    clean = {"type": "notebook", "content": notebook_with("nothing-secret-here")}
    before = json.dumps(clean)
    assert redact(clean, [CANARY]) == 0
    assert json.dumps(clean) == before
    nested = {"type": "notebook", "content": notebook_with(CANARY)}
    assert redact(nested, [CANARY, CANARY[:20]]) == 8  # the longer key replaced whole
    assert CANARY[:20] not in json.dumps(nested)
