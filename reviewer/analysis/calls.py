"""Reading call arguments and literal values from libcst trees, without executing anything.

Rules keep asking the same small questions — what is keyword `methods` of this call, is this
expression the literal string "GET", which imported names can this expression stand for — so the
answers live here once instead of as a half-right copy in every rule.
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Sequence

import libcst as cst
from libcst.metadata import QualifiedName, ScopeProvider

# A rule's (or any MetadataDependent's) bound `get_metadata(provider, node, default)`.
GetMetadata = Callable[..., Any]


def qualified_name_entries(get_metadata: GetMetadata, node: cst.CSTNode) -> Collection[QualifiedName]:
    """What QualifiedNameProvider would say for `node`, asked of its scope directly.

    The provider computes names for every node of the module up front; asking the scope for just
    the nodes a rule looks at gives the same answers for a fraction of the time.
    """
    scope = get_metadata(ScopeProvider, node, None)
    return scope.get_qualified_names_for(node) if scope is not None else set()


def qualified_names(get_metadata: GetMetadata, node: cst.CSTNode) -> frozenset[str]:
    """The dotted names `node` may refer to, after imports and aliases (`F` -> `flask.Flask`)."""
    return frozenset(name.name for name in qualified_name_entries(get_metadata, node))


def keyword_arg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def bind_arguments(call: cst.Call, params: Sequence[str]) -> dict[str, cst.BaseExpression]:
    """Map a call's arguments to parameter names: positionals in `params` order, then keywords.

    Positionals after a `*args` splat cannot be placed and are left out.
    """
    bound: dict[str, cst.BaseExpression] = {}
    position = 0
    for arg in call.args:
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg.value
        elif arg.star:
            position = len(params)
        elif position < len(params):
            bound[params[position]] = arg.value
            position += 1
    return bound


def positional_args(call: cst.Call) -> list[cst.BaseExpression]:
    return [arg.value for arg in call.args if arg.keyword is None and not arg.star]


def literal_string(node: cst.BaseExpression | None) -> str | None:
    """The value of a plain or implicitly concatenated string literal (not f-strings, not bytes)."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def literal_strings(node: cst.BaseExpression | None) -> tuple[str, ...] | None:
    """The values of a list/tuple/set display made only of string literals."""
    if not isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return None
    values = []
    for element in node.elements:
        value = literal_string(element.value) if isinstance(element, cst.Element) else None
        if value is None:
            return None
        values.append(value)
    return tuple(values)


def literal_dict(node: cst.BaseExpression | None) -> dict[str, cst.BaseExpression]:
    """The entries of a dict display whose keys are string literals (other entries are left out)."""
    entries: dict[str, cst.BaseExpression] = {}
    if isinstance(node, cst.Dict):
        for element in node.elements:
            key = literal_string(element.key) if isinstance(element, cst.DictElement) else None
            if key is not None:
                entries[key] = element.value
    return entries


def literal_bool(node: cst.BaseExpression | None) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def literal_int(node: cst.BaseExpression | None) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    return None


def is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"
