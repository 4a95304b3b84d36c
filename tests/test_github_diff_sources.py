"""Where `review github` gets the pull request's diff: local git (fetching what a depth-1 merge
checkout lacks), the files API when the base is missing, and local git again past the files
API's 3,000-file cap; pagination of files and comments past 100."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import GitRepo, _git_env
from fakegithub import FakeGitHub, PullFile
from fakegithub.fixtures import fake_github  # noqa: F401  (pytest fixture)
from github_scenario import NO_SEMGREP, PullScenario

DB_BASE = '"""Database helpers."""\n\nimport sqlite3\n\n\ndef count(conn):\n    return conn.execute("SELECT 1").fetchone()\n'
ARCHIVE = '\n\ndef archive(path):\n    import subprocess\n    subprocess.run("tar czf backup.tgz " + path, shell=True)\n'
SHELL_MODULE = 'import subprocess\n\n\ndef run(cmd):\n    subprocess.run(cmd + " --fast", shell=True)\n'


@pytest.fixture
def pr(git_repo: GitRepo, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
       capfd: pytest.CaptureFixture[str], tmp_path: Path) -> PullScenario:
    return PullScenario(git_repo, fake_github, monkeypatch, capfd, tmp_path)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=_git_env()).stdout


def _pages(fake: FakeGitHub, path: str) -> list[str | None]:
    return [r.query.get("page") for r in fake.requests_to("GET", path)]


def test_depth_1_merge_checkout_fetches_base_and_head_and_anchors_on_head_lines(
    pr: PullScenario, tmp_path: Path
) -> None:
    pr.base({"app/db.py": DB_BASE}, config=NO_SEMGREP + "severity: {B602: warning}\n")
    pr.repo.git("checkout", "-q", "main")
    pr.repo.write("app/db.py", DB_BASE.replace('"""Database helpers."""', '"""Database helpers.\n\nShared.\n"""'))
    pr.base_sha = pr.repo.commit("main moves on: two more lines at the top")
    pr.repo.git("checkout", "-q", "feature")
    head = pr.push({"app/db.py": DB_BASE + ARCHIVE})
    pr.repo.git("checkout", "-q", "--detach", pr.base_sha)
    pr.repo.git("merge", "-q", "--no-ff", "-m", "merge", head)
    pr.repo.git("update-ref", "refs/pull/7/merge", "HEAD")
    pr.repo.git("config", "uploadpack.allowAnySHA1InWant", "true")
    checkout = tmp_path / "checkout"
    _git(tmp_path, "init", "-q", str(checkout))
    _git(checkout, "remote", "add", "origin", pr.repo.path.as_uri())
    _git(checkout, "fetch", "-q", "--depth=1", "origin", "+refs/pull/7/merge:refs/remotes/pull/7/merge")
    _git(checkout, "checkout", "-q", "--detach", "refs/remotes/pull/7/merge")
    assert "subprocess.run" in (checkout / "app/db.py").read_text().splitlines()[14]  # line 15 in the merge

    run = pr.run(cwd=checkout)

    assert run.exit_code == 0  # B602 is a warning in the base's config
    assert pr.comments() == [("app/db.py", None, 12)]
    assert pr.pull.review_comments[0].body.startswith("**warning** · [B602 ")
    assert "base commit is not available" not in run.stderr


def test_without_the_base_commit_the_files_api_gives_the_diff(pr: PullScenario, tmp_path: Path) -> None:
    pr.base({"app/db.py": DB_BASE})
    pr.push({"app/db.py": DB_BASE + ARCHIVE})
    checkout = tmp_path / "head-only"
    _git(tmp_path, "clone", "-q", "--depth=1", "--branch", "feature", pr.repo.path.as_uri(), str(checkout))
    _git(checkout, "remote", "remove", "origin")

    run = pr.run(cwd=checkout)

    assert run.exit_code == 1
    assert pr.comments() == [("app/db.py", None, 12)]
    assert "review: warning: the base commit is not available; using the default configuration" in run.stderr


def _past_the_cap(pr: PullScenario, app_patch: str) -> None:
    """3,000 data files, then zz/app.py: the files API never lists it; GitHub's diff has `app_patch`."""
    pr.base({"README.md": "shop\n"})
    data = {f"data/part_{n:04}.txt": f"row {n}\n" for n in range(3000)}
    listed = [PullFile(path, "@@ -0,0 +1 @@\n+" + text.strip()) for path, text in data.items()]
    pr.push({**data, "zz/app.py": SHELL_MODULE}, listed=[*listed, PullFile("zz/app.py", app_patch)])


def test_pull_request_past_the_files_api_cap_is_reviewed_from_local_git(pr: PullScenario) -> None:
    _past_the_cap(pr, "@@ -0,0 +1,5 @@\n" + "\n".join(f"+{line}" for line in SHELL_MODULE.splitlines()))

    run = pr.run()

    assert run.exit_code == 1
    assert len(_pages(pr.fake, r"/pulls/7/files$")) == 30  # the API stops at 3,000 files
    assert pr.comments() == [("zz/app.py", None, 5)]


def test_anchors_github_refuses_after_all_go_to_the_summary(pr: PullScenario) -> None:
    _past_the_cap(pr, "@@ -0,0 +1 @@\n+import subprocess")  # GitHub's hunk differs from the local one

    run = pr.run()

    assert run.exit_code == 1
    assert [r.status for r in pr.fake.requests_to("POST", r"/reviews$")] == [422, 200]
    (review,) = pr.pull.reviews
    assert (review.comments, review.state) == ([], "COMMENTED")
    assert review.body.startswith("**backend-reviewer**: 1 new finding (1 error); 0 commented inline, "
                                  "1 listed in the summary comment.")
    assert "- `zz/app.py:5` **B602** (error) " in pr.pull.issue_comments[0].body
    assert pr.pull.issue_comments[0].body.count("GitHub refused the inline comments' lines") == 1


def test_pull_request_past_the_cap_without_its_base_is_refused(pr: PullScenario) -> None:
    pr.base({"README.md": "shop\n"})
    listed = [PullFile(f"data/part_{n:04}.txt", "@@ -0,0 +1 @@\n+row") for n in range(3001)]
    pr.push({"zz/app.py": SHELL_MODULE}, listed=listed)
    pr.fake.pull("acme/shop", 7).base_sha = "0" * 40

    run = pr.run()

    assert run.exit_code == 2
    assert run.stderr == (
        "review: error: the pull request changes 3001 files, more than GitHub's files API lists (3000), and "
        "its base 000000000000 could not be fetched; fetch the base commit (actions/checkout with fetch-depth: 0)\n"
    )


def test_files_and_comments_are_read_past_100(pr: PullScenario) -> None:
    pr.base({"README.md": "shop\n"})
    pr.push({f"app/mod_{n:03}.py": SHELL_MODULE for n in range(120)})

    first = pr.run("--max-comments", "200")
    second = pr.run("--max-comments", "200")

    assert (first.exit_code, second.exit_code) == (1, 1)
    assert pr.comments() == [(f"app/mod_{n:03}.py", None, 5) for n in range(120)]
    assert _pages(pr.fake, r"/pulls/7/files$") == [None, "2", None, "2"]
    assert _pages(pr.fake, r"/pulls/7/comments$") == [None, None, "2"]
    threads_pages = [r.body["variables"]["after"] for r in pr.fake.requests_to("POST", r"/graphql$")]
    assert len(threads_pages) == 2 and threads_pages[0] is None and threads_pages[1]  # 120 threads: two pages
    assert len(pr.pull.reviews) == 1 and "nothing new to post" in second.stderr
