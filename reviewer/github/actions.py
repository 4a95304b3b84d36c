"""GitHub Actions' own channels: workflow annotations, the job summary, step outputs.

Annotations are the fallback when the token cannot write (a fork's pull request on
`pull_request`): GitHub shows about 10 per type per step and 50 per job, so the most severe go
first and the full list goes to the job summary ($GITHUB_STEP_SUMMARY), which every run writes.
"""

from __future__ import annotations

import secrets
from typing import Mapping

from reviewer.report.github_annotations import escape_data, render_github
from reviewer.report.markdown import render_markdown
from reviewer.report.text import count_noun
from reviewer.result import ReviewResult

MAX_ANNOTATIONS = 50


def annotations(result: ReviewResult) -> str:
    lines = render_github(result).splitlines()
    shown = lines[:MAX_ANNOTATIONS]
    hidden = len(lines) - len(shown)
    if hidden:
        note = f"{count_noun(hidden, 'more finding')} not annotated; the job summary lists every finding"
        shown.append(f"::notice title=backend-reviewer::{escape_data(note)}")
    return "".join(line + "\n" for line in shown)


def append_step_summary(result: ReviewResult, environ: Mapping[str, str]) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(result, max_findings=len(result.findings)))


def write_outputs(environ: Mapping[str, str], values: Mapping[str, str]) -> None:
    """Step outputs, each in GitHub's multi-line form so no value can inject another."""
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"EOF_{secrets.token_hex(8)}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
