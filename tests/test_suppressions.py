"""Suppression comments: real comments only, on the range or on a comment-only line above."""

from __future__ import annotations

from reviewer.finding import Finding, Position, Severity
from reviewer.suppressions import Suppressions

PYTHON = """\
def f(cur, a, b):
    cur.execute(f"SELECT {a}")  # review: ignore[SQL001]
    cur.execute(f"SELECT {b}")
    s = "# review: ignore[SQL001]"
    cur.execute(f"SELECT {s}")
    # review: ignore[sql001, B608]
    cur.execute(
        f"SELECT {b}"
    )
"""

TYPESCRIPT = """\
// review: ignore[SQL101]
pool.query(`SELECT ${a}`);
pool.query(`SELECT ${b}`); // review: ignore[SQL101]
const s = "review: ignore[SQL101]";
pool.query(`SELECT ${s}`);
"""


def at(line: int, end_line: int | None = None, path: str = "app/db.py", code: str = "SQL001") -> Finding:
    return Finding(code, "n", Severity.ERROR, "m", path, Position(line, 5), Position(end_line or line, 9), "libcst")


def test_python_suppressions() -> None:
    suppressions = Suppressions("app/db.py", PYTHON)
    assert suppressions.codes_for(at(2)) == {"SQL001"}  # trailing comment on its own line
    assert suppressions.codes_for(at(3)) == set()  # a code line's comment does not cover the next line
    assert suppressions.codes_for(at(5)) == set()  # the marker in a string is not a comment
    assert suppressions.codes_for(at(7, 9)) == {"SQL001", "B608"}  # comment-only line above, upper-cased


def test_python_that_does_not_tokenize_falls_back_to_lines() -> None:
    suppressions = Suppressions("app/db.py", 'x = "unterminated\ncur.execute(q)  # review: ignore[SQL001]\n')
    assert suppressions.codes_for(at(2)) == {"SQL001"}


def test_typescript_suppressions() -> None:
    suppressions = Suppressions("api/db.ts", TYPESCRIPT)
    assert suppressions.codes_for(at(2, path="api/db.ts", code="SQL101")) == {"SQL101"}
    assert suppressions.codes_for(at(3, path="api/db.ts", code="SQL101")) == {"SQL101"}
    assert suppressions.codes_for(at(5, path="api/db.ts", code="SQL101")) == set()
