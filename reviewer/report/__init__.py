"""Reporters: turn one ReviewResult into text for a person, a program, or a place on GitHub.

Reporters know nothing of engines or diffs; they read the result's findings (already filtered,
sorted and fingerprinted), its sources and its catalog. Each format lives in its own module and
is imported only when asked for, so the CLI loads just the reporter it prints with.
"""

from __future__ import annotations

import importlib

from reviewer.errors import UsageError
from reviewer.finding import Finding
from reviewer.result import ReviewResult
from reviewer.rulemeta import RuleMeta, docs_url

FORMATS = ("text", "json", "sarif", "github", "markdown")

_RENDERERS = {
    "text": ("reviewer.report.text", "render_text"),
    "json": ("reviewer.report.json_format", "render_json"),
    "sarif": ("reviewer.report.sarif", "render_sarif"),
    "github": ("reviewer.report.github_annotations", "render_github"),
    "markdown": ("reviewer.report.markdown", "render_markdown"),
}


def render(fmt: str, result: ReviewResult, *, color: bool = False) -> str:
    """The result in format `fmt`; only the text format uses colour."""
    if fmt not in _RENDERERS:
        raise UsageError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    module_name, function_name = _RENDERERS[fmt]
    renderer = getattr(importlib.import_module(module_name), function_name)
    if fmt == "text":
        return renderer(result, color=color)
    return renderer(result)


def rule_for(result: ReviewResult, finding: Finding) -> RuleMeta:
    """The catalog entry for a finding's code, or one made from the finding itself.

    Every code an engine emits should be in the catalog; the stand-in keeps a report whole
    when one is not (a rule pack removed between runs, a new bandit test).
    """
    meta = result.rule(finding.code)
    if meta is not None:
        return meta
    return RuleMeta(
        code=finding.code,
        name=finding.name,
        severity=finding.severity,
        engine=finding.engine,
        summary=finding.name.replace("-", " ").capitalize(),
        cwe=finding.cwe,
        tags=finding.tags,
    )


def help_uri(meta: RuleMeta) -> str:
    """Where a rule's docs live: its own page for bandit's tests, ours for everything else."""
    return meta.help_uri or docs_url(meta.code)
