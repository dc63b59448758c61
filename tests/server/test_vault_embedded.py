"""A ``local`` account given without a URL is a key of the embedded local service; its URL follows
the service (whose port changes at each start)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from jupyter_qrt.server.settings import SETTINGS_FILENAME

from .conftest import Fetch, fetch_json
from .test_vault import file_entries, post


async def test_a_key_of_the_embedded_service_follows_its_url(
    jp_fetch: Fetch, jp_serverapp: Any, accounts_file: Path, jp_data_dir: Path
) -> None:
    (extension,) = jp_serverapp.extension_manager.extension_apps["jupyter_qrt"]
    service = await extension.embedded.ready(timeout=120)
    body = {"name": "mine", "channel": "local", "token": service.api_key, "set_default": True}
    answer = await fetch_json(jp_fetch, "accounts", **post(body))
    assert answer["account"]["instance"] == service.instance
    assert answer["default"] == "mine"
    assert file_entries(accounts_file)["mine"]["url"] == service.url
    settings = json.loads((jp_data_dir / "jupyter-qrt" / SETTINGS_FILENAME).read_text())
    assert settings == {"default_account": "mine", "embedded_accounts": ["mine"]}
    # Next start, another port: the saved URL is stale, the account still reaches the service.
    stale = replace(extension.vault.store.get("mine"), url="http://127.0.0.1:9")
    extension.vault.store.save(stale, name="mine", overwrite=True)
    assert extension.vault.account("mine").url == service.url
