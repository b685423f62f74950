"""OpenAPI links: where an answer names an id, the operations that take that id.

A stateful client (schemathesis, a generated SDK) follows them from what it created or
listed to the operations that need an existing id, instead of guessing ids that never exist.
"""

from __future__ import annotations

import re
from typing import Any

PARAM = re.compile(r"\{([^}]+)\}")


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _fields(document: dict[str, Any], answer: dict[str, Any]) -> dict[str, str]:
    """The id-like fields of a JSON answer, each with its runtime expression."""
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    if not schema:
        return {}
    schema = _resolve(document, schema)
    prefix = "$response.body#"
    properties = schema.get("properties", {})
    if "items" in properties and "next_cursor" in properties:
        # A page: the first row stands for the kind.
        prefix += "/items/0"
        items = _resolve(document, properties["items"]).get("items", {})
        properties = _resolve(document, items).get("properties", {})
    return {name: f"{prefix}/{name}" for name in properties
            if name == "id" or name.endswith("_id")}


def _collection(path: str) -> str:
    """`/v1/teams` for `/v1/teams` and `/v1/teams/{team_id}/...`: where a kind lives."""
    return path.split("/{", 1)[0]


def _first_param(path: str) -> str | None:
    found = PARAM.search(path)
    return found.group(1) if found else None


def _targets(document: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    """Path parameter name -> (path, method, operationId) of every API operation taking it.

    Webhooks and the visitor's web-chat endpoints are not reached with an agent's ids.
    """
    targets: dict[str, list[tuple[str, str, str]]] = {}
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for name in PARAM.findall(path):
            for method, operation in operations.items():
                targets.setdefault(name, []).append((path, method, operation["operationId"]))
    return targets


def _link_name(operation_id: str, seen: dict[str, Any]) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", operation_id)
    return name if name not in seen else f"{name}_{len(seen)}"


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Link each 2xx JSON answer's ids to the operations whose path takes them.

    `id` of an answer at `/v1/teams` fills the first parameter of `/v1/teams/{team_id}/...`;
    `thread_id`, `customer_id`, ... fill a parameter of that name in the reads that take it.
    """
    targets = _targets(document)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            for code, answer in operation["responses"].items():
                if not code.startswith("2"):
                    continue
                links: dict[str, Any] = {}
                for field, expression in _fields(document, answer).items():
                    for name, candidates in targets.items():
                        for target_path, method, operation_id in candidates:
                            own_id = (field == "id"
                                      and _collection(target_path) == _collection(path)
                                      and _first_param(target_path) == name
                                      and target_path != path)
                            # Another kind's id (a case's thread_id) only leads to reading it.
                            named = field == name and method == "get"
                            if not (own_id or named):
                                continue
                            if operation_id == operation["operationId"]:
                                continue
                            key = _link_name(operation_id, links)
                            links[key] = {"operationId": operation_id,
                                          "parameters": {name: expression}}
                if links:
                    answer["links"] = links
    return document
