"""Unified-diff `patch` text (as in GitHub's list-files response) parsed into hunks.

The fake needs this to decide, like GitHub, which lines a review comment may be anchored on.
It is deliberately independent of `reviewer.changeset`: the fake must not share the bot's bugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

LEFT = "LEFT"
RIGHT = "RIGHT"
SIDES = (LEFT, RIGHT)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # " " context, "+" added, "-" deleted
    old: int | None
    new: int | None
    position: int  # GitHub's deprecated `position`: lines below the file's first "@@" header
    text: str


@dataclass(frozen=True)
class Hunk:
    header: str
    lines: tuple[DiffLine, ...]

    def line_on(self, side: str, number: int) -> DiffLine | None:
        """The diff line shown at `number` on `side` (LEFT: old file, RIGHT: new file)."""
        for diff_line in self.lines:
            if (diff_line.old if side == LEFT else diff_line.new) == number:
                return diff_line
        return None

    def excerpt_through(self, diff_line: DiffLine) -> str:
        """GitHub's `diff_hunk` of a comment: the hunk header and its lines up to the anchor."""
        shown = [self.header]
        for line in self.lines:
            shown.append(line.text)
            if line is diff_line:
                break
        return "\n".join(shown)


@dataclass(frozen=True)
class Patch:
    hunks: tuple[Hunk, ...]

    @property
    def additions(self) -> int:
        return sum(1 for hunk in self.hunks for line in hunk.lines if line.kind == "+")

    @property
    def deletions(self) -> int:
        return sum(1 for hunk in self.hunks for line in hunk.lines if line.kind == "-")

    def find(self, side: str, number: int) -> tuple[Hunk, DiffLine] | None:
        for hunk in self.hunks:
            diff_line = hunk.line_on(side, number)
            if diff_line is not None:
                return hunk, diff_line
        return None

    def at_position(self, position: int) -> tuple[Hunk, DiffLine] | None:
        for hunk in self.hunks:
            for diff_line in hunk.lines:
                if diff_line.position == position:
                    return hunk, diff_line
        return None


def side_of(diff_line: DiffLine) -> str:
    return LEFT if diff_line.kind == "-" else RIGHT


def number_on(diff_line: DiffLine, side: str) -> int:
    number = diff_line.old if side == LEFT else diff_line.new
    assert number is not None
    return number


def parse_patch(text: str) -> Patch:
    """Parse a patch; a malformed one raises ValueError (it is a bug in the test's data)."""
    hunks: list[Hunk] = []
    header = ""
    lines: list[DiffLine] = []
    old = new = 0
    raw_lines = text.split("\n")
    for position, raw in enumerate(raw_lines):
        match = _HEADER.match(raw)
        if match:
            if header:
                hunks.append(Hunk(header, tuple(lines)))
            header, lines = raw, []
            old, new = int(match.group(1)), int(match.group(3))
            continue
        if not header:
            raise ValueError(f"patch must start with an @@ hunk header, got {raw!r}")
        kind = raw[:1]
        if kind == "\\" or (raw == "" and position == len(raw_lines) - 1):
            continue  # "\ No newline at end of file", or the text's final newline
        if kind == " ":
            lines.append(DiffLine(" ", old, new, position, raw))
            old, new = old + 1, new + 1
        elif kind == "+":
            lines.append(DiffLine("+", None, new, position, raw))
            new += 1
        elif kind == "-":
            lines.append(DiffLine("-", old, None, position, raw))
            old += 1
        else:
            raise ValueError(f"patch line {position} has no diff prefix: {raw!r}")
    if header:
        hunks.append(Hunk(header, tuple(lines)))
    return Patch(tuple(hunks))
