"""ChangeSet (or a list of files) → sources → engines in parallel → filters → a ReviewResult.

semgrep and bandit start first as background processes (semgrep's start-up dominates small
reviews), the libcst workers run meanwhile, then the two are awaited. Each engine sees only the
files of its languages and only the rules that config selects.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Sequence

from reviewer.catalog import Catalog
from reviewer.changeset import ChangeSet
from reviewer.config import Config
from reviewer.engines import bandit_engine, semgrep_engine
from reviewer.engines.cst_engine import CstJob, run_cst_engine
from reviewer.engines.subprocess_engine import BackgroundTool
from reviewer.filters import apply_filters, code_selected, path_matches
from reviewer.finding import Finding, Position, Severity, with_fingerprints
from reviewer.languages import suffixes_for
from reviewer.progress import Progress
from reviewer.result import EngineFailure, ReviewResult
from reviewer.sources import CommitSource, SourceFile, WorktreeSource
from reviewer.textutil import has_lone_carriage_return, universal_to_git_lines


@dataclass
class ReviewTarget:
    """What to review: files of `root` as `source` reads them, optionally limited by a change."""

    root: Path
    paths: list[str]
    source: WorktreeSource | CommitSource
    changeset: ChangeSet | None = None


def review(
    target: ReviewTarget,
    config: Config,
    catalog: Catalog,
    *,
    filter_mode: str | None = None,
    fail_on: Severity | None | str = "config",
    progress: Progress | None = None,
) -> ReviewResult:
    progress = progress or Progress(enabled=False)
    semgrep_rules = [r for r in catalog.semgrep_rules if code_selected(r.code, config.select, config.ignore)]
    semgrep_suffixes = suffixes_for({lang for r in semgrep_rules for lang in catalog.rules[r.code].languages})
    wanted = [
        path
        for path in target.paths
        if not path_matches(path, config.exclude) and path.endswith((".py", *semgrep_suffixes))
    ]
    progress.status(f"reading {len(wanted)} files")
    outcome = target.source.read(wanted)
    files = outcome.files
    findings, failures, seconds = _run_engines(target, files, config, catalog, semgrep_rules, semgrep_suffixes, progress)
    progress.clear()
    sources = {path: source.text for path, source in files.items()}
    findings = with_fingerprints([*_on_git_lines(findings, sources), *outcome.skipped], sources)
    mode = filter_mode or config.filter_mode
    kept = apply_filters(findings, config, target.changeset, sources, mode)
    kept.sort(key=Finding.sort_key)
    return ReviewResult(
        findings=kept,
        catalog=catalog,
        engine_failures=failures,
        sources=sources,
        changeset=target.changeset,
        root=target.root,
        files_reviewed=len(files),
        fail_on=config.fail_on_severity if fail_on == "config" else fail_on,
        engine_seconds=seconds,
    )


def _on_git_lines(findings: list[Finding], sources: dict[str, str]) -> list[Finding]:
    """libcst and bandit break lines at a lone CR too; put their findings on git's lines."""
    converters = {path: universal_to_git_lines(text) for path, text in sources.items() if has_lone_carriage_return(text)}
    if not converters:
        return findings
    return [
        _moved(finding, converters[finding.path])
        if finding.path in converters and finding.engine in ("libcst", "bandit")
        else finding
        for finding in findings
    ]


def _moved(finding: Finding, convert) -> Finding:
    def position(point: Position) -> Position:
        return Position(*convert(point.line, point.column))

    fix = finding.fix
    if fix is not None:
        fix = replace(fix, edits=tuple(replace(e, start=position(e.start), end=position(e.end)) for e in fix.edits))
    return replace(finding, start=position(finding.start), end=position(finding.end), fix=fix)


