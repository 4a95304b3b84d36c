"""Markdown: the job summary / pull-request summary comment, and a rule's docs.

`rule_docs_markdown` and `rule_docs_text` are the one rendering of a rule's docs sections,
shared by SARIF's `help`, `review explain` and the generated docs/rules/ pages.

Messages and paths can quote reviewed code, so they are escaped to render as literal text: a `|`
cannot break a table row, a `<` cannot inject HTML, a `[x](y)` makes no link, and an `@name`
notifies no one.
"""

from __future__ import annotations

import re
from collections import Counter

from reviewer.finding import Finding, Severity
from reviewer.report import help_uri, rule_for
from reviewer.report.text import count_noun, summary_line
from reviewer.result import ReviewResult
from reviewer.rulemeta import RuleMeta

# GitHub rejects issue comments over 65,536 characters; keep a margin for what wraps ours.
MAX_MARKDOWN_CHARS = 65_000
MAX_FAILURE_MESSAGE_CHARS = 2_000

# Markup that works anywhere in a line; `<`, `>` and `&` become entities instead.
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]|~])")
# Markup that only works at the start of a line: headings, lists, setext underlines.
_LINE_START_MARKER = re.compile(r"^([#+=-]|\d+(?=[.)]))")
_MENTION = re.compile(r"@(?=\w)")
_AUTOLINK = re.compile(r":/(?=/)|\bwww\.", re.IGNORECASE)
_LINE_BREAKS = re.compile(r"[\r\n]+")


def rule_docs_markdown(meta: RuleMeta) -> str:
    """The rule's docs sections as Markdown, one `##` heading per section that has content."""
    parts = []
    for title, body, is_code in _doc_sections(meta):
        if is_code:
            body = _fenced(body, meta.languages[0] if meta.languages else "")
        elif title == "References":
            body = "\n".join(f"- <{ref}>" if _is_url(ref) else f"- {ref}" for ref in body.split("\n"))
        parts.append(f"## {title}\n\n{body}")
    return "\n\n".join(parts) + "\n"


def rule_docs_text(meta: RuleMeta) -> str:
    """The same sections as plain text, for terminals and SARIF's required `help.text`."""
    parts = []
    for title, body, is_code in _doc_sections(meta):
        indent = "    " if is_code else "  "
        if title == "References":
            body = "\n".join(f"- {ref}" for ref in body.split("\n"))
        indented = "\n".join(f"{indent}{line}" if line else "" for line in body.split("\n"))
        parts.append(f"{title}\n{indented}")
    return "\n\n".join(parts) + "\n"


def _doc_sections(meta: RuleMeta) -> list[tuple[str, str, bool]]:
    sections = [
        ("What it does", meta.what or meta.summary, False),
        ("Why is this bad?", meta.why, False),
        ("Example", meta.example, True),
        ("Use instead", meta.use_instead, True),
        ("References", "\n".join(meta.references), False),
    ]
    return [(title, body.strip("\n"), is_code) for title, body, is_code in sections if body.strip()]


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://")) and not re.search(r"[\s<>]", text)


def _fenced(code: str, language: str) -> str:
    longest_run = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest_run + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def escape_markdown(text: str) -> str:
    """Text that renders literally in a Markdown paragraph or table cell, on one line."""
    return _escape_inline(_LINE_BREAKS.sub(" ", text).strip(), at_line_start=True)


def message_markdown(text: str, *, in_table: bool = False) -> str:
    """A finding's message with its `code` quotes rendered as code spans, the rest as literal
    text (as `escape_markdown`). A code span shows its content as is — no HTML, links or
    mentions — so reviewed code quoted there stays harmless. An unpaired backtick makes the
    whole message plain text."""
    parts = _LINE_BREAKS.sub(" ", text).strip().split("`")
    if len(parts) % 2 == 0:
        return escape_markdown(text)
    rendered = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            rendered.append(_escape_inline(part, at_line_start=index == 0))
        elif part.strip():
            span = code_span(part)
            rendered.append(span.replace("|", "\\|") if in_table else span)  # GFM splits cells even in code
        else:
            rendered.append(f"\\`{_escape_inline(part, at_line_start=False)}\\`")
    return "".join(rendered)


