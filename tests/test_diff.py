"""Unified diff → FileChanges, on diffs made by the real git; malformed patches are clear errors.

Each repository case is checked twice: parsing the text of a plain `git diff`, and through
`changeset_for_range`, which runs git with its own fixed options.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from reviewer.changeset import FileChange, FileStatus, Hunk
from reviewer.diff import parse_diff, unquote_git_path
from reviewer.errors import UsageError
from reviewer.git import changeset_for_range


def git_output(repo, *args: str) -> str:
    """git's stdout as the tool would read it: bytes decoded without newline translation."""
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    completed = subprocess.run(["git", *args], cwd=repo.path, check=True, capture_output=True, env=env)
    return completed.stdout.decode("utf-8", "surrogateescape")


def changes_between(repo, base: str, head: str) -> tuple[FileChange, ...]:
    """The files changed from base to head, the same whether parsed from `git diff` or a range."""
    parsed = parse_diff(git_output(repo, "diff", base, head))
    ranged = changeset_for_range(repo.path, f"{base}..{head}").files
    assert parsed == ranged
    assert [hunk.added_text for f in parsed for hunk in f.hunks] == [
        hunk.added_text for f in ranged for hunk in f.hunks
    ]
    return parsed


def only(changes: tuple[FileChange, ...]) -> FileChange:
    assert len(changes) == 1, changes
    return changes[0]


NUMBERS = "".join(f"line {n}\n" for n in range(1, 31))


def test_several_hunks_in_one_file_carry_new_side_spans_and_added_lines(git_repo) -> None:
    git_repo.write("app/views.py", NUMBERS)
    base = git_repo.commit()
    lines = NUMBERS.splitlines()
    lines[1] = "changed two"
    lines.insert(15, "inserted after fifteen")
    lines[26] = "changed twenty-six"
    git_repo.write("app/views.py", "\n".join(lines) + "\n")
    head = git_repo.commit()

    change = only(changes_between(git_repo, base, head))

    assert (change.path, change.status, change.old_path) == ("app/views.py", FileStatus.MODIFIED, None)
    assert change.hunks == (
        Hunk(new_start=1, new_length=5, added=(2,)),
        Hunk(new_start=13, new_length=7, added=(16,)),
        Hunk(new_start=24, new_length=7, added=(27,)),
    )
    assert [hunk.added_text for hunk in change.hunks] == [
        ("changed two",),
        ("inserted after fifteen",),
        ("changed twenty-six",),
    ]
    assert change.added_lines == {2, 16, 27}
    assert 15 in change.context_lines and 12 not in change.context_lines


def test_rename_without_edits_has_old_path_and_no_hunks(git_repo) -> None:
    git_repo.write("old_name.py", NUMBERS)
    base = git_repo.commit()
    git_repo.git("mv", "old_name.py", "new_name.py")
    head = git_repo.commit()

    assert only(changes_between(git_repo, base, head)) == FileChange(
        "new_name.py", FileStatus.RENAMED, old_path="old_name.py"
    )


def test_rename_with_edits_and_spaces_in_both_names(git_repo) -> None:
    git_repo.write("src dir/old name.py", NUMBERS)
    base = git_repo.commit()
    git_repo.git("mv", "src dir/old name.py", "src dir/new name.py")
    git_repo.write("src dir/new name.py", NUMBERS.replace("line 4\n", "line four\n"))
    head = git_repo.commit()

    change = only(changes_between(git_repo, base, head))

    assert (change.path, change.status, change.old_path) == (
        "src dir/new name.py",
        FileStatus.RENAMED,
        "src dir/old name.py",
    )
    assert change.added_lines == {4}
    assert change.hunks[0].added_text == ("line four",)


def test_copy_is_parsed_from_git_copy_detection_and_a_range_reports_the_copy_as_added(git_repo) -> None:
    git_repo.write("handlers.py", NUMBERS)
    base = git_repo.commit()
    git_repo.write("handlers_v2.py", NUMBERS.replace("line 30\n", "line 30\nline 31\n"))
    head = git_repo.commit()

    copied = only(parse_diff(git_output(git_repo, "diff", "-C", "-C", base, head)))
    assert (copied.path, copied.status, copied.old_path) == ("handlers_v2.py", FileStatus.COPIED, "handlers.py")
    assert copied.added_lines == {31}

    # A copy is new code in a new place: the range diff (no copy detection) reviews all of it.
    ranged = only(changeset_for_range(git_repo.path, f"{base}..{head}").files)
    assert (ranged.path, ranged.status, ranged.added_lines) == (
        "handlers_v2.py",
        FileStatus.ADDED,
        frozenset(range(1, 32)),
    )


