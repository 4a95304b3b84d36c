"""Lines as git counts them: split on LF only; a CR before the LF is not part of the line text.

`str.splitlines` also splits on form feeds, U+2028 and others, which would shift line numbers
against the diff, so nothing in the tool uses it on reviewed source.
"""

from __future__ import annotations

import re
from typing import Callable


def source_lines(text: str) -> list[str]:
    """The text's lines without their line endings; a final newline adds no empty line."""
    if not text:
        return []
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [part[:-1] if part.endswith("\r") else part for part in parts]


def line_start_offsets(text: str) -> list[int]:
    """offsets[i] is the index in `text` where line i+1 starts (plus one past the end)."""
    offsets = [0]
    index = text.find("\n")
    while index != -1:
        offsets.append(index + 1)
        index = text.find("\n", index + 1)
    if offsets[-1] != len(text):
        offsets.append(len(text))
    return offsets


_UNIVERSAL_BREAK = re.compile(r"\r\n|\r|\n")


def has_lone_carriage_return(text: str) -> bool:
    """A CR not followed by LF: Python's parsers break lines there, git does not."""
    return "\r" in text and "\r" in text.replace("\r\n", "")


def universal_to_git_lines(text: str) -> Callable[[int, int], tuple[int, int]]:
    """Convert (line, column) counted with CR, LF and CRLF as line breaks — as libcst and Python's
    `ast` count them — into git's lines, which break at LF only. Without this, a lone CR early in
    a file would shift every later finding off the lines the diff shows."""
    starts = [0, *(match.end() for match in _UNIVERSAL_BREAK.finditer(text))]

    def convert(line: int, column: int) -> tuple[int, int]:
        offset = min(starts[min(line, len(starts)) - 1] + column - 1, len(text))
        git_line_start = text.rfind("\n", 0, offset) + 1
        return text.count("\n", 0, offset) + 1, offset - git_line_start + 1

    return convert
