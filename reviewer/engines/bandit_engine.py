"""The bandit engine: one `python -m bandit` process on the Python files of the review.

Bandit's test ids stay as codes (`B608`). Its severity and confidence fold into one severity
(low confidence is never more than a note), and its 0-based UTF-8 byte columns become 1-based
code points. A file bandit cannot parse (it uses the running Python's `ast`) is a diagnostic.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Sequence

from reviewer.diagnostics import PARSE_ERROR, diagnostic
from reviewer.engines.bandit_rules import bandit_rules
from reviewer.engines.subprocess_engine import BackgroundTool, byte_column_to_code_points, last_line
from reviewer.finding import Finding, Position, Severity
from reviewer.result import EngineFailure
from reviewer.textutil import source_lines

ENGINE = "bandit"


def bandit_tool(mirror: Path, workdir: Path, timeout: float, skip: Sequence[str]) -> BackgroundTool:
    """bandit over the mirror's Python files, run from `workdir`, an empty folder: `python -m` puts
    the working folder first on sys.path, and a reviewed change must not be able to plant a module
    (a `bandit.py`, a `json.py`) that bandit would import and run.

    The mirror holds exactly the reviewed files, so bandit walks it (`--recursive`) rather than
    being handed every path: the command line stays short however large the change. `--exclude`
    replaces bandit's default list (.git, .tox, CVS...), which it matches as substrings of every
    path — it would silently skip `.github/scripts/deploy.py` — with `//`, which no walked path
    contains (bandit splits the list on commas, so no path of ours can be used: TMPDIR may hold one)."""
    command = [sys.executable, "-m", "bandit", "--format", "json", "--quiet", "--recursive", "--exclude", "//"]
    if skip:
        command += ["--skip", ",".join(skip)]
    command += ["--", str(mirror)]
    return BackgroundTool(ENGINE, command, workdir, timeout)


def bandit_severity(severity: str, confidence: str) -> Severity:
    if confidence == "LOW" or severity == "LOW":
        return Severity.NOTE
    if severity == "HIGH" and confidence in ("HIGH", "MEDIUM"):
        return Severity.ERROR
    return Severity.WARNING


def parse_bandit_output(
    exit_code: int, stdout: bytes, stderr: bytes, sources: dict[str, str], mirror: Path
) -> tuple[list[Finding], list[EngineFailure]]:
    try:
        report = json.loads(stdout)
    except ValueError:
        if b"No module named bandit" in stderr:
            return [], [EngineFailure(ENGINE, "bandit is not installed (pip install backend-reviewer installs it)")]
        return [], [EngineFailure(ENGINE, f"exited with code {exit_code}: {last_line(stderr)}")]
    prefix = f"{mirror}{os.sep}"
    line_cache: dict[str, list[str]] = {}
    findings = [_finding(result, sources, prefix, line_cache) for result in report.get("results", [])]
    for error in report.get("errors", []):
        path = _relative(error.get("filename", ""), prefix)
        reason = error.get("reason", "unknown error")
        if "syntax error" in reason:
            python = f"{sys.version_info.major}.{sys.version_info.minor}"
            message = f"bandit could not parse this file with Python {python}'s ast ({reason}); newer syntax needs a newer Python"
        else:
            message = f"bandit: {reason}"
        findings.append(diagnostic(PARSE_ERROR, path, message, engine=ENGINE))
    return findings, []


def _relative(path: str, prefix: str) -> str:
    return path[len(prefix):] if path.startswith(prefix) else path


def _finding(result: dict, sources: dict[str, str], prefix: str, line_cache: dict[str, list[str]]) -> Finding:
    path = _relative(result["filename"], prefix)
    if path not in line_cache:
        line_cache[path] = source_lines(sources.get(path, ""))
    lines = line_cache[path]
    line_range = result.get("line_range") or [result["line_number"]]
    start_line, end_line = result["line_number"], max(line_range)

    def column(line: int, byte_offset: int | None, default_to_end: bool) -> int:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if byte_offset is None or byte_offset < 0:
            return len(text) + 1 if default_to_end else 1
        return byte_column_to_code_points(text, byte_offset + 1)

    start = Position(start_line, column(start_line, result.get("col_offset"), default_to_end=False))
    end = Position(end_line, column(end_line, result.get("end_col_offset"), default_to_end=True))
    meta = bandit_rules().get(result["test_id"])
    cwe = result.get("issue_cwe") or {}
    return Finding(
        code=result["test_id"],
        name=meta.name if meta else result.get("test_name", "bandit").replace("_", "-"),
        severity=bandit_severity(result.get("issue_severity", ""), result.get("issue_confidence", "")),
        message=" ".join(result.get("issue_text", "").split()),
        path=path,
        start=start,
        end=end,
        engine=ENGINE,
        cwe=(int(cwe["id"]),) if cwe.get("id") else (),
        tags=("security",),
    )