def test_deleted_file_has_no_hunks(git_repo) -> None:
    git_repo.write("gone.py", NUMBERS)
    git_repo.write("kept.py", "x = 1\n")
    base = git_repo.commit()
    git_repo.git("rm", "-q", "gone.py")
    head = git_repo.commit()

    change = only(changes_between(git_repo, base, head))
    assert change == FileChange("gone.py", FileStatus.DELETED)
    assert not change.reviewable


def test_new_file_has_every_line_added(git_repo) -> None:
    base = git_repo.commit("empty")
    git_repo.write("api/routes.py", "import flask\n\napp = flask.Flask(__name__)\n")
    git_repo.write("api/empty.py", "")
    head = git_repo.commit()

    empty, routes = changes_between(git_repo, base, head)
    assert empty == FileChange("api/empty.py", FileStatus.ADDED)
    assert routes.status is FileStatus.ADDED
    assert routes.hunks == (Hunk(new_start=1, new_length=3, added=(1, 2, 3)),)
    assert routes.hunks[0].added_text == ("import flask", "", "app = flask.Flask(__name__)")


def test_binary_files_are_flagged_in_both_binary_formats(git_repo) -> None:
    git_repo.write("logo.png", b"\x89PNG\0\0\1")
    base = git_repo.commit()
    git_repo.write("logo.png", b"\x89PNG\0\0\2")
    git_repo.write("data.bin", b"\0\1\2\3")
    head = git_repo.commit()

    expected = (
        FileChange("data.bin", FileStatus.ADDED, binary=True),
        FileChange("logo.png", FileStatus.MODIFIED, binary=True),
    )
    assert changes_between(git_repo, base, head) == expected
    binary_patch = git_output(git_repo, "diff", "--binary", base, head)
    assert "GIT binary patch" in binary_patch
    assert parse_diff(binary_patch) == expected


def test_mode_only_change_is_modified_without_hunks(git_repo) -> None:
    git_repo.write("deploy.sh", "echo hi\n")
    base = git_repo.commit()
    os.chmod(git_repo.path / "deploy.sh", 0o755)
    head = git_repo.commit()

    assert only(changes_between(git_repo, base, head)) == FileChange("deploy.sh", FileStatus.MODIFIED)


def test_no_newline_at_end_of_file_on_either_side(git_repo) -> None:
    git_repo.write("settings.py", "DEBUG = False\nTIMEOUT = 5")
    base = git_repo.commit()
    git_repo.write("settings.py", "DEBUG = False\nTIMEOUT = 10\nRETRIES = 3")
    head = git_repo.commit()

    assert "\\ No newline at end of file" in git_output(git_repo, "diff", base, head)
    change = only(changes_between(git_repo, base, head))
    assert change.hunks == (Hunk(new_start=1, new_length=3, added=(2, 3)),)
    assert change.hunks[0].added_text == ("TIMEOUT = 10", "RETRIES = 3")


def test_crlf_content_keeps_line_numbers_and_no_carriage_return_leaks(git_repo) -> None:
    git_repo.write("win.py", "a = 1\r\nb = 2\r\nc = 3\r\n")
    base = git_repo.commit()
    git_repo.write("win.py", "a = 1\r\nb = 20\r\n\r\nc = 3\r\nd = 4\r\n")
    head = git_repo.commit()

    change = only(changes_between(git_repo, base, head))
    assert change.hunks == (Hunk(new_start=1, new_length=5, added=(2, 3, 5)),)
    assert change.hunks[0].added_text == ("b = 20", "", "d = 4")

    # The same patch saved with CRLF line endings throughout (headers too) reads the same.
    patch = git_output(git_repo, "diff", base, head)
    converted = patch.replace("\r\n", "\n").replace("\n", "\r\n")
    assert parse_diff(converted) == (change,)
    assert only(parse_diff(converted)).hunks[0].added_text == ("b = 20", "", "d = 4")


def test_paths_with_spaces_end_at_the_tab_git_appends(git_repo) -> None:
    git_repo.write("my app/my file.py", "x = 1\n")
    base = git_repo.commit()
    git_repo.write("my app/my file.py", "x = 2\n")
    head = git_repo.commit()

    assert "+++ b/my app/my file.py\t\n" in git_output(git_repo, "diff", base, head)
    change = only(changes_between(git_repo, base, head))
    assert (change.path, change.added_lines) == ("my app/my file.py", {1})


QUOTED_NAMES = [
    "héllo.py",
    "日本/路由.py",
    "tab\tname.py",
    'quote"and\\backslash.py',
    "new\nline.py",
    "bell\a back\b feed\f vtab\v cr\r.py",
]


