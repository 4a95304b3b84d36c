"""The outcome of one review: what reporters render and what decides the exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.catalog import Catalog
from reviewer.changeset import ChangeSet
from reviewer.errors import EXIT_ENGINE, EXIT_FINDINGS, EXIT_OK
from reviewer.finding import Finding, Severity
from reviewer.rulemeta import RuleMeta


@dataclass(frozen=True)
class EngineFailure:
    """An engine that failed as a whole (missing, crashed, timed out): its findings are unknown."""

    engine: str
    message: str


@dataclass
class ReviewResult:
    findings: list[Finding]
    catalog: Catalog
    engine_failures: list[EngineFailure] = field(default_factory=list)
    # Repo-relative path -> the text that was reviewed; reporters quote from it.
    sources: dict[str, str] = field(default_factory=dict)
    changeset: ChangeSet | None = None
    # The repository root the paths are relative to (SARIF's %SRCROOT%).
    root: Path | None = None
    files_reviewed: int = 0
    # None means never fail on findings (`--fail-on never`).
    fail_on: Severity | None = Severity.ERROR
    engine_seconds: dict[str, float] = field(default_factory=dict)

    def counts_by_severity(self) -> dict[Severity, int]:
        counts = Counter(finding.severity for finding in self.findings)
        return {severity: counts.get(severity, 0) for severity in Severity}

    def failing_findings(self) -> list[Finding]:
        if self.fail_on is None:
            return []
        return [f for f in self.findings if f.severity.rank >= self.fail_on.rank]

    def exit_code(self) -> int:
        if self.engine_failures:
            return EXIT_ENGINE
        return EXIT_FINDINGS if self.failing_findings() else EXIT_OK

    def rule(self, code: str) -> RuleMeta | None:
        return self.catalog.get(code)
