"""What a change touches, per file: plain data passed from the diff stage to everything after it.

Line numbers are on the new (head) side, 1-based.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FileStatus(str, enum.Enum):
    ADDED = "added"
    MODIFIED = "modified"
    RENAMED = "renamed"
    COPIED = "copied"
    DELETED = "deleted"


@dataclass(frozen=True)
class Hunk:
    """A hunk's new-side line span (`new_start` .. `new_start + new_length - 1`)."""

    new_start: int
    new_length: int
    added: tuple[int, ...] = ()
    # The text of each added line, parallel to `added`, without its line ending.
    added_text: tuple[str, ...] = field(default=(), compare=False)

    @property
    def new_lines(self) -> range:
        return range(self.new_start, self.new_start + self.new_length)


@dataclass(frozen=True)
class FileChange:
    path: str
    status: FileStatus
    old_path: str | None = None
    hunks: tuple[Hunk, ...] = ()
    binary: bool = False
    # Nothing to review: a submodule pointer or a symbolic link (its "content" is a path).
    not_a_file: bool = False

    @property
    def added_lines(self) -> frozenset[int]:
        return frozenset(line for hunk in self.hunks for line in hunk.added)

    @property
    def context_lines(self) -> frozenset[int]:
        """Every new-side line shown in the diff: added lines and their context."""
        return frozenset(line for hunk in self.hunks for line in hunk.new_lines)

    @property
    def reviewable(self) -> bool:
        return self.status is not FileStatus.DELETED and not self.binary and not self.not_a_file


@dataclass(frozen=True)
class ChangeSet:
    """The files of one change. `head` is a commit id, or None for the working tree."""

    files: tuple[FileChange, ...] = ()
    base: str | None = None
    head: str | None = None
    description: str = field(default="", compare=False)

    def file(self, path: str) -> FileChange | None:
        for change in self.files:
            if change.path == path:
                return change
        return None