def _run_engines(
    target: ReviewTarget,
    files: dict[str, SourceFile],
    config: Config,
    catalog: Catalog,
    semgrep_rules: list,
    semgrep_suffixes: tuple[str, ...],
    progress: Progress,
) -> tuple[list[Finding], list[EngineFailure], dict[str, float]]:
    python_files = sorted(path for path in files if path.endswith(".py"))
    semgrep_files = sorted(path for path in files if path.endswith(semgrep_suffixes)) if semgrep_rules else []
    sources = {path: source.text for path, source in files.items()}
    engines = config.engines
    findings: list[Finding] = []
    failures: list[EngineFailure] = []
    seconds: dict[str, float] = {}
    background: list[BackgroundTool] = []

    with tempfile.TemporaryDirectory(prefix="review-") as workdir_name:
        mirror, empty = Path(workdir_name, "tree"), Path(workdir_name, "cwd")
        mirror.mkdir()
        empty.mkdir()
        _write_mirror(mirror, [files[p] for p in sorted(set(python_files) | set(semgrep_files))])
        try:
            if semgrep_files and engines["semgrep"].enabled:
                selected = _only_rules(catalog, semgrep_rules)
                tool = semgrep_engine.semgrep_tool(
                    selected, mirror, engines["semgrep"].timeout, engines["semgrep"].timeout_per_file
                )
                _start(tool, background, failures)
            if python_files and engines["bandit"].enabled and _bandit_selected(config):
                tool = bandit_engine.bandit_tool(mirror, empty, engines["bandit"].timeout, engines["bandit"].skip)
                _start(tool, background, failures)

            cst_files = _selected_cst_rule_files(catalog, config)
            if python_files and cst_files and engines["libcst"].enabled:
                started = time.monotonic()
                python_sources = {path: sources[path] for path in python_files}
                findings.extend(_run_libcst(target, config, cst_files, python_sources, background, progress))
                seconds["libcst"] = time.monotonic() - started

            for tool in background:
                progress.status(f"waiting for {tool.engine}")
                new, new_failures = _collect(tool, catalog, sources, mirror)
                seconds[tool.engine] = tool.seconds()
                findings.extend(new)
                failures.extend(new_failures)
        finally:  # an exception must not leave an engine running
            for tool in background:
                tool.stop()
    return findings, failures, seconds


def _run_libcst(
    target: ReviewTarget,
    config: Config,
    rule_files: list[Path],
    python_sources: dict[str, str],
    background: list[BackgroundTool],
    progress: Progress,
) -> list[Finding]:
    settings = config.engines["libcst"]
    job = CstJob(
        rule_files=rule_files,
        options=config.rule_options,
        read_repo_file=target.source.read_text,
        timeout_per_file=settings.timeout_per_file,
        workers=settings.workers,
    )

    def file_done(done: int, total: int) -> None:
        progress.status(f"libcst {done}/{total} files")
        for tool in background:  # notes when they finish, for their timings
            tool.poll()

    return run_cst_engine(job, python_sources, file_done)


def _collect(
    tool: BackgroundTool, catalog: Catalog, sources: dict[str, str], mirror: Path
) -> tuple[list[Finding], list[EngineFailure]]:
    outcome = tool.wait()
    if isinstance(outcome, EngineFailure):
        return [], [outcome]
    if tool.engine == "semgrep":
        return semgrep_engine.parse_semgrep_output(*outcome, catalog, sources)
    return bandit_engine.parse_bandit_output(*outcome, sources, mirror)


def _start(tool: BackgroundTool | EngineFailure, background: list[BackgroundTool], failures: list[EngineFailure]) -> None:
    if isinstance(tool, EngineFailure):
        failures.append(tool)
        return
    failure = tool.start()
    if failure is not None:
        failures.append(failure)
    else:
        background.append(tool)


def _bandit_selected(config: Config) -> bool:
    """Bandit runs unless `select` names only other codes, or `ignore` names all of bandit."""
    if "B" in config.ignore:
        return False
    return not config.select or any(code.startswith("B") for code in config.select)


def _selected_cst_rule_files(catalog: Catalog, config: Config) -> list[Path]:
    selected_sources = {
        meta.source
        for meta in catalog.rules.values()
        if meta.engine == "libcst" and code_selected(meta.code, config.select, config.ignore)
    }
    return [path for path in catalog.cst_rule_files if str(path) in selected_sources]


def _only_rules(catalog: Catalog, semgrep_rules: Sequence) -> Catalog:
    return Catalog(rules=catalog.rules, cst_rule_files=catalog.cst_rule_files, semgrep_rules=list(semgrep_rules))


def _write_mirror(mirror: Path, files: list[SourceFile]) -> None:
    """Engines that read files themselves get exactly the reviewed bytes, in a folder of our own."""
    for source in files:
        relative = PurePosixPath(source.path)
        if relative.is_absolute() or ".." in relative.parts:
            continue
        target = mirror.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.data)
