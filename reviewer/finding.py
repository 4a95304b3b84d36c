"""The one Finding model every engine produces and every reporter reads.

Lines and columns are 1-based; columns count Unicode code points and the end column is
exclusive (SARIF's convention). Each engine converts its own offsets at its edge.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable

from reviewer.textutil import source_lines


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        """Higher is more severe; used for sorting and for --fail-on."""
        return {"error": 3, "warning": 2, "note": 1}[self.value]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        return cls(text.lower())


@dataclass(frozen=True, order=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from start (inclusive) to end (exclusive) with `replacement`."""

    start: Position
    end: Position
    replacement: str


@dataclass(frozen=True)
class Fix:
    description: str
    edits: tuple[TextEdit, ...]


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    start: Position
    end: Position
    engine: str
    fix: Fix | None = None
    cwe: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    fingerprint: str = field(default="", compare=False)

    @property
    def lines(self) -> range:
        """The 1-based lines the finding covers (an end at column 1 does not cover its line)."""
        last = self.end.line
        if last > self.start.line and self.end.column == 1:
            last -= 1
        return range(self.start.line, max(last, self.start.line) + 1)

    def sort_key(self) -> tuple:
        return (self.path, self.start.line, self.start.column, self.code, self.message)


def _normalized(text: str) -> str:
    return " ".join(text.split())


def with_fingerprints(findings: Iterable[Finding], sources: dict[str, str]) -> list[Finding]:
    """Give each finding a fingerprint that survives the code moving.

    The hash covers the code, the path, the flagged lines' text with whitespace normalized, and
    the occurrence index among findings with the same three — never line numbers.
    """
    ordered = sorted(findings, key=Finding.sort_key)
    line_cache: dict[str, list[str]] = {}
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for finding in ordered:
        lines = line_cache.get(finding.path)
        if lines is None:
            lines = line_cache[finding.path] = source_lines(sources.get(finding.path, ""))
        flagged = "\n".join(lines[n - 1] for n in finding.lines if 0 < n <= len(lines))
        key = (finding.code, finding.path, _normalized(flagged))
        index = seen[key]
        seen[key] += 1
        # surrogateescape: a file name that is not UTF-8 keeps its bytes (git's paths are bytes).
        digest = hashlib.sha256("\0".join((*key, str(index))).encode("utf-8", "surrogateescape")).hexdigest()
        result.append(replace(finding, fingerprint=digest[:32]))
    return result
