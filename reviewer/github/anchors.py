"""Where GitHub accepts an inline comment, decided before anything is sent.

A review comment sits on the RIGHT side (the head's lines) and every line of its range must be
shown in one hunk of the pull request's diff — added or context lines. One bad anchor makes
GitHub reject the whole review with 422, without saying which, so a finding whose lines are
not in any hunk gets no anchor and goes to the summary. A range that leaves its hunk is cut
to the part inside the first hunk it touches. Comments use `line`/`start_line`, never the
deprecated `position`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from reviewer.changeset import FileChange
from reviewer.finding import Finding

# path -> the head-side line span of each hunk GitHub shows for that file.
DiffLines = Mapping[str, tuple[range, ...]]


@dataclass(frozen=True)
class Anchor:
    path: str
    start_line: int
    line: int  # the last line of the range, as GitHub names it

    def comment(self, body: str) -> dict[str, Any]:
        """The `comments[]` entry of a review; `start_line` only for real ranges (GitHub refuses
        start_line == line)."""
        entry: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT", "body": body}
        if self.start_line < self.line:
            entry.update(start_line=self.start_line, start_side="RIGHT")
        return entry


def diff_lines(changes: Iterable[FileChange]) -> dict[str, tuple[range, ...]]:
    return {change.path: tuple(hunk.new_lines for hunk in change.hunks) for change in changes}


def anchor_for(finding: Finding, shown: DiffLines) -> Anchor | None:
    for span in shown.get(finding.path, ()):
        inside = [number for number in finding.lines if number in span]
        if inside:
            return Anchor(finding.path, inside[0], inside[-1])
    return None
