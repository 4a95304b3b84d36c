"""End to end through the real command line, real git, and the real engines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, GitRepo

SAFE_BASE = """\
import sqlite3


def count_users(conn):
    return conn.execute("SELECT count(*) FROM users").fetchone()
"""

INJECTION = """\
import sqlite3
import subprocess


def count_users(conn):
    return conn.execute("SELECT count(*) FROM users").fetchone()


def find_user(conn, name):
    return conn.execute(f"SELECT * FROM users WHERE name = '{name}'").fetchall()


def archive(path):
    subprocess.run("tar czf backup.tgz " + path, shell=True)
"""
INJECTION_LINE = 10
SHELL_LINE = 14
NO_SEMGREP = "engines: {semgrep: {enabled: false}}\n"


def review(repo: GitRepo | Path, *args: str, stdin: str | None = None, env: dict | None = None):
    cwd = repo.path if isinstance(repo, GitRepo) else repo
    completed = subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        timeout=240,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed


def feature_repo(git_repo: GitRepo, config: str | None = NO_SEMGREP) -> GitRepo:
    if config is not None:
        git_repo.write(".reviewer.yml", config)
    git_repo.write("app/db.py", SAFE_BASE)
    git_repo.commit("base")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.write("app/db.py", INJECTION)
    git_repo.commit("feature")
    return git_repo


def first_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"^[^ ].*:\d+:\d+: [A-Z]+\d+ ", line)]


def test_review_diff_of_a_range_flags_changed_lines_only(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    completed = review(repo, "diff", "main...feature")
    assert completed.returncode == 1, completed.stderr
    lines = first_lines(completed.stdout)
    assert any(line.startswith(f"app/db.py:{INJECTION_LINE}:") and " SQL001 " in line for line in lines), lines
    assert any(line.startswith(f"app/db.py:{SHELL_LINE}:") and " B602 " in line for line in lines), lines
    # The unchanged query on line 5 is never reported; bandit's B608 is dropped for our SQL001.
    assert not any(line.startswith("app/db.py:5:") for line in lines)
    assert not any(" B608 " in line for line in lines)
    assert "see: review explain SQL001" in completed.stdout
    assert "\x1b[" not in completed.stdout  # no colour when not on a terminal


def test_range_is_reviewed_from_git_objects_without_checkout(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    repo.git("checkout", "-q", "main")
    completed = review(repo, "diff", "main...feature", "--format", "json")
    report = json.loads(completed.stdout)
    assert {(f["code"], f["start"]["line"]) for f in report["findings"]} >= {("SQL001", INJECTION_LINE)}
    assert (repo.path / "app/db.py").read_text() == SAFE_BASE  # nothing touched the checkout


def test_default_range_is_working_tree_against_merge_base(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    repo.write("app/extra.py", "import os\n\ndef run(cmd):\n    os.system('ls ' + cmd)\n")  # untracked
    completed = review(repo, "diff", "--format", "json")
    codes = {(f["path"], f["code"], f["start"]["line"]) for f in json.loads(completed.stdout)["findings"]}
    assert ("app/db.py", "SQL001", INJECTION_LINE) in codes
    assert ("app/extra.py", "B605", 4) in codes


def test_patch_from_stdin(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    repo.git("checkout", "-q", "main")
    repo.write("app/db.py", INJECTION)
    patch = repo.git("diff")
    completed = review(repo, "diff", "--patch", "-", "--format", "json", stdin=patch)
    findings = json.loads(completed.stdout)["findings"]
    assert ("SQL001", INJECTION_LINE) in {(f["code"], f["start"]["line"]) for f in findings}


def test_patch_that_does_not_match_the_working_tree_is_refused(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    patch = repo.git("diff", "main", "feature")
    repo.git("checkout", "-q", "main")
    completed = review(repo, "diff", "--patch", "-", stdin=patch)
    assert completed.returncode == 2
    assert completed.stderr.strip().startswith("review: error: the patch does not match the working tree at app/db.py:")


def test_malformed_patch_is_a_usage_error(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = feature_repo(git_repo)
    bad = tmp_path / "bad.patch"
    bad.write_text("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,5 +1,5 @@\n x\n")
    completed = review(repo, "diff", "--patch", str(bad))
    assert completed.returncode == 2
    assert completed.stderr.startswith("review: error: malformed diff")
    assert len(completed.stderr.strip().splitlines()) == 1


def test_check_reviews_whole_files(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    completed = review(repo, "check", "app", "--format", "json")
    report = json.loads(completed.stdout)
    assert ("app/db.py", "SQL001", INJECTION_LINE) in {(f["path"], f["code"], f["start"]["line"]) for f in report["findings"]}
    assert completed.returncode == 1


def test_check_reviews_the_repository_of_the_path_named(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo, config="engines: {semgrep: {enabled: false}}\nignore: [B]\n")
    completed = review(repo.path.parent, "check", f"{repo.path.name}/app", "--format", "json")
    report = json.loads(completed.stdout)
    # Paths relative to that repository, and its own .reviewer.yml applied (bandit's B602 ignored).
    assert {(f["path"], f["code"]) for f in report["findings"]} == {("app/db.py", "SQL001"), ("app/db.py", "SQL005")}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "nope...feature"], "unknown revision 'nope'"),
        (["diff", "--fail-on", "sometimes"], "invalid choice: 'sometimes'"),
        (["diff", "--select", "ZZZ"], "unknown rule code 'ZZZ'"),
        (["explain", "ZZZ999"], "unknown rule code 'ZZZ999'"),
        (["check", "app", "../outside"], "is outside the repository"),
        (["check", "app/elsewhere.py"], "is outside the repository"),
        (["check", "missing_dir"], "no such file or folder: missing_dir"),
        (["diff", "--config", "missing.yml"], "config file not found: missing.yml"),
    ],
)
def test_usage_errors_exit_2_with_one_line(git_repo: GitRepo, args: list[str], message: str) -> None:
    repo = feature_repo(git_repo)
    (repo.path.parent / "outside").mkdir(exist_ok=True)
    (repo.path.parent / "outside" / "elsewhere.py").write_text("x = 1\n")
    (repo.path / "app" / "elsewhere.py").symlink_to(repo.path.parent / "outside" / "elsewhere.py")
    completed = review(repo, *args)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_bad_config_key_names_key_and_file(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo, config="fail_on: error\n")
    completed = review(repo, "diff")
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        f"review: error: {repo.path / '.reviewer.yml'}: unknown key 'fail_on' (did you mean 'fail-on'?)"
    )


def test_missing_semgrep_is_an_engine_failure_exit_3(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo, config=None)
    completed = review(repo, "diff", "main...feature", env={"BACKEND_REVIEWER_SEMGREP": "/nonexistent/semgrep"})
    assert completed.returncode == 3  # 3 wins over the findings' 1
    assert "engine semgrep failed" in completed.stdout
    assert "SQL001" in completed.stdout  # the other engines still report


def test_failing_semgrep_is_reported_not_silent(git_repo: GitRepo, tmp_path: Path) -> None:
    fake = tmp_path / "semgrep"
    fake.write_text("#!/bin/sh\necho 'semgrep-core: out of cheese' >&2\nexit 2\n")
    fake.chmod(0o755)
    repo = feature_repo(git_repo, config=None)
    completed = review(repo, "diff", "main...feature", "--format", "json", env={"BACKEND_REVIEWER_SEMGREP": str(fake)})
    report = json.loads(completed.stdout)
    assert completed.returncode == 3
    assert report["engine_failures"] == [{"engine": "semgrep", "message": "exited with code 2: semgrep-core: out of cheese"}]


def test_unparsable_file_is_a_diagnostic_and_the_review_goes_on(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    repo.write("app/broken.py", "def handler(:\n    pass\n")
    repo.commit("broken")
    completed = review(repo, "diff", "main...feature", "--format", "json")
    findings = {(f["path"], f["code"]) for f in json.loads(completed.stdout)["findings"]}
    assert ("app/broken.py", "RVW001") in findings
    assert ("app/db.py", "SQL001") in findings
    assert completed.returncode == 1


def test_binary_non_utf8_and_outside_symlink_files_are_noted_not_read(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = feature_repo(git_repo)
    secret = tmp_path / "secret.py"
    secret.write_text("import os\nos.system('rm -rf ' + input())\n")
    repo.write("app/blob.py", b"\0\x01binary")
    repo.write("app/latin.py", b"x = '\xe9'\n")
    os.symlink(secret, repo.path / "app" / "leak.py")
    completed = review(repo, "diff", "--format", "json")
    findings = json.loads(completed.stdout)["findings"]
    by_path = {f["path"]: f for f in findings if f["code"].startswith("RVW")}
    assert by_path["app/latin.py"]["message"] == "not reviewed: not valid utf-8 text"
    assert "app/leak.py" not in {f["path"] for f in findings if f["code"] != "RVW002"}
    assert not any(f["path"] == "app/leak.py" and f["code"].startswith("B") for f in findings)


def test_crashing_and_hanging_files_cost_only_themselves(git_repo: GitRepo) -> None:
    pack = git_repo.path / "review_rules"
    pack.mkdir(parents=True)
    (pack / "trap.py").write_text(
        "import os, time\n"
        "import libcst as cst\n"
        "from reviewer.cst_rule import CstRule, Valid, Invalid\n"
        "class Trap(CstRule):\n"
        "    code = 'TRP001'\n    name = 'trap'\n    summary = 's'\n    what = 'w'\n    why = 'y'\n"
        "    VALID = [Valid('x = 1')]\n    INVALID = [Invalid('CRASH_ME', line=1)]\n"
        "    def visit_Module(self, node):\n"
        "        if 'CRASH_ME' in self.context.source: os._exit(7)\n"
        "        if 'HANG_ME' in self.context.source: time.sleep(60)\n"
    )
    repo = feature_repo(
        git_repo, config="rule-packs: [review_rules]\nengines: {libcst: {timeout-per-file: 3}, semgrep: {enabled: false}}\n"
    )
    repo.write("app/crash.py", "CRASH_ME = 1\n")
    repo.write("app/hang.py", "HANG_ME = 1\n")
    completed = review(repo, "diff", "--format", "json")
    findings = json.loads(completed.stdout)["findings"]
    messages = {f["path"]: f["message"] for f in findings if f["code"] == "RVW003"}
    assert messages["app/crash.py"] == "the libcst worker died on this file (exit code 7)"
    assert messages["app/hang.py"] == "libcst analysis ran past 3s on this file"
    assert ("app/db.py", "SQL001") in {(f["path"], f["code"]) for f in findings}


def test_output_file_formats_and_python_dash_m(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    completed = review(repo, "diff", "main...feature", "--format", "sarif", "--output", "out.sarif")
    assert completed.stdout == ""
    sarif = json.loads((repo.path / "out.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    rule_ids = {result["ruleId"] for result in sarif["runs"][0]["results"]}
    assert "SQL001" in rule_ids
    github = review(repo, "diff", "main...feature", "--format", "github").stdout
    assert f"::error file=app/db.py,line={INJECTION_LINE}," in github


def test_fail_on_controls_the_exit_code(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    assert review(repo, "diff", "main...feature", "--fail-on", "never").returncode == 0
    assert review(repo, "diff", "main...feature", "--select", "RVW").returncode == 0


def test_rules_and_explain(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    rules = review(repo, "rules")
    assert rules.returncode == 0
    row = next(line for line in rules.stdout.splitlines() if line.startswith("SQL001 "))
    assert "string-built-sql" in row and "error" in row and "libcst" in row
    assert any(line.startswith("B608 ") for line in rules.stdout.splitlines())
    explained = review(repo, "explain", "sql001")
    assert explained.returncode == 0
    for section in ("What it does", "Why is this bad?", "Example", "Use instead", "References"):
        assert section in explained.stdout


def test_engine_suppression_comments_nosec_and_nosemgrep(git_repo: GitRepo) -> None:
    git_repo.write("app/views.py", "from flask import request\n")
    git_repo.commit("base")
    git_repo.write(
        "app/views.py",
        "import os\n"
        "from flask import request\n"
        "\n"
        "def ping():\n"
        "    os.system('ping ' + request.args['host'])\n"
        "\n"
        "def ping_quietly():\n"
        "    os.system('ping ' + request.args['host'])  # nosemgrep\n"
        "\n"
        "def ping_unaudited():\n"
        "    os.system('ping ' + request.args['host'])  # nosec\n",
    )
    completed = review(git_repo, "diff", "--format", "json")
    flagged = {(f["code"], f["start"]["line"]) for f in json.loads(completed.stdout)["findings"]}
    assert ("SEC001", 5) in flagged  # ours, with bandit's B605 on the same line dropped (same CWE)
    assert ("B605", 5) not in flagged
    assert ("SEC001", 8) not in flagged and ("B605", 8) in flagged  # nosemgrep silences semgrep only
    assert ("B605", 11) not in flagged and ("SEC001", 11) in flagged  # nosec silences bandit only


def test_verbose_reports_engine_times_on_stderr_only(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    completed = review(repo, "diff", "main...feature", "--format", "json", "--verbose")
    assert re.search(r"^review: 1 file; bandit \d+\.\ds, libcst \d+\.\ds$", completed.stderr, re.MULTILINE)
    json.loads(completed.stdout)  # machine output stays clean


def test_reviewed_code_is_never_run_by_an_engine(git_repo: GitRepo, tmp_path: Path) -> None:
    sentinel = tmp_path / "ran"
    planted = f"import os\nopen({str(sentinel)!r}, 'a').write(os.environ.get('GITHUB_TOKEN', 'no token') + '\\n')\n"
    repo = feature_repo(git_repo, config=None)
    for module in ("bandit.py", "json.py", "argparse.py", "semgrep.py", "sitecustomize.py"):
        repo.write(module, planted)
    repo.commit("plant modules an engine might import")
    completed = review(repo, "diff", "main...feature", "--format", "json", env={"GITHUB_TOKEN": "ghs_secret"})
    assert not sentinel.exists(), sentinel.read_text()
    findings = {(f["path"], f["code"]) for f in json.loads(completed.stdout)["findings"]}
    assert ("app/db.py", "B602") in findings and ("app/db.py", "SQL001") in findings  # bandit still ran


def test_files_in_folders_the_engines_skip_by_default_are_reviewed(git_repo: GitRepo, tmp_path: Path) -> None:
    # bandit drops any path containing ".git", ".tox" or "CVS"; semgrep skips tests/, vendor/ and
    # build/ when it walks a folder. Every changed file is reviewed all the same.
    code = (
        "import os\n"
        "import subprocess\n"
        "from flask import request\n"
        "\n"
        "def ping():\n"
        "    os.system('ping ' + request.args['host'])\n"
        "\n"
        "def archive(path):\n"
        "    subprocess.call('tar czf backup.tgz ' + path, shell=True)\n"
    )
    paths = [".github/scripts/deploy.py", "tests/helpers/run.py", "vendor/CVS/tool.py", "build/.tox_env.py", ".semgrepignore/x.py"]
    (tmp_path / "a,b").mkdir()  # a comma in TMPDIR must not become one of bandit's exclusions
    git_repo.write("README", "x\n")
    git_repo.commit("base")
    for path in paths:
        git_repo.write(path, code)
    completed = review(git_repo, "diff", "--format", "json", env={"TMPDIR": str(tmp_path / "a,b")})
    flagged = {(f["path"], f["code"], f["start"]["line"]) for f in json.loads(completed.stdout)["findings"]}
    for path in paths:
        assert {(path, "SEC001", 6), (path, "B602", 9)} <= flagged, (path, flagged)


def test_file_name_that_is_not_utf8_is_reviewed_and_reported(git_repo: GitRepo) -> None:
    git_repo.write("README", "x\n")
    git_repo.commit("base")
    git_repo.git("checkout", "-q", "-b", "feature")
    (git_repo.path / os.fsdecode(b"caf\xe9.py")).write_text(INJECTION)
    git_repo.commit("feature")
    text = review(git_repo, "diff", "main...feature", "--select", "SQL001")
    assert text.returncode == 1
    assert f"caf\\udce9.py:{INJECTION_LINE}:" in text.stdout
    findings = json.loads(review(git_repo, "diff", "main...feature", "--format", "json").stdout)["findings"]
    assert ("caf\udce9.py", "SQL001") in {(f["path"], f["code"]) for f in findings}
    sarif = json.loads(review(git_repo, "diff", "main...feature", "--format", "sarif").stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"caf%E9.py"}


def test_a_lone_carriage_return_does_not_shift_findings_off_the_diff(git_repo: GitRepo) -> None:
    git_repo.write("app/db.py", "import sqlite3  # note\rx = 1\n")
    git_repo.commit("base")
    git_repo.write("app/db.py", "import sqlite3  # note\rx = 1\ndef f(c, n):\n    c.execute(f'SELECT a FROM t WHERE n = {n}')\n")
    completed = review(git_repo, "diff", "HEAD", "--format", "json", "--select", "SQL001")
    assert [(f["code"], f["start"]["line"]) for f in json.loads(completed.stdout)["findings"]] == [("SQL001", 3)]


def test_patch_adding_a_file_the_working_tree_lacks_is_refused(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    repo.write("app/new.py", INJECTION)
    repo.git("add", "app/new.py")
    patch = repo.git("diff", "--cached")
    repo.git("rm", "-q", "--cached", "app/new.py")
    (repo.path / "app" / "new.py").unlink()
    completed = review(repo, "diff", "--patch", "-", stdin=patch)
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        "review: error: the patch does not match the working tree: app/new.py is not in the working tree; "
        "apply it first, or review a git range instead"
    )


def test_reader_leaving_early_does_not_change_the_exit_code(git_repo: GitRepo) -> None:
    repo = feature_repo(git_repo)
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewer", "diff", "main...feature"],
        cwd=repo.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    process.stdout.close()  # like `review diff | head -0`
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 1
    assert b"Traceback" not in stderr


def test_check_takes_paths_literally(git_repo: GitRepo) -> None:
    for name in ("a[1].py", "a1.py"):
        git_repo.write(name, "import os\nos.system('ls ' + input())\n")
    git_repo.commit("two files")
    completed = review(git_repo, "check", "a[1].py", "--format", "json")
    assert {f["path"] for f in json.loads(completed.stdout)["findings"]} == {"a[1].py"}