def test_quoted_paths_are_unquoted_utf8_names(git_repo) -> None:
    base = git_repo.commit("empty")
    for name in QUOTED_NAMES:
        git_repo.write(name, "x = 1\n")
    head = git_repo.commit()

    patch = git_output(git_repo, "diff", base, head)
    assert '+++ "b/h\\303\\251llo.py"' in patch and '"b/tab\\tname.py"' in patch
    changes = changes_between(git_repo, base, head)
    assert sorted(change.path for change in changes) == sorted(QUOTED_NAMES)
    assert all(change.added_lines == {1} for change in changes)


def test_quoted_rename_between_a_plain_and_a_non_ascii_name(git_repo) -> None:
    git_repo.write("plain name.py", NUMBERS)
    base = git_repo.commit()
    git_repo.git("mv", "plain name.py", "naïve name.py")
    head = git_repo.commit()

    assert only(changes_between(git_repo, base, head)) == FileChange(
        "naïve name.py", FileStatus.RENAMED, old_path="plain name.py"
    )


def test_non_utf8_file_name_and_content_survive_as_surrogates(git_repo) -> None:
    base = git_repo.commit("empty")
    (git_repo.path / os.fsdecode(b"caf\xe9.py")).write_bytes(b"name = '\xe9'\n")
    head = git_repo.commit()

    change = only(changes_between(git_repo, base, head))
    assert change.path == "caf\udce9.py"
    assert change.hunks[0].added_text == ("name = '\udce9'",)


def commit_gitlink(repo, path: str, target: str) -> str:
    """Point a submodule entry at `target` without cloning anything (an unpopulated submodule)."""
    (repo.path / path).mkdir(parents=True, exist_ok=True)
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{target},{path}")
    repo.git("commit", "-q", "-m", f"{path} at {target[:7]}")
    return repo.git("rev-parse", "HEAD").strip()


def test_submodule_pointer_is_not_a_file(git_repo) -> None:
    git_repo.write("README.md", "hi\n")
    first = git_repo.commit()
    second = git_repo.commit("another commit")
    base = commit_gitlink(git_repo, "vendor/lib", first)
    head = commit_gitlink(git_repo, "vendor/lib", second)

    patch = git_output(git_repo, "diff", base, head)
    assert f"+Subproject commit {second}" in patch
    assert only(changes_between(git_repo, base, head)) == FileChange(
        "vendor/lib", FileStatus.MODIFIED, not_a_file=True
    )
    # Without git's index line the mode is unknown; the 'Subproject commit' lines still tell.
    without_modes = "".join(line for line in patch.splitlines(True) if not line.startswith("index "))
    assert only(parse_diff(without_modes)).not_a_file


def test_symlinks_are_not_files(git_repo) -> None:
    os.symlink("settings.py", git_repo.path / "current.py")
    base = git_repo.commit()
    os.remove(git_repo.path / "current.py")
    os.symlink("/etc/passwd", git_repo.path / "current.py")
    os.symlink("../outside", git_repo.path / "new_link")
    head = git_repo.commit()

    assert changes_between(git_repo, base, head) == (
        FileChange("current.py", FileStatus.MODIFIED, not_a_file=True),
        FileChange("new_link", FileStatus.ADDED, not_a_file=True),
    )


def test_a_symlink_replaced_by_a_file_is_one_added_file(git_repo) -> None:
    os.symlink("settings.py", git_repo.path / "config.py")
    base = git_repo.commit()
    os.remove(git_repo.path / "config.py")
    git_repo.write("config.py", "DEBUG = True\n")
    head = git_repo.commit()

    patch = git_output(git_repo, "diff", base, head)
    assert "deleted file mode 120000" in patch and "new file mode 100644" in patch
    assert changes_between(git_repo, base, head) == (
        FileChange("config.py", FileStatus.ADDED, hunks=(Hunk(1, 1, added=(1,)),)),
    )


def test_mnemonic_and_format_patch_output_parse_like_plain_git_diff(git_repo) -> None:
    git_repo.write("a.py", "x = 1\n")
    base = git_repo.commit()
    git_repo.write("a.py", "x = 2\n")
    head = git_repo.commit("second")
    expected = (FileChange("a.py", FileStatus.MODIFIED, hunks=(Hunk(1, 1, added=(1,)),)),)

    mnemonic = git_output(git_repo, "-c", "diff.mnemonicPrefix=true", "diff", "HEAD~1")
    assert "+++ w/a.py" in mnemonic
    assert parse_diff(mnemonic) == expected
    mail = git_output(git_repo, "format-patch", "--stdout", f"{base}..{head}")
    assert "\n-- \n" in mail
    assert parse_diff(mail) == expected


