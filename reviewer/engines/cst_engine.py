"""The libcst engine: every rule for a file runs in one parse and one batched traversal.

Files are analysed in worker processes, one file at a time per worker, so a file that crashes
or hangs the native parser costs that file only (reported as RVW003) and the worker is replaced.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from reviewer.catalog import load_cst_rule_classes
from reviewer.cst_rule import CstRule, RuleContext
from reviewer.diagnostics import FILE_ANALYSIS_FAILED, PARSE_ERROR, diagnostic
from reviewer.finding import Finding

ENGINE = "libcst"
RepoFileReader = Callable[[str], "str | None"]


def _no_repo_files(_path: str) -> str | None:
    return None


def analyze_source(
    rules: Sequence[type[CstRule]],
    path: str,
    source: str,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    read_repo_file: RepoFileReader = _no_repo_files,
) -> list[Finding]:
    """Run the rules on one file's text; a parse error or a crashing rule becomes a diagnostic."""
    options = options or {}
    active = [rule for rule in rules if rule.should_run(source)]
    if not active:
        return []
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        message = f"libcst could not parse this file: {error.message}"
        return [diagnostic(PARSE_ERROR, path, message, error.editor_line, error.editor_column, ENGINE)]
    except (RecursionError, MemoryError) as error:
        return [diagnostic(FILE_ANALYSIS_FAILED, path, f"libcst gave up on this file: {type(error).__name__}", engine=ENGINE)]
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    findings: list[Finding] = []
    while active:
        instances = [rule(RuleContext(path, source, options.get(rule.code, {}), read_repo_file), wrapper) for rule in active]
        try:
            wrapper.visit_batched(instances)
        except Exception as error:  # a rule bug must not hide the other rules' findings
            culprit = _failing_rule(error, instances)
            findings.append(
                diagnostic(
                    FILE_ANALYSIS_FAILED,
                    path,
                    f"rule {culprit.code if culprit else '?'} crashed on this file: {type(error).__name__}: {error}",
                    engine=ENGINE,
                )
            )
            if culprit is None:
                break
            active = [rule for rule in active if rule is not type(culprit)]
            continue
        for instance in instances:
            findings.extend(instance.findings)
        break
    return findings


def _failing_rule(error: BaseException, instances: list[CstRule]) -> CstRule | None:
    by_id = {id(instance): instance for instance in instances}
    for frame, _line in reversed(list(traceback.walk_tb(error.__traceback__))):
        candidate = frame.f_locals.get("self")
        if id(candidate) in by_id:
            return by_id[id(candidate)]
    return None


@dataclass
class CstJob:
    rule_files: list[Path]
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    read_repo_file: RepoFileReader = _no_repo_files
    timeout_per_file: float = 30.0
    workers: int = 0  # 0: one per CPU


def run_cst_engine(job: CstJob, sources: Mapping[str, str], progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """Analyse every (path, text) in worker processes and return all findings and diagnostics."""
    if not sources or not job.rule_files:
        return []
    pending = deque(sorted(sources.items(), key=lambda item: -len(item[1])))  # big files first
    worker_count = min(job.workers or os.cpu_count() or 1, len(pending))
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    pool = [_Worker(context, job) for _ in range(worker_count)]
    findings: list[Finding] = []
    done = 0
    try:
        while pending or any(worker.task for worker in pool):
            for index, worker in enumerate(pool):
                if worker.task is None and pending:
                    path, source = pending.popleft()
                    try:
                        worker.send((path, source), job.timeout_per_file)
                    except OSError:  # the worker died while idle
                        code = worker.stop()
                        findings.append(_worker_lost(path, f"the libcst worker died before taking this file (exit code {code})"))
                        pool[index] = _Worker(context, job)
                        done += 1
            busy = [worker for worker in pool if worker.task]
            if not busy:
                continue
            next_deadline = min(worker.deadline for worker in busy)
            ready = wait([worker.connection for worker in busy], timeout=max(0.0, next_deadline - time.monotonic()))
            for index, worker in enumerate(pool):
                if worker.task is None:
                    continue
                path = worker.task
                if worker.connection in ready:
                    try:
                        findings.extend(worker.receive())
                    except (EOFError, OSError):
                        code = worker.stop()
                        findings.append(_worker_lost(path, f"the libcst worker died on this file (exit code {code})"))
                        pool[index] = _Worker(context, job)
                elif time.monotonic() >= worker.deadline:
                    worker.stop()
                    findings.append(_worker_lost(path, f"libcst analysis ran past {job.timeout_per_file:g}s on this file"))
                    pool[index] = _Worker(context, job)
                else:
                    continue
                done += 1
                if progress:
                    progress(done, len(sources))
    finally:
        for worker in pool:
            worker.close()
    return findings


def _worker_lost(path: str, message: str) -> Finding:
    return diagnostic(FILE_ANALYSIS_FAILED, path, message, engine=ENGINE)


class _Worker:
    """One worker process fed one file at a time over a pipe."""

    def __init__(self, context: Any, job: CstJob) -> None:
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child_end, job), daemon=True)
        self.process.start()
        child_end.close()
        self.task: str | None = None
        self.deadline = 0.0

    def send(self, item: tuple[str, str], timeout: float) -> None:
        self.task = item[0]
        self.deadline = time.monotonic() + timeout
        self.connection.send(item)

    def receive(self) -> list[Finding]:
        result = self.connection.recv()
        self.task = None
        return result

    def stop(self) -> int | None:
        self.task = None
        self.process.kill()
        self.process.join()
        self.connection.close()
        return self.process.exitcode

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self.connection.send(None)
            except OSError:
                pass
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.connection.close()


def _worker_main(connection: Connection, job: CstJob) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    rules = [rule for path in job.rule_files for rule in load_cst_rule_classes(path)]
    while True:
        try:
            item = connection.recv()
        except EOFError:
            return
        if item is None:
            return
        path, source = item
        connection.send(analyze_source(rules, path, source, job.options, job.read_repo_file))
