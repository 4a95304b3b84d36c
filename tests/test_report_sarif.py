"""The SARIF reporter: validated against the official SARIF 2.1.0 schema, values GitHub reads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from reviewer import __version__
from reviewer.catalog import load_catalog
from reviewer.errors import UsageError
from reviewer.finding import Finding, Fix, Position, Severity, TextEdit
from reviewer.report import render
from reviewer.report.markdown import rule_docs_markdown, rule_docs_text
from reviewer.report import sarif
from reviewer.report.sarif import render_sarif
from reviewer.result import EngineFailure, ReviewResult
from reviewer.rulemeta import RuleMeta, docs_url

SARIF_SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
SARIF_SCHEMA = json.loads(SARIF_SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft4Validator(SARIF_SCHEMA)

SQL_RULE = RuleMeta(
    code="SQL001",
    name="string-built-sql",
    severity=Severity.ERROR,
    engine="libcst",
    summary="SQL text built from strings reaches a query call",
    what="Flags query calls whose SQL text is built with +, % or f-strings.",
    why="Values spliced into SQL text can change the query: SQL injection.",
    example='cur.execute("SELECT * FROM users WHERE id = " + user_id)',
    use_instead='cur.execute("SELECT * FROM users WHERE id = ?", (user_id,))',
    references=("https://owasp.org/www-community/attacks/SQL_Injection",),
    cwe=(89,),
    tags=("sql",),
    confidence="high",
    fixable=True,
)
LOG_RULE = RuleMeta(
    code="LOG001",
    name="print-in-handler",
    severity=Severity.NOTE,
    engine="semgrep",
    summary="print() in a request handler",
    what="Flags print() calls in request handlers. " + "x" * 2000,
    confidence="medium",
)


def sql_finding(**fields) -> Finding:
    values = dict(
        code="SQL001",
        name="string-built-sql",
        severity=Severity.ERROR,
        message="SQL text built with + reaches cursor.execute()",
        path="app/db.py",
        start=Position(12, 5),
        end=Position(12, 48),
        engine="libcst",
        cwe=(89,),
        tags=("sql",),
        fingerprint="0123456789abcdef0123456789abcdef",
    )
    values.update(fields)
    return Finding(**values)


def review(findings: list[Finding], **fields) -> ReviewResult:
    catalog = load_catalog()
    catalog.rules[SQL_RULE.code] = SQL_RULE  # a stand-in in place of the built-in rule
    catalog.rules[LOG_RULE.code] = LOG_RULE  # a stand-in in place of the built-in rule
    return ReviewResult(findings=findings, catalog=catalog, **fields)


def sarif_of(result: ReviewResult, **options) -> dict:
    log = json.loads(render_sarif(result, **options))
    VALIDATOR.validate(log)
    return log


def test_driver_rules_carry_docs_tags_precision_and_security_severity() -> None:
    run = sarif_of(review([sql_finding()]))["runs"][0]

    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == ("backend-reviewer", __version__, __version__)
    assert driver["informationUri"] == "https://github.com/backend-reviewer/backend-reviewer"
    assert driver["rules"] == [
        {
            "id": "SQL001",
            "name": "string-built-sql",
            "shortDescription": {"text": "SQL text built from strings reaches a query call"},
            "fullDescription": {"text": "Flags query calls whose SQL text is built with +, % or f-strings."},
            "help": {"text": rule_docs_text(SQL_RULE), "markdown": rule_docs_markdown(SQL_RULE)},
            "helpUri": docs_url("SQL001"),
            "defaultConfiguration": {"level": "error"},
            "properties": {
                "tags": ["sql", "security", "external/cwe/cwe-89"],
                "precision": "high",
                "security-severity": "8.0",
            },
        }
    ]


def test_result_has_region_uri_fingerprint_and_rule_index() -> None:
    result = sarif_of(review([sql_finding()]))["runs"][0]["results"][0]

    assert result == {
        "ruleId": "SQL001",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "SQL text built with + reaches cursor.execute()"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 12, "startColumn": 5, "endLine": 12, "endColumn": 48},
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": "0123456789abcdef0123456789abcdef"},
    }


def test_fix_becomes_artifact_change_with_deleted_region_and_inserted_content() -> None:
    fix = Fix(
        "Pass the value as a query parameter",
        (TextEdit(Position(12, 17), Position(12, 47), '"SELECT * FROM users WHERE id = ?", (user_id,)'),),
    )
    result = sarif_of(review([sql_finding(fix=fix)]))["runs"][0]["results"][0]

    assert result["fixes"] == [
        {
            "description": {"text": "Pass the value as a query parameter"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 12, "startColumn": 17, "endLine": 12, "endColumn": 47},
                            "insertedContent": {"text": '"SELECT * FROM users WHERE id = ?", (user_id,)'},
                        }
                    ],
                }
            ],
        }
    ]


def test_paths_with_spaces_and_non_ascii_are_percent_encoded() -> None:
    log = sarif_of(review([sql_finding(path="app/my handlers/données#1.py")]))

    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "app/my%20handlers/donn%C3%A9es%231.py", "uriBaseId": "%SRCROOT%"}


def test_root_becomes_srcroot_file_uri_with_trailing_slash(tmp_path: Path) -> None:
    root = tmp_path / "my repo"
    root.mkdir()

    run = sarif_of(review([sql_finding()], root=root))["runs"][0]

    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/my%20repo/")
    assert "originalUriBaseIds" not in sarif_of(review([sql_finding()]))["runs"][0]


def test_run_properties_and_category() -> None:
    run = sarif_of(review([sql_finding()]))["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["automationDetails"] == {"id": "backend-reviewer/"}
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]

    custom = sarif_of(review([sql_finding()]), category="backend-reviewer/python")["runs"][0]
    assert custom["automationDetails"] == {"id": "backend-reviewer/python/"}
    with pytest.raises(UsageError, match="SARIF category '/' must name something"):
        render_sarif(review([]), category="/")


def test_non_security_rule_has_no_security_severity_and_long_text_is_cut_to_1024() -> None:
    note = Finding(
        code="LOG001",
        name="print-in-handler",
        severity=Severity.NOTE,
        message="print() in handler create_user",
        path="app/views.py",
        start=Position(4, 5),
        end=Position(4, 22),
        engine="semgrep",
        fingerprint="ffffffffffffffffffffffffffffffff",
    )
    log = sarif_of(review([sql_finding(), note]))

    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["LOG001", "SQL001"]
    log_rule = rules[0]
    assert log_rule["properties"] == {"tags": [], "precision": "medium"}
    assert log_rule["defaultConfiguration"] == {"level": "note"}
    assert len(log_rule["fullDescription"]["text"]) == 1024
    assert log_rule["fullDescription"]["text"].endswith("x…")
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [("SQL001", 1, "error"), ("LOG001", 0, "note")]


def test_bandit_rule_uses_bandit_help_uri_and_security_severity_of_its_level() -> None:
    bandit = Finding(
        code="B608",
        name="hardcoded-sql-expressions",
        severity=Severity.WARNING,
        message="Possible SQL injection vector through string-based query construction.",
        path="app/db.py",
        start=Position(7, 20),
        end=Position(7, 51),
        engine="bandit",
        fingerprint="abababababababababababababababab",
    )
    rule = sarif_of(review([bandit]))["runs"][0]["tool"]["driver"]["rules"][0]

    assert rule["id"] == "B608"
    assert rule["helpUri"] == "https://bandit.readthedocs.io/en/latest/plugins/b608_hardcoded_sql_expressions.html"
    assert rule["properties"]["security-severity"] == "5.5"
    assert rule["properties"]["tags"] == ["security"]
    assert "## References\n\n- <https://bandit.readthedocs.io/en/latest/plugins/b608_hardcoded_sql_expressions.html>" in rule["help"]["markdown"]


def test_zero_results_validate() -> None:
    log = sarif_of(review([], files_reviewed=3))

    run = log["runs"][0]
    assert (log["version"], run["results"], run["tool"]["driver"]["rules"]) == ("2.1.0", [], [])
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 0}]


def test_engine_failure_becomes_an_error_notification_and_unsuccessful_execution() -> None:
    result = review([], engine_failures=[EngineFailure("semgrep", "timed out after 60 s")])

    log = json.loads(render("sarif", result))

    VALIDATOR.validate(log)
    assert log["runs"][0]["invocations"] == [
        {
            "executionSuccessful": False,
            "exitCode": 3,
            "toolExecutionNotifications": [{"level": "error", "message": {"text": "engine semgrep failed: timed out after 60 s"}}],
        }
    ]


def test_results_past_code_scannings_limit_keep_the_most_severe_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 3)
    severities = [Severity.NOTE, Severity.ERROR, Severity.WARNING, Severity.NOTE, Severity.ERROR]
    findings = [sql_finding(start=Position(line, 1), end=Position(line, 9), severity=severity)
                for line, severity in enumerate(severities, start=1)]

    log = sarif_of(review(findings))

    run = log["runs"][0]
    assert [r["region"]["startLine"] for r in (res["locations"][0]["physicalLocation"] for res in run["results"])] == [2, 3, 5]
    assert run["invocations"][0]["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {"text": "2 of 5 findings are left out of this file: code scanning accepts at most 3 results "
                                "per run, so the most severe are kept; `review` prints them all"},
        }
    ]


def test_rule_docs_render_every_section_in_markdown_and_text() -> None:
    assert rule_docs_markdown(SQL_RULE) == (
        "## What it does\n\nFlags query calls whose SQL text is built with +, % or f-strings.\n\n"
        "## Why is this bad?\n\nValues spliced into SQL text can change the query: SQL injection.\n\n"
        '## Example\n\n```python\ncur.execute("SELECT * FROM users WHERE id = " + user_id)\n```\n\n'
        '## Use instead\n\n```python\ncur.execute("SELECT * FROM users WHERE id = ?", (user_id,))\n```\n\n'
        "## References\n\n- <https://owasp.org/www-community/attacks/SQL_Injection>\n"
    )
    assert rule_docs_text(SQL_RULE) == (
        "What it does\n  Flags query calls whose SQL text is built with +, % or f-strings.\n\n"
        "Why is this bad?\n  Values spliced into SQL text can change the query: SQL injection.\n\n"
        'Example\n    cur.execute("SELECT * FROM users WHERE id = " + user_id)\n\n'
        'Use instead\n    cur.execute("SELECT * FROM users WHERE id = ?", (user_id,))\n\n'
        "References\n  - https://owasp.org/www-community/attacks/SQL_Injection\n"
    )


def test_schema_copy_is_the_official_file_and_rejects_a_bad_region() -> None:
    digest = hashlib.sha256(SARIF_SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest == "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
    log = sarif_of(review([sql_finding()]))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0

    assert any("minimum" in error.message or "less than" in error.message for error in VALIDATOR.iter_errors(log))
