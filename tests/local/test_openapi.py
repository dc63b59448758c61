"""The OpenAPI description matches the routes: nothing undocumented, nothing missing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, cast

import jsonschema
import pytest
from tornado import web
from tornado.routing import URLSpec

from jupyter_qrt.local.http.app import service_routes
from jupyter_qrt.local.http.base import (
    PUBLIC_BODY_LIMIT,
    NotFoundHandler,
    ServiceContext,
    ServiceHandler,
)
from jupyter_qrt.local.http.openapi import load_openapi, openapi_text
from jupyter_qrt.local.identity.iam import TokenSigner

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


@pytest.fixture(scope="module")
def routes() -> list[URLSpec]:
    # Building the route table touches no runtime: the handlers only get it per request.
    context = ServiceContext(runtime=cast(Any, None), signer=TokenSigner(b"s" * 32))
    return service_routes(context)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_openapi()


def _sample_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", template)


def _route_for(routes: list[URLSpec], path: str) -> URLSpec:
    for route in routes:
        if route.regex.match(path):
            return route
    raise AssertionError(f"no route for {path}")


def _served_methods(handler: type[web.RequestHandler]) -> set[str]:
    return {
        method
        for method in HTTP_METHODS
        if getattr(handler, method) is not getattr(web.RequestHandler, method)
    }


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for path, item in document["paths"].items():
        for method in item:
            if method in HTTP_METHODS:
                yield path, method


def test_every_documented_operation_is_served(
    routes: list[URLSpec], document: dict[str, Any]
) -> None:
    for path, method in _operations(document):
        route = _route_for(routes, _sample_path(path))
        assert route.handler_class is not NotFoundHandler, f"{path} is not routed"
        assert method in _served_methods(route.handler_class), f"{method.upper()} {path}"


def test_every_route_and_method_is_documented(
    routes: list[URLSpec], document: dict[str, Any]
) -> None:
    documented: dict[type[web.RequestHandler], set[str]] = {}
    for path, method in _operations(document):
        handler = _route_for(routes, _sample_path(path)).handler_class
        documented.setdefault(handler, set()).add(method)
    for route in routes:
        if route.handler_class is NotFoundHandler:
            continue
        assert route.handler_class in documented, f"{route.regex.pattern} is not documented"
        assert _served_methods(route.handler_class) == documented[route.handler_class]


def test_runtime_paths_are_served_under_any_api_prefix(
    routes: list[URLSpec], document: dict[str, Any]
) -> None:
    runtime_paths = [path for path in document["paths"] if path.startswith("/api/v1/")]
    assert len(runtime_paths) >= 15
    for path in runtime_paths:
        plain = _route_for(routes, _sample_path(path)).handler_class
        for prefix in ("/experimental", "/a/b"):
            prefixed = _route_for(routes, prefix + _sample_path(path)).handler_class
            assert prefixed is plain, f"{prefix}{path}"


def test_only_the_catch_all_serves_unknown_paths(routes: list[URLSpec]) -> None:
    for path in ("/api/v1/nope", "/api/v2/jobs", "/identity", "/api/v1/jobs/a/b/c"):
        assert _route_for(routes, path).handler_class is NotFoundHandler


def test_the_served_text_is_the_description(document: dict[str, Any]) -> None:
    assert json.loads(openapi_text()) == document
    assert openapi_text() is openapi_text()  # made once


def test_routes_open_to_anyone_read_small_bodies_only(routes: list[URLSpec]) -> None:
    for route in routes:
        handler = route.handler_class
        assert issubclass(handler, ServiceHandler)
        if handler.auth == "none":
            assert handler.body_limit is not None, handler.__name__
            assert handler.body_limit <= PUBLIC_BODY_LIMIT, handler.__name__


def test_schemas_are_valid_json_schema_and_refs_resolve(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)

    def refs(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


def test_runtime_operations_need_a_bearer_and_the_instance_header(
    document: dict[str, Any],
) -> None:
    crn = {"$ref": "#/components/parameters/ServiceCRN"}
    for path, method in _operations(document):
        operation = document["paths"][path][method]
        if path.startswith("/api/v1/"):
            assert operation["security"] == [{"bearerAuth": []}], path
            assert crn in operation["parameters"], path
