"""The REST operations the fake answers, keyed by GitHub's operationId.

Operations from the OpenAPI subset are routed by their documented path; a few more that
PyGithub calls on its way (GET a repository, GET one comment, GET /user) are listed in EXTRA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from fakegithub import render
from fakegithub.errors import ApiError
from fakegithub.ratelimit import RateLimits
from fakegithub.state import IssueComment, PullRequest, ReviewComment, State, User

MAX_LISTED_FILES = 3000  # GitHub lists at most 3,000 files of a pull request
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


@dataclass
class Call:
    """One request as a handler sees it."""

    state: State
    user: User
    path: str  # below the API root
    params: dict[str, Any]  # path parameters
    query: dict[str, str]
    body: Any
    urls: render.Urls
    rate: RateLimits


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]


def _pull(call: Call, number_param: str = "pull_number") -> PullRequest:
    return call.state.find_pull(call.params["owner"], call.params["repo"], call.params[number_param])


def _paginate(call: Call, items: list[Any], render_one: Callable[[Any], dict[str, Any]]) -> Reply:
    per_page = min(max(_int(call.query.get("per_page"), DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    page = max(_int(call.query.get("page"), 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]

    def page_url(number: int) -> str:
        query = {**call.query, "per_page": str(per_page), "page": str(number)}
        return f"{call.urls.api}{call.path}?{urlencode(query)}"

    rels = []
    if page > 1:
        rels += [("prev", page - 1), ("first", 1)]
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    headers = {"Link": ", ".join(f'<{page_url(n)}>; rel="{rel}"' for rel, n in rels)} if rels else {}
    return Reply(200, [render_one(item) for item in chunk], headers)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def get_pull(call: Call) -> Reply:
    return Reply(200, render.pull(call.urls, _pull(call)))


def list_files(call: Call) -> Reply:
    pull = _pull(call)
    return _paginate(call, pull.files[:MAX_LISTED_FILES], lambda f: render.pull_file(call.urls, pull, f))


def list_review_comments(call: Call) -> Reply:
    pull = _pull(call)
    return _paginate(call, pull.review_comments, lambda c: render.review_comment(call.urls, pull, c))


def create_review_comment(call: Call) -> Reply:
    pull = _pull(call)
    comment = call.state.create_review_comment(pull, call.user, call.body)
    return Reply(201, render.review_comment(call.urls, pull, comment))


def list_reviews(call: Call) -> Reply:
    pull = _pull(call)
    visible = [r for r in pull.reviews if r.state != "PENDING" or r.user is call.user]
    return _paginate(call, visible, lambda r: render.review(call.urls, pull, r))


def create_review(call: Call) -> Reply:
    pull = _pull(call)
    review = call.state.create_review(pull, call.user, call.body)
    return Reply(200, render.review(call.urls, pull, review))


def _review_comment(call: Call) -> tuple[PullRequest, ReviewComment]:
    repo = call.state.find_repo(call.params["owner"], call.params["repo"])
    return call.state.find_review_comment(repo, call.params["comment_id"])


def get_review_comment(call: Call) -> Reply:
    pull, comment = _review_comment(call)
    return Reply(200, render.review_comment(call.urls, pull, comment))


def update_review_comment(call: Call) -> Reply:
    pull, comment = _review_comment(call)
    call.state.edit_review_comment(comment, call.body["body"])
    return Reply(200, render.review_comment(call.urls, pull, comment))


def delete_review_comment(call: Call) -> Reply:
    pull, comment = _review_comment(call)
    call.state.delete_review_comment(pull, comment)
    return Reply(204, None)


def list_issue_comments(call: Call) -> Reply:
    pull = _pull(call, "issue_number")
    return _paginate(call, pull.issue_comments, lambda c: render.issue_comment(call.urls, pull, c))


def create_issue_comment(call: Call) -> Reply:
    pull = _pull(call, "issue_number")
    comment = call.state.create_issue_comment(pull, call.user, call.body["body"])
    return Reply(201, render.issue_comment(call.urls, pull, comment))


def _issue_comment(call: Call) -> tuple[PullRequest, IssueComment]:
    repo = call.state.find_repo(call.params["owner"], call.params["repo"])
    return call.state.find_issue_comment(repo, call.params["comment_id"])


def get_issue_comment(call: Call) -> Reply:
    pull, comment = _issue_comment(call)
    return Reply(200, render.issue_comment(call.urls, pull, comment))


def update_issue_comment(call: Call) -> Reply:
    pull, comment = _issue_comment(call)
    call.state.edit_issue_comment(comment, call.body["body"])
    return Reply(200, render.issue_comment(call.urls, pull, comment))


def get_rate_limit(call: Call) -> Reply:
    return Reply(200, call.rate.overview())


def get_repo(call: Call) -> Reply:
    repo = call.state.find_repo(call.params["owner"], call.params["repo"])
    return Reply(200, render.repo(call.urls, repo))


def get_review(call: Call) -> Reply:
    pull = _pull(call)
    review = next((r for r in pull.reviews if r.id == call.params["review_id"]), None)
    if review is None or (review.state == "PENDING" and review.user is not call.user):
        raise ApiError(404, "Not Found")
    return Reply(200, render.review(call.urls, pull, review))


def get_authenticated_user(call: Call) -> Reply:
    """Installation tokens (bots) may not read /user — a real trap for "who am I" code."""
    if call.user.is_bot:
        raise ApiError(403, "Resource not accessible by integration")
    return Reply(200, render.user(call.urls, call.user))


SPEC_HANDLERS: dict[str, Handler] = {
    "pulls/get": get_pull,
    "pulls/list-files": list_files,
    "pulls/list-review-comments": list_review_comments,
    "pulls/create-review-comment": create_review_comment,
    "pulls/list-reviews": list_reviews,
    "pulls/create-review": create_review,
    "pulls/update-review-comment": update_review_comment,
    "pulls/delete-review-comment": delete_review_comment,
    "issues/list-comments": list_issue_comments,
    "issues/create-comment": create_issue_comment,
    "issues/update-comment": update_issue_comment,
    "rate-limit/get": get_rate_limit,
}

# (method, path template, name, handler) for calls PyGithub makes outside the OpenAPI subset.
_REPO = "/repos/{owner}/{repo}"
EXTRA: list[tuple[str, str, str, Handler]] = [
    ("GET", _REPO, "repos/get", get_repo),
    ("GET", _REPO + "/pulls/comments/{comment_id:int}", "pulls/get-review-comment", get_review_comment),
    ("GET", _REPO + "/issues/comments/{comment_id:int}", "issues/get-comment", get_issue_comment),
    ("GET", _REPO + "/pulls/{pull_number:int}/reviews/{review_id:int}", "pulls/get-review", get_review),
    ("GET", "/user", "users/get-authenticated", get_authenticated_user),
]
