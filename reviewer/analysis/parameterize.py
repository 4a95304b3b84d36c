"""Turn a simple SQL f-string into placeholders plus bound values — only where that is certain.

    f"SELECT * FROM users WHERE name = '{name}' AND id = {user.id}"
    →  "SELECT * FROM users WHERE name = ? AND id = ?"   values: name, user.id

Refused (None) unless every interpolation is a plain name or attribute chain, with no
conversion, format spec or `=`, standing where SQL takes a value (`sqltext.value_slot`), and the
literal text cannot be misread once parameters are passed (a `?` under qmark, `$1` under
numeric; `%` is doubled under format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import libcst as cst

from reviewer.analysis.sql import ParameterPassing, Paramstyle
from reviewer.analysis.sqltext import MARKER, value_slot


@dataclass(frozen=True)
class Parameterized:
    query: str  # source text of the new string literal
    values: tuple[cst.BaseExpression, ...]

    def arguments(self, passing: ParameterPassing, code_for_node: Callable[[cst.CSTNode], str]) -> str:
        """Source for the query and its values as call arguments: `"…", (a, b)` or `"…", a, b`."""
        values = [code_for_node(value) for value in self.values]
        if passing is ParameterPassing.ARGUMENTS:
            return ", ".join([self.query, *values])
        joined = ", ".join(values) + ("," if len(values) == 1 else "")
        return f"{self.query}, ({joined})"


def parameterize_f_string(node: cst.FormattedString, paramstyle: Paramstyle) -> Parameterized | None:
    texts, values = _split(node)
    if texts is None or not values or "b" in node.prefix.lower():
        return None
    if any(_misread(text, paramstyle) for text in texts):
        return None
    out = list(texts)
    for index in range(len(values)):
        before = MARKER.join(texts[: index + 1])
        after = MARKER.join(texts[index + 1 :])
        slot = value_slot(before, after)
        if slot is None:
            return None
        out[index] = out[index][: len(out[index]) - len(slot.opening_quote)]
        out[index + 1] = out[index + 1][len(slot.closing_quote) :]
    body = ""
    for index, text in enumerate(out):
        body += _plain_text(text, paramstyle)
        if index < len(values):
            body += paramstyle.placeholder(index + 1)
    prefix = node.prefix.replace("f", "").replace("F", "")
    return Parameterized(f"{prefix}{node.quote}{body}{node.quote}", tuple(values))


def _split(node: cst.FormattedString) -> tuple[list[str] | None, list[cst.BaseExpression]]:
    """Literal texts around each interpolation (one more text than values), or None if any
    interpolation is more than a plain name or attribute chain."""
    texts = [""]
    values: list[cst.BaseExpression] = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            texts[-1] += part.value
            continue
        if part.conversion is not None or part.format_spec or part.equal is not None or not _is_dotted(part.expression):
            return None, []
        values.append(part.expression)
        texts.append("")
    return texts, values


def _is_dotted(expression: cst.BaseExpression) -> bool:
    while isinstance(expression, cst.Attribute):
        expression = expression.value
    return isinstance(expression, cst.Name) and not expression.lpar


def _misread(text: str, paramstyle: Paramstyle) -> bool:
    if paramstyle is Paramstyle.QMARK:
        return "?" in text
    if paramstyle is Paramstyle.NUMERIC_DOLLAR:
        return bool(re.search(r"\$\d", text))
    return False


def _plain_text(text: str, paramstyle: Paramstyle) -> str:
    """f-string literal source as plain string source: `{{` → `{`; `%` → `%%` under format."""
    text = text.replace("{{", "{").replace("}}", "}")
    return text.replace("%", "%%") if paramstyle is Paramstyle.FORMAT else text
