"""Unified diff text → FileChanges.

unidiff reads the hunks. This module adds what unidiff leaves out: git's C-quoted paths, the
file status from git's extended header lines, and strictness — unidiff quietly drops lines that
do not fit, while a review of a malformed patch must stop with an error that names the line.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from unidiff import PatchedFile, PatchSet
from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UnidiffHunk

from reviewer.changeset import FileChange, FileStatus, Hunk
from reviewer.errors import UsageError

DEV_NULL = "/dev/null"
SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"

# The prefixes git writes before old and new names: a/ b/, or the mnemonic ones
# (commit, index, work tree, object) when diff.mnemonicPrefix is set.
_OLD_PREFIXES = ("a/", "c/", "i/", "o/", "w/")
_NEW_PREFIXES = ("b/", "c/", "i/", "o/", "w/")

_HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_OCTAL_ESCAPE = re.compile(r"[0-3][0-7]{2}")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_SIDES = ("old", "new")
_EXTENDED_HEADER = re.compile(
    r"(rename from|rename to|copy from|copy to|new file mode|deleted file mode|new mode|index) (.*)"
)
_SUBMODULE_POINTER = re.compile(r"Subproject commit [0-9a-f]{40,64}(-dirty)?\r?\n?")


def parse_diff(text: str) -> tuple[FileChange, ...]:
    """The files a unified diff (git's or plain `diff -u`) changes; empty text changes nothing."""
    if not text.strip():
        return ()
    lines = _patch_lines(text)
    reader = _LineReader(lines)
    try:
        patch = PatchSet(reader)
    except UnidiffParseError:
        problem = _first_hunk_problem(lines, reader.hunk_headers)
        raise UsageError(problem or _unexpected_line(lines, reader.position)) from None
    problem = _first_hunk_problem(lines, reader.hunk_headers)
    if problem:
        raise UsageError(problem)
    if not patch:
        raise UsageError(
            "malformed diff: no file header ('diff --git' or '---'/'+++' lines) found; "
            "the input does not look like a unified diff"
        )
    return drop_replaced_deletions(_file_change(patched) for patched in patch)


def drop_replaced_deletions(files: Iterable[FileChange]) -> tuple[FileChange, ...]:
    """Keep one entry per path: a deletion whose path exists again on the new side is dropped.

    git shows a file that became a symbolic link (or the reverse) as a deletion and an addition
    of the same path; what matters for review is the new side.
    """
    files = tuple(files)
    present = {change.path for change in files if change.status is not FileStatus.DELETED}
    return tuple(
        change for change in files if change.status is not FileStatus.DELETED or change.path not in present
    )


def unquote_git_path(raw: str) -> str:
    """A path as git prints it (C-quoted when it has special characters) → the real path."""
    if not raw.startswith('"'):
        return raw
    path, end = _take_quoted(raw, 0)
    if end != len(raw):
        raise UsageError(f"malformed diff: text after the quoted path {raw!r}")
    return path


def _take_quoted(text: str, start: int) -> tuple[str, int]:
    """Decode the C-quoted string opening at text[start]; also return the index past its end.

    Octal escapes are the bytes of the UTF-8 (or other) encoded name, so decoding happens on
    the collected bytes; undecodable bytes survive as surrogates, as os.fsdecode does.
    """
    name = bytearray()
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == '"':
            return name.decode("utf-8", "surrogateescape"), index + 1
        if char != "\\":
            name += char.encode("utf-8", "surrogateescape")
            index += 1
        elif text[index + 1 : index + 2] in _C_ESCAPES:
            name.append(_C_ESCAPES[text[index + 1]])
            index += 2
        elif _OCTAL_ESCAPE.fullmatch(text[index + 1 : index + 4]):
            name.append(int(text[index + 1 : index + 4], 8))
            index += 4
        else:
            raise UsageError(f"malformed diff: bad escape in quoted path {text[start:]!r}")
    raise UsageError(f"malformed diff: unterminated quoted path {text[start:]!r}")


def _patch_lines(text: str) -> list[str]:
    """The patch's lines, split on LF only (a CR belongs to the content of a CRLF file).

    A patch whose every line ends in CRLF was converted as a whole (git writes its own header
    lines with LF), so the CRs are dropped there to let the header lines match.
    """
    lines = io.StringIO(text, newline="\n").readlines()
    if all(line.endswith("\r\n") for line in lines if line.endswith("\n")):
        lines = [line[:-2] + "\n" if line.endswith("\r\n") else line for line in lines]
    return lines


class _LineReader:
    """Hands the patch to unidiff line by line, remembering where it is and where hunks start."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self.position = 0  # 1-based number of the last line handed out
        self.hunk_headers: list[int] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.position >= len(self._lines):
            raise StopIteration
        line = self._lines[self.position]
        self.position += 1
        if line.startswith("@@"):
            self.hunk_headers.append(self.position)
        return line


def _unexpected_line(lines: list[str], number: int) -> str:
    text = lines[number - 1].rstrip("\r\n")
    if len(text) > 60:
        text = text[:57] + "..."
    return f"malformed diff: unexpected line {number} of the patch: {text!r}"


def _first_hunk_problem(lines: list[str], header_numbers: list[int]) -> str | None:
    """The first hunk whose header does not parse or whose body disagrees with its counts."""
    for number in header_numbers:
        header = _HUNK_HEADER.match(lines[number - 1])
        if header is None:
            text = lines[number - 1].rstrip()
            return f"malformed diff: bad hunk header at line {number} of the patch: {text!r}"
        promised = (_count_field(header.group(2)), _count_field(header.group(4)))
        found = _count_hunk_body(lines, number, *promised)
        wrong = [side for side in (0, 1) if promised[side] != found[side]]
        if not wrong:
            continue
        promises = " and ".join(_lines_count(promised[side], _SIDES[side]) for side in wrong)
        if len(wrong) == 1:
            actual = str(found[wrong[0]])
        else:
            actual = " and ".join(f"{found[side]} {_SIDES[side]}" for side in wrong)
        return f"malformed diff: hunk at line {number} of the patch promises {promises}, found {actual}"
    return None


def _count_field(value: str | None) -> int:
    """A hunk header's line count; git leaves it out when it is 1."""
    return 1 if value is None else int(value)


def _lines_count(count: int, side: str) -> str:
    return f"{count} {side} line" + ("" if count == 1 else "s")


def _count_hunk_body(
    lines: list[str], header_number: int, promised_old: int, promised_new: int
) -> tuple[int, int]:
    """Old and new lines of the hunk body as written, which may be more or fewer than promised.

    Once the promised counts are reached, only lines that clearly continue the hunk are counted:
    a blank line, a file header, or a mail signature ('-- ') ends it there.
    """
    old = new = 0
    for index in range(header_number, len(lines)):
        line = lines[index]
        complete = old >= promised_old and new >= promised_new
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        starts_file = line.startswith("--- ") and (complete or next_line.startswith("+++ "))
        if starts_file or (complete and line in ("-- \n", "\n", "\r\n")):
            break
        kind = " " if line in ("\n", "\r\n") else line[:1]
        if kind == " ":
            old, new = old + 1, new + 1
        elif kind == "-":
            old += 1
        elif kind == "+":
            new += 1
        elif kind != "\\":
            break
    return old, new


@dataclass(frozen=True)
class _GitHeader:
    """What git's extended header lines say about one file."""

    old_path: str
    new_path: str
    status: FileStatus
    mode: str | None  # the new side's mode, or the old side's for a deleted file


def _file_change(patched: PatchedFile) -> FileChange:
    info = list(patched.patch_info or ())
    if info and info[0].startswith("diff --git "):
        header = _read_git_header(info)
    else:
        header = _plain_header(patched)
    path = header.old_path if header.status is FileStatus.DELETED else header.new_path
    not_a_file = header.mode in (SYMLINK_MODE, SUBMODULE_MODE) or (
        header.mode is None and _only_submodule_pointers(patched)
    )
    carries_hunks = header.status is not FileStatus.DELETED and not not_a_file
    return FileChange(
        path=path,
        status=header.status,
        old_path=header.old_path if header.status in (FileStatus.RENAMED, FileStatus.COPIED) else None,
        hunks=tuple(_hunk(hunk) for hunk in patched) if carries_hunks else (),
        binary=bool(patched.is_binary_file),
        not_a_file=not_a_file,
    )


def _read_git_header(info: list[str]) -> _GitHeader:
    first = info[0].rstrip("\n")
    old_path, new_path = _split_git_header_names(first[len("diff --git ") :]) or (None, None)
    status = FileStatus.MODIFIED
    mode = None
    for line in info[1:]:
        match = _EXTENDED_HEADER.fullmatch(line.rstrip("\n"))
        key, value = match.groups() if match else ("", "")
        if key in ("rename from", "copy from"):
            old_path = unquote_git_path(value)
        elif key in ("rename to", "copy to"):
            new_path = unquote_git_path(value)
            status = FileStatus.RENAMED if key == "rename to" else FileStatus.COPIED
        elif key == "new file mode":
            status, mode = FileStatus.ADDED, value
        elif key == "deleted file mode":
            status, mode = FileStatus.DELETED, value
        elif key == "new mode":
            mode = value
        elif key == "index" and mode is None:
            mode = value.partition(" ")[2] or None  # "1a2b..3c4d 100644": a mode that did not change
    if old_path is None or new_path is None:
        raise UsageError(f"malformed diff: cannot tell the old and new file names apart in {first!r}")
    return _GitHeader(old_path, new_path, status, mode)


def _split_git_header_names(names: str) -> tuple[str, str] | None:
    """`a/X b/Y` → (X, Y) without prefixes; None when unquoted names with spaces are ambiguous.

    Such ambiguity only arises for renames and copies, whose 'rename from/to' lines then name
    the files exactly.
    """
    if names.startswith('"'):
        old, end = _take_quoted(names, 0)
        new = unquote_git_path(names[end + 1 :]) if names[end : end + 1] == " " else None
    elif names.endswith('"') and ' "' in names:
        # An unquoted name never contains a double quote, so its end is unambiguous.
        split = names.index(' "')
        old, new = names[:split], unquote_git_path(names[split + 1 :])
    else:
        old = new = None
        for split in (index for index, char in enumerate(names) if char == " "):
            candidate_old, candidate_new = names[:split], names[split + 1 :]
            if _strip_prefix(candidate_old, _OLD_PREFIXES) == _strip_prefix(candidate_new, _NEW_PREFIXES):
                old, new = candidate_old, candidate_new
                break
        if old is None and names.count(" ") == 1:
            old, new = names.split(" ")
    if old is None or new is None:
        return None
    return _strip_prefix(old, _OLD_PREFIXES), _strip_prefix(new, _NEW_PREFIXES)


def _plain_header(patched: PatchedFile) -> _GitHeader:
    """A diff without git's header: only '---'/'+++' (or a 'Binary files' line) name the file."""
    old = _plain_name(patched.source_file, _OLD_PREFIXES)
    new = _plain_name(patched.target_file, _NEW_PREFIXES)
    name = new or old
    if name is None:
        raise UsageError("malformed diff: a file whose old and new names are both /dev/null")
    if old is None or patched.is_added_file:
        status = FileStatus.ADDED
    elif new is None or patched.is_removed_file:
        status = FileStatus.DELETED
    else:
        status = FileStatus.MODIFIED
    return _GitHeader(old or name, name, status, None)


def _plain_name(raw: str | None, prefixes: tuple[str, ...]) -> str | None:
    if raw is None or raw == DEV_NULL:
        return None
    return _strip_prefix(unquote_git_path(raw), prefixes)


def _strip_prefix(name: str, prefixes: tuple[str, ...]) -> str:
    return name[2:] if name.startswith(prefixes) else name


def _only_submodule_pointers(patched: PatchedFile) -> bool:
    """A hunk that only swaps 'Subproject commit <sha>' lines is a submodule whose mode is unknown."""
    changed = [line.value for hunk in patched for line in hunk if line.is_added or line.is_removed]
    return bool(changed) and all(_SUBMODULE_POINTER.fullmatch(value) for value in changed)


def _hunk(hunk: UnidiffHunk) -> Hunk:
    added = [line for line in hunk if line.is_added]
    return Hunk(
        new_start=hunk.target_start,
        new_length=hunk.target_length,
        added=tuple(line.target_line_no for line in added),
        added_text=tuple(_line_text(line.value) for line in added),
    )


def _line_text(value: str) -> str:
    """A diff line's content without its ending; a CR before the LF is part of the ending."""
    if value.endswith("\n"):
        value = value[:-1]
    return value[:-1] if value.endswith("\r") else value
