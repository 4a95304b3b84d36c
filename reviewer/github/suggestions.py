"""One-click ```suggestion blocks: the anchored lines as they read once the fix is applied.

GitHub replaces the commented lines (start_line..line) with the block's content, so a fix is
offered this way only when all of its edits fall inside those lines. The fence is longer than
any backtick run in the code, so code cannot close it early.
"""

from __future__ import annotations

import re

from reviewer.cst_rule import apply_fix
from reviewer.finding import Finding, Position
from reviewer.github.anchors import Anchor
from reviewer.textutil import line_start_offsets, source_lines


def suggestion_block(finding: Finding, anchor: Anchor, source: str) -> str | None:
    fix = finding.fix
    if fix is None or not fix.edits:
        return None
    offsets = line_start_offsets(source)  # one entry per line, plus the end of the text
    if anchor.line >= len(offsets):
        return None
    region_start, region_end = offsets[anchor.start_line - 1], offsets[anchor.line]

    def offset(position: Position) -> int:
        index = position.line - 1
        return offsets[index] + position.column - 1 if index < len(offsets) else len(source)

    if any(offset(edit.start) < region_start or offset(edit.end) > region_end for edit in fix.edits):
        return None
    fixed = apply_fix(source, fix)
    replaced = fixed[region_start : len(fixed) - (len(source) - region_end)]
    content = "\n".join(source_lines(replaced))
    return fenced("suggestion", content)


def fenced(info: str, content: str) -> str:
    longest_run = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest_run + 1)
    body = f"{content}\n" if content else ""
    return f"{fence}{info}\n{body}{fence}"
