"""Just enough of GraphQL's syntax to read the documents a review bot sends.

Operations (query/mutation, optional name, variable definitions with defaults), fields with
aliases, arguments (variables, literals, lists, input objects) and nested selections.
Fragments and directives are refused with a clear error rather than half-supported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
    |(?P<spread>\.\.\.)
    |(?P<punct>[!$():=@\[\]{}|&])
    |(?P<block>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
    |(?P<string>"(?:[^"\\\n]|\\.)*")
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<name>[_A-Za-z][_0-9A-Za-z]*)
    """,
    re.VERBOSE,
)


class GraphQLSyntaxError(Exception):
    pass


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class Field:
    name: str
    alias: str | None
    arguments: dict[str, Any]
    selections: tuple[Field, ...]

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class Operation:
    kind: str  # "query" or "mutation"
    name: str | None
    defaults: dict[str, Any]
    selections: tuple[Field, ...]


def parse(source: str) -> list[Operation]:
    return _Parser(_tokens(source)).document()


def _tokens(source: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise GraphQLSyntaxError(f"Parse error on {source[position:position + 10]!r} at offset {position}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "skip":
            found.append((kind, match.group()))
    return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token_kind, token = self.peek()
        if (value is not None and token != value) or (kind is not None and token_kind != kind):
            expected = value or kind
            raise GraphQLSyntaxError(f"Parse error on {token or 'end of document'!r} (expected {expected!r})")
        self.index += 1
        return token

    def at(self, value: str) -> bool:
        return self.peek() == ("punct", value)

    def document(self) -> list[Operation]:
        operations = []
        while self.peek()[0] != "end":
            operations.append(self.operation())
        if not operations:
            raise GraphQLSyntaxError("Parse error: the document has no operation")
        return operations

    def operation(self) -> Operation:
        if self.at("{"):
            return Operation("query", None, {}, self.selection_set())
        kind = self.take(kind="name")
        if kind == "fragment":
            raise GraphQLSyntaxError("fragments are not supported by the fake GitHub")
        if kind not in ("query", "mutation"):
            raise GraphQLSyntaxError(f"Parse error on {kind!r} (expected 'query' or 'mutation')")
        name = self.take(kind="name") if self.peek()[0] == "name" else None
        defaults = self.variable_definitions() if self.at("(") else {}
        return Operation(kind, name, defaults, self.selection_set())

    def variable_definitions(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        self.take("(")
        while not self.at(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            self.type_reference()
            if self.at("="):
                self.take("=")
                defaults[name] = self.value()
        self.take(")")
        return defaults

    def type_reference(self) -> None:
        if self.at("["):
            self.take("[")
            self.type_reference()
            self.take("]")
        else:
            self.take(kind="name")
        if self.at("!"):
            self.take("!")

    def selection_set(self) -> tuple[Field, ...]:
        self.take("{")
        fields = []
        while not self.at("}"):
            fields.append(self.field())
        self.take("}")
        if not fields:
            raise GraphQLSyntaxError("Parse error: empty selection set")
        return tuple(fields)

    def field(self) -> Field:
        if self.peek()[0] == "spread":
            raise GraphQLSyntaxError("fragments are not supported by the fake GitHub")
        name = self.take(kind="name")
        alias = None
        if self.at(":"):
            self.take(":")
            alias, name = name, self.take(kind="name")
        arguments = self.arguments() if self.at("(") else {}
        if self.at("@"):
            raise GraphQLSyntaxError("directives are not supported by the fake GitHub")
        selections = self.selection_set() if self.at("{") else ()
        return Field(name, alias, arguments, selections)

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        found = {}
        while not self.at(")"):
            name = self.take(kind="name")
            self.take(":")
            found[name] = self.value()
        self.take(")")
        return found

    def value(self) -> Any:
        if self.at("$"):
            self.take("$")
            return Variable(self.take(kind="name"))
        if self.at("["):
            self.take("[")
            items = []
            while not self.at("]"):
                items.append(self.value())
            self.take("]")
            return items
        if self.at("{"):
            self.take("{")
            fields = {}
            while not self.at("}"):
                name = self.take(kind="name")
                self.take(":")
                fields[name] = self.value()
            self.take("}")
            return fields
        kind, token = self.peek()
        self.index += 1
        if kind in ("number", "string"):
            return json.loads(token)
        if kind == "block":
            return token[3:-3]
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(token, token)
        raise GraphQLSyntaxError(f"Parse error on {token or 'end of document'!r} (expected a value)")
