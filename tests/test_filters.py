"""Filters: diff modes, suppressions, select/ignore, per-path ignores, severity overrides, dedupe."""

from __future__ import annotations

import dataclasses

import pytest

from reviewer.changeset import ChangeSet, FileChange, FileStatus, Hunk
from reviewer.config import Config
from reviewer.filters import apply_filters, path_matches
from reviewer.finding import Finding, Position, Severity

SOURCE = """\
import sqlite3
def f(cur, uid):
    cur.execute(f"SELECT {uid}")  # review: ignore[SQL001]
    # review: ignore[SQL005, SQL001]
    cur.execute(f"SELECT * FROM t WHERE id = {uid}")
    cur.execute(
        f"SELECT {uid}"  # review: ignore[B608]
    )
    return cur.execute(f"SELECT {uid}")
"""


def finding(code: str, line: int, end_line: int | None = None, engine: str = "libcst", cwe=(89,), path="app/db.py"):
    return Finding(
        code=code,
        name="n",
        severity=Severity.ERROR,
        message=f"{code} on {line}",
        path=path,
        start=Position(line, 5),
        end=Position(end_line or line, 10),
        engine=engine,
        cwe=cwe,
    )


CHANGE = ChangeSet(
    files=(
        FileChange(
            "app/db.py",
            FileStatus.MODIFIED,
            hunks=(Hunk(new_start=6, new_length=4, added=(7,)),),
        ),
    )
)


def run(findings, config=Config(), mode="nofilter", changeset=CHANGE):
    return apply_filters(findings, config, changeset, {"app/db.py": SOURCE}, mode)


@pytest.mark.parametrize(
    ("mode", "kept_lines"),
    [("added", [6]), ("diff_context", [6, 9]), ("file", [2, 6, 9]), ("nofilter", [2, 6, 9])],
)
def test_diff_filter_modes(mode: str, kept_lines: list[int]) -> None:
    findings = [finding("SQL002", 2), finding("SQL002", 6, 8), finding("SQL002", 9)]
    assert [f.start.line for f in run(findings, mode=mode)] == kept_lines


def test_findings_in_files_outside_the_change_are_dropped_unless_nofilter() -> None:
    other = finding("SQL002", 1, path="other.py")
    assert run([other], mode="file") == []
    assert run([other], mode="nofilter") == [other]


def test_tool_diagnostics_ignore_the_diff_filter() -> None:
    parse_error = dataclasses.replace(finding("RVW001", 2), engine="libcst")
    assert run([parse_error], mode="added") == [parse_error]


def test_suppression_on_the_line_or_the_line_above_or_inside_the_range() -> None:
    findings = [
        finding("SQL001", 3),  # same line
        finding("SQL001", 5),  # line above lists it among others
        finding("B608", 6, 8, engine="bandit", cwe=()),  # on the range's last line
        finding("SQL002", 3),  # a different code on a suppressed line stays
        finding("SQL001", 9),  # nothing suppresses this one
    ]
    kept = run(findings)
    assert [(f.code, f.start.line) for f in kept] == [("SQL002", 3), ("SQL001", 9)]


def test_select_ignore_and_per_path_ignores_by_prefix() -> None:
    findings = [finding("SQL001", 9), finding("SQL005", 9), finding("B608", 9, engine="bandit", cwe=())]
    assert [f.code for f in run(findings, Config(select=("SQL",)))] == ["SQL001", "SQL005"]
    assert [f.code for f in run(findings, Config(ignore=("SQL0",)))] == ["B608"]
    per_path = Config(per_path_ignores={"app/**": ("B",), "tests/**": ("SQL",)})
    assert [f.code for f in run(findings, per_path)] == ["SQL001", "SQL005"]


def test_severity_override() -> None:
    [kept] = run([finding("SQL001", 9)], Config(severity={"SQL001": Severity.NOTE}))
    assert kept.severity is Severity.NOTE


def test_bandit_finding_on_the_same_lines_and_cwe_as_ours_is_dropped() -> None:
    ours = finding("SQL001", 6, 8)
    bandit_same = finding("B608", 7, engine="bandit", cwe=(89,))
    bandit_other_cwe = finding("B602", 7, engine="bandit", cwe=(78,))
    bandit_other_line = finding("B608", 9, engine="bandit", cwe=(89,))
    kept = run([ours, bandit_same, bandit_other_cwe, bandit_other_line])
    assert [(f.code, f.start.line) for f in kept] == [("SQL001", 6), ("B602", 7), ("B608", 9)]


def test_one_parse_error_per_file_is_kept() -> None:
    first = dataclasses.replace(finding("RVW001", 2), message="libcst could not parse")
    second = dataclasses.replace(finding("RVW001", 4, engine="bandit"), message="bandit could not parse")
    assert run([first, second]) == [first]


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("app/migrations/0001.py", ["migrations/**"], False),
        ("app/migrations/0001.py", ["**/migrations/**"], True),
        ("app/migrations/0001.py", ["*.py"], True),
        ("tests/unit/test_a.py", ["tests/**"], True),
        ("src/tests.py", ["tests/**"], False),
        ("vendor/.hidden/x.js", ["vendor/**"], True),
        ("vendor/lib/x.py", ["vendor"], True),
        ("vendor/lib/x.py", ["vendor/"], True),
        ("vendor/lib/x.py", ["./vendor/**"], True),
        ("app/vendor/x.py", ["vendor"], True),
        ("app/vendored.py", ["vendor"], False),
    ],
)
def test_path_globs(path: str, patterns: list[str], expected: bool) -> None:
    assert path_matches(path, patterns) is expected
