"""The JSON reporter: exact field values, and every document validates against its own schema."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from reviewer import __version__
from reviewer.catalog import load_catalog
from reviewer.finding import Finding, Fix, Position, Severity, TextEdit
from reviewer.report import render
from reviewer.report.json_format import SCHEMA_PATH, render_json
from reviewer.result import EngineFailure, ReviewResult
from reviewer.rulemeta import RuleMeta, docs_url

DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "json-format.md"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)

SQL_RULE = RuleMeta(
    code="SQL001",
    name="string-built-sql",
    severity=Severity.ERROR,
    engine="libcst",
    summary="SQL text built from strings reaches a query call",
    what="Flags query calls whose SQL text is built with +, % or f-strings.",
    cwe=(89,),
    tags=("sql",),
)


def sample_result() -> ReviewResult:
    catalog = load_catalog()
    catalog.rules[SQL_RULE.code] = SQL_RULE  # a stand-in in place of the built-in rule
    sql = Finding(
        code="SQL001",
        name="string-built-sql",
        severity=Severity.ERROR,
        message="SQL text built with + reaches cursor.execute()",
        path="app/db.py",
        start=Position(12, 5),
        end=Position(12, 48),
        engine="libcst",
        fix=Fix(
            "Pass the value as a query parameter",
            (TextEdit(Position(12, 17), Position(12, 47), '"SELECT * FROM users WHERE id = ?", (user_id,)'),),
        ),
        cwe=(89,),
        tags=("sql",),
        fingerprint="0123456789abcdef0123456789abcdef",
    )
    bandit = Finding(
        code="B105",
        name="hardcoded-password-string",
        severity=Severity.WARNING,
        message="Possible hardcoded password: 'hunter2'",
        path="app/settings.py",
        start=Position(3, 12),
        end=Position(3, 21),
        engine="bandit",
        cwe=(259,),
        fingerprint="fedcba9876543210fedcba9876543210",
    )
    return ReviewResult(findings=[sql, bandit], catalog=catalog, files_reviewed=4)


def test_document_fields_are_exact_and_validate() -> None:
    document = json.loads(render_json(sample_result()))

    VALIDATOR.validate(document)
    assert document["schema_version"] == 1
    assert document["tool"] == {"name": "backend-reviewer", "version": __version__}
    assert document["summary"] == {"findings": 2, "error": 1, "warning": 1, "note": 0}
    assert (document["files_reviewed"], document["fail_on"], document["exit_code"]) == (4, "error", 1)
    assert document["engine_failures"] == []
    assert document["findings"][0] == {
        "code": "SQL001",
        "name": "string-built-sql",
        "severity": "error",
        "message": "SQL text built with + reaches cursor.execute()",
        "path": "app/db.py",
        "start": {"line": 12, "column": 5},
        "end": {"line": 12, "column": 48},
        "engine": "libcst",
        "cwe": [89],
        "tags": ["sql", "security", "external/cwe/cwe-89"],
        "fingerprint": "0123456789abcdef0123456789abcdef",
        "fix": {
            "description": "Pass the value as a query parameter",
            "edits": [
                {
                    "start": {"line": 12, "column": 17},
                    "end": {"line": 12, "column": 47},
                    "replacement": '"SELECT * FROM users WHERE id = ?", (user_id,)',
                }
            ],
        },
        "docs_url": docs_url("SQL001"),
    }


def test_bandit_finding_links_to_bandit_docs_and_has_no_fix() -> None:
    bandit = json.loads(render_json(sample_result()))["findings"][1]

    assert (bandit["code"], bandit["engine"], bandit["fix"]) == ("B105", "bandit", None)
    assert bandit["docs_url"] == "https://bandit.readthedocs.io/en/latest/plugins/b105_hardcoded_password_string.html"
    assert bandit["cwe"] == [259]
    assert bandit["tags"] == ["security"]


def test_engine_failure_sets_exit_code_3_and_still_validates() -> None:
    result = sample_result()
    result.engine_failures.append(EngineFailure("semgrep", "semgrep exited with code 2: invalid rule"))
    result.fail_on = None

    document = json.loads(render("json", result))

    VALIDATOR.validate(document)
    assert document["engine_failures"] == [{"engine": "semgrep", "message": "semgrep exited with code 2: invalid rule"}]
    assert (document["fail_on"], document["exit_code"]) == (None, 3)


def test_empty_review_validates() -> None:
    document = json.loads(render_json(ReviewResult(findings=[], catalog=load_catalog(), files_reviewed=0)))

    VALIDATOR.validate(document)
    assert (document["findings"], document["summary"]["findings"], document["exit_code"]) == ([], 0, 0)


def test_non_ascii_text_is_kept_as_is() -> None:
    result = sample_result()
    result.findings[0] = Finding(**{**vars(result.findings[0]), "path": "app/données.py"})

    assert '"path": "app/données.py"' in render_json(result)


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (lambda d: d.update(schema_version=2), "1 was expected"),
        (lambda d: d.pop("exit_code"), "'exit_code' is a required property"),
        (lambda d: d["findings"][0].update(severity="critical"), "'critical' is not one of"),
        (lambda d: d["findings"][0]["start"].update(line=0), "0 is less than the minimum of 1"),
        (lambda d: d["findings"][0].update(code="sql-1"), "does not match"),
        (lambda d: d["findings"][0]["fix"].update(edits=[]), "is not valid under any of the given schemas"),
        (lambda d: d["findings"][1].update(fingerprint="not hex"), "does not match"),
        (lambda d: d.update(extra=True), "Additional properties are not allowed ('extra' was unexpected)"),
    ],
)
def test_schema_rejects_malformed_documents(breakage, complaint: str) -> None:
    document = copy.deepcopy(json.loads(render_json(sample_result())))
    breakage(document)

    with pytest.raises(ValidationError, match=re.escape(complaint)):
        VALIDATOR.validate(document)


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_example_in_the_docs_validates_against_the_schema() -> None:
    example = re.search(r"```json\n(.*?)\n```", DOCS_PAGE.read_text(encoding="utf-8"), re.S).group(1)

    VALIDATOR.validate(json.loads(example))
