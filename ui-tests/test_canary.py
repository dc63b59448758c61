"""The canary key, added from the browser, appears nowhere a user, a notebook or a log could see.

The page adds an account through ``POST /jupyter-qrt/accounts`` from its own context (``fetch``
with the session cookie and the ``_xsrf`` cookie, as the account widget does). Its key is the
key of a second local runtime service standing in for IBM: the canary. A notebook then runs a
Bell job on that account with the magics and is saved. The canary is then in none of: the saved
``.ipynb``, the kernel's ``os.environ``, the server's log at ``--debug``, the page's
``localStorage``/``sessionStorage`` and DOM, and every response body and websocket frame the
browser received.
"""

from __future__ import annotations

import json

from lab_page import (
    ReceivedTraffic,
    bell_cell,
    new_notebook,
    open_notebook,
    post_json,
    rendered_counts,
    run_all_cells,
    save_notebook,
    storage_of,
    wait_prompts,
)
from lab_server import LabServer
from playwright.sync_api import Page

from jupyter_qrt.local.server import LocalService

ACCOUNT = "lab"
IDEAL = "qrt_ideal_simulator"
SHOTS = 100
ENV_FILE = "ui-kernel-env.json"
ENV_CELL = f"""import json, os
with open({ENV_FILE!r}, "w") as f:
    json.dump(dict(os.environ), f)
len(os.environ)"""


def test_the_canary_key_appears_nowhere_after_a_job_and_a_save(
    page: Page, lab: LabServer, upstream: LocalService, traffic: ReceivedTraffic
) -> None:
    canary = upstream.api_key
    added = post_json(
        page,
        "/jupyter-qrt/accounts",
        {"name": ACCOUNT, "channel": "local", "url": upstream.url, "token": canary},
    )
    try:
        assert added["status"] == 201, added
        assert json.loads(added["body"])["account"]["name"] == ACCOUNT
        jobs_before = len(upstream.runtime.jobs(upstream.instance)["jobs"])

        path = new_notebook(
            lab.notebook_dir / "ui-canary.ipynb",
            "%load_ext jupyter_qrt",
            f"%qrt_login {ACCOUNT}",
            bell_cell(IDEAL, SHOTS),
            ENV_CELL,
        )
        open_notebook(page, lab.url, path.name)
        run_all_cells(page)
        assert wait_prompts(page) == [1, 2, 3, 4]
        counts = rendered_counts(page, 2)
        assert set(counts) <= {"00", "11"}, counts
        assert sum(counts.values()) == SHOTS, counts
        # The job really ran on the "IBM" stand-in, through the server's proxy.
        assert len(upstream.runtime.jobs(upstream.instance)["jobs"]) == jobs_before + 1
        saved = save_notebook(page, path)

        # The saved notebook.
        assert saved["cells"][2]["outputs"]
        assert canary not in path.read_text()
        # The kernel's environment (the cell wrote it; QRT_KERNEL_TOKEN proves it is the real
        # environment of a kernel under the extension).
        kernel_env = json.loads((lab.notebook_dir / ENV_FILE).read_text())
        assert "QRT_KERNEL_TOKEN" in kernel_env
        assert [k for k, v in kernel_env.items() if canary in v] == []
        # The server's log at --debug (it did log this scenario's requests).
        log = lab.log_text()
        assert "/jupyter-qrt/accounts" in log
        assert "[D " in log, "the server does not log at DEBUG"
        assert canary not in log
        # The page: storage and DOM.
        assert canary not in storage_of(page)
        assert canary not in page.content()
        # Everything the browser received, the POST's answer included.
        assert any("/jupyter-qrt/accounts" in url for url, _ in traffic.bodies), traffic.unreadable
        assert traffic.frames, "no kernel websocket frame was captured"
        assert traffic.containing(canary) == []
    finally:
        lab.delete(f"/jupyter-qrt/accounts/{ACCOUNT}")
