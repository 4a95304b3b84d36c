"""The pull request's ChangeSet, and the lines GitHub shows in its diff.

The change is read from local git when the base commit and the merge base are there (exact:
renames, binary files, files past the files API's 3,000-file cap), else from the files API's
patches. Either way the head's files are read from the local head commit. Anchors for inline
comments follow GitHub's own patches where the files API has them, since those are the hunks
GitHub checks comments against; a file past the cap falls back to the local hunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from github.File import File

from reviewer import git
from reviewer.changeset import ChangeSet, FileChange, FileStatus, Hunk
from reviewer.diff import parse_diff
from reviewer.errors import UsageError
from reviewer.github.anchors import diff_lines
from reviewer.github.checkout import LocalCommits

FILES_API_CAP = 3000
_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "modified": FileStatus.MODIFIED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.COPIED,
    "changed": FileStatus.MODIFIED,
    "unchanged": FileStatus.MODIFIED,
}


@dataclass(frozen=True)
class PullDiff:
    changeset: ChangeSet
    shown: dict[str, tuple[range, ...]]  # path -> head-side spans of GitHub's hunks


def pull_diff(
    root: Path, local: LocalCommits, base: str, head: str, listed: list[File], changed_files: int
) -> PullDiff:
    if not local.head:
        raise UsageError(
            f"the pull request's head commit {head[:12]} is not in this repository and could not be "
            "fetched from origin; run in a checkout of the repository (actions/checkout)"
        )
    api_changes = [api_file_change(entry) for entry in listed]
    if local.merge_base:
        changeset = git.changeset_for_range(root, f"{base}...{head}")
    elif changed_files > len(listed):
        raise UsageError(
            f"the pull request changes {changed_files} files, more than GitHub's files API lists "
            f"({FILES_API_CAP}), and its base {base[:12]} could not be fetched; fetch the base commit "
            "(actions/checkout with fetch-depth: 0)"
        )
    else:
        changeset = ChangeSet(tuple(api_changes), base, head, f"pull request files {base[:7]}...{head[:7]}")
    shown = {**diff_lines(changeset.files), **diff_lines(api_changes)}
    return PullDiff(changeset, shown)


def api_file_change(entry: File) -> FileChange:
    status = _STATUS.get(entry.status, FileStatus.MODIFIED)
    return FileChange(
        path=entry.filename,
        status=status,
        old_path=entry.previous_filename if status in (FileStatus.RENAMED, FileStatus.COPIED) else None,
        hunks=_patch_hunks(entry.patch) if entry.patch and status is not FileStatus.DELETED else (),
    )


def _patch_hunks(patch: str) -> tuple[Hunk, ...]:
    """A files-API patch is hunks only; a plain file header makes it a diff to parse. A patch that
    does not parse gives no hunks: its findings go to the summary rather than sink the review."""
    try:
        changes = parse_diff(f"--- a/file\n+++ b/file\n{patch}\n")
    except UsageError:
        return ()
    return changes[0].hunks if changes else ()

