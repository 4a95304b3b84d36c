"""Publish one run: at most one review (none when nothing is new), the summary comment updated
in place, the threads of findings that are gone resolved, and threads the bot resolved reopened
when their finding comes back. Nothing is ever deleted.

Writes are not retried by the HTTP client after a 5xx or a lost answer, because GitHub may have
applied them. Instead, a failed create looks for its own marker first and is sent again only
when it did not land — so a review is posted exactly once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import requests
from github import GithubException
from github.PullRequest import PullRequest
from github.Requester import Requester

from reviewer.finding import Finding, Severity
from reviewer.github import markers
from reviewer.github.anchors import Anchor
from reviewer.github.client import is_ambiguous, is_forbidden
from reviewer.github.comments import inline_comment
from reviewer.github.identity import AuthorCheck
from reviewer.github.plan import Plan
from reviewer.github.state import PriorState, find_review, find_summary
from reviewer.github.suggestions import suggestion_block
from reviewer.github.summary import summary_comment
from reviewer.github.threads import Thread, set_resolved, threads_by_first_comment
from reviewer.report import rule_for
from reviewer.report.text import count_noun
from reviewer.result import ReviewResult

T = TypeVar("T")
REFUSED_ANCHORS = "GitHub refused the inline comments' lines"


class WriteForbidden(Exception):
    """The token can read the pull request but not write to it (a fork's pull request)."""


@dataclass(frozen=True)
class PullTarget:
    pull: PullRequest
    owner: str
    name: str
    head_sha: str
    is_own: AuthorCheck


@dataclass
class Published:
    review_id: int | None = None
    inline: int = 0
    summary: str = "not needed"
    resolved: int = 0
    reopened: int = 0
    marked_fixed: int = 0

    def describe(self) -> str:
        parts = [
            f"posted review {self.review_id} with {count_noun(self.inline, 'inline comment')}"
            if self.review_id else "nothing new to post",
            f"summary {self.summary}",
        ]
        if self.resolved:
            parts.append(f"resolved {count_noun(self.resolved, 'thread')}")
        if self.reopened:
            parts.append(f"reopened {count_noun(self.reopened, 'thread')}")
        if self.marked_fixed:
            parts.append(f"marked {count_noun(self.marked_fixed, 'comment')} fixed")
        return "; ".join(parts)


def publish(target: PullTarget, result: ReviewResult, plan: Plan, prior: PriorState, event: str) -> Published:
    """Raises WriteForbidden before anything is written when the token is read-only."""
    published = Published()
    if plan.new:
        published.review_id, published.inline = _post_review(target, result, plan, event)
    published.summary = _upsert_summary(target, prior, result, plan)
    _settle_threads(target, plan, published)
    return published


def _post_review(target: PullTarget, result: ReviewResult, plan: Plan, event: str) -> tuple[int, int]:
    comments = [
        anchor.comment(inline_comment(finding, rule_for(result, finding), _suggestion(result, finding, anchor)))
        for finding, anchor in plan.inline
    ]
    try:
        return _create_review(target, plan, event, comments), len(comments)
    except GithubException as error:
        if error.status != 422 or not comments:
            raise
    plan.move_inline_to_summary(REFUSED_ANCHORS)
    return _create_review(target, plan, event, []), 0


def _suggestion(result: ReviewResult, finding: Finding, anchor: Anchor) -> str | None:
    source = result.sources.get(finding.path)
    return suggestion_block(finding, anchor, source) if source is not None else None


def _create_review(target: PullTarget, plan: Plan, event: str, comments: list[dict[str, Any]]) -> int:
    run_key = _run_key(target.head_sha, plan, len(comments))
    body = _review_body(plan, len(comments), run_key)
    payload = {"commit_id": target.head_sha, "body": body, "event": event, "comments": comments}
    requester = target.pull.requester

    def create() -> int:
        _, data = requester.requestJsonAndCheck("POST", f"{target.pull.url}/reviews", input=payload)
        return data["id"]

    def find() -> int | None:
        review = find_review(target.pull, target.is_own, run_key)
        return review.id if review is not None else None

    return _create_once(create, find)


def _run_key(head_sha: str, plan: Plan, comment_count: int) -> str:
    """Names this run's review, so a retry can tell whether the first attempt landed."""
    fingerprints = sorted(finding.fingerprint for finding in plan.new)
    text = "\0".join([head_sha, str(comment_count), *fingerprints])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _review_body(plan: Plan, comment_count: int, run_key: str) -> str:
    new = count_noun(len(plan.new), "new finding")
    where = f"{comment_count} commented inline"
    listed = len(plan.new) - comment_count
    if listed:
        where += f", {listed} listed in the summary comment"
    counts = Counter(finding.severity for finding in plan.new)
    by_severity = ", ".join(count_noun(counts[s], s.value) for s in Severity if counts[s])
    return f"**backend-reviewer**: {new} ({by_severity}); {where}.\n\n{markers.review_marker(run_key)}"


def _upsert_summary(target: PullTarget, prior: PriorState, result: ReviewResult, plan: Plan) -> str:
    body = summary_comment(result, plan.unplaced, target.head_sha)
    existing = prior.summary
    if existing is None:
        if not (result.findings or result.engine_failures):
            return "not needed"
        created = _create_once(
            lambda: target.pull.create_issue_comment(body), lambda: find_summary(target.pull, target.is_own)
        )
        if not _same_text(created.body, body):
            _write(lambda: created.edit(body))
        return "created"
    if _same_text(existing.body, body):
        return "unchanged"
    _write(lambda: existing.edit(body))
    return "updated"


def _same_text(left: str | None, right: str) -> bool:
    return (left or "").replace("\r\n", "\n").strip() == right.strip()


def _settle_threads(target: PullTarget, plan: Plan, published: Published) -> None:
    """Resolve the thread of each comment whose finding is gone — where GitHub will not (threads
    unreadable, mutation refused), say "fixed" in the comment instead — and reopen the threads
    the bot resolved whose finding is back."""
    if not (plan.gone or plan.present):
        return
    requester = target.pull.requester
    try:
        threads = threads_by_first_comment(requester, target.owner, target.name, target.pull.number)
    except (GithubException, requests.exceptions.RequestException):
        threads = {}
    for comment in plan.present:
        thread = threads.get(comment.id)
        if thread is not None and thread.resolved and thread.resolved_by_bot:
            if _try_set_resolved(requester, thread, False):
                published.reopened += 1
    for comment in plan.gone:
        thread = threads.get(comment.id)
        if thread is not None and thread.resolved:
            continue
        if thread is not None and _try_set_resolved(requester, thread, True):
            published.resolved += 1
        elif not comment.marked_fixed:
            note = f"**Fixed** in commit `{target.head_sha[:12]}`: this finding is gone."
            body = f"{comment.handle.body}\n\n{note}\n{markers.fixed_marker(target.head_sha)}"
            _write(lambda: comment.handle.edit(body))
            published.marked_fixed += 1


def _try_set_resolved(requester: Requester, thread: Thread, resolved: bool) -> bool:
    try:
        set_resolved(requester, thread.id, resolved)
    except (GithubException, requests.exceptions.RequestException):
        return False
    return True


def _create_once(create: Callable[[], T], find: Callable[[], T | None]) -> T:
    try:
        return _write(create)
    except (GithubException, requests.exceptions.RequestException) as error:
        if not is_ambiguous(error):
            raise
    existing = find()
    return existing if existing is not None else _write(create)


def _write(call: Callable[[], T]) -> T:
    try:
        return call()
    except GithubException as error:
        if is_forbidden(error):
            raise WriteForbidden(str(error.status)) from None
        raise
