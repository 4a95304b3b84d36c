"""Engine processes: what they inherit, and how their output is mapped back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewer.catalog import load_catalog
from reviewer.engines.bandit_engine import bandit_tool
from reviewer.engines.semgrep_engine import semgrep_tool
from reviewer.engines.subprocess_engine import byte_column_to_code_points, engine_environment
from reviewer.result import EngineFailure


def test_engines_get_a_minimal_environment_without_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "xyz")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["relative/dir", "/abs/dir", ""]))
    environment = engine_environment({"SEMGREP_SEND_METRICS": "off"})
    assert "GITHUB_TOKEN" not in environment and "AWS_SECRET_ACCESS_KEY" not in environment
    assert environment["LC_ALL"] == "C.UTF-8" and environment["PATH"] == os.environ["PATH"]
    assert environment["PYTHONPATH"] == "/abs/dir"
    assert environment["SEMGREP_SEND_METRICS"] == "off"


@pytest.mark.parametrize(("line", "byte_column", "expected"), [("x = 'é'; y", 11, 10), ("abc", 1, 1), ("日本", 4, 2)])
def test_byte_columns_become_code_point_columns(line: str, byte_column: int, expected: int) -> None:
    assert byte_column_to_code_points(line, byte_column) == expected


def test_engine_command_lines_do_not_grow_with_the_change(tmp_path: Path) -> None:
    # A `review check .` of tens of thousands of files must not run into the OS limit on
    # argument lists: both tools walk the mirror, which holds exactly the reviewed files.
    mirror = tmp_path / "tree"
    mirror.mkdir()
    bandit = bandit_tool(mirror, tmp_path / "cwd", timeout=60, skip=("B101",))
    semgrep = semgrep_tool(load_catalog(), mirror, timeout=60, timeout_per_file=5)
    assert not isinstance(semgrep, EngineFailure)
    assert bandit.command[-2:] == ["--", str(mirror)] and "--recursive" in bandit.command
    assert semgrep.command[-2:] == ["--", "."] and semgrep.cwd == mirror
    assert (mirror / ".semgrepignore").read_bytes() == b""  # semgrep's default ignores are off
