"""The fake GitHub server, driven through real PyGithub and raw HTTP, behaves like GitHub
where `review github` depends on it: shapes, pagination, anchoring rules, 422s, GraphQL
review threads, tokens and faults."""

from __future__ import annotations

import time

import pytest
import requests
from github import (
    BadCredentialsException,
    GithubException,
    GithubRetry,
    RateLimitExceededException,
    UnknownObjectException,
)

from fakegithub import PullFile, openapi
from fakegithub.fixtures import fake_github  # noqa: F401  (pytest fixture)
from fakegithub.patches import parse_patch
from fakegithub.server import FakeGitHub

REPO = "acme/shop"
HEAD = "1" * 40
BASE = "2" * 40

# Two hunks. RIGHT (new) lines 1-8 and 21-25; LEFT (old) lines 1-7 and 20-23.
DB_PATCH = "\n".join(
    [
        "@@ -1,7 +1,8 @@",
        " import sqlite3",
        " ",
        "-def find(conn, name):",
        "-    return conn.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)",
        "+def find(conn, name):",
        "+    query = \"SELECT * FROM users WHERE name = '%s'\" % name",
        "+    return conn.execute(query)",
        " ",
        " def close(conn):",
        "     conn.close()",
        "@@ -20,4 +21,5 @@ def count(conn):",
        "     total = 0",
        "     for row in conn.execute(\"SELECT 1\"):",
        "         total += 1",
        "+    log.info(\"counted %s\", total)",
        "     return total",
    ]
)
NEW_FILE_PATCH = "@@ -0,0 +1,2 @@\n+API_KEY = 'x'\n+DEBUG = True"
GRAPHQL_THREADS = """
query Threads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 2, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved isOutdated comments(first: 10) { nodes { id databaseId body path author { login } } } }
      }
    }
  }
}
"""


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:  # noqa: F811
    files = {"app/db.py": DB_PATCH, "app/settings.py": NEW_FILE_PATCH, "logo.png": None}
    fake_github.add_pull(REPO, 7, files, head_sha=HEAD, base_sha=BASE)
    return fake_github


def _comment(line: int, body: str = "note", **anchor: object) -> dict[str, object]:
    return {"path": "app/db.py", "line": line, "side": "RIGHT", "body": body, **anchor}


