"""Git as a diff source: a revision range or the working tree → ChangeSet, and a commit's file
contents read without checking it out.

Every git call goes through `run_git`: an argument list (never a shell), a fixed locale, no
prompts, no optional locks. Diff options are fixed on the command line so that a user's git
config cannot change the output this module parses.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from reviewer.changeset import ChangeSet, FileChange, FileStatus, Hunk
from reviewer.diff import SUBMODULE_MODE, SYMLINK_MODE, drop_replaced_deletions, parse_diff
from reviewer.errors import UsageError
from reviewer.textutil import source_lines

# Settings a user's config could otherwise apply to the diff text: quoting, prefixes, paths
# relative to the current directory, empty context lines written without their space.
_DIFF_CONFIG = tuple(
    arg
    for setting in (
        "core.quotePath=true",
        "diff.noprefix=false",
        "diff.mnemonicPrefix=false",
        "diff.relative=false",
        "diff.suppressBlankEmpty=false",
    )
    for arg in ("-c", setting)
)
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--submodule=short",
    "-U3",
    "--no-relative",
    "--inter-hunk-context=0",
    "--diff-algorithm=myers",
    "--indent-heuristic",
)
# The default branch when origin/HEAD is not set: (name, the ref it must exist as), in order.
_DEFAULT_BRANCHES = (
    ("main", "refs/heads/main"),
    ("master", "refs/heads/master"),
    ("origin/main", "refs/remotes/origin/main"),
    ("origin/master", "refs/remotes/origin/master"),
)
# git's own test for binary content: a NUL byte in the first 8000 bytes.
BINARY_SNIFF_BYTES = 8000
# Untracked files larger than this are treated as binary (as git does above core.bigFileThreshold).
MAX_UNTRACKED_BYTES = 16 * 1024 * 1024
# Files git calls binary are checked for text content up to this size; larger ones stay binary.
ATTRIBUTE_CHECK_MAX_BYTES = 1024 * 1024


class GitCommandError(UsageError):
    """git ran and failed; callers that expect some failures catch this and nothing broader."""


@dataclass(frozen=True)
class BlobResult:
    """One path of a commit: its kind, its bytes when it is a file within the size limit."""

    kind: str  # "file" | "symlink" | "submodule" | "missing" | "too_large"
    data: bytes | None = None
    size: int = 0


def run_git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """git's stdout for `git <args>` run in `root`; a failure becomes one UsageError line."""
    if not Path(root).is_dir():
        raise UsageError(f"not a directory: {root}")
    try:
        completed = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, env=_git_env(), check=False
        )
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None
    except OSError as error:
        raise UsageError(f"cannot run git: {error.strerror}") from None
    if completed.returncode != 0:
        stderr_lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        first_line = stderr_lines[0] if stderr_lines else f"exited with status {completed.returncode}"
        raise GitCommandError(f"git {_subcommand(args)}: {first_line}")
    return completed.stdout


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return env


def _subcommand(args: tuple[str, ...]) -> str:
    """The git command's name, skipping global options and their `-c key=value` arguments."""
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg in ("-c", "-C"):
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return "command"


def repo_root(start: Path) -> Path:
    """The top directory of the git work tree containing `start`."""
    directory = start if start.is_dir() else start.parent
    if not directory.is_dir():
        raise UsageError(f"not inside a git repository: {start}")
    try:
        output = run_git(directory, "rev-parse", "--show-toplevel")
    except GitCommandError:
        raise UsageError(f"not inside a git repository: {start}") from None
    return Path(os.fsdecode(output.rstrip(b"\n")))


