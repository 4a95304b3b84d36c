"""Engine processes: what they inherit, and how their output is mapped back."""

from __future__ import annotations

import os

import pytest

from reviewer.engines.subprocess_engine import byte_column_to_code_points, engine_environment


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
