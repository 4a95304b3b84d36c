"""The JSON report: a documented, versioned document for programs (docs/json-format.md).

Its shape is fixed by review-result.schema.json beside this file; `schema_version` changes only
when a change could break a consumer (a field removed, renamed, or given a new meaning).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reviewer import __version__
from reviewer.finding import Finding, Position, Severity
from reviewer.report import help_uri, rule_for
from reviewer.result import ReviewResult

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("review-result.schema.json")


def render_json(result: ReviewResult) -> str:
    return json.dumps(review_document(result), indent=2, ensure_ascii=False) + "\n"


def review_document(result: ReviewResult) -> dict[str, Any]:
    counts = result.counts_by_severity()
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "backend-reviewer", "version": __version__},
        "summary": {"findings": len(result.findings), **{severity.value: counts[severity] for severity in Severity}},
        "files_reviewed": result.files_reviewed,
        "fail_on": result.fail_on.value if result.fail_on is not None else None,
        "exit_code": result.exit_code(),
        "findings": [_finding(result, finding) for finding in result.findings],
        "engine_failures": [{"engine": f.engine, "message": f.message} for f in result.engine_failures],
    }


def _finding(result: ReviewResult, finding: Finding) -> dict[str, Any]:
    meta = rule_for(result, finding)
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "path": finding.path,
        "start": _position(finding.start),
        "end": _position(finding.end),
        "engine": finding.engine,
        "cwe": list(finding.cwe or meta.cwe),
        "tags": list(dict.fromkeys((*finding.tags, *meta.all_tags))),
        "fingerprint": finding.fingerprint,
        "fix": None
        if finding.fix is None
        else {
            "description": finding.fix.description,
            "edits": [
                {"start": _position(edit.start), "end": _position(edit.end), "replacement": edit.replacement}
                for edit in finding.fix.edits
            ],
        },
        "docs_url": help_uri(meta),
    }


def _position(position: Position) -> dict[str, int]:
    return {"line": position.line, "column": position.column}
