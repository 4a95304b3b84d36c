"""From every engine's raw findings to the ones worth showing, in a fixed order of steps:

select/ignore → per-path ignores → diff filter → suppression comments → severity overrides →
cross-engine dedupe (our rule beats bandit on the same lines and CWE) → exact dedupe.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from wcmatch import glob as wcglob

from reviewer.changeset import ChangeSet
from reviewer.config import Config
from reviewer.diagnostics import PARSE_ERROR
from reviewer.finding import Finding
from reviewer.suppressions import Suppressions

GLOB_FLAGS = wcglob.GLOBSTAR | wcglob.DOTGLOB


def path_matches(path: str, patterns: Iterable[str]) -> bool:
    """Repo-relative glob match. `**` spans folders; a pattern without `/` matches in any folder;
    a pattern that names a folder (`vendor`, `vendor/`, `./vendor`) matches everything under it."""
    expanded = []
    for pattern in patterns:
        pattern = pattern.removeprefix("./").rstrip("/")
        if "/" not in pattern:
            pattern = f"**/{pattern}"
        expanded += [pattern, f"{pattern}/**"]
    return bool(expanded) and wcglob.globmatch(path, expanded, flags=GLOB_FLAGS)


def code_selected(code: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    select = tuple(select)
    if select and not code.startswith(select):
        return False
    return not code.startswith(tuple(ignore))


def is_diagnostic(finding: Finding) -> bool:
    """The tool's own RVW diagnostics: about the review itself, so no diff filter applies."""
    return finding.code.startswith("RVW")


def keep_for_diff(finding: Finding, changeset: ChangeSet | None, mode: str) -> bool:
    if changeset is None or mode == "nofilter" or is_diagnostic(finding):
        return True
    change = changeset.file(finding.path)
    if change is None:
        return False
    if mode == "file":
        return True
    wanted = change.added_lines if mode == "added" else change.context_lines
    return any(line in wanted for line in finding.lines)


def apply_filters(
    findings: Iterable[Finding],
    config: Config,
    changeset: ChangeSet | None,
    sources: dict[str, str],
    filter_mode: str,
) -> list[Finding]:
    suppressions: dict[str, Suppressions] = {}

    def suppressions_of(path: str) -> Suppressions:
        if path not in suppressions:
            suppressions[path] = Suppressions(path, sources.get(path, ""))
        return suppressions[path]

    kept = []
    for finding in findings:
        if not code_selected(finding.code, config.select, config.ignore):
            continue
        if any(
            finding.code.startswith(tuple(codes)) and path_matches(finding.path, [glob])
            for glob, codes in config.per_path_ignores.items()
        ):
            continue
        if not keep_for_diff(finding, changeset, filter_mode):
            continue
        if finding.code in suppressions_of(finding.path).codes_for(finding):
            continue
        override = config.severity.get(finding.code)
        if override is not None and override is not finding.severity:
            finding = replace(finding, severity=override)
        kept.append(finding)
    return _dedupe(_drop_bandit_duplicates(kept))


def _drop_bandit_duplicates(findings: list[Finding]) -> list[Finding]:
    """Where our rule reports the same lines for the same CWE, bandit's finding adds nothing."""
    covered: set[tuple[str, int, int]] = {
        (f.path, line, cwe) for f in findings if f.engine != "bandit" for line in f.lines for cwe in f.cwe
    }

    def redundant(finding: Finding) -> bool:
        return any((finding.path, line, cwe) in covered for line in finding.lines for cwe in finding.cwe)

    return [f for f in findings if f.engine != "bandit" or not redundant(f)]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop exact repeats, and keep one "does not parse" per file (the first one in sort order)."""
    seen = set()
    unique = []
    for finding in findings:
        if finding.code == PARSE_ERROR:
            key: tuple = (finding.code, finding.path)
        else:
            key = (finding.code, finding.path, finding.start, finding.end, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
