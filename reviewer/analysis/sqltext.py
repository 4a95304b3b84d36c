"""Reading SQL text that is only partly known: does it look like SQL, and what stands where.

Text comes from `StringValue.text`, where MARKER stands for each interpolated value. The tests
here are deliberately strict (a keyword *and* the clause that must follow it), because they are
what tells `cur.execute(f"SELECT ... {x}")` from `executor.execute(f"job {x}")`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = "\ue000"  # one interpolated value inside known text

_NAME = rf"[\w.\"`\[\]{MARKER}]+"
_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*", re.S)
_FIRST_WORD = re.compile(r"[A-Za-z]+")

_OBJECTS = r"(?:table|index|view|database|schema|sequence|trigger|function|procedure|type|extension|role|user|domain|policy)\b"
# A statement keyword and what must follow it for the text to be SQL rather than prose.
_STATEMENTS: dict[str, re.Pattern[str]] = {
    keyword: re.compile(pattern, re.I | re.S)
    for keyword, pattern in {
        "select": r"\bfrom\b",
        "insert": r"^insert\s+(?:or\s+\w+\s+|ignore\s+)?into\b",
        "replace": r"^replace\s+into\b",
        "upsert": r"^upsert\s+into\b",
        "merge": r"^merge\s+into\b",
        "update": rf"^update\s+(?:or\s+\w+\s+)?{_NAME}(?:\s+(?:as\s+)?\w+)?\s+set\b",
        "delete": r"^delete\s+(?:\w+\s+)?from\b",
        "with": r"^with\s+(?:recursive\s+)?\w+(?:\s*\([^)]*\))?\s+as\s*(?:not\s+)?(?:materialized\s*)?\(",
        "create": rf"^create\s+(?:or\s+replace\s+)?(?:(?:temp|temporary|unique|materialized|global|local|virtual)\s+)*{_OBJECTS}",
        "alter": rf"^alter\s+(?:{_OBJECTS}|column)",
        "drop": rf"^drop\s+(?:materialized\s+)?{_OBJECTS}",
        "truncate": r"^truncate\s+table\b",
        "grant": r"\bon\b.*\bto\b",
        "revoke": r"\bon\b.*\bfrom\b",
        "pragma": r"^pragma\s+\w",
        "set": r"^set\s+(?:session\s+|local\s+)?"
        r"(?:search_path|time\s+zone|role|statement_timeout|lock_timeout|names|transaction)\b",
    }.items()
}
# Keywords with no reliable companion clause count only when written in capitals (`VACUUM t`).
_CAPITALS_ONLY = frozenset(
    "SELECT TRUNCATE VACUUM ANALYZE REINDEX CLUSTER LOCK SHOW CALL EXEC EXECUTE COPY "
    "DESCRIBE REFRESH COMMENT SET LISTEN NOTIFY DECLARE".split()
)
_CLAUSES = re.compile(
    r"|".join(
        [
            r"\bselect\b.+?\bfrom\b",
            r"\binsert\s+into\b",
            r"\bdelete\s+from\b",
            rf"\bupdate\s+{_NAME}\s+set\b",
            rf"\b(?:where|and|or|on)\s+\(?{_NAME}\s*"
            r"(?:=|<>|!=|<=|>=|<|>|\blike\b|\bilike\b|\bin\s*\(|\bis\s+(?:not\s+)?null\b|\bbetween\b)",
            r"\border\s+by\b",
            r"\bgroup\s+by\b",
            r"\b(?:inner|left|right|full|cross)\s+(?:outer\s+)?join\b",
            r"\bvalues\s*\(",
        ]
    ),
    re.I | re.S,
)
_COMPARISON = re.compile(
    rf"{_NAME}\s*(?:=|<>|!=|<=|>=|<|>)\s*['\w({MARKER}]|\b(?:is\s+(?:not\s+)?null|like|ilike|in\s*\(|between)\b",
    re.I,
)

_VALUE_OPERATOR = re.compile(r"(?:=|<>|!=|<=|>=|<|>|\blike|\bilike|\blimit|\boffset)\s*\Z", re.I)
_LIST_OPENING = re.compile(r"\b(?:in|values)\s*\(\s*\Z", re.I)
_VALUE_END = re.compile(r"\A(?:\s|\)|,|;|\Z)")
_QUOTE_BEFORE = re.compile(r"\\?'\Z")
_QUOTE_AFTER = re.compile(r"\A\\?'")
_ARGUMENT_END = re.compile(r"\A\s*(?:,|\))")
# The word before an opening parenthesis; `before` is set when that word names a table (or an
# index or constraint) whose column list the parenthesis opens.
_CALLED_WORD = re.compile(
    r"(?P<before>\b(?:into|table|references|on|index|view|key|constraint|exists|type)\s+(?:[\w$\"`]+\.)*)?"
    r"[\"`]?(?P<word>[A-Za-z_][\w$]*)[\"`]?\s*\Z",
    re.I,
)
# Keywords an opening parenthesis may follow: what it opens is not a function's arguments.
_NOT_FUNCTIONS = frozenset(
    "key unique primary foreign using over as exists on into table index view references partition by "
    "with from join where and or not select set returning constraint check".split()
)


_COMMENTS_AND_LITERALS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)


def mask_comments_and_literals(text: str) -> str:
    """The SQL with comments blanked and string literals emptied (`'…'` keeps its quotes), same
    length, so what is left is only what the statement itself says."""
    return _COMMENTS_AND_LITERALS.sub(_blank, text)


def _blank(match: re.Match[str]) -> str:
    found = match.group()
    return f"'{' ' * (len(found) - 2)}'" if found.startswith("'") else " " * len(found)


def looks_like_statement(text: str) -> bool:
    """Text that starts like an SQL statement: `SELECT … FROM`, `INSERT INTO`, `UPDATE … SET` …"""
    body = text[_COMMENTS.match(text).end() :]
    word = _FIRST_WORD.match(body)
    if word is None:
        return False
    keyword = word.group()
    if keyword.lower() == "explain":
        rest = re.sub(r"^explain\s+(?:analy[sz]e\s+)?(?:verbose\s+)?(?:query\s+plan\s+)?", "", body, flags=re.I)
        return rest != body and looks_like_statement(rest)
    companion = _STATEMENTS.get(keyword.lower())
    if companion is not None and companion.search(body):
        return True
    return keyword in _CAPITALS_ONLY and bool(re.match(r"[A-Z]+\s+\S", body))


def looks_like_sql(text: str) -> bool:
    """A statement, or text holding an unmistakable SQL clause (`WHERE id = …`, `ORDER BY`)."""
    return looks_like_statement(text) or bool(_CLAUSES.search(text))


def looks_like_sql_fragment(text: str) -> bool:
    """Looser, for APIs that take pieces of SQL (Django `extra(where=[...])`): also a comparison."""
    return looks_like_sql(text) or bool(_COMPARISON.search(text))


@dataclass(frozen=True)
class ValueSlot:
    """A spot in SQL text where a value goes; the quotes around it, if any, as written."""

    opening_quote: str = ""  # "'" or "\\'" (escaped in a single-quoted Python string)
    closing_quote: str = ""


def value_slot(before: str, after: str) -> ValueSlot | None:
    """Whether a value between `before` and `after` stands where SQL takes a value, so a bind
    parameter could replace it: after `=`, `<`, `LIKE`, `LIMIT`, inside `IN (…)`/`VALUES (…)`,
    bare or inside single quotes. None for names, keywords, pieces of words or of literals.
    """
    opening, closing = _QUOTE_BEFORE.search(before), _QUOTE_AFTER.match(after)
    if opening and closing:
        if _is_value_position(before[: opening.start()], after[closing.end() :]):
            return ValueSlot(opening.group(), closing.group())
        return None
    return ValueSlot() if _is_value_position(before, after) else None


def in_string_literal(before: str) -> bool:
    """Whether text ending with `before` is inside a quoted SQL literal (`LIKE '%…`)."""
    return before.count("'") % 2 == 1


def takes_a_value(before: str, after: str) -> bool:
    """Whether an interpolated piece stands for a value rather than a name or a clause: a value
    slot (`= …`, `IN (…)`) or the inside of an SQL string literal (`LIKE '%…%'`)."""
    return value_slot(before, after) is not None or in_string_literal(before)


def is_function_argument(before: str, after: str) -> bool:
    """Whether an interpolated piece is a whole argument of an SQL function: `f(…)`, `f(a, …)`.
    Such an argument may be a value (`pg_advisory_lock(…)`) or a column (`sum(…)`); the text
    cannot tell which. The word before the parenthesis must be a function's, not a keyword's
    (`KEY (`, `USING (`) nor a table's column list (`INSERT INTO t (`, `REFERENCES t (`)."""
    if not _ARGUMENT_END.match(after):
        return False
    stripped = before.rstrip()
    opening = _innermost_open_parenthesis(stripped)
    if opening is None or not (stripped.endswith("(") or stripped.endswith(",")):
        return False
    call = _CALLED_WORD.search(stripped[:opening])
    return call is not None and call.group("word").lower() not in _NOT_FUNCTIONS and call.group("before") is None


def _is_value_position(before: str, after: str) -> bool:
    if not _VALUE_END.match(after):
        return False
    if _VALUE_OPERATOR.search(before) or _LIST_OPENING.search(before):
        return True
    stripped = before.rstrip()
    if not stripped.endswith(","):
        return False
    opening = _innermost_open_parenthesis(stripped)
    return opening is not None and bool(re.search(r"\b(?:in|values)\s*\Z", stripped[:opening], re.I))


def _innermost_open_parenthesis(text: str) -> int | None:
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            if depth == 0:
                return index
            depth -= 1
    return None
