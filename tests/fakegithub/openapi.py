"""GitHub's own OpenAPI description (the subset copied into tests/schemas) as a validator.

Request bodies are checked with `OAS30Validator` against each operation's requestBody schema,
so the fake refuses exactly what the schema refuses; tests also check the fake's own responses
against the documented response schemas.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parent.parent / "schemas" / "github-rest-subset.openapi.json"
METHODS = ("get", "post", "patch", "put", "delete")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # template, e.g. /repos/{owner}/{repo}/pulls/{pull_number}
    integer_params: frozenset[str]


@functools.lru_cache(maxsize=None)
def spec() -> dict[str, Any]:
    document = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    # Upstream quirks, kept in the file, handled here: `discriminator` without a mapping
    # (POST /check-runs) makes the validator look for a schema named after the status value
    # (the oneOf alone carries the rule); `nullable: true` beside an enum without null
    # (start_side, check-run conclusion) would refuse the null GitHub really sends.
    return _allow_null_in_nullable_enums(_without_key(document, "discriminator"))


@functools.lru_cache(maxsize=None)
def operations() -> tuple[Operation, ...]:
    found = []
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                params = [_resolve(p) for p in item.get("parameters", []) + operation.get("parameters", [])]
                integers = frozenset(
                    p["name"] for p in params if p["in"] == "path" and p["schema"].get("type") == "integer"
                )
                found.append(Operation(operation["operationId"], method.upper(), path, integers))
    return tuple(found)


def operation(operation_id: str) -> Operation:
    return next(op for op in operations() if op.operation_id == operation_id)


def request_errors(operation_id: str, body: Any) -> list[str]:
    """Schema violations of a request body, as "at 'a/0/b': message" lines (empty when valid)."""
    return _errors(_validator(operation_id, None), body)


def response_errors(operation_id: str, status: int, body: Any) -> list[str]:
    """Violations of the documented response schema for this status (used by the fake's tests)."""
    return _errors(_validator(operation_id, status), body)


@functools.lru_cache(maxsize=None)
def _validator(operation_id: str, status: int | None) -> OAS30Validator:
    """The request body's validator (status None) or the response's for that status."""
    op = operation(operation_id)
    described = spec()["paths"][op.path][op.method.lower()]
    holder = described["requestBody"] if status is None else _resolve(described["responses"][str(status)])
    schema = holder["content"]["application/json"]["schema"]
    # The schema's $refs point into #/components, so validate against a root that holds them.
    return OAS30Validator({"components": spec()["components"], **schema})


def _errors(validator: OAS30Validator, instance: Any) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda error: list(map(str, error.absolute_path)))
    return [f"at '{'/'.join(map(str, error.absolute_path))}': {_shortened(error.message)}" for error in found]


def _shortened(message: str, limit: int = 300) -> str:
    """jsonschema quotes the offending value whole; a 51-item array makes an unreadable error."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _without_key(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        return {k: _without_key(v, key) for k, v in node.items() if k != key}
    if isinstance(node, list):
        return [_without_key(item, key) for item in node]
    return node


def _allow_null_in_nullable_enums(node: Any) -> Any:
    if isinstance(node, dict):
        fixed = {k: _allow_null_in_nullable_enums(v) for k, v in node.items()}
        if fixed.get("nullable") is True and "enum" in fixed and None not in fixed["enum"]:
            fixed["enum"] = [*fixed["enum"], None]
        return fixed
    if isinstance(node, list):
        return [_allow_null_in_nullable_enums(item) for item in node]
    return node
