"""`review github` end to end: real git, real engines, real PyGithub, real HTTP to the fake GitHub.

The pull request adds SQL built with an f-string (SQL001, with a one-line fix), a shell command
(bandit B602) and a multi-line call flagged by a custom rule pack of the base revision (TST001,
a fix that changes the call's first line).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import GitRepo
from fakegithub import FakeGitHub
from fakegithub.fixtures import fake_github  # noqa: F401  (pytest fixture)
from github_scenario import REPO, PullScenario, fingerprint_in
from reviewer.engines.bandit_rules import bandit_rules
from reviewer.report import help_uri
from reviewer.rulemeta import docs_url

CONFIG = "engines: {semgrep: {enabled: false}}\nselect: [SQL001, B, TST]\nrule-packs: [checks]\n"
DANGER_RULE = '''
import libcst as cst

from reviewer.cst_rule import CstRule, Invalid, Replace, Valid
from reviewer.finding import Severity


class DangerCall(CstRule):
    code = "TST001"
    name = "danger-call"
    severity = Severity.WARNING
    summary = "A call to danger()"
    what = "Flags calls to danger()."
    why = "danger() is unsafe; safe() does the same job safely."
    fixable = True
    VALID = [Valid("safe(1)\\n")]
    INVALID = [Invalid("danger(1)\\n", line=1, fixed="safe(1)\\n")]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "danger":
            self.report(node, "danger() called; call safe() instead", fix=[Replace(node.func, "safe")],
                        fix_description="Call safe()")
'''
SAFE_DB = '''import sqlite3


def count(conn):
    return conn.execute("SELECT 1").fetchone()
'''
BAD_DB = '''import sqlite3
import subprocess


def count(conn):
    return conn.execute("SELECT 1").fetchone()


def find_user(conn, name):
    return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()


def archive(path):
    subprocess.run("tar czf backup.tgz " + path, shell=True)
'''
JOBS = '''from app.tools import danger


def nightly():
    return danger(
        "rebuild",
    )
'''
FIRST_COMMENTS = [("app/db.py", None, 10), ("app/db.py", None, 14), ("app/jobs.py", 5, 7)]
SQL_SUGGESTION = (
    '```suggestion\n    return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()\n```'
)
MARKER = re.compile(r"<!-- backend-reviewer:finding [0-9a-f]{32} -->")


@pytest.fixture
def pr(git_repo: GitRepo, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
       capfd: pytest.CaptureFixture[str], tmp_path: Path) -> PullScenario:
    scenario = PullScenario(git_repo, fake_github, monkeypatch, capfd, tmp_path)
    scenario.base({"app/db.py": SAFE_DB, "checks/danger_call.py": DANGER_RULE}, config=CONFIG)
    return scenario


def _text_and_marker(body: str) -> str:
    text, marker = body.rsplit("\n", 1)
    assert MARKER.fullmatch(marker), body
    return text


def _writes(fake: FakeGitHub) -> list[tuple[str, str]]:
    """REST writes and GraphQL mutations (a GraphQL query is a POST too, but reads)."""
    return [
        (r.method, r.path)
        for r in fake.requests
        if r.method in ("POST", "PATCH", "DELETE") and (r.path != "/graphql" or "mutation" in r.body["query"])
    ]


def test_first_run_posts_one_review_with_anchored_comments_and_suggestions(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})

    run = pr.run()

    assert run.exit_code == 1
    (review,) = pr.pull.reviews
    assert (review.state, review.commit_id) == ("COMMENTED", pr.head_sha)
    assert review.body.startswith("**backend-reviewer**: 3 new findings (2 errors, 1 warning); 3 commented inline.")
    assert pr.comments() == FIRST_COMMENTS
    sql, shell, danger = (comment.body for comment in review.comments)
    assert sql.startswith(f"**error** · [SQL001 string-built-sql]({docs_url('SQL001')})\n\n")
    assert f"Suggested fix: Pass the interpolated values as query parameters\n\n{SQL_SUGGESTION}\n\n" in sql
    assert re.search(r"parameters \(`(%s|\?)` placeholders\)", sql) and "\\`" not in sql  # code spans, not escaped ticks
    assert _text_and_marker(shell) == (
        f"**error** · [B602 subprocess-popen-with-shell-equals-true]({help_uri(bandit_rules()['B602'])})\n\n"
        "subprocess call with shell=True identified, security issue.\n"
    )
    assert _text_and_marker(danger) == (
        f"**warning** · [TST001 danger-call]({docs_url('TST001')})\n\n"
        "danger() called; call safe() instead\n\n"
        "Suggested fix: Call safe()\n\n"
        '```suggestion\n    return safe(\n        "rebuild",\n    )\n```\n'
    )
    assert [c.start_side for c in review.comments] == [None, None, "RIGHT"]
    assert not any(c.used_position for c in review.comments)
    (summary,) = pr.pull.issue_comments
    assert summary.body.startswith("<!-- backend-reviewer:summary -->\n## backend-reviewer\n\n")
    assert f"**3 findings: 2 errors, 1 warning, 0 notes in 2 files** · commit `{pr.head_sha[:12]}`" in summary.body
    assert f"| [TST001 danger-call]({docs_url('TST001')}) | warning | 1 | A call to danger() |" in summary.body
    assert "Not commented inline" not in summary.body
    assert "## backend-reviewer" in pr.step_summary.read_text()
    assert FakeGitHub.WRITE_TOKEN not in run.stdout + run.stderr + pr.step_summary.read_text()


def test_second_run_without_changes_posts_nothing(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})
    pr.run()
    writes_after_first = _writes(pr.fake)

    second = pr.run()

    assert second.exit_code == 1
    assert _writes(pr.fake) == writes_after_first
    assert [r.method for r in pr.fake.requests_to("*", r"/reviews$")] == ["POST"]
    assert "review: nothing new to post; summary unchanged" in second.stderr


def test_push_that_moves_code_keeps_its_comments(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})
    pr.run()

    moved = BAD_DB.replace("import subprocess\n", "import subprocess\n\nTIMEOUT = 5\nRETRIES = 3\n")
    pr.push({"app/db.py": moved})
    run = pr.run()

    assert run.exit_code == 1
    assert len(pr.pull.reviews) == 1
    assert pr.comments() == FIRST_COMMENTS
    assert [thread.is_resolved for thread in pr.pull.threads] == [False, False, False]
    assert [r.method for r in pr.fake.requests_to("PATCH", "")] == ["PATCH"]  # the summary's new commit
    assert f"commit `{pr.head_sha[:12]}`" in pr.pull.issue_comments[0].body


def test_push_that_fixes_a_finding_resolves_its_thread(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})
    pr.run()
    bodies = [c.body for c in pr.pull.review_comments]

    pr.push({"app/db.py": BAD_DB.replace("f\"SELECT * FROM users WHERE name = '{name}'\")",
                                         "\"SELECT * FROM users WHERE name = ?\", (name,))")})
    run = pr.run()

    assert run.exit_code == 1  # B602 is still there
    assert len(pr.pull.reviews) == 1
    assert [thread.is_resolved for thread in pr.pull.threads] == [True, False, False]
    assert pr.pull.threads[0].resolved_by.login == FakeGitHub.BOT_LOGIN
    assert [c.body for c in pr.pull.review_comments] == bodies  # resolved, never deleted or edited
    assert run.stderr.endswith("review: nothing new to post; summary updated; resolved 1 thread\n")
    assert "**2 findings: 1 error, 1 warning, 0 notes in 2 files**" in pr.pull.issue_comments[0].body


def test_finding_that_comes_back_reopens_the_thread_the_bot_resolved(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})
    pr.run()
    pr.push({"app/jobs.py": None})
    pr.run()
    pr.fake.add_token("ghp_maintainer", "maintainer", "write")
    pr.fake.client("ghp_maintainer").requester.graphql_named_mutation(  # a person resolves B602's thread
        "resolveReviewThread", {"threadId": pr.pull.threads[1].id}, "thread { id }"
    )
    resolved = [thread.is_resolved for thread in pr.pull.threads]

    pr.push({"app/jobs.py": JOBS})
    run = pr.run()

    assert resolved == [False, True, True]
    assert [thread.is_resolved for thread in pr.pull.threads] == [False, True, False]
    assert run.stderr.endswith("review: nothing new to post; summary updated; reopened 1 thread\n")
    assert (len(pr.pull.reviews), len(pr.pull.review_comments)) == (1, 3)  # nothing posted again


def test_fixed_finding_is_marked_in_its_comment_when_threads_cannot_be_resolved(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})
    pr.run()
    pr.push({"app/jobs.py": JOBS.replace("danger(", "safe(").replace("import danger", "import safe")})
    pr.fake.fail("POST", r"/graphql$", status=502)

    run = pr.run()
    third = pr.run()

    danger = pr.pull.review_comments[2]
    assert danger.body.endswith(
        f"\n\n**Fixed** in commit `{pr.head_sha[:12]}`: this finding is gone.\n"
        f"<!-- backend-reviewer:fixed {pr.head_sha} -->"
    )
    assert "marked 1 comment fixed" in run.stderr
    assert [thread.is_resolved for thread in pr.pull.threads] == [False, False, True]  # resolved on the next run
    assert third.stderr.endswith("review: nothing new to post; summary unchanged; resolved 1 thread\n")
    assert len(pr.pull.review_comments) == 3


def test_findings_over_the_cap_are_listed_in_the_summary(pr: PullScenario) -> None:
    calls = "".join(f'    subprocess.run(command + " --step {n}", shell=True)\n' for n in range(200))
    pr.push({"app/steps.py": f"import subprocess\n\n\ndef run_all(command):\n{calls}"})

    run = pr.run()
    second = pr.run()

    assert run.exit_code == 1
    (review,) = pr.pull.reviews
    assert [c.line for c in review.comments] == list(range(5, 35))
    assert review.body.startswith("**backend-reviewer**: 200 new findings (200 errors); 30 commented inline, "
                                  "170 listed in the summary comment.")
    summary = pr.pull.issue_comments[0].body
    assert "### Not commented inline (170)" in summary
    listed = re.findall(r"^- `app/steps.py:(\d+)` \*\*B602\*\* \(error\) .* — over the 30-comment limit$",
                        summary, re.MULTILINE)
    assert listed == [str(n) for n in range(35, 205)]
    assert len(summary) <= 65_536
    assert len(re.search(r"<!-- backend-reviewer:listed((?: [0-9a-f]{32})*) -->", summary).group(1).split()) == 170
    assert len(pr.pull.reviews) == 1 and "nothing new to post" in second.stderr


def test_max_comments_flag_and_request_changes(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS})

    run = pr.run("--max-comments", "1", "--request-changes")

    (review,) = pr.pull.reviews
    assert run.exit_code == 1
    assert review.state == "CHANGES_REQUESTED"
    assert pr.comments() == [("app/db.py", None, 10)]
    summary = pr.pull.issue_comments[0].body
    assert re.search(r"^- `app/db.py:14` \*\*B602\*\* .* — over the 1-comment limit$", summary, re.MULTILINE)
    assert re.search(r"^- `app/jobs.py:5` \*\*TST001\*\* \(warning\) .* — over the 1-comment limit$",
                     summary, re.MULTILINE)


def test_request_changes_only_when_findings_reach_the_fail_level(pr: PullScenario) -> None:
    pr.push({"app/jobs.py": JOBS})

    run = pr.run("--request-changes")

    assert (run.exit_code, [r.state for r in pr.pull.reviews]) == (0, ["COMMENTED"])  # a warning only


def test_finding_outside_the_diff_goes_to_the_summary(pr: PullScenario) -> None:
    legacy = 'import subprocess\n\nsubprocess.call("make " + TARGET, shell=True)\n' + "\n" * 20
    pr.repo.git("checkout", "-q", "main")
    pr.repo.write("app/legacy.py", legacy)
    pr.base_sha = pr.repo.commit("legacy code on main")
    pr.repo.git("checkout", "-q", "feature")
    pr.repo.git("merge", "-q", "--ff-only", "main")
    pr.push({"app/legacy.py": legacy + 'subprocess.call("make " + OTHER, shell=True)\n'})

    run = pr.run("--filter-mode", "file")

    assert run.exit_code == 1
    assert pr.comments() == [("app/legacy.py", None, 24)]
    assert [r.status for r in pr.fake.requests_to("POST", r"/reviews$")] == [200]
    assert re.search(r"^- `app/legacy.py:3` \*\*B602\*\* .* — not on a line of the diff$",
                     pr.pull.issue_comments[0].body, re.MULTILINE)


def test_config_and_rule_packs_come_from_the_base_never_the_head(pr: PullScenario, tmp_path: Path) -> None:
    sentinel = tmp_path / "head-rule-ran"
    hostile_rule = f"open({str(sentinel)!r}, 'w').close()\n" + DANGER_RULE.replace("TST001", "TST999")
    disable_all = "engines: {libcst: {enabled: false}, bandit: {enabled: false}, semgrep: {enabled: false}}\n"
    pr.push({"app/db.py": BAD_DB, "app/jobs.py": JOBS, ".reviewer.yml": disable_all + "rule-packs: [checks]\n",
             "checks/danger_call.py": hostile_rule})

    run = pr.run()

    assert run.exit_code == 1
    assert pr.comments()[:3] == FIRST_COMMENTS
    assert "TST001" in pr.pull.review_comments[2].body
    # The head's rule file is code under review (bandit flags its /tmp path), never a rule that runs.
    assert pr.comments()[3:] == [("checks/danger_call.py", None, 1)]
    assert "[B108 " in pr.pull.review_comments[3].body
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("head_files", "args", "message"),
    [
        ({}, ("--config", "ci/review.yml"), "config file not found: ci/review.yml at base commit {base}"),
        ({"ci/review.yml": "fail-on: error\n"}, ("--config", "ci/review.yml"),
         "config file not found: ci/review.yml at base commit {base}"),
        ({}, ("--config", "../outside.yml"),
         "--config must be a path inside the repository (read from the base commit), not '../outside.yml'"),
    ],
)
def test_config_errors_name_the_base_commit(
    pr: PullScenario, head_files: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    pr.push({"app/db.py": BAD_DB, **head_files})

    run = pr.run(*args)

    assert (run.exit_code, run.stderr) == (2, f"review: error: {message.format(base=pr.base_sha[:12])}\n")
    assert pr.pull.reviews == []


def test_bad_base_config_is_a_one_line_error(git_repo: GitRepo, fake_github: FakeGitHub,  # noqa: F811
                                             monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    pr = PullScenario(git_repo, fake_github, monkeypatch, capfd, tmp_path)
    pr.base({"app/db.py": SAFE_DB}, config="fial-on: warning\n")
    pr.push({"app/db.py": BAD_DB, ".reviewer.yml": "fail-on: warning\n"})

    run = pr.run()

    assert run.exit_code == 2
    assert run.stderr == (
        f"review: error: .reviewer.yml at base commit {pr.base_sha[:12]}: unknown key 'fial-on' "
        "(did you mean 'fail-on'?)\n"
    )


def test_sarif_file_and_step_outputs(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB})

    run = pr.run("--sarif-file", "review.sarif")

    sarif = json.loads((pr.repo.path / "review.sarif").read_text())
    assert run.exit_code == 1
    assert sarif["version"] == "2.1.0"
    assert sorted(r["ruleId"] for r in sarif["runs"][0]["results"]) == ["B602", "SQL001"]
    assert re.fullmatch(r"findings<<(EOF_\w+)\n2\n\1\nsarif-file<<(EOF_\w+)\nreview.sarif\n\2\n",
                        pr.outputs.read_text())


def test_markers_written_by_someone_else_are_not_trusted(pr: PullScenario) -> None:
    pr.push({"app/db.py": BAD_DB})
    pr.run()
    forged = [c.body for c in pr.pull.review_comments]
    pr.fake.add_token("ghp_author", "dev-author", "write")
    pr.fake.add_pull(REPO, 8, pr.pull_files(), head_sha=pr.head_sha, base_sha=pr.base_sha)
    author = pr.fake.client("ghp_author").get_repo(REPO).get_pull(8)
    author.create_review(body="nothing to see", event="COMMENT",
                         comments=[{"path": "app/db.py", "line": 10, "side": "RIGHT", "body": forged[0]},
                                   {"path": "app/db.py", "line": 14, "side": "RIGHT", "body": forged[1]}])

    pr.run(pr=8)

    bot_comments = [c for c in pr.fake.pull(REPO, 8).review_comments if c.user.login == FakeGitHub.BOT_LOGIN]
    assert [(c.line, fingerprint_in(c.body)) for c in bot_comments] == [
        (10, fingerprint_in(forged[0])), (14, fingerprint_in(forged[1]))
    ]


def test_a_user_token_recognizes_its_own_comments(pr: PullScenario) -> None:
    pr.fake.add_token("ghp_alice", "alice", "write")
    pr.push({"app/db.py": BAD_DB})

    pr.run(token="ghp_alice")
    second = pr.run(token="ghp_alice")

    assert [r.user.login for r in pr.pull.reviews] == ["alice"]
    assert "nothing new to post; summary unchanged" in second.stderr
