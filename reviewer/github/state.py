"""What earlier runs left on the pull request, read back through the bot's own markers."""

from __future__ import annotations

from dataclasses import dataclass, field

from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from github.PullRequestComment import PullRequestComment
from github.PullRequestReview import PullRequestReview

from reviewer.github import markers
from reviewer.github.identity import AuthorCheck


@dataclass(frozen=True)
class OwnComment:
    """An inline comment the bot posted for one finding."""

    handle: PullRequestComment
    fingerprint: str

    @property
    def id(self) -> int:
        return self.handle.id

    @property
    def marked_fixed(self) -> bool:
        return markers.is_marked_fixed(self.handle.body)


@dataclass
class PriorState:
    comments: list[OwnComment] = field(default_factory=list)
    summary: IssueComment | None = None
    listed: set[str] = field(default_factory=set)  # fingerprints the summary lists

    @property
    def commented(self) -> set[str]:
        """Fingerprints with a live inline comment; one edited to say "fixed" no longer counts,
        so a finding that comes back is commented again."""
        return {comment.fingerprint for comment in self.comments if not comment.marked_fixed}


def read_prior_state(pull: PullRequest, is_own: AuthorCheck) -> PriorState:
    """Every page of review comments, and the summary comment. Only fields that every listed
    comment carries are read: touching an absent one makes PyGithub fetch each comment again."""
    comments = []
    for comment in pull.get_review_comments():
        fingerprint = markers.finding_fingerprint(comment.body)
        if fingerprint and is_own(comment.user):
            comments.append(OwnComment(comment, fingerprint))
    summary = find_summary(pull, is_own)
    return PriorState(comments, summary, markers.listed_fingerprints(summary.body) if summary else set())


def find_summary(pull: PullRequest, is_own: AuthorCheck) -> IssueComment | None:
    for comment in pull.get_issue_comments():
        if markers.is_summary(comment.body) and is_own(comment.user):
            return comment
    return None


def find_review(pull: PullRequest, is_own: AuthorCheck, run_key: str) -> PullRequestReview | None:
    for review in pull.get_reviews():
        if markers.review_run_key(review.body or "") == run_key and is_own(review.user):
            return review
    return None
