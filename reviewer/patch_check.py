"""A patch given with --patch describes the working tree only if its added lines are there.

Reviewing a patch that was never applied would put findings on the wrong lines (or find nothing
at all in a file that does not exist), so a mismatch is a usage error that says where, instead of
a confidently wrong review.
"""

from __future__ import annotations

import os

from reviewer.changeset import ChangeSet
from reviewer.errors import UsageError
from reviewer.sources import WorktreeSource
from reviewer.textutil import source_lines


def check_patch_matches(changeset: ChangeSet, source: WorktreeSource) -> None:
    reviewable = [change for change in changeset.files if change.reviewable and change.hunks]
    read = source.read([change.path for change in reviewable]).files
    for change in reviewable:
        if change.path not in read:
            if not os.path.lexists(source.root / change.path):
                raise _mismatch(f": {change.path} is not in the working tree")
            continue  # present but unreadable: it gets its own "not reviewed" diagnostic
        lines = source_lines(read[change.path].text)
        for hunk in change.hunks:
            for number, expected in zip(hunk.added, hunk.added_text):
                actual = lines[number - 1] if number <= len(lines) else None
                if actual != expected:
                    raise _mismatch(f" at {change.path}:{number}")


def _mismatch(where: str) -> UsageError:
    return UsageError(f"the patch does not match the working tree{where}; apply it first, or review a git range instead")
