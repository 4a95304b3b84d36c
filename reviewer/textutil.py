"""Lines as git counts them: split on LF only; a CR before the LF is not part of the line text.

`str.splitlines` also splits on form feeds, U+2028 and others, which would shift line numbers
against the diff, so nothing in the tool uses it on reviewed source.
"""

from __future__ import annotations


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