def _auth(token: str = FakeGitHub.WRITE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


def _threads(fake: FakeGitHub, after: str | None = None) -> dict[str, object]:
    _, data = fake.client().requester.graphql_query(
        GRAPHQL_THREADS, {"owner": "acme", "name": "shop", "number": 7, "after": after}
    )
    return data["data"]["repository"]["pullRequest"]["reviewThreads"]


# ----- reading a pull request ----------------------------------------------------------------


def test_pull_request_and_files_read_through_pygithub_across_pages(fake_github: FakeGitHub) -> None:  # noqa: F811
    files = {f"src/mod_{i:03}.py": f"@@ -0,0 +1 @@\n+value = {i}" for i in range(205)}
    fake_github.add_pull(REPO, 9, files, head_sha=HEAD, base_sha=BASE, title="Add modules")

    pull = fake_github.client(per_page=100).get_repo(REPO).get_pull(9)
    listed = list(pull.get_files())

    assert (pull.number, pull.title, pull.changed_files) == (9, "Add modules", 205)
    assert (pull.head.sha, pull.base.sha) == (HEAD, BASE)
    assert [f.filename for f in listed] == sorted(files)
    assert (listed[7].status, listed[7].additions, listed[7].patch) == ("added", 1, "@@ -0,0 +1 @@\n+value = 7")
    pages = [r.query.get("page") for r in fake_github.requests_to("GET", r"/pulls/9/files$")]
    assert pages == [None, "2", "3"]


def test_file_list_is_capped_at_3000_files_like_github(fake_github: FakeGitHub) -> None:  # noqa: F811
    fake_github.add_pull(REPO, 3, {f"f{i:04}.py": "@@ -0,0 +1 @@\n+x = 1" for i in range(3001)})
    url = f"{fake_github.base_url}/repos/{REPO}/pulls/3/files"

    last_page = requests.get(url, params={"per_page": 100, "page": 30}, headers=_auth(), timeout=5)
    beyond = requests.get(url, params={"per_page": 100, "page": 31}, headers=_auth(), timeout=5)
    oversized = requests.get(url, params={"per_page": 500}, headers=_auth(), timeout=5)

    assert len(oversized.json()) == 100  # per_page is capped at 100
    assert [f["filename"] for f in last_page.json()][-1] == "f2999.py"
    assert 'rel="next"' not in last_page.headers["Link"]
    assert 'rel="prev"' in last_page.headers["Link"]
    assert beyond.json() == []
    assert fake_github.client().get_repo(REPO).get_pull(3).changed_files == 3001


def test_binary_file_has_no_patch(fake: FakeGitHub) -> None:
    files = {f.filename: f for f in fake.client().get_repo(REPO).get_pull(7).get_files()}

    assert files["logo.png"].patch is None
    assert (files["app/db.py"].additions, files["app/db.py"].deletions) == (4, 2)


# ----- posting a review ----------------------------------------------------------------------


def test_review_with_multi_line_comment_is_stored_and_read_back(fake: FakeGitHub) -> None:
    pull = fake.client().get_repo(REPO).get_pull(7)

    suggestion = "```suggestion\n    return conn.execute(query, (name,))\n```"
    review = pull.create_review(
        body="backend-reviewer: 2 findings",
        event="COMMENT",
        comments=[
            _comment(5, suggestion, start_line=4, start_side="RIGHT"),
            {"path": "app/db.py", "line": 4, "side": "LEFT", "body": "old query"},
        ],
    )

    assert (review.state, review.body, review.commit_id) == ("COMMENTED", "backend-reviewer: 2 findings", HEAD)
    assert pull.get_review(review.id).user.login == "backend-reviewer[bot]"
    multi, left = list(pull.get_review_comments())
    assert (multi.path, multi.start_line, multi.line) == ("app/db.py", 4, 5)
    assert (multi.side, multi.start_side) == ("RIGHT", "RIGHT")
    assert (multi.commit_id, multi.pull_request_review_id) == (HEAD, review.id)
    assert multi.body.startswith("```suggestion\n")
    assert multi.diff_hunk.endswith("+    return conn.execute(query)")
    assert (left.line, left.side, left.start_line) == (4, "LEFT", None)
    assert [r.state for r in pull.get_reviews()] == ["COMMENTED"]
    stored = fake.pull(REPO, 7).reviews[0]
    assert [(c.line, c.start_line, c.used_position) for c in stored.comments] == [
        (5, 4, False),
        (4, None, False),
    ]


@pytest.mark.parametrize(
    ("anchor", "message"),
    [
        (_comment(12), "Pull request review thread line must be part of the diff"),
        (_comment(5, path="app/other.py"), "Pull request review thread path is invalid"),
        (_comment(1, path="logo.png"), "Pull request review thread line must be part of the diff"),
        (_comment(8, side="LEFT"), "Pull request review thread line must be part of the diff"),
        (_comment(5, start_line=5), "Pull request review thread start line must precede the end line."),
        (_comment(22, start_line=7), "start line must be part of the same hunk as the line."),
        (_comment(5, side="MIDDLE"), "Pull request review thread diff side must be LEFT or RIGHT"),
    ],
    ids=["gap-between-hunks", "path-not-in-pr", "no-patch", "new-only-on-left", "start-is-end", "two-hunks", "side"],
)
def test_one_bad_anchor_rejects_the_whole_review(fake: FakeGitHub, anchor: dict[str, object], message: str) -> None:
    pull = fake.client().get_repo(REPO).get_pull(7)

    with pytest.raises(GithubException) as raised:
        pull.create_review(body="summary", event="COMMENT", comments=[_comment(3, "fine"), anchor])

    assert raised.value.status == 422
    assert raised.value.data["message"] == "Unprocessable Entity"
    assert message in raised.value.data["errors"][0]
    assert (fake.pull(REPO, 7).reviews, fake.pull(REPO, 7).threads) == ([], [])


def test_schema_invalid_bodies_answer_422_and_store_nothing(fake: FakeGitHub) -> None:
    github = fake.client()
    pull = github.get_repo(REPO).get_pull(7)

    with pytest.raises(GithubException) as no_body:
        pull.create_review(body="s", event="COMMENT", comments=[{"path": "app/db.py", "line": 3}])
    with pytest.raises(GithubException) as bad_event:
        pull.create_review(body="s", event="REJECT")
    middle = {"body": "x", "commit_id": HEAD, "path": "app/db.py", "line": 3, "side": "MIDDLE"}
    with pytest.raises(GithubException) as bad_side:
        github.requester.requestJsonAndCheck("POST", f"{pull.url}/comments", input=middle)

    assert no_body.value.status == 422
    assert no_body.value.data["message"] == "Invalid request.\n\nat 'comments/0': 'body' is a required property"
    assert "'REJECT' is not one of ['APPROVE', 'REQUEST_CHANGES', 'COMMENT']" in bad_event.value.data["message"]
    assert "at 'side': 'MIDDLE' is not one of ['LEFT', 'RIGHT']" in bad_side.value.data["message"]
    assert fake.pull(REPO, 7).reviews == []


def test_comment_event_needs_a_body_and_no_event_makes_a_pending_review(fake: FakeGitHub) -> None:
    pull = fake.client().get_repo(REPO).get_pull(7)

    with pytest.raises(GithubException) as missing:
        pull.create_review(event="REQUEST_CHANGES", comments=[_comment(3)])
    pending = pull.create_review(body="draft", comments=[_comment(3)])
    with pytest.raises(GithubException) as second_pending:
        pull.create_review(body="draft again")

    assert missing.value.data["errors"] == ["Body is required when the review event is REQUEST_CHANGES"]
    assert pending.state == "PENDING"
    assert second_pending.value.data["errors"] == ["User can only have one pending review per pull request"]
    assert list(pull.get_review_comments()) == []
    fake.add_token("ghs_alice", "alice", "read")
    assert [r.state for r in fake.client("ghs_alice").get_repo(REPO).get_pull(7).get_reviews()] == []


def test_unknown_commit_id_is_refused(fake: FakeGitHub) -> None:
    github = fake.client()
    pull = github.get_repo(REPO).get_pull(7)

    with pytest.raises(GithubException) as raised:
        github.requester.requestJsonAndCheck(
            "POST", f"{pull.url}/reviews", input={"commit_id": "f" * 40, "body": "s", "event": "COMMENT"}
        )

    assert raised.value.data["errors"] == [f"No commit found for SHA: {'f' * 40}"]


def test_deprecated_position_is_accepted_and_recorded(fake: FakeGitHub) -> None:
    pull = fake.client().get_repo(REPO).get_pull(7)

    pull.create_review(body="s", event="COMMENT", comments=[{"path": "app/db.py", "position": 6, "body": "old way"}])

    (comment,) = fake.pull(REPO, 7).review_comments
    assert (comment.used_position, comment.side, comment.line) == (True, "RIGHT", 4)


def test_review_comments_paginate_past_100(fake_github: FakeGitHub) -> None:  # noqa: F811
    patch = "@@ -0,0 +1,150 @@\n" + "\n".join(f"+line_{n} = {n}" for n in range(1, 151))
    fake_github.add_pull(REPO, 8, {"big.py": patch})
    pull = fake_github.client(per_page=100).get_repo(REPO).get_pull(8)
    pull.create_review(
        body="many", event="COMMENT",
        comments=[{"path": "big.py", "line": n, "side": "RIGHT", "body": f"finding {n}"} for n in range(1, 131)],
    )

    listed = list(pull.get_review_comments())

    assert [c.body for c in listed] == [f"finding {n}" for n in range(1, 131)]
    assert [r.query.get("page") for r in fake_github.requests_to("GET", r"/pulls/8/comments$")] == [None, "2"]


def test_single_comment_reply_and_edit(fake: FakeGitHub) -> None:
    github = fake.client()
    pull = github.get_repo(REPO).get_pull(7)

    first = pull.create_review_comment("first", HEAD, "app/db.py", line=24, side="RIGHT")
    reply = pull.create_review_comment("reply", HEAD, "app/db.py", in_reply_to=first.id)
    first.edit("first, edited")
    with pytest.raises(GithubException) as outside:
        pull.create_review_comment("off", HEAD, "app/db.py", line=12, side="RIGHT")

    assert (reply.in_reply_to_id, reply.line, reply.path) == (first.id, 24, "app/db.py")
    assert pull.get_comment(first.id).body == "first, edited"
    (thread,) = fake.pull(REPO, 7).threads
    assert [c.body for c in thread.comments] == ["first, edited", "reply"]
    assert outside.value.data["errors"][0]["field"] == "pull_request_review_thread.line"
    assert len(fake.pull(REPO, 7).reviews) == 2  # each single comment gets its own review, as on GitHub
    reply.delete()
    assert [c.body for c in thread.comments] == ["first, edited"]


def test_summary_issue_comment_is_updated_in_place(fake: FakeGitHub) -> None:
    pull = fake.client().get_repo(REPO).get_pull(7)

    posted = pull.create_issue_comment("<!-- backend-reviewer:summary -->\n1 finding")
    posted.edit("<!-- backend-reviewer:summary -->\n0 findings")
    with pytest.raises(GithubException) as too_long:
        pull.create_issue_comment("x" * 65537)

    (listed,) = list(pull.get_issue_comments())
    assert (listed.id, listed.user.login) == (posted.id, "backend-reviewer[bot]")
    assert pull.get_issue_comment(posted.id).body == "<!-- backend-reviewer:summary -->\n0 findings"
    assert too_long.value.data["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"


def test_push_makes_comments_off_the_new_diff_outdated(fake: FakeGitHub) -> None:
    pull = fake.client().get_repo(REPO).get_pull(7)
    pull.create_review(body="s", event="COMMENT", comments=[_comment(4, "kept"), _comment(24, "fixed")])

    fake.push(REPO, 7, "3" * 40, {"app/db.py": DB_PATCH.split("\n@@ -20")[0]})

    comments = [(c.body, c.line, c.original_line, c.commit_id) for c in pull.get_review_comments()]
    assert comments == [("kept", 4, 4, "3" * 40), ("fixed", None, 24, HEAD)]
    assert [t["isOutdated"] for t in _threads(fake)["nodes"]] == [False, True]


# ----- GraphQL review threads ----------------------------------------------------------------


def test_graphql_review_threads_page_and_resolve(fake: FakeGitHub) -> None:
    github = fake.client()
    pull = github.get_repo(REPO).get_pull(7)
    pull.create_review(body="s", event="COMMENT", comments=[_comment(3, "a"), _comment(4, "b"), _comment(24, "c")])
    first_id = fake.pull(REPO, 7).review_comments[0].id
    pull.create_review_comment("thanks", HEAD, "app/db.py", in_reply_to=first_id)

    page_one = _threads(fake)
    page_two = _threads(fake, after=page_one["pageInfo"]["endCursor"])
    thread = {"threadId": page_one["nodes"][0]["id"]}
    _, resolved = github.requester.graphql_named_mutation("resolveReviewThread", thread, "thread { id isResolved }")
    resolved_by = fake.pull(REPO, 7).threads[0].resolved_by
    states_after_resolve = [t["isResolved"] for t in _threads(fake)["nodes"]]
    _, reopened = github.requester.graphql_named_mutation("unresolveReviewThread", thread, "thread { isResolved }")

    assert (page_one["totalCount"], page_one["pageInfo"]["hasNextPage"]) == (3, True)
    assert page_two["pageInfo"]["hasNextPage"] is False
    bodies = [[c["body"] for c in t["comments"]["nodes"]] for t in page_one["nodes"] + page_two["nodes"]]
    assert bodies == [["a", "thanks"], ["b"], ["c"]]
    root = page_one["nodes"][0]["comments"]["nodes"][0]
    assert (root["databaseId"], root["path"]) == (first_id, "app/db.py")
    assert root["author"]["login"] == "backend-reviewer"  # GraphQL drops REST's "[bot]" suffix
    assert resolved == {"thread": {"id": thread["threadId"], "isResolved": True}}
    assert (states_after_resolve, resolved_by.login) == ([True, False], "backend-reviewer[bot]")
    assert reopened == {"thread": {"isResolved": False}}


def test_graphql_refuses_unknown_fields_before_running_a_mutation(fake: FakeGitHub) -> None:
    github = fake.client()
    github.get_repo(REPO).get_pull(7).create_review(body="s", event="COMMENT", comments=[_comment(3)])
    thread_id = fake.pull(REPO, 7).threads[0].id

    mutate = github.requester.graphql_named_mutation
    unpaged_query = GRAPHQL_THREADS.replace("first: 2, ", "")

    with pytest.raises(GithubException) as unknown_field:
        mutate("resolveReviewThread", {"threadId": thread_id}, "thread { id state }")
    with pytest.raises(GithubException) as unknown_mutation:
        mutate("deleteReviewThread", {"threadId": thread_id}, "clientMutationId")
    with pytest.raises(UnknownObjectException):
        mutate("resolveReviewThread", {"threadId": "PRRT_nope"}, "thread { id }")
    with pytest.raises(GithubException) as unpaged:
        github.requester.graphql_query(unpaged_query, {"owner": "acme", "name": "shop", "number": 7})

    assert unknown_field.value.data["errors"] == [
        {"message": "Field 'state' doesn't exist on type 'PullRequestReviewThread'"}
    ]
    assert unknown_mutation.value.data["errors"] == [
        {"message": "Field 'deleteReviewThread' doesn't exist on type 'Mutation'"}
    ]
    assert "You must provide a `first` or `last` value" in unpaged.value.data["errors"][0]["message"]
    assert fake.pull(REPO, 7).threads[0].is_resolved is False


# ----- tokens --------------------------------------------------------------------------------


def test_read_only_token_reads_but_cannot_write(fake: FakeGitHub) -> None:
    fake.client().get_repo(REPO).get_pull(7).create_review(body="s", event="COMMENT", comments=[_comment(3)])
    reader = fake.client(FakeGitHub.READ_TOKEN)
    pull = reader.get_repo(REPO).get_pull(7)

    with pytest.raises(GithubException) as review:
        pull.create_review(body="s", event="COMMENT")
    with pytest.raises(GithubException) as resolve:
        reader.requester.graphql_named_mutation(
            "resolveReviewThread", {"threadId": fake.pull(REPO, 7).threads[0].id}, "thread { id }"
        )

    assert len(list(pull.get_review_comments())) == 1
    assert (review.value.status, review.value.data["message"]) == (403, "Resource not accessible by integration")
    assert resolve.value.data["errors"][0]["type"] == "FORBIDDEN"
    assert [r.state for r in fake.pull(REPO, 7).reviews] == ["COMMENTED"]


def test_bad_or_missing_token_is_401(fake: FakeGitHub) -> None:
    with pytest.raises(BadCredentialsException) as bad:
        fake.client("ghs_wrong").get_repo(REPO)
    missing = requests.get(f"{fake.base_url}/repos/{REPO}", timeout=5)

    assert bad.value.data["message"] == "Bad credentials"
    assert (missing.status_code, missing.json()["message"]) == (401, "Requires authentication")


def test_installation_token_cannot_read_the_authenticated_user(fake: FakeGitHub) -> None:
    answer = requests.get(f"{fake.base_url}/user", headers=_auth(), timeout=5)

    assert (answer.status_code, answer.json()["message"]) == (403, "Resource not accessible by integration")


# ----- faults and headers --------------------------------------------------------------------


def test_server_errors_answer_the_next_n_matching_requests_without_applying_them(fake: FakeGitHub) -> None:
    fake.fail("POST", r"/issues/7/comments$", status=502, times=1)
    fake.fail("POST", r"/issues/7/comments$", status=503, times=1)
    pull = fake.client().get_repo(REPO).get_pull(7)

    with pytest.raises(GithubException) as bad_gateway:
        pull.create_issue_comment("summary")
    with pytest.raises(GithubException) as unavailable:
        pull.create_issue_comment("summary")
    pull.create_issue_comment("summary")

    assert (bad_gateway.value.status, unavailable.value.status) == (502, 503)
    assert [c.body for c in fake.pull(REPO, 7).issue_comments] == ["summary"]
    assert [(r.status, r.fault) for r in fake.requests_to("POST", "/comments$")] == [
        (502, "status"), (503, "status"), (201, None),
    ]
    assert fake.faults.pending() == []


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_carries_retry_after(fake: FakeGitHub, status: int) -> None:
    fake.secondary_rate_limit("POST", r"/reviews$", status=status, retry_after=1)
    url = f"{fake.base_url}/repos/{REPO}/pulls/7/reviews"

    limited = requests.post(url, json={"body": "s", "event": "COMMENT"}, headers=_auth(), timeout=5)
    accepted = requests.post(url, json={"body": "s", "event": "COMMENT"}, headers=_auth(), timeout=5)

    assert (limited.status_code, limited.headers["retry-after"]) == (status, "1")
    assert limited.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert accepted.status_code == 200
    assert len(fake.pull(REPO, 7).reviews) == 1


def test_pygithub_without_retries_raises_on_secondary_rate_limit(fake: FakeGitHub) -> None:
    fake.secondary_rate_limit("GET", r"/pulls/7$")

    with pytest.raises(RateLimitExceededException) as raised:
        fake.client().get_repo(REPO).get_pull(7)

    assert raised.value.headers["retry-after"] == "1"


def test_primary_rate_limit_reports_zero_remaining_and_a_reset(fake: FakeGitHub) -> None:
    fake.primary_rate_limit(reset_in=1)
    asked_at = time.time()

    with pytest.raises(RateLimitExceededException) as raised:
        fake.client().get_repo(REPO)

    assert raised.value.status == 403
    assert raised.value.data["message"].startswith("API rate limit exceeded")
    assert raised.value.headers["x-ratelimit-remaining"] == "0"
    assert asked_at < int(raised.value.headers["x-ratelimit-reset"]) <= time.time() + 1


def test_lost_response_applies_the_post_but_the_client_sees_a_failure(fake: FakeGitHub) -> None:
    fake.lose_response("POST", r"/reviews$", status=None)
    fake.lose_response("POST", r"/issues/7/comments$", status=500)
    pull = fake.client().get_repo(REPO).get_pull(7)

    with pytest.raises(requests.exceptions.ConnectionError):
        pull.create_review(body="s", event="COMMENT", comments=[_comment(3)])
    with pytest.raises(GithubException) as server_error:
        pull.create_issue_comment("summary")

    assert server_error.value.status == 500
    assert [r.state for r in fake.pull(REPO, 7).reviews] == ["COMMENTED"]
    assert [c.body for c in fake.pull(REPO, 7).issue_comments] == ["summary"]
    assert [(r.status, r.fault) for r in fake.requests_to("POST", "/reviews$")] == [(None, "lose_response")]


def test_pygithub_default_retry_posts_twice_after_a_lost_response(fake: FakeGitHub) -> None:
    """The hazard `review github` must avoid: PyGithub's default retry repeats a POST on 5xx."""
    fake.lose_response("POST", r"/issues/7/comments$", status=502)

    fake.client(retry=GithubRetry()).get_repo(REPO).get_pull(7).create_issue_comment("summary")

    assert [c.body for c in fake.pull(REPO, 7).issue_comments] == ["summary", "summary"]


def test_standard_headers_and_rate_limit_accounting(fake: FakeGitHub) -> None:
    first = requests.get(f"{fake.base_url}/repos/{REPO}/pulls/7", headers=_auth(), timeout=5)
    second = requests.get(f"{fake.base_url}/repos/{REPO}/pulls/7", headers=_auth(), timeout=5)
    overview = fake.client().get_rate_limit()

    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["x-github-request-id"] != second.headers["x-github-request-id"]
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-resource"]) == ("5000", "core")
    assert int(first.headers["x-ratelimit-remaining"]) - int(second.headers["x-ratelimit-remaining"]) == 1
    assert overview.resources.core.remaining == int(second.headers["x-ratelimit-remaining"])


# ----- fidelity to GitHub's documented shapes ------------------------------------------------


def test_responses_match_githubs_documented_schemas(fake: FakeGitHub) -> None:
    api = f"{fake.base_url}/repos/{REPO}"

    def call(method: str, path: str, body: object = None) -> requests.Response:
        return requests.request(method, api + path, json=body, headers=_auth(), timeout=5)

    review_422 = call("POST", "/pulls/7/reviews", {"body": "s", "event": "COMMENT", "comments": [_comment(12)]})
    comment_422 = call("POST", "/pulls/7/comments", {"body": "s", "commit_id": HEAD, "path": "app/db.py", "line": 12})
    review = {"body": "s", "event": "COMMENT", "comments": [_comment(3)]}
    multi_line = {"body": "s", "commit_id": HEAD, "path": "app/db.py", "line": 4, "start_line": 3}
    answers = {
        ("pulls/create-review", 200): call("POST", "/pulls/7/reviews", review),
        ("pulls/create-review-comment", 201): call("POST", "/pulls/7/comments", multi_line),
        ("issues/create-comment", 201): call("POST", "/issues/7/comments", {"body": "summary"}),
        ("pulls/get", 200): call("GET", "/pulls/7"),
        ("pulls/list-files", 200): call("GET", "/pulls/7/files"),
        ("pulls/list-review-comments", 200): call("GET", "/pulls/7/comments"),
        ("pulls/list-reviews", 200): call("GET", "/pulls/7/reviews"),
        ("issues/list-comments", 200): call("GET", "/issues/7/comments"),
        ("rate-limit/get", 200): requests.get(f"{fake.base_url}/rate_limit", headers=_auth(), timeout=5),
        ("pulls/create-review", 422): review_422,
        ("pulls/create-review-comment", 422): comment_422,
    }
    comment_id = answers[("pulls/create-review-comment", 201)].json()["id"]
    issue_comment_id = answers[("issues/create-comment", 201)].json()["id"]
    edited = {"body": "edited"}
    answers[("pulls/update-review-comment", 200)] = call("PATCH", f"/pulls/comments/{comment_id}", edited)
    answers[("issues/update-comment", 200)] = call("PATCH", f"/issues/comments/{issue_comment_id}", edited)

    problems = {
        key: openapi.response_errors(key[0], key[1], answer.json())
        for key, answer in answers.items()
        if answer.status_code != key[1] or openapi.response_errors(key[0], key[1], answer.json())
    }
    assert problems == {}


def test_openapi_validation_survives_the_check_run_discriminator_quirk() -> None:
    completed = {"name": "review", "head_sha": HEAD, "status": "completed", "conclusion": "success"}

    unconcluded = {"name": "review", "head_sha": HEAD, "status": "completed"}
    annotation = {"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"}
    output = {"title": "t", "summary": "s", "annotations": [annotation] * 51}
    too_many = {"name": "review", "head_sha": HEAD, "output": output}

    assert openapi.request_errors("checks/create", completed) == []
    (not_one_of,) = openapi.request_errors("checks/create", unconcluded)
    assert not_one_of.endswith("is not valid under any of the given schemas")
    (too_long,) = openapi.request_errors("checks/create", too_many)
    assert too_long.startswith("at 'output/annotations': [{") and too_long.endswith("…")


def test_patch_positions_and_no_newline_markers() -> None:
    text = "@@ -1,2 +1,2 @@\n-a = 1\n\\ No newline at end of file\n+a = 2\n b = 3\n@@ -9 +9 @@\n-c\n+d"
    patch = parse_patch(text)

    assert patch.at_position(1)[1].old == 1
    assert patch.at_position(3)[1].new == 1
    assert patch.at_position(5) is None  # the second hunk's header
    assert patch.at_position(7)[1].new == 9
    assert (patch.additions, patch.deletions) == (2, 2)


def test_renamed_file_keeps_its_previous_name(fake_github: FakeGitHub) -> None:  # noqa: F811
    renamed = PullFile("new/name.py", "@@ -1 +1 @@\n-x\n+y", previous_filename="old/name.py")
    fake_github.add_pull(REPO, 4, [renamed])

    (entry,) = fake_github.client().get_repo(REPO).get_pull(4).get_files()

    assert (entry.status, entry.previous_filename, entry.filename) == ("renamed", "old/name.py", "new/name.py")
