"""The text reporter: exact problem-matcher lines, snippets, carets, fixes and the closing line."""

from __future__ import annotations

import re

import pytest

from reviewer.catalog import load_catalog
from reviewer.errors import UsageError
from reviewer.finding import Finding, Fix, Position, Severity, TextEdit
from reviewer.report import FORMATS, render
from reviewer.report.text import render_text
from reviewer.result import EngineFailure, ReviewResult

PROBLEM_MATCHER = re.compile(r"^(.+):(\d+):(\d+): ([A-Z]+\d+) (.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

DB_SOURCE = (
    "import sqlite3\n"
    "\n"
    "\n"
    "def find_user(cur, user_id):\n"
    '    cur.execute("SELECT * FROM users WHERE id = " + user_id)\n'
    "    return cur.fetchone()\n"
)


def finding(code: str, line: int, column: int, end_line: int, end_column: int, **fields) -> Finding:
    defaults = dict(
        name="string-built-sql",
        severity=Severity.ERROR,
        message="SQL text built with + reaches cursor.execute()",
        path="app/db.py",
        engine="libcst",
    )
    defaults.update(fields)
    return Finding(code=code, start=Position(line, column), end=Position(end_line, end_column), **defaults)


def result_of(findings: list[Finding], sources: dict[str, str], **fields) -> ReviewResult:
    return ReviewResult(findings=findings, catalog=load_catalog(), sources=sources, **fields)


def test_finding_with_fix_renders_header_snippet_carets_fix_and_pointer() -> None:
    fix = Fix(
        "Pass the value as a query parameter",
        (TextEdit(Position(5, 17), Position(5, 60), '"SELECT * FROM users WHERE id = ?", (user_id,)'),),
    )
    result = result_of([finding("SQL001", 5, 5, 5, 61, fix=fix)], {"app/db.py": DB_SOURCE}, files_reviewed=4)

    assert render_text(result) == (
        "app/db.py:5:5: SQL001 SQL text built with + reaches cursor.execute()\n"
        "  |\n"
        '5 |     cur.execute("SELECT * FROM users WHERE id = " + user_id)\n'
        "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "  = fix: Pass the value as a query parameter\n"
        '5 -     cur.execute("SELECT * FROM users WHERE id = " + user_id)\n'
        '5 +     cur.execute("SELECT * FROM users WHERE id = ?", (user_id,))\n'
        "  = see: review explain SQL001\n"
        "\n"
        "1 finding: 1 error, 0 warnings, 0 notes in 4 files\n"
    )


def test_closing_line_counts_each_severity_and_files() -> None:
    source = "a = 1\nb = 2\nc = 3\n"
    findings = [
        finding("SQL001", 1, 1, 1, 2, path="app/a.py"),
        finding("LOG001", 2, 1, 2, 2, path="app/a.py", severity=Severity.WARNING, name="log-secret"),
        finding("LOG002", 3, 1, 3, 2, path="app/a.py", severity=Severity.WARNING, name="log-pii"),
    ]
    output = render_text(result_of(findings, {"app/a.py": source}, files_reviewed=4))

    assert output.endswith("\n3 findings: 1 error, 2 warnings, 0 notes in 4 files\n")
    assert "app/a.py:2:1: LOG001 SQL text built with + reaches cursor.execute()" in output.splitlines()


def test_no_findings_and_engine_failures() -> None:
    result = result_of(
        [],
        {},
        files_reviewed=4,
        engine_failures=[EngineFailure("semgrep", "timed out after 60 s")],
    )

    assert render_text(result) == "engine semgrep failed: timed out after 60 s\nNo findings in 4 files.\n"
    assert render_text(result_of([], {}, files_reviewed=1)) == "No findings in 1 file.\n"
    assert render_text(result_of([], {}, files_reviewed=0)) == (
        "Nothing to review: no Python, JavaScript or TypeScript files among those given.\n"
    )


def test_tabs_before_the_range_keep_carets_under_the_flagged_text() -> None:
    source = "def f(cur, q):\n\tif q:\n\t\tcur.execute(q)\n"
    result = result_of([finding("SQL001", 3, 3, 3, 17)], {"app/db.py": source})

    lines = render_text(result).splitlines()
    code_line, caret_line = lines[2], lines[3]
    assert code_line == "3 |         cur.execute(q)"
    assert caret_line == "  |         ^^^^^^^^^^^^^^"
    assert caret_line.index("^") == code_line.index("cur")


def test_wide_characters_and_control_characters_keep_alignment_and_are_escaped() -> None:
    source = '名前 = "\x1b[31m" + cur.execute(q)\n'
    result = result_of([finding("SQL001", 1, 16, 1, 30)], {"app/db.py": source})

    lines = render_text(result).splitlines()
    assert lines[2] == '1 | 名前 = "\\x1b[31m" + cur.execute(q)'
    # 名前 takes four terminal columns, the escaped ESC four: `cur` starts at column 20.
    assert lines[3] == "  | " + " " * 20 + "^" * len("cur.execute(q)")
    assert "\x1b" not in render_text(result)


def test_long_multi_line_range_shows_six_lines_with_gutter_marker_and_says_how_many_more() -> None:
    source = "query = (\n" + "".join(f"    'part{n} '\n" for n in range(1, 9)) + ")\n"
    result = result_of([finding("SQL002", 1, 9, 10, 2, severity=Severity.WARNING)], {"app/db.py": source})

    lines = render_text(result).splitlines()
    assert lines[:10] == [
        "app/db.py:1:9: SQL002 SQL text built with + reaches cursor.execute()",
        "  |",
        "1 > query = (",
        "2 >     'part1 '",
        "3 >     'part2 '",
        "4 >     'part3 '",
        "5 >     'part4 '",
        "6 >     'part5 '",
        "  > ... 4 more lines in this range",
        "  = see: review explain SQL002",
    ]


def test_fix_that_deletes_a_whole_line_shows_only_the_removed_line() -> None:
    source = "import os\nimport pdb\nprint(os.name)\n"
    fix = Fix("Remove the debugger import", (TextEdit(Position(2, 1), Position(3, 1), ""),))
    result = result_of(
        [finding("LOG009", 2, 1, 3, 1, fix=fix, name="debugger-import", message="pdb imported")],
        {"app/db.py": source},
    )

    lines = render_text(result).splitlines()
    assert lines[:6] == [
        "app/db.py:2:1: LOG009 pdb imported",
        "  |",
        "2 | import pdb",
        "  | ^^^^^^^^^^",
        "  = fix: Remove the debugger import",
        "2 - import pdb",
    ]
    assert lines[6] == "  = see: review explain LOG009"


def test_fix_that_adds_lines_numbers_them_in_the_fixed_file() -> None:
    fix = Fix(
        "Run the write in a transaction",
        (TextEdit(Position(5, 5), Position(5, 61), 'with cur.connection:\n        cur.execute("DELETE FROM users")'),),
    )
    result = result_of([finding("TXN001", 5, 5, 5, 61, fix=fix, message="write outside a transaction")],
                       {"app/db.py": DB_SOURCE})

    lines = render_text(result).splitlines()
    assert lines[4:8] == [
        "  = fix: Run the write in a transaction",
        '5 -     cur.execute("SELECT * FROM users WHERE id = " + user_id)',
        "5 +     with cur.connection:",
        '6 +         cur.execute("DELETE FROM users")',
    ]


def test_finding_without_source_has_header_and_pointer_only() -> None:
    skipped = finding("RVW002", 1, 1, 1, 1, path="assets/big.bin", severity=Severity.NOTE, name="file-not-reviewed",
                      message="not reviewed: binary file", engine="reviewer")
    output = render_text(result_of([skipped], {}, files_reviewed=2))

    assert output == (
        "assets/big.bin:1:1: RVW002 not reviewed: binary file\n"
        " = see: review explain RVW002\n"
        "\n"
        "1 finding: 0 errors, 0 warnings, 1 note in 2 files\n"
    )


def test_header_stays_one_matchable_line_for_hostile_message_and_path() -> None:
    hostile = finding("SQL001", 1, 1, 1, 2, path="app/we ird\n.py", message="first\nsecond\x1b[2J")
    header = render_text(result_of([hostile], {})).splitlines()[0]

    assert header == "app/we ird\\n.py:1:1: SQL001 first\\nsecond\\x1b[2J"
    assert PROBLEM_MATCHER.match(header).groups() == ("app/we ird\\n.py", "1", "1", "SQL001", "first\\nsecond\\x1b[2J")


def test_color_wraps_parts_but_header_still_matches_after_stripping_ansi() -> None:
    result = result_of([finding("SQL001", 5, 5, 5, 61)], {"app/db.py": DB_SOURCE}, files_reviewed=1)

    colored = render_text(result, color=True)
    plain = render_text(result)
    assert "\x1b[" in colored and "\x1b[" not in plain
    assert ANSI.sub("", colored) == plain
    match = PROBLEM_MATCHER.match(ANSI.sub("", colored.splitlines()[0]))
    assert match.groups() == ("app/db.py", "5", "5", "SQL001", "SQL text built with + reaches cursor.execute()")
    assert "\x1b[1;31mSQL001\x1b[0m" in colored.splitlines()[0]


def test_render_dispatches_by_format_name_and_rejects_unknown_ones() -> None:
    result = result_of([], {}, files_reviewed=3)

    assert FORMATS == ("text", "json", "sarif", "github", "markdown")
    assert render("text", result) == "No findings in 3 files.\n"
    assert render("markdown", result).startswith("## backend-reviewer\n")
    with pytest.raises(UsageError, match="unknown output format 'xml'; choose one of text, json, sarif, github, markdown"):
        render("xml", result)
