"""`review github` when GitHub misbehaves or refuses: read-only tokens, rate limits, lost
answers, server errors, bad tokens, unknown pull requests — through real PyGithub and HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import GitRepo
from fakegithub import FakeGitHub
from fakegithub.fixtures import fake_github  # noqa: F401  (pytest fixture)
from github_scenario import PullScenario

SAFE_DB = 'import sqlite3\n\n\ndef count(conn):\n    return conn.execute("SELECT 1").fetchone()\n'
BAD_DB = '''import sqlite3
import subprocess


def count(conn):
    return conn.execute("SELECT 1").fetchone()


def find_user(conn, name):
    return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()


def archive(path):
    subprocess.run("ls -l", shell=True)
    subprocess.run("tar czf backup.tgz " + path, shell=True)
'''


@pytest.fixture
def pr(git_repo: GitRepo, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
       capfd: pytest.CaptureFixture[str], tmp_path: Path) -> PullScenario:
    scenario = PullScenario(git_repo, fake_github, monkeypatch, capfd, tmp_path)
    scenario.base({"app/db.py": SAFE_DB})
    scenario.push({"app/db.py": BAD_DB})
    return scenario


def _statuses(fake: FakeGitHub, method: str, path: str) -> list[int | None]:
    return [r.status for r in fake.requests_to(method, path)]


def test_read_only_token_falls_back_to_annotations_and_the_job_summary(pr: PullScenario) -> None:
    run = pr.run(token=FakeGitHub.READ_TOKEN)

    assert run.exit_code == 1
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::")]
    # Most severe first: GitHub shows only about ten annotations of each kind.
    assert [line.split(" ")[0] + " " + line.split(",")[1] for line in annotations] == [
        "::error line=10", "::error line=15", "::notice line=14", "::notice line=14",
    ]
    assert annotations[0].startswith(
        "::error file=app/db.py,line=10,endLine=10,col=25,endColumn=69,title=SQL001 string-built-sql::"
    )
    assert annotations[1].startswith("::error file=app/db.py,line=15,endLine=15,col=5,endColumn=61,title=B602 ")
    summary = pr.step_summary.read_text()
    for entry in ("`app/db.py:10` **SQL001**", "`app/db.py:14` **B602**", "`app/db.py:14` **B607**",
                  "`app/db.py:15` **B602**"):
        assert f"- {entry}" in summary
    assert "the token cannot write to this pull request" in run.stderr
    assert (pr.pull.reviews, pr.pull.issue_comments) == ([], [])
    assert _statuses(pr.fake, "POST", r"/reviews$") == [403]
    assert "findings<<" in pr.outputs.read_text() and "\n4\n" in pr.outputs.read_text()


def test_rate_limits_and_server_errors_are_retried_and_the_review_lands_once(pr: PullScenario) -> None:
    pr.fake.primary_rate_limit("GET", r"/pulls/7/files$", reset_in=1)
    pr.fake.fail("GET", r"/pulls/7/comments$", status=502, times=2)
    pr.fake.secondary_rate_limit("POST", r"/pulls/7/reviews$", retry_after=1)
    pr.fake.secondary_rate_limit("POST", r"/issues/7/comments$", status=429, retry_after=1)
    started = time.monotonic()

    run = pr.run()

    assert run.exit_code == 1
    assert len(pr.pull.reviews) == 1 and len(pr.pull.review_comments) == 4
    assert len(pr.pull.issue_comments) == 1
    assert _statuses(pr.fake, "GET", r"/pulls/7/files$") == [403, 200]
    assert _statuses(pr.fake, "GET", r"/pulls/7/comments$") == [502, 502, 200]
    assert _statuses(pr.fake, "POST", r"/pulls/7/reviews$") == [403, 200]
    assert _statuses(pr.fake, "POST", r"/issues/7/comments$") == [429, 201]
    assert time.monotonic() - started >= 3  # each wait honoured what GitHub asked for
    assert pr.fake.faults.pending() == []


def test_rate_limit_past_the_wait_budget_stops_with_a_clear_error(pr: PullScenario) -> None:
    pr.fake.primary_rate_limit("GET", r"/pulls/7$", reset_in=3600)

    run = pr.run()

    assert run.exit_code == 3
    assert run.stderr == (
        "review: error: reading pull request acme/shop#7: GitHub's API rate limit is exhausted for "
        "longer than this run may wait\n"
    )


@pytest.mark.parametrize("status", [None, 502])
def test_lost_answer_to_the_review_post_is_not_posted_again(pr: PullScenario, status: int | None) -> None:
    pr.fake.lose_response("POST", r"/pulls/7/reviews$", status=status)
    pr.fake.lose_response("POST", r"/issues/7/comments$", status=502)

    run = pr.run()

    assert run.exit_code == 1
    assert len(pr.pull.reviews) == 1 and len(pr.pull.review_comments) == 4
    assert len(pr.pull.issue_comments) == 1
    assert _statuses(pr.fake, "POST", r"/pulls/7/reviews$") == [status]
    assert _statuses(pr.fake, "POST", r"/issues/7/comments$") == [502]
    assert _statuses(pr.fake, "GET", r"/pulls/7/reviews$") == [200]  # looked for its marker first


def test_failed_review_post_that_did_not_land_is_sent_once_more(pr: PullScenario) -> None:
    pr.fake.fail("POST", r"/pulls/7/reviews$", status=502)

    run = pr.run()

    assert run.exit_code == 1
    assert len(pr.pull.reviews) == 1
    assert _statuses(pr.fake, "POST", r"/pulls/7/reviews$") == [502, 200]


def test_server_that_keeps_failing_a_write_exits_3(pr: PullScenario) -> None:
    pr.fake.fail("POST", r"/pulls/7/reviews$", status=503, times=2)

    run = pr.run()

    assert run.exit_code == 3
    assert run.stderr.endswith(
        "review: error: posting to pull request acme/shop#7: GitHub answered 503 Service Unavailable\n"
    )
    assert pr.pull.reviews == []


def test_bad_token_is_one_line_exit_2_and_never_printed(pr: PullScenario) -> None:
    secret = "ghs_Zq8mP2vT7wYkL4nR9sXc1bJd6hF3gA0e"

    run = pr.run(token=secret)

    assert run.exit_code == 2
    assert run.stderr == (
        "review: error: reading pull request acme/shop#7: GitHub rejected the token (401 Bad credentials); "
        "check $GITHUB_TOKEN\n"
    )
    assert secret not in run.stdout + run.stderr


def test_unknown_pull_request_is_one_line_exit_2_and_the_token_is_never_printed(pr: PullScenario) -> None:
    run = pr.run(pr=404)

    assert run.exit_code == 2
    assert run.stderr == (
        "review: error: reading pull request acme/shop#404: GitHub answered 404 Not Found; check the repository "
        "and pull request number, and that the token in $GITHUB_TOKEN can read them\n"
    )
    assert FakeGitHub.WRITE_TOKEN not in run.stdout + run.stderr


def test_missing_token_is_a_usage_error(pr: PullScenario, monkeypatch: pytest.MonkeyPatch) -> None:
    run = pr.run("--token-env", "REVIEW_BOT_TOKEN")

    assert run.exit_code == 2
    assert run.stderr == "review: error: no GitHub token: $REVIEW_BOT_TOKEN is empty or not set (see --token-env)\n"