def default_base(root: Path) -> str:
    """The branch a change is compared with when the user names none."""
    try:
        return _text(run_git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"))
    except GitCommandError:
        pass
    refs = [ref for _, ref in _DEFAULT_BRANCHES]
    existing = set(_text(run_git(root, "for-each-ref", "--format=%(refname)", *refs)).splitlines())
    for name, ref in _DEFAULT_BRANCHES:
        if ref in existing:
            return name
    raise UsageError(
        "cannot find the default branch (no origin/HEAD, main, master, origin/main or "
        "origin/master); pass a range such as 'main...HEAD'"
    )


def changeset_for_range(
    root: Path, spec: str | None, *, max_untracked_bytes: int = MAX_UNTRACKED_BYTES
) -> ChangeSet:
    """The change named by `spec`.

    None: the working tree and index against the merge-base of the default branch and HEAD.
    "A..B": B against A. "A...B": B against the merge-base of A and B (what a pull request
    shows). "A": the working tree against A. Working-tree changes include untracked files
    that are not ignored. `root` is the repository's top directory (see `repo_root`).
    """
    if spec is None:
        base_name = default_base(root)
        base = _merge_base(root, base_name, "HEAD")
        description = f"working tree vs {base_name} (merge-base {base[:7]})"
        return _worktree_changeset(root, base, description, max_untracked_bytes)
    if "..." in spec:
        left, right = (side or "HEAD" for side in spec.split("...", 1))
        base = _merge_base(root, left, right)
        head = _commit_sha(root, right)
        return ChangeSet(_diff(root, base, head), base, head, f"{left}...{right} (merge-base {base[:7]})")
    if ".." in spec:
        left, right = (side or "HEAD" for side in spec.split("..", 1))
        base, head = _commit_sha(root, left), _commit_sha(root, right)
        return ChangeSet(_diff(root, base, head), base, head, f"{left}..{right}")
    base = _commit_sha(root, spec)
    return _worktree_changeset(root, base, f"working tree vs {spec} ({base[:7]})", max_untracked_bytes)


def changeset_from_patch(text: str, description: str = "patch") -> ChangeSet:
    """A patch's changes; there is no commit to read the files from, so `head` is None."""
    return ChangeSet(parse_diff(text), base=None, head=None, description=description)


def read_blobs(root: Path, commit: str, paths: Iterable[str], max_bytes: int) -> dict[str, BlobResult]:
    """The contents of `paths` in `commit`, from git's object store (nothing is checked out).

    One `ls-tree` gives every path's mode and size, one `cat-file --batch` process reads the
    files within `max_bytes`; symbolic links and submodules are never read.
    """
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    sha = _commit_sha(root, commit)
    results = {path: BlobResult("missing") for path in wanted}
    to_read: dict[str, tuple[str, int]] = {}
    for path, (mode, object_id, size) in _tree_entries(root, sha, wanted).items():
        if path not in results:
            continue
        if mode == SUBMODULE_MODE:
            results[path] = BlobResult("submodule")
        elif mode == SYMLINK_MODE:
            results[path] = BlobResult("symlink", size=size)
        elif not mode.startswith("100"):
            continue  # a directory where a file was expected
        elif size > max_bytes:
            results[path] = BlobResult("too_large", size=size)
        else:
            to_read[path] = (object_id, size)
    contents = _cat_blobs(root, [object_id for object_id, _ in to_read.values()])
    for path, data in zip(to_read, contents):
        results[path] = BlobResult("file", data, len(data)) if data is not None else BlobResult("missing")
    return results


def _text(output: bytes) -> str:
    return output.decode("utf-8", "surrogateescape").strip()


def _commit_sha(root: Path, revision: str) -> str:
    """The full sha of the commit `revision` names."""
    if not revision or revision.startswith("-"):
        raise UsageError(f"unknown revision '{revision}'")
    try:
        return _text(run_git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"))
    except GitCommandError:
        raise UsageError(f"unknown revision '{revision}'") from None


def _merge_base(root: Path, left: str, right: str) -> str:
    left_sha, right_sha = _commit_sha(root, left), _commit_sha(root, right)
    try:
        return _text(run_git(root, "merge-base", left_sha, right_sha))
    except GitCommandError:
        raise UsageError(
            f"no merge base between '{left}' and '{right}' "
            "(unrelated histories, or a shallow clone: fetch more history)"
        ) from None


def _diff(root: Path, base: str, head: str | None = None) -> tuple[FileChange, ...]:
    """The diff from base to head, or to the working tree when head is None.

    Text files that a .gitattributes entry (`binary`, `-diff`) makes git show as binary are
    diffed again as text: a change must not be able to hide its own code from review.
    """
    revisions = (base,) if head is None else (base, head)
    files = _run_diff(root, revisions)
    hidden = _text_marked_binary(root, files, head)
    if not hidden:
        return files
    rename_sources = [change.old_path for change in files if change.path in hidden and change.old_path]
    as_text = _run_diff(root, revisions, ("--text",), [*sorted(hidden), *rename_sources])
    redone = {change.path: change for change in as_text}
    return tuple(redone.get(change.path, change) if change.path in hidden else change for change in files)


def _run_diff(
    root: Path, revisions: tuple[str, ...], options: tuple[str, ...] = (), paths: Iterable[str] = ()
) -> tuple[FileChange, ...]:
    diff = ("diff", *_DIFF_OPTIONS, *options, *revisions, "--", *paths)
    output = run_git(root, "--literal-pathspecs", *_DIFF_CONFIG, *diff)
    return parse_diff(output.decode("utf-8", "surrogateescape"))


def _text_marked_binary(root: Path, files: tuple[FileChange, ...], head: str | None) -> set[str]:
    """Paths git called binary although their new content has no NUL byte where git looks."""
    paths = [change.path for change in files if change.binary and change.status is not FileStatus.DELETED]
    if not paths:
        return set()
    if head is None:
        starts = {path: _worktree_start(root, path) for path in paths}
    else:
        blobs = read_blobs(root, head, paths, ATTRIBUTE_CHECK_MAX_BYTES)
        starts = {path: blob.data for path, blob in blobs.items()}
    return {
        path for path, start in starts.items() if start is not None and b"\0" not in start[:BINARY_SNIFF_BYTES]
    }


def _worktree_changeset(root: Path, base: str, description: str, max_untracked_bytes: int) -> ChangeSet:
    output = run_git(root, "ls-files", "--others", "--exclude-standard", "-z")
    untracked = tuple(
        _untracked_file(root, os.fsdecode(name), max_untracked_bytes) for name in output.split(b"\0") if name
    )
    # A file removed from the index but kept on disk is both deleted and untracked: keep the file.
    files = drop_replaced_deletions(_diff(root, base) + untracked)
    return ChangeSet(files, base=base, head=None, description=description)


def _untracked_file(root: Path, name: str, max_bytes: int) -> FileChange:
    """An untracked file as an added one, every line added; never read through a link."""
    if name.endswith("/"):  # git lists a nested repository as a directory
        return FileChange(name.rstrip("/"), FileStatus.ADDED, not_a_file=True)
    path = _regular_file_inside(root, name)
    if path is None:
        return FileChange(name, FileStatus.ADDED, not_a_file=True)
    try:
        too_large = path.stat().st_size > max_bytes
        data = b"" if too_large else path.read_bytes()
    except OSError:  # removed or made unreadable since git listed it
        return FileChange(name, FileStatus.ADDED, not_a_file=True)
    if too_large or b"\0" in data[:BINARY_SNIFF_BYTES]:
        return FileChange(name, FileStatus.ADDED, binary=True)
    lines = source_lines(data.decode("utf-8", "surrogateescape"))
    if not lines:
        return FileChange(name, FileStatus.ADDED)
    hunk = Hunk(1, len(lines), added=tuple(range(1, len(lines) + 1)), added_text=tuple(lines))
    return FileChange(name, FileStatus.ADDED, hunks=(hunk,))


def _worktree_start(root: Path, name: str) -> bytes | None:
    """The first bytes of a working-tree file, where git looks for a NUL to call it binary."""
    path = _regular_file_inside(root, name)
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            return handle.read(BINARY_SNIFF_BYTES)
    except OSError:
        return None


def _regular_file_inside(root: Path, name: str) -> Path | None:
    """root/name when it is a regular file, not a link, and resolves inside the repository."""
    path = root / name
    try:
        if stat.S_ISREG(path.lstat().st_mode) and path.resolve().is_relative_to(Path(root).resolve()):
            return path
    except OSError:
        pass
    return None


def _tree_entries(root: Path, sha: str, paths: list[str]) -> dict[str, tuple[str, str, int]]:
    """path → (mode, object id, size) for the paths present in the commit's tree."""
    output = run_git(root, "--literal-pathspecs", "ls-tree", "-z", "-l", sha, "--", *paths)
    entries = {}
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, _kind, object_id, size = meta.decode("ascii").split()
        entries[os.fsdecode(name)] = (mode, object_id, int(size) if size.isdigit() else 0)
    return entries


def _cat_blobs(root: Path, object_ids: list[str]) -> list[bytes | None]:
    """The blobs' bytes, in order, from one `git cat-file --batch` process (None: not present)."""
    if not object_ids:
        return []
    output = run_git(root, "cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in object_ids).encode())
    blobs: list[bytes | None] = []
    position = 0
    for _ in object_ids:
        end_of_header = output.index(b"\n", position)
        header = output[position:end_of_header].split()
        if len(header) != 3:  # "<oid> missing": absent from a partial clone, say
            blobs.append(None)
            position = end_of_header + 1
            continue
        size = int(header[2])
        start = end_of_header + 1
        blobs.append(output[start : start + size])
        position = start + size + 1
    return blobs
