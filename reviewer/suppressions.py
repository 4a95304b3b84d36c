"""`# review: ignore[CODE, ...]` comments: on any line of a finding's range, or on a comment-only
line just above it.

In Python only real comments count (found with `tokenize`), so the marker inside a string does
not silence anything, and a trailing comment on a code line covers that line, not the next one.
Other languages are matched per line, after a `//` or `/*` marker.
"""

from __future__ import annotations

import io
import re
import tokenize

from reviewer.finding import Finding
from reviewer.textutil import source_lines

MARKER = re.compile(r"(?:#|//|/\*)\s*review:\s*ignore\[([A-Za-z0-9_,\s]*)\]")
_COMMENT_ONLY = re.compile(r"^\s*(?:#|//|/\*|\*)")


class Suppressions:
    """The suppression comments of one file, by line."""

    def __init__(self, path: str, text: str) -> None:
        lines = source_lines(text)
        comments = _python_comments(text) if path.endswith(".py") else None
        if comments is None:  # not Python, or Python that does not tokenize
            comments = {number: line for number, line in enumerate(lines, 1) if MARKER.search(line)}
        self._codes = {number: _codes_in(comment) for number, comment in comments.items() if MARKER.search(comment)}
        self._comment_only = {
            number for number in self._codes if number <= len(lines) and _COMMENT_ONLY.match(lines[number - 1])
        }

    def codes_for(self, finding: Finding) -> set[str]:
        codes: set[str] = set()
        for number in finding.lines:
            codes |= self._codes.get(number, set())
        above = finding.start.line - 1
        if above in self._comment_only:
            codes |= self._codes[above]
        return codes


def _codes_in(comment: str) -> set[str]:
    return {
        part.strip().upper() for match in MARKER.finditer(comment) for part in match.group(1).split(",") if part.strip()
    }


def _python_comments(text: str) -> dict[int, str] | None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return {token.start[0]: token.string for token in tokens if token.type == tokenize.COMMENT}
