"""Turn simple string-built SQL into placeholders plus bound values — only where that is certain.

    f"SELECT * FROM users WHERE name = '{name}' AND id = {user.id}"
    →  "SELECT * FROM users WHERE name = ? AND id = ?"   values: name, user.id

    "SELECT * FROM users WHERE id = %s" % user_id         (the parameters argument forgotten)
    →  "SELECT * FROM users WHERE id = %s"   values: user_id

f-strings: refused (None) unless every interpolation is a plain name or attribute chain, with no
conversion, format spec or `=`, standing where SQL takes a value (`sqltext.value_slot`), and the
literal text cannot be misread once parameters are passed (a `?` under qmark, `$1` under
numeric; `%` is doubled under format, or refused for a driver that does not read `%%` as `%`).

`%` formatting: only under the format paramstyle (`%s`, where the template already is the
query the driver wants), for a plain string literal whose every conversion is `%s` standing
where SQL takes a value, one per value; `%%` stays, as the driver reads it as `%` once
parameters are passed (refused for a driver that does not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import libcst as cst

from reviewer.analysis.sql import ParameterPassing, Paramstyle
from reviewer.analysis.sqltext import MARKER, value_slot

# Outside raw strings, these escapes could spell a `%` the source does not show.
_ESCAPE_THAT_MAY_SPELL_PERCENT = re.compile(r"\\[xuUN0-7]")


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


def parameterize_f_string(node: cst.FormattedString, paramstyle: Paramstyle, *, unescapes_percent: bool = True) -> Parameterized | None:
    texts, values = _split(node)
    if texts is None or not values or "b" in node.prefix.lower():
        return None
    if any(_misread(text, paramstyle, unescapes_percent) for text in texts):
        return None
    body = _with_placeholders(texts, paramstyle, lambda text: _plain_text(text, paramstyle))
    if body is None:
        return None
    prefix = node.prefix.replace("f", "").replace("F", "")
    return Parameterized(f"{prefix}{node.quote}{body}{node.quote}", tuple(values))


def parameterize_percent(node: cst.BinaryOperation, paramstyle: Paramstyle, *, unescapes_percent: bool = True) -> Parameterized | None:
    """`"… = %s" % x` → `"… = %s"` with values (x,); `% (a, b)` gives values (a, b)."""
    template = node.left
    if not (paramstyle is Paramstyle.FORMAT and isinstance(node.operator, cst.Modulo) and isinstance(template, cst.SimpleString)):
        return None
    prefix = template.prefix
    body = template.raw_value
    if "b" in prefix.lower() or ("r" not in prefix.lower() and _ESCAPE_THAT_MAY_SPELL_PERCENT.search(body)):
        return None
    texts = _split_on_percent_s(body)
    values = _percent_values(node.right)
    if texts is None or values is None or len(texts) - 1 != len(values):
        return None
    if not unescapes_percent and any("%%" in text for text in texts):
        return None
    query = _with_placeholders(texts, paramstyle, lambda text: text)
    return None if query is None else Parameterized(f"{prefix}{template.quote}{query}{template.quote}", values)


def _split_on_percent_s(body: str) -> list[str] | None:
    """Literal source around each `%s` (`%%` kept as written); None for any other conversion."""
    texts = [""]
    index = 0
    while index < len(body):
        if body[index] != "%":
            texts[-1] += body[index]
            index += 1
            continue
        conversion = body[index + 1 : index + 2]
        if conversion == "%":
            texts[-1] += "%%"
        elif conversion == "s":
            texts.append("")
        else:
            return None
        index += 2
    return texts


def _percent_values(right: cst.BaseExpression) -> tuple[cst.BaseExpression, ...] | None:
    """The values a `%` applies: a literal tuple's items, or one plain value (a name, an attribute
    chain, a subscript by a string literal); None for anything that may be a tuple or a mapping."""
    if isinstance(right, cst.Tuple):
        if any(isinstance(element, cst.StarredElement) or isinstance(element.value, (cst.Tuple, cst.List)) for element in right.elements):
            return None  # a tuple parameter would become an SQL list, not the text `%s` made of it
        return tuple(element.value for element in right.elements)
    if isinstance(right, cst.Subscript) and len(right.slice) == 1:
        index = right.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString) and _is_dotted(right.value):
            return (right,)
    return (right,) if _is_dotted(right) else None


def _with_placeholders(texts: list[str], paramstyle: Paramstyle, plain: Callable[[str], str]) -> str | None:
    """The literal texts joined by placeholders, dropping quotes around each value slot; None
    when a value between two texts does not stand where SQL takes a value."""
    out = list(texts)
    for index in range(len(texts) - 1):
        before = MARKER.join(texts[: index + 1])
        after = MARKER.join(texts[index + 1 :])
        slot = value_slot(before, after)
        if slot is None:
            return None
        out[index] = out[index][: len(out[index]) - len(slot.opening_quote)]
        out[index + 1] = out[index + 1][len(slot.closing_quote) :]
    body = ""
    for index, text in enumerate(out):
        body += plain(text)
        if index < len(texts) - 1:
            body += paramstyle.placeholder(index + 1)
    return body


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


def _misread(text: str, paramstyle: Paramstyle, unescapes_percent: bool) -> bool:
    if paramstyle is Paramstyle.QMARK:
        return "?" in text
    if paramstyle is Paramstyle.NUMERIC_DOLLAR:
        return bool(re.search(r"\$\d", text))
    return not unescapes_percent and "%" in text


def _plain_text(text: str, paramstyle: Paramstyle) -> str:
    """f-string literal source as plain string source: `{{` → `{`; `%` → `%%` under format."""
    text = text.replace("{{", "{").replace("}}", "}")
    return text.replace("%", "%%") if paramstyle is Paramstyle.FORMAT else text
