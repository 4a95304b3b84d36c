"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding.

Used when the token cannot post a review (fork pull requests): GitHub turns these lines into
annotations on the diff. It shows only about ten per type per step, so the most severe come
first. Everything from reviewed code is escaped, so a message cannot end its command early or
start a new one.
"""

from __future__ import annotations

from reviewer.finding import Finding, Severity
from reviewer.result import ReviewResult

COMMAND_BY_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
ENGINE_FAILURE_TITLE = "backend-reviewer engine failure"


def render_github(result: ReviewResult) -> str:
    lines = [
        f"::error title={escape_property(ENGINE_FAILURE_TITLE)}::"
        f"{escape_data(f'engine {failure.engine} failed: {failure.message}')}"
        for failure in result.engine_failures
    ]
    ordered = sorted(result.findings, key=lambda f: (-f.severity.rank, f.path, f.start.line, f.start.column, f.code))
    lines += [annotation(finding) for finding in ordered]
    return "".join(line + "\n" for line in lines)


def annotation(finding: Finding) -> str:
    last_line = finding.lines[-1]
    properties = [("file", finding.path), ("line", str(finding.start.line)), ("endLine", str(last_line))]
    if finding.start.line == finding.end.line:
        properties += [("col", str(finding.start.column)), ("endColumn", str(finding.end.column))]
    properties.append(("title", f"{finding.code} {finding.name}"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMAND_BY_SEVERITY[finding.severity]} {rendered}::{escape_data(finding.message)}"


def escape_data(text: str) -> str:
    """A command's message: `%`, CR and LF would end or corrupt the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: additionally `:` ends the properties and `,` separates them."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
