"""What the fake GitHub remembers: repositories, pull requests and everything posted on them.

Plain objects that tests read directly (`fake.pull("acme/shop", 7).reviews`). Operations that
GitHub can refuse raise `ApiError`; the HTTP and GraphQL layers turn it into GitHub's answer.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fakegithub import anchors
from fakegithub.errors import ApiError, not_found
from fakegithub.patches import Patch, parse_patch

REVIEW_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
MAX_BODY = 65536


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int

    @property
    def is_bot(self) -> bool:
        return self.login.endswith("[bot]")


@dataclass
class Repo:
    owner: User
    name: str
    id: int
    default_branch: str = "main"

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class PullFile:
    """One entry of the PR's file list; `patch=None` means GitHub sends no patch (binary, too big)."""

    filename: str
    patch: str | None = None
    status: str = ""
    previous_filename: str | None = None

    def __post_init__(self) -> None:
        self.parsed: Patch = parse_patch(self.patch) if self.patch else Patch(())
        if not self.status:
            self.status = _status_from_patch(self.patch, self.previous_filename)

    @property
    def blob_sha(self) -> str:
        return hashlib.sha1(f"{self.filename}\0{self.patch}".encode(), usedforsecurity=False).hexdigest()


def _status_from_patch(patch: str | None, previous_filename: str | None) -> str:
    if previous_filename:
        return "renamed"
    if patch and patch.startswith("@@ -0,0 "):
        return "added"
    if patch and " +0,0 @@" in patch.split("\n", 1)[0]:
        return "removed"
    return "modified"


@dataclass
class ReviewComment:
    id: int
    node_id: str
    review_id: int
    user: User
    body: str
    path: str
    commit_id: str
    original_commit_id: str
    line: int | None
    side: str | None
    start_line: int | None
    start_side: str | None
    original_line: int | None
    original_start_line: int | None
    position: int | None
    original_position: int | None
    diff_hunk: str
    subject_type: str
    in_reply_to: int | None
    used_position: bool
    created_at: str
    updated_at: str
    thread_id: str = ""
    pending: bool = False

    @property
    def outdated(self) -> bool:
        return self.subject_type == "line" and self.line is None


@dataclass
class Review:
    id: int
    node_id: str
    user: User
    body: str
    state: str
    commit_id: str
    submitted_at: str | None
    comments: list[ReviewComment] = field(default_factory=list)


@dataclass
class IssueComment:
    id: int
    node_id: str
    user: User
    body: str
    created_at: str
    updated_at: str


@dataclass
class ReviewThread:
    id: str
    comments: list[ReviewComment]
    is_resolved: bool = False
    resolved_by: User | None = None

    @property
    def root(self) -> ReviewComment:
        return self.comments[0]


@dataclass
class PullRequest:
    repo: Repo
    number: int
    id: int
    node_id: str
    title: str
    body: str
    user: User
    head_ref: str
    base_ref: str
    head_repo: Repo
    commits: list[str]
    base_sha: str
    files: list[PullFile]
    reviews: list[Review] = field(default_factory=list)
    issue_comments: list[IssueComment] = field(default_factory=list)
    threads: list[ReviewThread] = field(default_factory=list)
    state: str = "open"
    created_at: str = field(default_factory=now_iso)

    @property
    def head_sha(self) -> str:
        return self.commits[-1]

    @property
    def review_comments(self) -> list[ReviewComment]:
        """Every submitted review comment, oldest first (pending drafts are not listed)."""
        found = [c for review in self.reviews for c in review.comments if not c.pending]
        return sorted(found, key=lambda comment: comment.id)

    def file(self, path: str) -> PullFile | None:
        return next((f for f in self.files if f.filename == path), None)


