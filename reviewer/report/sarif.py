"""SARIF 2.1.0 for code scanning and SARIF viewers.

Shaped by what GitHub code scanning reads: rules with short/full descriptions (at most 1024
characters), help text and Markdown, tags (`security`, `external/cwe/cwe-NNN`), a
security-severity score for security rules; results with a repository-relative URI under
%SRCROOT% and `partialFingerprints.primaryLocationLineHash`, so alerts keep their identity
when code moves. Finding positions are already SARIF's: 1-based, end column exclusive.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from reviewer import __version__
from reviewer.errors import UsageError
from reviewer.finding import Finding, Fix, Position, Severity
from reviewer.report import help_uri, rule_for
from reviewer.report.markdown import rule_docs_markdown, rule_docs_text
from reviewer.result import ReviewResult
from reviewer.rulemeta import DOCS_BASE_URL, RuleMeta

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = DOCS_BASE_URL.split("/blob/", 1)[0]
SRCROOT = "%SRCROOT%"
DEFAULT_CATEGORY = "backend-reviewer/"

# Code scanning's score for a security rule, from its default severity: high, medium, low.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.NOTE: "3.0"}
MAX_DESCRIPTION_CHARS = 1024
MAX_NAME_CHARS = 255
MAX_TAGS = 20
# Code scanning rejects a run with more results; the most severe are kept, and a notification
# says how many were left out.
MAX_RESULTS = 25_000


def render_sarif(result: ReviewResult, *, category: str = DEFAULT_CATEGORY) -> str:
    return json.dumps(sarif_log(result, category=category), indent=2, ensure_ascii=False) + "\n"


def sarif_log(result: ReviewResult, *, category: str = DEFAULT_CATEGORY) -> dict[str, Any]:
    """The SARIF log as plain data; `category` keeps several analyses of one commit apart."""
    rules = _rules_by_code(result)
    rule_index = {code: index for index, code in enumerate(rules)}
    kept = _most_severe(result.findings, MAX_RESULTS)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "backend-reviewer",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(meta) for meta in rules.values()],
            }
        },
        "automationDetails": {"id": _automation_id(category)},
        "columnKind": "unicodeCodePoints",
        "invocations": [_invocation(result, left_out=len(result.findings) - len(kept))],
        "results": [_result(finding, rule_index[finding.code]) for finding in kept],
    }
    if result.root is not None:
        root_uri = result.root.resolve().as_uri()
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root_uri if root_uri.endswith("/") else root_uri + "/"}}
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def artifact_uri(path: str) -> str:
    """A repository-relative posix path as a relative URI reference (spaces, non-ASCII encoded;
    a file name that is not UTF-8 keeps its original bytes, percent-encoded)."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _automation_id(category: str) -> str:
    """Code scanning treats everything before the last `/` as the category: end with one."""
    if not category.strip("/"):
        raise UsageError(f"SARIF category {category!r} must name something, e.g. 'backend-reviewer/python'")
    return category if category.endswith("/") else category + "/"


def _rules_by_code(result: ReviewResult) -> dict[str, RuleMeta]:
    metas: dict[str, RuleMeta] = {}
    for finding in result.findings:
        if finding.code not in metas:
            metas[finding.code] = rule_for(result, finding)
    return {code: metas[code] for code in sorted(metas)}


def _rule(meta: RuleMeta) -> dict[str, Any]:
    short = meta.summary or meta.name
    properties: dict[str, Any] = {
        "tags": list(meta.all_tags[:MAX_TAGS]),
        # Our confidence levels (high, medium, low) are code scanning precision values as they are.
        "precision": meta.confidence,
    }
    if meta.is_security:
        properties["security-severity"] = SECURITY_SEVERITY[meta.severity]
    return {
        "id": meta.code,
        "name": _limited(meta.name, MAX_NAME_CHARS),
        "shortDescription": {"text": _limited(short, MAX_DESCRIPTION_CHARS)},
        "fullDescription": {"text": _limited(meta.what or short, MAX_DESCRIPTION_CHARS)},
        "help": {"text": rule_docs_text(meta), "markdown": rule_docs_markdown(meta)},
        "helpUri": help_uri(meta),
        "defaultConfiguration": {"level": meta.severity.value},
        "properties": properties,
    }


def _limited(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    sarif_result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": finding.severity.value,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact_location(finding.path),
                    "region": _region(finding.start, finding.end),
                }
            }
        ],
    }
    if finding.fingerprint:
        sarif_result["partialFingerprints"] = {"primaryLocationLineHash": finding.fingerprint}
    if finding.fix is not None:
        sarif_result["fixes"] = [_fix(finding.path, finding.fix)]
    return sarif_result


def _artifact_location(path: str) -> dict[str, str]:
    return {"uri": artifact_uri(path), "uriBaseId": SRCROOT}


def _region(start: Position, end: Position) -> dict[str, int]:
    return {"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column}


def _fix(path: str, fix: Fix) -> dict[str, Any]:
    return {
        "description": {"text": fix.description},
        "artifactChanges": [
            {
                "artifactLocation": _artifact_location(path),
                "replacements": [
                    {"deletedRegion": _region(edit.start, edit.end), "insertedContent": {"text": edit.replacement}}
                    for edit in fix.edits
                ],
            }
        ],
    }


def _most_severe(findings: list[Finding], limit: int) -> list[Finding]:
    """At most `limit` findings, the most severe first chosen, in their original order."""
    if len(findings) <= limit:
        return findings
    chosen = sorted(range(len(findings)), key=lambda index: -findings[index].severity.rank)[:limit]
    return [findings[index] for index in sorted(chosen)]


def _invocation(result: ReviewResult, left_out: int) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": not result.engine_failures, "exitCode": result.exit_code()}
    notifications = [
        {"level": "error", "message": {"text": f"engine {failure.engine} failed: {failure.message}"}}
        for failure in result.engine_failures
    ]
    if left_out:
        text = (
            f"{left_out} of {len(result.findings)} findings are left out of this file: code scanning accepts "
            f"at most {MAX_RESULTS:,} results per run, so the most severe are kept; `review` prints them all"
        )
        notifications.append({"level": "warning", "message": {"text": text}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