def _escape_inline(text: str, *, at_line_start: bool) -> str:
    text = _INLINE_MARKUP.sub(r"\\\1", text)
    if at_line_start:
        text = _LINE_START_MARKER.sub(_escape_line_start, text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width space after `@` keeps GitHub from turning `@name` into a notification, and
    # inside `://` and `www.` from turning a bare address into a link.
    text = _AUTOLINK.sub(lambda match: match.group()[:-1] + "\u200b" + match.group()[-1], text)
    return _MENTION.sub("@\u200b", text)


def _escape_line_start(match: re.Match[str]) -> str:
    marker = match.group(1)
    return marker + "\\" if marker[0].isdigit() else "\\" + marker


def code_span(text: str) -> str:
    """An inline code span that holds any text, backticks included, on one line."""
    text = _LINE_BREAKS.sub(" ", text)
    longest_run = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest_run + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def render_markdown(result: ReviewResult, *, heading: str = "backend-reviewer", max_findings: int = 50) -> str:
    """A summary for a job summary or PR comment, never longer than MAX_MARKDOWN_CHARS."""
    head = [f"## {escape_markdown(heading)}", "", f"**{escape_markdown(summary_line(result))}**"]
    if result.findings:
        head += ["", *_rule_table(result)]
    tail = _failure_section(result)
    listed = _finding_list(result, max_findings, budget=MAX_MARKDOWN_CHARS - _length(head) - _length(tail) - 200)
    text = "\n".join([*head, *listed, *tail]) + "\n"
    if len(text) > MAX_MARKDOWN_CHARS:  # only a pathological heading or rule table gets here
        text = text[: MAX_MARKDOWN_CHARS - 100].rsplit("\n", 1)[0] + "\n\n_Summary truncated to fit GitHub's size limit._\n"
    return text


def _rule_table(result: ReviewResult) -> list[str]:
    counts = Counter(finding.code for finding in result.findings)
    worst: dict[str, Severity] = {}
    example: dict[str, Finding] = {}
    for finding in result.findings:
        if finding.code not in worst or finding.severity.rank > worst[finding.code].rank:
            worst[finding.code] = finding.severity
        example.setdefault(finding.code, finding)
    rows = ["| Rule | Name | Severity | Count |", "| --- | --- | --- | ---: |"]
    for code in sorted(counts, key=lambda c: (-worst[c].rank, c)):
        meta = rule_for(result, example[code])
        rows.append(f"| [{escape_markdown(code)}]({help_uri(meta)}) | {escape_markdown(meta.name)} | {worst[code].value} | {counts[code]} |")
    return rows


def _finding_list(result: ReviewResult, max_findings: int, budget: int) -> list[str]:
    if not result.findings:
        return []
    lines = ["", "### Findings", ""]
    used = _length(lines)
    shown = 0
    for finding in result.findings[: max(0, max_findings)]:
        line = f"- {code_span(f'{finding.path}:{finding.start.line}')} **{finding.code}** {message_markdown(finding.message)}"
        if used + len(line) + 1 > budget:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    hidden = len(result.findings) - shown
    if hidden:
        reason = "" if shown == max_findings else " (the summary has a size limit)"
        lines.append(f"- and {count_noun(hidden, 'more finding')} not listed here{reason}")
    return lines


def _failure_section(result: ReviewResult) -> list[str]:
    if not result.engine_failures:
        return []
    lines = ["", "### Engine failures", "", "These engines did not finish, so their findings are missing:", ""]
    for failure in result.engine_failures:
        message = failure.message[:MAX_FAILURE_MESSAGE_CHARS]
        lines.append(f"- engine {escape_markdown(failure.engine)} failed: {escape_markdown(message)}")
    return lines


def _length(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
