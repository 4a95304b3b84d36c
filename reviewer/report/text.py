"""The terminal report: one `path:line:col: CODE message` line per finding, then its code.

The first line of each finding is what editors and CI problem matchers parse, so it never holds
colour codes inside its text and never spans lines. Below it: the flagged source with a gutter of
line numbers and the range marked, the fix as -/+ lines, and where to read the rule's docs.
Reviewed code is hostile input: control and bidi characters in it are shown escaped, never
sent to the terminal as they are.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from reviewer.cst_rule import apply_fix
from reviewer.finding import Finding, Fix, Severity
from reviewer.result import ReviewResult
from reviewer.textutil import source_lines

TAB_WIDTH = 4
MAX_RANGE_LINES = 6

_RESET = "\x1b[0m"
_SEVERITY_STYLE = {Severity.ERROR: "1;31", Severity.WARNING: "1;33", Severity.NOTE: "1;36"}
_GUTTER_STYLE = "34"
_REMOVED_STYLE = "31"
_ADDED_STYLE = "32"


def render_text(result: ReviewResult, *, color: bool = False) -> str:
    paint = _Painter(color)
    blocks = [_finding_block(finding, result.sources.get(finding.path), paint) for finding in result.findings]
    closing = [
        paint("1;31", f"engine {failure.engine} failed: {one_line(failure.message)}")
        for failure in result.engine_failures
    ]
    closing.append(paint("1", summary_line(result)))
    return "\n\n".join([*blocks, "\n".join(closing)]) + "\n"


def summary_line(result: ReviewResult) -> str:
    """'3 findings: 1 error, 2 warnings, 0 notes in 4 files', or 'No findings in 4 files.'"""
    files = count_noun(result.files_reviewed, "file")
    if not result.findings and not result.files_reviewed:
        return "Nothing to review: no Python, JavaScript or TypeScript files among those given."
    if not result.findings:
        return f"No findings in {files}."
    counts = result.counts_by_severity()
    by_severity = ", ".join(count_noun(counts[severity], severity.value) for severity in Severity)
    return f"{count_noun(len(result.findings), 'finding')}: {by_severity} in {files}"


def count_noun(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def one_line(text: str) -> str:
    """Text safe for a single terminal line: line breaks and control characters escaped."""
    return "".join(_escaped(char) if _is_control(char) else char for char in text)


class _Painter:
    """ANSI styling that is a no-op when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        if not self.color or not style or not text:
            return text
        return f"\x1b[{style}m{text}{_RESET}"


@dataclass(frozen=True)
class _Row:
    """One line below a finding's header: a gutter (line number and marker), then text."""

    number: str
    marker: str
    text: str
    gutter_style: str = _GUTTER_STYLE
    text_style: str = ""


def _finding_block(finding: Finding, source: str | None, paint: _Painter) -> str:
    severity_style = _SEVERITY_STYLE[finding.severity]
    header = (
        f"{paint('1', one_line(finding.path))}:{finding.start.line}:{finding.start.column}: "
        f"{paint(severity_style, finding.code)} {one_line(finding.message)}"
    )
    rows: list[_Row] = []
    if source is not None:
        rows += _snippet_rows(finding, source_lines(source), severity_style)
        if finding.fix is not None:
            rows += _fix_rows(source, finding.fix)
    width = max((len(row.number) for row in rows), default=0)
    lines = [header]
    if rows:
        lines.append(paint(_GUTTER_STYLE, " " * width + " |"))
    for row in [*rows, _Row("", "=", f"see: review explain {finding.code}")]:
        gutter = paint(row.gutter_style, f"{row.number:>{width}} {row.marker}")
        lines.append(f"{gutter} {paint(row.text_style, row.text)}".rstrip())
    return "\n".join(lines)


def _snippet_rows(finding: Finding, lines: list[str], severity_style: str) -> list[_Row]:
    shown = [number for number in finding.lines if number <= len(lines)]
    if not shown:
        return []
    if len(shown) == 1:
        number = shown[0]
        cells = _display_cells(lines[number - 1])
        end_column = finding.end.column if finding.end.line == number else len(cells) + 1
        before = _width(cells[: finding.start.column - 1])
        span = _width(cells[finding.start.column - 1 : end_column - 1])
        return [
            _Row(str(number), "|", "".join(cells)),
            _Row("", "|", " " * before + "^" * max(1, span), text_style=severity_style),
        ]
    rows = [_Row(str(n), ">", "".join(_display_cells(lines[n - 1])), severity_style) for n in shown[:MAX_RANGE_LINES]]
    hidden = len(shown) - MAX_RANGE_LINES
    if hidden > 0:
        rows.append(_Row("", ">", f"... {count_noun(hidden, 'more line')} in this range", severity_style))
    return rows


def _fix_rows(source: str, fix: Fix) -> list[_Row]:
    """The fix as the affected lines before (-) and after (+) applying it."""
    before = source_lines(source)
    after = source_lines(apply_fix(source, fix))
    first = min(edit.start.line for edit in fix.edits)
    last = max(
        edit.end.line - 1 if edit.end.column == 1 and edit.end.line > edit.start.line else edit.end.line
        for edit in fix.edits
    )
    unchanged_after = max(0, len(before) - last)
    removed = before[first - 1 : last]
    added = after[first - 1 : len(after) - unchanged_after]
    rows = [_Row("", "=", f"fix: {one_line(fix.description)}")]
    rows += [_diff_row(first + i, "-", text, _REMOVED_STYLE) for i, text in enumerate(removed)]
    rows += [_diff_row(first + i, "+", text, _ADDED_STYLE) for i, text in enumerate(added)]
    return rows


def _diff_row(number: int, marker: str, text: str, style: str) -> _Row:
    return _Row(str(number), marker, "".join(_display_cells(text)), style, style)


def _display_cells(line: str) -> list[str]:
    """What the terminal shows for each code point: tabs expanded, control characters escaped.

    One cell per code point keeps Finding columns (code points) usable as indexes, so carets
    line up whatever tabs or escapes come before them.
    """
    cells = []
    width = 0
    for char in line:
        if char == "\t":
            cell = " " * (TAB_WIDTH - width % TAB_WIDTH)
        elif _is_control(char):
            cell = _escaped(char)
        else:
            cell = char
        cells.append(cell)
        width += _width([cell])
    return cells


def _width(cells: list[str]) -> int:
    """Terminal columns the cells take: wide East Asian characters count two, combining marks none."""
    total = 0
    for cell in cells:
        for char in cell:
            if unicodedata.combining(char):
                continue
            total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf")


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")
