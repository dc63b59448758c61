"""The JupyterLab extension (``labextension/``) and the Python package agree with each other.

These read the TypeScript sources and the package files as text: no node, no build needed.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jupyter_qrt
from jupyter_qrt.server.callers import NAMESPACE

ROOT = Path(__file__).resolve().parents[2]
LABEXT = ROOT / "labextension"


def _package() -> dict[str, Any]:
    package: dict[str, Any] = json.loads((LABEXT / "package.json").read_text(encoding="utf-8"))
    return package


def test_the_browser_and_the_server_use_one_url_namespace() -> None:
    source = (LABEXT / "src" / "namespace.ts").read_text(encoding="utf-8")
    found = re.findall(r"export const NAMESPACE = '([^']*)';", source)
    assert found == [NAMESPACE], "labextension/src/namespace.ts and server/callers.py differ"


def test_the_labextension_is_named_and_versioned_as_the_python_package() -> None:
    package = _package()
    assert package["name"] == "jupyter-qrt"
    assert package["version"] == jupyter_qrt.__version__
    lab = package["jupyterlab"]
    # The build lands where the Python hook and the wheel's shared-data look for it.
    assert (LABEXT / lab["outputDir"]).resolve() == ROOT / "jupyter_qrt" / "labextension"
    assert jupyter_qrt._jupyter_labextension_paths() == [
        {"src": "labextension", "dest": "jupyter-qrt"}
    ]


def test_the_wheel_ships_the_prebuilt_extension_as_shared_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["shared-data"]["jupyter_qrt/labextension"] == (
        "share/jupyter/labextensions/jupyter-qrt"
    )
    hook = pyproject["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    assert hook["build-kwargs"]["npm"] == ["npm"]
    assert hook["build-kwargs"]["path"] == "labextension"
    # The build script installs with `npm ci` from the committed lockfile.
    assert "npm ci" in _package()["scripts"][hook["build-kwargs"]["build_cmd"]]
    assert (LABEXT / "package-lock.json").is_file()


def test_the_settings_editor_offers_the_refresh_interval_and_the_status_item() -> None:
    schema = json.loads((LABEXT / "schema" / "plugin.json").read_text(encoding="utf-8"))
    assert schema["properties"]["refreshInterval"]["default"] >= 2
    assert schema["properties"]["showStatusBar"]["default"] is True


def test_the_command_ids_are_those_the_ui_tests_use() -> None:
    source = (LABEXT / "src" / "index.ts").read_text(encoding="utf-8")
    ids = re.findall(r"export const \w+ = '(jupyter-qrt:[a-z-]+)';", source)
    assert sorted(ids) == ["jupyter-qrt:login", "jupyter-qrt:open-sidebar", "jupyter-qrt:refresh"]
    assert "category: CATEGORY" in source and "const CATEGORY = 'Quantum';" in source


def test_the_generated_api_types_carry_their_source() -> None:
    schema = (LABEXT / "src" / "api" / "schema.ts").read_text(encoding="utf-8")
    assert "Generated from ../jupyter_qrt/server/openapi.json" in schema
    spec = json.loads((ROOT / "jupyter_qrt" / "server" / "openapi.json").read_text("utf-8"))
    for name in spec["components"]["schemas"]:
        assert f"{name}: {{" in schema, f"schema.ts lacks {name}: run npm run generate:api"