def test_plain_unified_diff_without_git_headers() -> None:
    patch = (
        "--- a/service.py\t2024-05-01 10:00:00.000000000 +0200\n"
        "+++ b/service.py\t2024-05-01 10:05:00.000000000 +0200\n"
        "@@ -1,2 +1,3 @@\n"
        " import os\n"
        "+import sys\n"
        " x = 1\n"
        "--- /dev/null\n"
        "+++ b/fresh.py\n"
        "@@ -0,0 +1 @@\n"
        "+y = 2\n"
    )
    assert parse_diff(patch) == (
        FileChange("service.py", FileStatus.MODIFIED, hunks=(Hunk(1, 3, added=(2,)),)),
        FileChange("fresh.py", FileStatus.ADDED, hunks=(Hunk(1, 1, added=(1,)),)),
    )


@pytest.mark.parametrize("text", ["", "\n", "  \n\n"])
def test_empty_text_changes_nothing(text: str) -> None:
    assert parse_diff(text) == ()


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("plain/name.py", "plain/name.py"),
        ('"\\a\\b\\t\\n\\v\\f\\r\\"\\\\.py"', '\a\b\t\n\v\f\r"\\.py'),
        ('"caf\\303\\251.py"', "café.py"),
        ('"\\377.py"', "\udcff.py"),
    ],
)
def test_unquote_git_path(raw: str, path: str) -> None:
    assert unquote_git_path(raw) == path


GOOD_PATCH = (
    "diff --git a/app.py b/app.py\n"  # line 1
    "index 1111111..2222222 100644\n"
    "--- a/app.py\n"
    "+++ b/app.py\n"
    "@@ -1,3 +1,4 @@\n"  # line 5
    " import os\n"
    "+import sys\n"
    " x = 1\n"
    " y = 2\n"
    "diff --git a/other.py b/other.py\n"  # line 10
    "index 3333333..4444444 100644\n"
    "--- a/other.py\n"
    "+++ b/other.py\n"
    "@@ -1 +1 @@\n"  # line 14
    "-a = 1\n"
    "+a = 2\n"
)


def test_the_well_formed_patch_used_below_parses() -> None:
    assert [change.added_lines for change in parse_diff(GOOD_PATCH)] == [{2}, {1}]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        pytest.param(
            GOOD_PATCH.replace(" y = 2\n", ""),
            "malformed diff: hunk at line 5 of the patch promises 3 old lines and 4 new lines, "
            "found 2 old and 3 new",
            id="hunk-cut-short-before-the-next-file",
        ),
        pytest.param(
            GOOD_PATCH.replace("@@ -1,3 +1,4 @@", "@@ -1,3 +1,6 @@"),
            "malformed diff: hunk at line 5 of the patch promises 6 new lines, found 4",
            id="hunk-promises-more-new-lines",
        ),
        pytest.param(
            GOOD_PATCH + "+b = 3\n",
            "malformed diff: hunk at line 14 of the patch promises 1 new line, found 2",
            id="extra-added-line-after-the-last-hunk",
        ),
        pytest.param(
            GOOD_PATCH[: GOOD_PATCH.index("+a = 2")],
            "malformed diff: hunk at line 14 of the patch promises 1 new line, found 0",
            id="truncated-at-the-end",
        ),
        pytest.param(
            GOOD_PATCH.replace("@@ -1 +1 @@", "@@ -1 +one @@"),
            "malformed diff: bad hunk header at line 14 of the patch: '@@ -1 +one @@'",
            id="bad-hunk-header",
        ),
        pytest.param(
            "@@ -1 +1 @@\n-a\n+b\n",
            "malformed diff: unexpected line 1 of the patch: '@@ -1 +1 @@'",
            id="hunk-without-file-header",
        ),
        pytest.param(
            GOOD_PATCH.replace("a/app.py", '"a/ap\\qp.py"').replace("b/app.py", '"b/ap\\qp.py"'),
            "malformed diff: bad escape in quoted path '\"a/ap\\\\qp.py\" \"b/ap\\\\qp.py\"'",
            id="bad-escape-in-quoted-path",
        ),
        pytest.param(
            "diff --git a/x y.py b/z w.py\nold mode 100644\nnew mode 100755\n",
            "malformed diff: cannot tell the old and new file names apart in 'diff --git a/x y.py b/z w.py'",
            id="ambiguous-names-without-rename-lines",
        ),
        pytest.param(
            "--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+x\n",
            "malformed diff: a file whose old and new names are both /dev/null",
            id="no-name-on-either-side",
        ),
        pytest.param(
            "import os\n\n\ndef handler(request):\n    return os.environ['X']\n",
            "malformed diff: no file header ('diff --git' or '---'/'+++' lines) found; "
            "the input does not look like a unified diff",
            id="a-python-file-instead-of-a-diff",
        ),
    ],
)
def test_malformed_patches_are_one_line_usage_errors(patch: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_diff(patch)
    assert str(caught.value) == message
