"""Lines as git counts them, and the mapping from Python's line counting to git's."""

from __future__ import annotations

import pytest

from reviewer.textutil import has_lone_carriage_return, source_lines, universal_to_git_lines

TEXT = "import os  # note\rx = 1\r\nos.system('ls ' + cmd)\n"


def test_source_lines_split_on_lf_only() -> None:
    assert source_lines(TEXT) == ["import os  # note\rx = 1", "os.system('ls ' + cmd)"]
    assert source_lines("a\fb\u2028c\n") == ["a\fb\u2028c"]


def test_lone_carriage_return_is_detected() -> None:
    assert has_lone_carriage_return(TEXT)
    assert not has_lone_carriage_return("a\r\nb\r\n")


@pytest.mark.parametrize(
    ("python_position", "git_position"),
    [((1, 5), (1, 5)), ((2, 1), (1, 19)), ((2, 5), (1, 23)), ((3, 1), (2, 1)), ((3, 11), (2, 11))],
)
def test_python_positions_map_to_git_lines(python_position, git_position) -> None:
    assert universal_to_git_lines(TEXT)(*python_position) == git_position
