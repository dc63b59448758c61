"""Account setup: the key goes from the browser to the server extension, never to the kernel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_qrt.kernel.widgets.account_form import ESM, NO_SERVER_MESSAGE, AccountSetup

DRIVER = Path(__file__).with_name("account_form_driver.mjs")
KEY = "SECRET-KEY-123"


@pytest.fixture(scope="module")
def browser_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ES module is exercised under node")
    esm = tmp_path_factory.mktemp("esm") / "account_form.mjs"
    esm.write_text(ESM)  # the module the browser gets: page.js, then account_form.js
    done = subprocess.run(
        [node, str(DRIVER), str(esm)], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_the_base_url_comes_from_the_body_the_page_config_or_the_location(
    browser_run: dict[str, Any],
) -> None:
    assert browser_run["baseUrls"] == {
        "notebook7_body": "/user/alice/",
        "lab_config": "/hub/user/bob/",
        "lab_location": "/user/carol/",
        "notebook7_location": "/",
        "root_location": "/",
    }
    assert browser_run["xsrf"] == "2|abc|def=|1700"


def test_the_key_is_posted_to_the_server_with_xsrf_and_never_set_on_the_model(
    browser_run: dict[str, Any],
) -> None:
    saved = browser_run["saved"]
    assert saved["ok"] is True
    (request,) = saved["requests"]
    assert request["url"] == "/user/alice/jupyter-qrt/accounts"
    assert request["method"] == "POST"
    assert request["headers"]["X-XSRFToken"] == "tok-1"
    assert request["body"]["token"] == KEY
    assert request["body"]["name"] == "work"
    assert request["body"]["url"] == "https://cloud.example/"
    # The body is one the server extension takes: it refuses a field it does not know.
    from jupyter_qrt.server.accounts_routes import account_fields

    fields, set_default = account_fields(request["body"])
    assert (fields["name"], fields["token"], set_default) == ("work", KEY, True)
    assert fields["url"] == "https://cloud.example/"
    # What the kernel hears: the summary, without the key or an echoed token.
    assert ["result", {"name": "work", "channel": "ibm_cloud", "fingerprint": "...9f2c"}] in saved[
        "sets"
    ]
    assert KEY not in json.dumps(saved["sets"])
    assert "ECHOED" not in json.dumps(saved["sets"])


def test_every_edited_field_reaches_the_model_though_each_set_redraws_the_form(
    browser_run: dict[str, Any],
) -> None:
    assert browser_run["pushed"] == {
        "name": "mine",
        "channel": "local",
        "url": "http://127.0.0.1:8001",
        "set_default": False,
    }


def test_a_refused_key_reports_the_servers_message(browser_run: dict[str, Any]) -> None:
    refused = browser_run["refused"]
    assert refused["ok"] is False
    assert [
        "error",
        "The account was not saved: The key was rejected by IAM: check it and try again.",
    ] in refused["sets"]
    assert KEY not in json.dumps(refused["sets"])


def test_no_trait_can_hold_a_key_and_a_reported_result_is_stripped_of_one() -> None:
    setup = AccountSetup(env={"QRT_SERVER_URL": "http://127.0.0.1:1/", "QRT_KERNEL_TOKEN": "kt"})
    assert setup.server is True
    state = setup.get_state()
    assert not {"token", "key", "api_key", "apikey"} & set(state)
    setup.result = {"name": "work", "channel": "ibm_cloud", "token": KEY}
    assert setup.result == {"name": "work", "channel": "ibm_cloud"}
    bundle, _metadata = setup._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "work" in bundle["text/html"]
    assert KEY not in json.dumps(bundle, default=str)


def test_without_the_server_extension_it_points_to_qrt_login() -> None:
    setup = AccountSetup(env={})
    assert setup.server is False
    assert "%qrt_login" in setup.message
    assert "getpass" in NO_SERVER_MESSAGE
    assert "%qrt_login" in setup._repr_mimebundle_()[0]["text/plain"]
    with pytest.raises(ValueError, match="channel must be one of"):
        AccountSetup(channel="ibm_quantum", env={})
