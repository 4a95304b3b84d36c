"""--output and --sarif-file: the user's file is replaced whole, links and special files are kept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reviewer.errors import UsageError
from reviewer.report.output_file import write_report


def test_a_new_file_is_written(tmp_path: Path) -> None:
    write_report(tmp_path / "out.sarif", "{}\n")
    assert (tmp_path / "out.sarif").read_text() == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.sarif"]  # no temporary file left behind


def test_an_existing_file_is_replaced_and_keeps_its_permissions(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("old report, much longer than the new one\n")
    report.chmod(0o640)
    write_report(report, "new\n")
    assert report.read_text() == "new\n"
    assert stat.S_IMODE(report.stat().st_mode) == 0o640


def test_a_symlink_stays_a_link_and_its_target_gets_the_report(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "latest.sarif"
    target.write_text("old")
    link = tmp_path / "review.sarif"
    link.symlink_to(target)
    write_report(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"


def test_a_pipe_is_written_in_place_not_replaced_by_a_file(tmp_path: Path) -> None:
    # The same path as `-o /dev/null` or `-o /dev/stdout`: a special file must survive.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_report(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unwritable_place_is_a_one_line_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^cannot write .*missing/out\.json: No such file or directory$"):
        write_report(tmp_path / "missing" / "out.json", "{}")


def test_a_file_with_other_hard_links_is_rewritten_in_place(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("old")
    alias = tmp_path / "latest.json"
    os.link(report, alias)
    write_report(report, "new")
    assert alias.read_text() == "new" and report.stat().st_ino == alias.stat().st_ino


@pytest.mark.parametrize("kind", ["loop", "folder"])
def test_an_unusable_target_is_a_one_line_usage_error(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        target = tmp_path / "a"
    else:
        target.mkdir()
    with pytest.raises(UsageError, match=r"^cannot write .*: (Too many levels of symbolic links|Is a directory)$"):
        write_report(target, "{}")


def test_dev_stdout_goes_down_a_pipe_and_appends_to_a_redirected_file(tmp_path: Path) -> None:
    # `review ... -o /dev/stdout | cat` and `review ... -o /dev/stdout >> log`, as a shell runs them.
    script = "import sys; from pathlib import Path; from reviewer.report.output_file import write_report; " \
             "write_report(Path('/dev/stdout'), 'report\\n')"
    piped = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert piped.stdout == "report\n"
    log = tmp_path / "log"
    log.write_text("earlier line\n")
    with open(log, "a") as appended:
        subprocess.run([sys.executable, "-c", script], stdout=appended, check=True)
    assert log.read_text() == "earlier line\nreport\n"