class State:
    """All of the fake's data, guarded by one lock (the server handles requests in threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self._ids = {kind: itertools.count(base) for kind, base in _ID_BASES.items()}

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # ----- set-up by tests -------------------------------------------------------------

    def user(self, login: str) -> User:
        if login not in self.users:
            self.users[login] = User(login, self.next_id("user"))
        return self.users[login]

    def repo(self, full_name: str) -> Repo:
        key = full_name.lower()
        if key not in self.repos:
            owner, name = full_name.split("/")
            self.repos[key] = Repo(self.user(owner), name, self.next_id("repo"))
        return self.repos[key]

    def add_pull(
        self,
        full_name: str,
        number: int,
        files: list[PullFile],
        *,
        head_sha: str | None = None,
        base_sha: str | None = None,
        title: str | None = None,
        body: str = "",
        author: str = "dev-author",
        head_ref: str | None = None,
        base_ref: str | None = None,
        head_repo: str | None = None,
    ) -> PullRequest:
        repo = self.repo(full_name)
        pull_id = self.next_id("pull")
        pull = PullRequest(
            repo=repo,
            number=number,
            id=pull_id,
            node_id=f"PR_fake{pull_id}",
            title=title or f"Change #{number}",
            body=body,
            user=self.user(author),
            head_ref=head_ref or f"feature-{number}",
            base_ref=base_ref or repo.default_branch,
            head_repo=self.repo(head_repo) if head_repo else repo,
            commits=[head_sha or _fake_sha(f"{full_name}#{number}:head")],
            base_sha=base_sha or _fake_sha(f"{full_name}#{number}:base"),
            files=files,
        )
        self.pulls[(repo.full_name.lower(), number)] = pull
        return pull

    def push(self, pull: PullRequest, head_sha: str, files: list[PullFile]) -> None:
        """A new head commit. Comments whose line is still in the new diff move to it; the others
        become outdated (`line` null). Unlike GitHub, line numbers are not re-mapped."""
        pull.commits.append(head_sha)
        pull.files = files
        for comment in pull.review_comments:
            if comment.subject_type != "line" or comment.line is None:
                continue
            pull_file = pull.file(comment.path)
            if pull_file is None or pull_file.parsed.find(comment.side or "RIGHT", comment.line) is None:
                comment.line = comment.start_line = comment.position = None
            else:
                comment.commit_id = head_sha

    # ----- look-ups ----------------------------------------------------------------------

    def find_pull(self, owner: str, name: str, number: int) -> PullRequest:
        pull = self.pulls.get((f"{owner}/{name}".lower(), number))
        if pull is None:
            raise not_found()
        return pull

    def find_repo(self, owner: str, name: str) -> Repo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise not_found()
        return repo

    def pulls_of(self, repo: Repo) -> list[PullRequest]:
        return [pull for pull in self.pulls.values() if pull.repo is repo]

    def find_review_comment(self, repo: Repo, comment_id: int) -> tuple[PullRequest, ReviewComment]:
        for pull in self.pulls_of(repo):
            for review in pull.reviews:
                for comment in review.comments:
                    if comment.id == comment_id:
                        return pull, comment
        raise not_found()

    def find_issue_comment(self, repo: Repo, comment_id: int) -> tuple[PullRequest, IssueComment]:
        for pull in self.pulls_of(repo):
            for comment in pull.issue_comments:
                if comment.id == comment_id:
                    return pull, comment
        raise not_found()

    def find_thread(self, node_id: str) -> ReviewThread | None:
        for pull in self.pulls.values():
            for thread in pull.threads:
                if thread.id == node_id:
                    return thread
        return None

    # ----- what the API does -------------------------------------------------------------

    def create_review(self, pull: PullRequest, user: User, payload: dict[str, Any]) -> Review:
        """POST .../reviews: all comments are placed first; one bad anchor rejects the review."""
        event = payload.get("event")
        body = payload.get("body", "")
        if event in ("COMMENT", "REQUEST_CHANGES") and not body:
            raise _unprocessable(f"Body is required when the review event is {event}")
        if event is None and any(r.state == "PENDING" and r.user is user for r in pull.reviews):
            raise _unprocessable("User can only have one pending review per pull request")
        items = payload.get("comments", [])
        for text in [body, *(item["body"] for item in items)]:
            _check_length(text)
        commit_id = self._commit_of(pull, payload.get("commit_id"))
        placements = anchors.place_review_comments(pull, items)
        review = self._new_review(pull, user, body, REVIEW_STATES.get(event or "", "PENDING"), commit_id)
        for item, placement in zip(items, placements):
            self._add_comment(pull, review, user, item["body"], commit_id, placement, None)
        return review

    def create_review_comment(self, pull: PullRequest, user: User, payload: dict[str, Any]) -> ReviewComment:
        """POST .../comments: a single comment (or reply) wrapped in its own COMMENTED review."""
        _check_length(payload["body"])
        commit_id = self._commit_of(pull, payload["commit_id"])
        reply_to = payload.get("in_reply_to")
        if reply_to is not None:
            parent = next((c for c in pull.review_comments if c.id == reply_to), None)
            if parent is None:
                raise not_found()
            placement = anchors.reply_placement(parent)
        else:
            placement = anchors.place_single_comment(pull, payload)
        review = self._new_review(pull, user, "", "COMMENTED", commit_id)
        return self._add_comment(pull, review, user, payload["body"], commit_id, placement, reply_to)

    def edit_review_comment(self, comment: ReviewComment, body: str) -> None:
        _check_length(body)
        comment.body, comment.updated_at = body, now_iso()

    def delete_review_comment(self, pull: PullRequest, comment: ReviewComment) -> None:
        for review in pull.reviews:
            if comment in review.comments:
                review.comments.remove(comment)
        for thread in pull.threads:
            if comment in thread.comments:
                thread.comments.remove(comment)
        pull.threads = [thread for thread in pull.threads if thread.comments]

    def create_issue_comment(self, pull: PullRequest, user: User, body: str) -> IssueComment:
        _check_length(body)
        comment_id = self.next_id("issue_comment")
        stamp = now_iso()
        comment = IssueComment(comment_id, f"IC_fake{comment_id}", user, body, stamp, stamp)
        pull.issue_comments.append(comment)
        return comment

    def edit_issue_comment(self, comment: IssueComment, body: str) -> None:
        _check_length(body)
        comment.body, comment.updated_at = body, now_iso()

    # ----- helpers -------------------------------------------------------------------------

    def _commit_of(self, pull: PullRequest, commit_id: str | None) -> str:
        if commit_id is None:
            return pull.head_sha
        if commit_id not in pull.commits:
            raise _unprocessable(f"No commit found for SHA: {commit_id}")
        return commit_id

    def _new_review(self, pull: PullRequest, user: User, body: str, state: str, commit_id: str) -> Review:
        review_id = self.next_id("review")
        submitted = None if state == "PENDING" else now_iso()
        review = Review(review_id, f"PRR_fake{review_id}", user, body, state, commit_id, submitted)
        pull.reviews.append(review)
        return review

    def _add_comment(
        self,
        pull: PullRequest,
        review: Review,
        user: User,
        body: str,
        commit_id: str,
        placement: anchors.Placement,
        reply_to: int | None,
    ) -> ReviewComment:
        comment_id = self.next_id("review_comment")
        stamp = now_iso()
        comment = ReviewComment(
            id=comment_id,
            node_id=f"PRRC_fake{comment_id}",
            review_id=review.id,
            user=user,
            body=body,
            path=placement.path,
            commit_id=commit_id,
            original_commit_id=commit_id,
            line=placement.line,
            side=placement.side,
            start_line=placement.start_line,
            start_side=placement.start_side,
            original_line=placement.line,
            original_start_line=placement.start_line,
            position=placement.position,
            original_position=placement.position,
            diff_hunk=placement.diff_hunk,
            subject_type=placement.subject_type,
            in_reply_to=reply_to,
            used_position=placement.used_position,
            created_at=stamp,
            updated_at=stamp,
            pending=review.state == "PENDING",
        )
        review.comments.append(comment)
        thread = next((t for t in pull.threads if any(c.id == reply_to for c in t.comments)), None)
        if thread is None:
            thread = ReviewThread(f"PRRT_fake{comment_id}", [])
            pull.threads.append(thread)
        thread.comments.append(comment)
        comment.thread_id = thread.id
        return comment


_ID_BASES = {
    "user": 7_000_001,
    "repo": 6_000_001,
    "pull": 5_000_001,
    "issue_comment": 4_000_001,
    "review": 3_000_001,
    "review_comment": 2_000_001,
}


def _fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


def _unprocessable(message: str) -> ApiError:
    return ApiError(422, "Unprocessable Entity", [message])


def _check_length(body: str) -> None:
    if len(body) > MAX_BODY:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Comment", "code": "custom", "field": "body",
              "message": f"Body is too long (maximum is {MAX_BODY} characters)"}],
        )
