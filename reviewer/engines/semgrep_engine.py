"""The semgrep engine: one `semgrep` process for all files and all YAML rules.

semgrep runs in a mirror folder holding exactly the reviewed text, with metrics and the version
check off so it needs no network. Its check_ids are mapped back to rule codes, its UTF-8 byte
columns converted to code points, and its per-file errors turned into diagnostics; a missing or
failing semgrep is an engine failure (exit 3), never "no findings".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from reviewer.catalog import Catalog
from reviewer.diagnostics import FILE_ANALYSIS_FAILED, PARSE_ERROR, diagnostic
from reviewer.engines.subprocess_engine import BackgroundTool, byte_column_to_code_points, find_executable, last_line
from reviewer.finding import Finding, Fix, Position, TextEdit
from reviewer.result import EngineFailure
from reviewer.textutil import source_lines

ENGINE = "semgrep"
# Run a specific semgrep instead of the one installed beside us (or on PATH).
SEMGREP_OVERRIDE = "BACKEND_REVIEWER_SEMGREP"
QUIET_ENV = {
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "SEMGREP_SEND_METRICS": "off",
    "SEMGREP_FORCE_COLOR": "",
    "NO_COLOR": "1",
}


def semgrep_tool(catalog: Catalog, mirror: Path, timeout: float, timeout_per_file: float) -> BackgroundTool | EngineFailure:
    """semgrep over the whole mirror, which holds exactly the reviewed files: a command line that
    does not grow with the change. An empty `.semgrepignore` turns off semgrep's default ignores
    (tests/, vendor/, build/...), which would otherwise skip reviewed files in a folder scan. A
    reviewed folder of that name already does the same (semgrep then finds no patterns in it)."""
    executable = os.environ.get(SEMGREP_OVERRIDE) or find_executable("semgrep")
    if executable is None:
        return EngineFailure(ENGINE, "semgrep is not installed (pip install backend-reviewer installs it)")
    ignore_file = mirror / ".semgrepignore"
    if not ignore_file.exists():
        ignore_file.write_bytes(b"")
    command = [
        executable, "scan", "--json", "--quiet", "--metrics=off", "--disable-version-check",
        "--no-git-ignore", f"--timeout={int(max(timeout_per_file, 1))}",
    ]
    for rule in catalog.semgrep_rules:
        command += ["--config", str(rule.path)]
    command += ["--", "."]
    return BackgroundTool(ENGINE, command, mirror, timeout, QUIET_ENV)


def parse_semgrep_output(
    exit_code: int, stdout: bytes, stderr: bytes, catalog: Catalog, sources: dict[str, str]
) -> tuple[list[Finding], list[EngineFailure]]:
    try:
        report = json.loads(stdout)
    except ValueError:
        return [], [EngineFailure(ENGINE, f"exited with code {exit_code}: {last_line(stderr)}")]
    findings: list[Finding] = []
    failures: list[EngineFailure] = []
    line_cache: dict[str, list[str]] = {}
    for result in report.get("results", []):
        finding = _finding(result, catalog, sources, line_cache)
        if finding is not None:
            findings.append(finding)
    for error in report.get("errors", []):
        outcome = _error(error)
        if isinstance(outcome, Finding):
            findings.append(outcome)
        elif outcome is not None:
            failures.append(outcome)
    if exit_code not in (0, 1) and not failures:
        failures.append(EngineFailure(ENGINE, f"exited with code {exit_code}: {last_line(stderr)}"))
    return findings, failures


def _finding(result: dict, catalog: Catalog, sources: dict[str, str], line_cache: dict[str, list[str]]) -> Finding | None:
    code = catalog.semgrep_code(result["check_id"])
    meta = catalog.get(code) if code else None
    if meta is None:
        return None
    path = result["path"]
    if path not in line_cache:
        line_cache[path] = source_lines(sources.get(path, ""))
    lines = line_cache[path]
    start = _position(lines, result["start"])
    end = _position(lines, result["end"])
    extra = result.get("extra", {})
    fix = None
    if isinstance(extra.get("fix"), str):
        fix = Fix("Apply semgrep's suggested fix", (TextEdit(start, end, extra["fix"]),))
    return Finding(
        code=meta.code,
        name=meta.name,
        severity=meta.severity,
        message=" ".join(str(extra.get("message", meta.summary)).split()),
        path=path,
        start=start,
        end=end,
        engine=ENGINE,
        fix=fix,
        cwe=meta.cwe,
        tags=meta.tags,
    )


def _position(lines: list[str], point: dict) -> Position:
    line = int(point["line"])
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return Position(line, byte_column_to_code_points(text, int(point["col"])))


def _error(error: dict) -> Finding | EngineFailure | None:
    """A per-file problem is a diagnostic; a rule or setup problem fails the engine."""
    kind = str(error.get("type", ""))
    if isinstance(error.get("type"), list):
        kind = str(error["type"][0])
    message = " ".join(str(error.get("message", kind)).split())[:300]
    path = error.get("path")
    level = str(error.get("level", "error")).lower()
    if path and ("Syntax" in kind or "Parse" in kind or "Lexical" in kind):
        spans = error.get("spans") or [{}]
        line = int(spans[0].get("start", {}).get("line", 1))
        return diagnostic(PARSE_ERROR, path, f"semgrep could not parse this file: {kind}", line, 1, ENGINE)
    if path and ("Timeout" in kind or "OutOfMemory" in kind or "Memory" in kind):
        return diagnostic(FILE_ANALYSIS_FAILED, path, f"semgrep gave up on this file: {kind}", engine=ENGINE)
    if level == "warn" or level == "info":
        return None
    return EngineFailure(ENGINE, f"{kind}: {message}" if message != kind else kind)
