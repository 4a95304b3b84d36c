"""Make the pull request's commits available in the local repository, fetching what is missing.

On `pull_request`, actions/checkout leaves one commit: the merge commit, at depth 1. Neither
the PR head (whose lines comments anchor on) nor its base is there. They are fetched by id
from `origin` (GitHub serves any reachable commit), one commit deep, then history is deepened
step by step until their merge base shows up — the pull request's diff is head against it.
Nothing is checked out: files are read from git objects. Every fetch may fail (no remote, no
network): the caller then falls back to the files API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer.git import GitCommandError, run_git

DEEPEN_STEPS = (16, 64, 256, 1024)


@dataclass(frozen=True)
class LocalCommits:
    head: bool
    base: bool
    merge_base: bool


def fetch_pull_commits(root: Path, base: str, head: str, number: int) -> LocalCommits:
    shallow = _is_shallow(root)
    depth = ("--depth=1",) if shallow else ()
    missing = [sha for sha in (head, base) if not _has_commit(root, sha)]
    if missing:
        _fetch(root, depth, missing)
    if not _has_commit(root, head):
        _fetch(root, depth, [f"refs/pull/{number}/head"])
    have_head, have_base = _has_commit(root, head), _has_commit(root, base)
    if not (have_head and have_base):
        return LocalCommits(have_head, have_base, False)
    found = _has_merge_base(root, base, head)
    for step in DEEPEN_STEPS if shallow else ():
        if found:
            break
        _fetch(root, (f"--deepen={step}",), [base, head])
        found = _has_merge_base(root, base, head)
    if not found and _is_shallow(root):
        _fetch(root, ("--unshallow",), [base, head])
        found = _has_merge_base(root, base, head)
    return LocalCommits(True, True, found)


def _has_commit(root: Path, sha: str) -> bool:
    try:
        run_git(root, "cat-file", "-e", f"{sha}^{{commit}}")
    except GitCommandError:
        return False
    return True


def _has_merge_base(root: Path, base: str, head: str) -> bool:
    try:
        run_git(root, "merge-base", base, head)
    except GitCommandError:
        return False
    return True


def _is_shallow(root: Path) -> bool:
    return run_git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"


def _fetch(root: Path, options: tuple[str, ...], refs: list[str]) -> None:
    try:
        run_git(root, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", *options, "origin", *refs)
    except GitCommandError:
        pass  # no remote or no network: what is there is all there is
