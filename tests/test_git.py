"""Git as a diff source, on real throw-away repositories: ranges, the working tree, the default
branch, reading a commit's files without checking it out, and clear errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reviewer.changeset import FileChange, FileStatus, Hunk
from reviewer.errors import UsageError
from reviewer.git import (
    BlobResult,
    changeset_for_range,
    changeset_from_patch,
    default_base,
    read_blobs,
    repo_root,
    run_git,
)


def sha(repo, revision: str) -> str:
    return repo.git("rev-parse", revision).strip()


def paths(changeset) -> list[str]:
    return [change.path for change in changeset.files]


@pytest.fixture
def diverged(git_repo):
    """main: base.py; feature (from main's first commit) adds feature.py; then main adds main_only.py."""
    git_repo.write("base.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.write("feature.py", "def f():\n    return 1\n")
    git_repo.commit("feature")
    git_repo.git("checkout", "-q", "main")
    git_repo.write("main_only.py", "y = 2\n")
    git_repo.commit("main moves on")
    return git_repo


def test_two_dot_range_diffs_the_tips_and_three_dot_diffs_from_the_merge_base(diverged) -> None:
    two_dot = changeset_for_range(diverged.path, "main..feature")
    assert two_dot.files == (
        FileChange("feature.py", FileStatus.ADDED, hunks=(Hunk(1, 2, added=(1, 2)),)),
        FileChange("main_only.py", FileStatus.DELETED),
    )
    assert (two_dot.base, two_dot.head) == (sha(diverged, "main"), sha(diverged, "feature"))
    assert two_dot.description == "main..feature"

    three_dot = changeset_for_range(diverged.path, "main...feature")
    merge_base = sha(diverged, "main~1")
    assert paths(three_dot) == ["feature.py"]
    assert (three_dot.base, three_dot.head) == (merge_base, sha(diverged, "feature"))
    assert three_dot.description == f"main...feature (merge-base {merge_base[:7]})"
    assert three_dot.file("feature.py").hunks[0].added_text == ("def f():", "    return 1")


def test_an_empty_side_of_a_range_means_head(diverged) -> None:
    diverged.git("checkout", "-q", "feature")
    assert changeset_for_range(diverged.path, "main...") == changeset_for_range(diverged.path, "main...feature")
    assert changeset_for_range(diverged.path, "..main").head == sha(diverged, "main")


def test_working_tree_review_covers_commits_index_edits_and_untracked_files_but_not_ignored(diverged) -> None:
    diverged.git("checkout", "-q", "feature")
    diverged.write(".gitignore", "*.log\nbuild/\n")
    diverged.write("staged.py", "s = 1\n")
    diverged.git("add", "staged.py", ".gitignore")
    diverged.write("base.py", "x = 1\nx += 1\n")
    diverged.write("new_module.py", "import os\r\nKEY = os.environ['KEY']\r\n")
    diverged.write("debug.log", "ignored\n")
    diverged.write("build/out.py", "ignored = True\n")

    changeset = changeset_for_range(diverged.path, None)

    assert paths(changeset) == [".gitignore", "base.py", "feature.py", "staged.py", "new_module.py"]
    assert changeset.base == sha(diverged, "main~1")
    assert changeset.head is None
    assert changeset.description == f"working tree vs main (merge-base {changeset.base[:7]})"
    assert changeset.file("base.py").added_lines == {2}
    untracked = changeset.file("new_module.py")
    assert untracked.status is FileStatus.ADDED
    assert untracked.hunks == (Hunk(1, 2, added=(1, 2)),)
    assert untracked.hunks[0].added_text == ("import os", "KEY = os.environ['KEY']")


def test_a_file_untracked_but_kept_on_disk_is_listed_once(git_repo) -> None:
    git_repo.write("models.py", "class User: ...\n")
    git_repo.commit()
    git_repo.git("rm", "-q", "--cached", "models.py")

    changeset = changeset_for_range(git_repo.path, "HEAD")

    assert changeset.files == (FileChange("models.py", FileStatus.ADDED, hunks=(Hunk(1, 1, added=(1,)),)),)


def test_untracked_binary_links_nested_repositories_and_large_files(git_repo, tmp_path: Path) -> None:
    git_repo.write("app.py", "x = 1\n")
    git_repo.commit()
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'never read'\n")
    os.symlink(secret, git_repo.path / "leak.py")
    os.symlink("app.py", git_repo.path / "alias.py")
    git_repo.write("image.png", b"\x89PNG\r\n\x1a\n\0\0")
    git_repo.write("empty.py", "")
    git_repo.write("huge.sql", "SELECT 1;\n" * 20)
    subprocess.run(["git", "init", "-q", str(git_repo.path / "vendored")], check=True)
    (git_repo.path / "vendored" / "x.py").write_text("x = 1\n")

    changeset = changeset_for_range(git_repo.path, "HEAD", max_untracked_bytes=100)

    assert changeset.files == (
        FileChange("alias.py", FileStatus.ADDED, not_a_file=True),
        FileChange("empty.py", FileStatus.ADDED),
        FileChange("huge.sql", FileStatus.ADDED, binary=True),
        FileChange("image.png", FileStatus.ADDED, binary=True),
        FileChange("leak.py", FileStatus.ADDED, not_a_file=True),
        FileChange("vendored", FileStatus.ADDED, not_a_file=True),
    )
    assert changeset.description == f"working tree vs HEAD ({sha(git_repo, 'HEAD')[:7]})"
    assert changeset.base == sha(git_repo, "HEAD") and changeset.head is None


def test_a_single_revision_reviews_the_working_tree_against_it(git_repo) -> None:
    git_repo.write("a.py", "a = 1\n")
    first = git_repo.commit()
    git_repo.write("a.py", "a = 2\n")
    git_repo.commit()
    git_repo.write("b.py", "b = 1\n")

    changeset = changeset_for_range(git_repo.path, first[:10])

    assert [(change.path, change.added_lines) for change in changeset.files] == [("a.py", {1}), ("b.py", {1})]
    assert (changeset.base, changeset.head) == (first, None)


def test_the_users_git_config_does_not_change_the_diff(git_repo) -> None:
    git_repo.write("café dir/views.py", "a\n\nb\n" + "".join(f"line {n}\n" for n in range(20)))
    git_repo.write(".gitattributes", "*.py diff=shout\n")
    base = git_repo.commit()
    git_repo.write("café dir/views.py", "a\n\nB\n" + "".join(f"line {n}\n" for n in range(20)))
    head = git_repo.commit()
    for key, value in [
        ("core.quotePath", "false"),
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.context", "10"),
        ("diff.renames", "false"),
        ("diff.external", "false"),
        ("color.ui", "always"),
        ("diff.shout.textconv", "tr a-z A-Z <"),
    ]:
        git_repo.git("config", key, value)

    change = changeset_for_range(git_repo.path, f"{base}..{head}").file("café dir/views.py")

    assert change is not None
    assert change.hunks == (Hunk(1, 6, added=(3,)),)
    assert change.hunks[0].added_text == ("B",)


def test_gitattributes_cannot_hide_changed_code_as_binary(git_repo) -> None:
    body = "".join(f"def handler_{n}():\n    return {n}\n" for n in range(4))
    git_repo.write("app.py", body)
    git_repo.write("logo.png", b"\x89PNG\0\1")
    base = git_repo.commit()
    # A hostile change marks Python files as binary so that a plain diff shows no lines.
    git_repo.write(".gitattributes", "*.py binary\n*.png binary\nrenamed.py -diff\n")
    git_repo.write("app.py", body + "eval(input())\n")
    git_repo.write("logo.png", b"\x89PNG\0\2")
    git_repo.git("mv", "app.py", "renamed.py")
    head = git_repo.commit()
    git_repo.write("late.py", "import pickle\n")
    git_repo.git("add", "late.py")
    assert "Binary files /dev/null and b/late.py differ" in git_repo.git("diff", "--cached", base)

    in_range = changeset_for_range(git_repo.path, f"{base}..{head}")
    in_worktree = changeset_for_range(git_repo.path, base)

    expected_rename = FileChange("renamed.py", FileStatus.RENAMED, "app.py", hunks=(Hunk(6, 4, added=(9,)),))
    assert in_range.files == (
        FileChange(".gitattributes", FileStatus.ADDED, hunks=(Hunk(1, 3, added=(1, 2, 3)),)),
        FileChange("logo.png", FileStatus.MODIFIED, binary=True),
        expected_rename,
    )
    assert in_range.file("renamed.py").hunks[0].added_text == ("eval(input())",)
    assert in_worktree.files == (
        in_range.files[0],
        FileChange("late.py", FileStatus.ADDED, hunks=(Hunk(1, 1, added=(1,)),)),
        *in_range.files[1:],
    )


def test_default_base_follows_origin_head_of_a_clone(git_repo, tmp_path: Path) -> None:
    git_repo.git("checkout", "-q", "-b", "trunk")
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    origin = tmp_path / "origin.git"
    git_repo.git("clone", "-q", "--bare", str(git_repo.path), str(origin))
    clone = tmp_path / "clone"
    git_repo.git("clone", "-q", str(origin), str(clone))

    assert default_base(clone) == "origin/trunk"
    subprocess.run(["git", "checkout", "-q", "-b", "topic"], cwd=clone, check=True)
    (clone / "topic.py").write_text("t = 1\n")
    changeset = changeset_for_range(clone, None)
    assert paths(changeset) == ["topic.py"]
    assert changeset.description.startswith("working tree vs origin/trunk (merge-base ")


@pytest.mark.parametrize(
    ("branches", "remote_branches", "expected"),
    [
        (["dev", "master"], [], "master"),
        (["master", "main"], [], "main"),
        (["dev"], ["origin/master", "origin/main"], "origin/main"),
        (["dev"], ["origin/master"], "origin/master"),
        (["dev"], [], None),
    ],
)
def test_default_base_without_origin_head_tries_main_then_master(
    git_repo, branches, remote_branches, expected
) -> None:
    git_repo.git("symbolic-ref", "HEAD", f"refs/heads/{branches[0]}")  # main is never born
    git_repo.commit()
    for branch in branches[1:]:
        git_repo.git("branch", branch)
    for branch in remote_branches:
        git_repo.git("update-ref", f"refs/remotes/{branch}", "HEAD")
    if expected is None:
        with pytest.raises(UsageError) as caught:
            default_base(git_repo.path)
        assert str(caught.value) == (
            "cannot find the default branch (no origin/HEAD, main, master, origin/main or "
            "origin/master); pass a range such as 'main...HEAD'"
        )
    else:
        assert default_base(git_repo.path) == expected


def test_read_blobs_reads_a_commit_without_checking_it_out(git_repo) -> None:
    git_repo.write("app/views.py", "VERSION = 1\n")
    git_repo.write("big.py", "x = 1\n" * 50)
    git_repo.write("héllo.py", "h = 1\n")
    os.symlink("app/views.py", git_repo.path / "link.py")
    main = git_repo.commit()
    (git_repo.path / "vendor" / "lib").mkdir(parents=True)  # an unpopulated submodule
    git_repo.git("update-index", "--add", "--cacheinfo", f"160000,{main},vendor/lib")
    git_repo.git("commit", "-q", "-m", "submodule")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.write("app/views.py", "VERSION = 2\n")
    feature = git_repo.commit()
    git_repo.git("checkout", "-q", "main")
    assert (git_repo.path / "app/views.py").read_text() == "VERSION = 1\n"

    blobs = read_blobs(
        git_repo.path,
        feature,
        ["app/views.py", "héllo.py", "big.py", "link.py", "vendor/lib", "gone.py", "app"],
        max_bytes=100,
    )

    assert blobs == {
        "app/views.py": BlobResult("file", b"VERSION = 2\n", 12),
        "héllo.py": BlobResult("file", b"h = 1\n", 6),
        "big.py": BlobResult("too_large", None, 300),
        "link.py": BlobResult("symlink", None, len("app/views.py")),
        "vendor/lib": BlobResult("submodule", None, 0),
        "gone.py": BlobResult("missing", None, 0),
        "app": BlobResult("missing", None, 0),
    }
    assert read_blobs(git_repo.path, feature, [], max_bytes=100) == {}


def test_read_blobs_uses_one_cat_file_process_for_all_files(git_repo, tmp_path: Path, monkeypatch) -> None:
    names = [f"pkg/m{n}.py" for n in range(5)]
    for name in names:
        git_repo.write(name, f"{name!r}\n")
    commit = git_repo.commit()
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv("GIT_TRACE", str(trace))

    blobs = read_blobs(git_repo.path, commit, names, max_bytes=1000)

    assert {name: blob.data for name, blob in blobs.items()} == {name: f"{name!r}\n".encode() for name in names}
    commands = [line for line in trace.read_text().splitlines() if "built-in: git " in line]
    assert sum("git cat-file --batch" in line for line in commands) == 1
    assert sum("git ls-tree" in line for line in commands) == 1


def test_non_utf8_content_in_a_range_does_not_crash(git_repo) -> None:
    base = git_repo.commit("empty")
    git_repo.write("legacy.py", b"name = '\xe9t\xe9'\n")
    head = git_repo.commit()
    change = changeset_for_range(git_repo.path, f"{base}..{head}").file("legacy.py")
    assert change is not None
    assert change.hunks[0].added_text == ("name = '\udce9t\udce9'",)


def test_changeset_from_patch_has_no_commits() -> None:
    patch = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    changeset = changeset_from_patch(patch, "stdin")
    assert changeset.files == (FileChange("x.py", FileStatus.MODIFIED, hunks=(Hunk(1, 1, added=(1,)),)),)
    assert (changeset.base, changeset.head, changeset.description) == (None, None, "stdin")
    assert changeset_from_patch("").description == "patch"


def test_repo_root_from_a_subdirectory_and_outside_any_repository(git_repo, tmp_path: Path) -> None:
    git_repo.write("pkg/sub/m.py", "")
    assert repo_root(git_repo.path / "pkg" / "sub") == git_repo.path
    assert repo_root(git_repo.path / "pkg" / "sub" / "m.py") == git_repo.path
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    for start in (elsewhere, tmp_path / "missing" / "dir"):
        with pytest.raises(UsageError) as caught:
            repo_root(start)
        assert str(caught.value) == f"not inside a git repository: {start}"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("xyz", "unknown revision 'xyz'"),
        ("main..xyz", "unknown revision 'xyz'"),
        ("nope...main", "unknown revision 'nope'"),
        ("--output=/tmp/owned", "unknown revision '--output=/tmp/owned'"),
        ("main...orphan", "no merge base between 'main' and 'orphan' "
         "(unrelated histories, or a shallow clone: fetch more history)"),
    ],
)
def test_bad_ranges_are_usage_errors(git_repo, spec: str, message: str) -> None:
    git_repo.commit("first")
    git_repo.git("checkout", "-q", "--orphan", "orphan")
    git_repo.commit("unrelated")
    with pytest.raises(UsageError) as caught:
        changeset_for_range(git_repo.path, spec)
    assert str(caught.value) == message


def test_read_blobs_of_an_unknown_commit(git_repo) -> None:
    git_repo.commit()
    with pytest.raises(UsageError) as caught:
        read_blobs(git_repo.path, "deadbeef", ["a.py"], max_bytes=10)
    assert str(caught.value) == "unknown revision 'deadbeef'"


def test_run_git_reports_gits_first_error_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        run_git(tmp_path, "-c", "core.quotePath=true", "log", "-1")
    assert str(caught.value).startswith("git log: fatal: not a git repository")


def test_run_git_without_git_on_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as caught:
        run_git(tmp_path, "status")
    assert str(caught.value) == "git is not installed or not on PATH"
