"""The GitHub workflow-command reporter: exact command lines, escaping, order."""

from __future__ import annotations

from reviewer.catalog import load_catalog
from reviewer.finding import Finding, Position, Severity
from reviewer.report import render
from reviewer.report.github_annotations import escape_data, escape_property, render_github
from reviewer.result import EngineFailure, ReviewResult


def finding(code: str, severity: Severity, path: str, start: tuple[int, int], end: tuple[int, int], message: str,
            name: str = "string-built-sql") -> Finding:
    return Finding(
        code=code,
        name=name,
        severity=severity,
        message=message,
        path=path,
        start=Position(*start),
        end=Position(*end),
        engine="libcst",
    )


def review(findings: list[Finding], **fields) -> ReviewResult:
    return ReviewResult(findings=findings, catalog=load_catalog(), **fields)


def test_one_line_finding_has_columns_and_title() -> None:
    sql = finding("SQL001", Severity.ERROR, "app/db.py", (12, 5), (12, 48), "SQL text built with + reaches cursor.execute()")

    assert render_github(review([sql])) == (
        "::error file=app/db.py,line=12,endLine=12,col=5,endColumn=48,title=SQL001 string-built-sql"
        "::SQL text built with + reaches cursor.execute()\n"
    )


def test_multi_line_finding_omits_columns_and_ends_on_its_last_covered_line() -> None:
    spans = finding("TXN001", Severity.WARNING, "app/orders.py", (3, 5), (7, 1), "two writes outside a transaction",
                    name="writes-without-transaction")

    assert render_github(review([spans])) == (
        "::warning file=app/orders.py,line=3,endLine=6,title=TXN001 writes-without-transaction"
        "::two writes outside a transaction\n"
    )


def test_message_newline_percent_and_path_comma_colon_are_escaped() -> None:
    hostile = finding(
        "SQL001",
        Severity.NOTE,
        "app/a,b:c.py",
        (1, 1),
        (1, 10),
        "100% sure\r\n::error::forged, yes",
        name="string-built-sql",
    )

    assert render_github(review([hostile])) == (
        "::notice file=app/a%2Cb%3Ac.py,line=1,endLine=1,col=1,endColumn=10,title=SQL001 string-built-sql"
        "::100%25 sure%0D%0A::error::forged, yes\n"
    )


def test_escaping_rules() -> None:
    assert escape_data("50%\nnext, a:b") == "50%25%0Anext, a:b"
    assert escape_property("50%\r\nnext, a:b") == "50%25%0D%0Anext%2C a%3Ab"


def test_most_severe_first_then_path_and_line_and_engine_failures_on_top() -> None:
    findings = [
        finding("LOG001", Severity.NOTE, "app/a.py", (1, 1), (1, 6), "print in handler", name="print-in-handler"),
        finding("VAL001", Severity.WARNING, "app/b.py", (9, 1), (9, 4), "unvalidated body", name="unvalidated-body"),
        finding("SQL001", Severity.ERROR, "app/z.py", (4, 1), (4, 9), "second error"),
        finding("SQL001", Severity.ERROR, "app/c.py", (20, 1), (20, 9), "first error"),
        finding("VAL001", Severity.WARNING, "app/b.py", (2, 1), (2, 4), "earlier warning", name="unvalidated-body"),
    ]
    result = review(findings, engine_failures=[EngineFailure("bandit", "bandit is not installed")])

    assert render("github", result).splitlines() == [
        "::error title=backend-reviewer engine failure::engine bandit failed: bandit is not installed",
        "::error file=app/c.py,line=20,endLine=20,col=1,endColumn=9,title=SQL001 string-built-sql::first error",
        "::error file=app/z.py,line=4,endLine=4,col=1,endColumn=9,title=SQL001 string-built-sql::second error",
        "::warning file=app/b.py,line=2,endLine=2,col=1,endColumn=4,title=VAL001 unvalidated-body::earlier warning",
        "::warning file=app/b.py,line=9,endLine=9,col=1,endColumn=4,title=VAL001 unvalidated-body::unvalidated body",
        "::notice file=app/a.py,line=1,endLine=1,col=1,endColumn=6,title=LOG001 print-in-handler::print in handler",
    ]


def test_nothing_to_report_prints_nothing() -> None:
    assert render_github(review([], files_reviewed=5)) == ""
