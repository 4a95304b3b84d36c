"""The Markdown summary: exact text, escaping checked by a real CommonMark renderer, size limits."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from reviewer.catalog import load_catalog
from reviewer.finding import Finding, Position, Severity
from reviewer.report.markdown import (
    MAX_MARKDOWN_CHARS,
    code_span,
    escape_markdown,
    message_markdown,
    render_markdown,
    rule_docs_markdown,
)
from reviewer.result import EngineFailure, ReviewResult
from reviewer.rulemeta import RuleMeta, docs_url

# GitHub renders raw HTML in comments (then sanitizes it); allow it here so an injection shows.
RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")

SQL_RULE = RuleMeta(
    code="SQL001",
    name="string-built-sql",
    severity=Severity.ERROR,
    engine="libcst",
    summary="SQL text built from strings reaches a query call",
    cwe=(89,),
)


def finding(code: str, severity: Severity, path: str, line: int, message: str, name: str) -> Finding:
    return Finding(
        code=code,
        name=name,
        severity=severity,
        message=message,
        path=path,
        start=Position(line, 5),
        end=Position(line, 20),
        engine="libcst",
    )


def review(findings: list[Finding], **fields) -> ReviewResult:
    catalog = load_catalog()
    catalog.rules[SQL_RULE.code] = SQL_RULE  # a stand-in in place of the built-in rule
    return ReviewResult(findings=findings, catalog=catalog, **fields)


def sample() -> ReviewResult:
    return review(
        [
            finding("B608", Severity.WARNING, "app/db.py", 7, "Possible SQL injection vector", "hardcoded-sql-expressions"),
            finding("SQL001", Severity.ERROR, "app/db.py", 12, "SQL text built with + reaches cursor.execute()", "string-built-sql"),
            finding("SQL001", Severity.ERROR, "app/users.py", 3, "SQL text built with % reaches cursor.execute()", "string-built-sql"),
        ],
        files_reviewed=4,
    )


def test_summary_counts_rule_table_and_finding_list_are_exact() -> None:
    assert render_markdown(sample()) == (
        "## backend-reviewer\n"
        "\n"
        "**3 findings: 2 errors, 1 warning, 0 notes in 4 files**\n"
        "\n"
        "| Rule | Name | Severity | Count |\n"
        "| --- | --- | --- | ---: |\n"
        f"| [SQL001]({docs_url('SQL001')}) | string-built-sql | error | 2 |\n"
        "| [B608](https://bandit.readthedocs.io/en/latest/plugins/b608_hardcoded_sql_expressions.html)"
        " | hardcoded-sql-expressions | warning | 1 |\n"
        "\n"
        "### Findings\n"
        "\n"
        "- `app/db.py:7` **B608** Possible SQL injection vector\n"
        "- `app/db.py:12` **SQL001** SQL text built with + reaches cursor.execute()\n"
        "- `app/users.py:3` **SQL001** SQL text built with % reaches cursor.execute()\n"
    )


def test_custom_heading_no_findings_and_engine_failures() -> None:
    result = review([], files_reviewed=2, engine_failures=[EngineFailure("semgrep", "timed out\nafter 60 s")])

    assert render_markdown(result, heading="Review of #42") == (
        "## Review of #42\n"
        "\n"
        "**No findings in 2 files.**\n"
        "\n"
        "### Engine failures\n"
        "\n"
        "These engines did not finish, so their findings are missing:\n"
        "\n"
        "- engine semgrep failed: timed out after 60 s\n"
    )


def test_hostile_message_and_path_render_as_literal_text() -> None:
    message = "x | y <img src=x onerror=alert(1)> `code` [link](http://evil) *bold* @octocat"
    result = review([finding("SQL001", Severity.ERROR, "app/we`ird <b>.py", 3, message, "string-built-sql")])

    html = RENDERER.render(render_markdown(result))

    assert "<img" not in html and "<b>" not in html and 'href="http://evil"' not in html
    item = re.search(r"<li>(.*)</li>", html).group(1)
    assert item == (
        "<code>app/we`ird &lt;b&gt;.py:3</code> <strong>SQL001</strong> "
        "x | y &lt;img src=x onerror=alert(1)&gt; <code>code</code> [link](http:\u200b//evil) *bold* @\u200boctocat"
    )


def test_code_quoted_in_a_message_is_a_code_span_that_stays_inert() -> None:
    message = "`<img src=x onerror=alert(1)>` and `[a](http://evil) @octocat` reach `cur.execute()`"
    html = RENDERER.render(message_markdown(message))
    assert html == (
        "<p><code>&lt;img src=x onerror=alert(1)&gt;</code> and "
        "<code>[a](http://evil) @octocat</code> reach <code>cur.execute()</code></p>\n"
    )


def test_message_with_an_unpaired_or_empty_backtick_pair_is_plain_text() -> None:
    assert RENDERER.render(message_markdown("a ` b <i>")) == "<p>a ` b &lt;i&gt;</p>\n"
    assert RENDERER.render(message_markdown("a `` b")) == "<p>a `` b</p>\n"
    assert message_markdown("# `x` y") == "\\# `x` y"  # line-start markers still escaped


def test_code_span_with_a_pipe_keeps_a_table_row_to_its_cells() -> None:
    summary = "SQL built with `a | b` reaches `execute()`"
    html = RENDERER.render(f"| Rule | What |\n| --- | --- |\n| SQL001 | {message_markdown(summary, in_table=True)} |\n")
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert cells == ["SQL001", "SQL built with <code>a | b</code> reaches <code>execute()</code>"]


def test_escaped_text_keeps_a_table_row_to_its_cells() -> None:
    message = "a | b ` c <td>d</td>\nnext"
    html = RENDERER.render(f"| Message | Code |\n| --- | --- |\n| {escape_markdown(message)} | SQL001 |\n")

    cells = re.findall(r"<td>(.*?)</td>", html)
    assert cells == ["a | b ` c &lt;td&gt;d&lt;/td&gt; next", "SQL001"]


def test_line_start_markers_are_escaped() -> None:
    assert escape_markdown("# not a heading") == "\\# not a heading"
    assert escape_markdown("1. not a list") == "1\\. not a list"
    assert RENDERER.render(escape_markdown("- not a list")) == "<p>- not a list</p>\n"


def test_code_span_holds_backticks() -> None:
    assert code_span("a`b") == "``a`b``"
    assert code_span("`edge`") == "`` `edge` ``"
    assert RENDERER.render(code_span("`edge`")) == "<p><code>`edge`</code></p>\n"


def test_max_findings_lists_that_many_and_says_how_many_more() -> None:
    text = render_markdown(sample(), max_findings=1)

    assert text.endswith(
        "### Findings\n\n- `app/db.py:7` **B608** Possible SQL injection vector\n- and 2 more findings not listed here\n"
    )


def test_output_never_exceeds_the_comment_limit_and_says_it_was_cut() -> None:
    many = [
        finding("SQL001", Severity.ERROR, f"app/module_{n}.py", n + 1, "SQL text built from " + "parts " * 80, "string-built-sql")
        for n in range(2000)
    ]
    failures = [EngineFailure("bandit", "crashed: " + "trace " * 1000)]

    text = render_markdown(review(many, files_reviewed=2000, engine_failures=failures), max_findings=5000)

    assert len(text) <= MAX_MARKDOWN_CHARS
    listed = re.findall(r"^- `app/module_\d+\.py:\d+` \*\*SQL001\*\*", text, re.M)
    assert 100 < len(listed) < 2000
    assert f"- and {2000 - len(listed)} more findings not listed here (the summary has a size limit)" in text
    assert "### Engine failures" in text and "- engine bandit failed: crashed: trace" in text


def test_rule_docs_fence_outgrows_backticks_in_the_example() -> None:
    meta = RuleMeta(
        code="DOC001",
        name="markdown-in-docstring",
        severity=Severity.NOTE,
        engine="libcst",
        summary="Docstring with a fenced block",
        example='"""\n```\nx\n```\n"""',
        languages=("python",),
    )

    assert '## Example\n\n````python\n"""\n```\nx\n```\n"""\n````' in rule_docs_markdown(meta)


def test_bare_addresses_outside_code_are_broken_so_github_does_not_autolink_them() -> None:
    text = message_markdown("calls `requests.get('https://in.code')` with https://evil.example or www.evil.example")
    assert text == (
        "calls `requests.get('https://in.code')` with https:\u200b//evil.example or www\u200b.evil.example"
    )
