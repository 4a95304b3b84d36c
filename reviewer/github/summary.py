"""The one summary comment, updated in place: counts by severity and rule (each rule linked to
its docs), the findings not commented inline and why, and engine errors.

It ends with a marker listing the fingerprints it shows, so later runs do not post them again.
GitHub refuses comments over 65,536 characters: the list is cut to fit, never the marker.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from reviewer.finding import Finding
from reviewer.github import markers
from reviewer.github.plan import Unplaced
from reviewer.report import help_uri, rule_for
from reviewer.report.markdown import code_span, escape_markdown, message_markdown
from reviewer.report.text import count_noun, summary_line
from reviewer.result import ReviewResult

MAX_SUMMARY_CHARS = 65_536
# Room kept for the fingerprints marker (33 characters each); past this, later runs may
# comment inline on findings this summary listed.
MAX_LISTED_FINGERPRINTS = 900
MAX_FAILURE_CHARS = 2_000


def summary_comment(result: ReviewResult, unplaced: Sequence[Unplaced], head_sha: str) -> str:
    head = [markers.SUMMARY, "## backend-reviewer", ""]
    head.append(f"**{escape_markdown(summary_line(result))}** · commit {code_span(head_sha[:12])}")
    if result.findings:
        head += ["", *_rule_table(result)]
    tail = _engine_errors(result)
    listed = [item.finding.fingerprint for item in unplaced[:MAX_LISTED_FINGERPRINTS]]
    marker = markers.listed_marker(listed)
    budget = MAX_SUMMARY_CHARS - 1_000 - _length(head) - _length(tail) - len(marker)
    body = [*head, *_unplaced_list(unplaced, budget), *tail, "", marker]
    return "\n".join(body) + "\n"


def _rule_table(result: ReviewResult) -> list[str]:
    counts = Counter(finding.code for finding in result.findings)
    worst: dict[str, Finding] = {}
    for finding in result.findings:
        if finding.code not in worst or finding.severity.rank > worst[finding.code].severity.rank:
            worst[finding.code] = finding
    rows = ["| Rule | Severity | Count | What it flags |", "| --- | --- | ---: | --- |"]
    for code in sorted(counts, key=lambda c: (-worst[c].severity.rank, c)):
        meta = rule_for(result, worst[code])
        rule = f"[{escape_markdown(f'{code} {meta.name}')}]({help_uri(meta)})"
        rows.append(f"| {rule} | {worst[code].severity.value} | {counts[code]} | {message_markdown(meta.summary, in_table=True)} |")
    return rows


def _unplaced_list(unplaced: Sequence[Unplaced], budget: int) -> list[str]:
    if not unplaced:
        return []
    lines = ["", f"### Not commented inline ({len(unplaced)})", ""]
    used = _length(lines)
    ordered = sorted(unplaced, key=lambda item: (-item.finding.severity.rank, item.finding.sort_key()))
    for shown, item in enumerate(ordered):
        finding = item.finding
        where = code_span(f"{finding.path}:{finding.start.line}")
        line = f"- {where} **{finding.code}** ({finding.severity.value}) {message_markdown(finding.message)} — {item.reason}"
        if used + len(line) + 1 > budget:
            lines.append(f"- and {count_noun(len(ordered) - shown, 'more finding')} (this comment has a size limit)")
            break
        lines.append(line)
        used += len(line) + 1
    return lines


def _engine_errors(result: ReviewResult) -> list[str]:
    if not result.engine_failures:
        return []
    lines = ["", "### Engine errors", "", "These engines did not finish, so their findings are missing:", ""]
    for failure in result.engine_failures:
        message = escape_markdown(failure.message[:MAX_FAILURE_CHARS])
        lines.append(f"- {escape_markdown(failure.engine)}: {message}")
    return lines


def _length(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
