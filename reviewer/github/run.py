"""`review github`: the wiring of the pull-request reviewer.

config (base revision) → PR diff → review of the head's files → one review, the summary
comment, resolved threads — or, with a read-only token, annotations and the job summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from github import Github
from github.PullRequest import PullRequest

from reviewer import git
from reviewer.config import Config
from reviewer.github.actions import annotations, append_step_summary, write_outputs
from reviewer.github.checkout import fetch_pull_commits
from reviewer.github.client import api_errors, make_client
from reviewer.github.context import PullRequestRef, pull_request_ref
from reviewer.github.identity import own_author_check
from reviewer.github.plan import plan_review
from reviewer.github.poster import PullTarget, WriteForbidden, publish
from reviewer.github.pr_diff import pull_diff
from reviewer.github.state import read_prior_state
from reviewer.github.trusted import base_settings
from reviewer.progress import Progress
from reviewer.report import render
from reviewer.report.output_file import write_report
from reviewer.result import ReviewResult
from reviewer.runner import ReviewTarget, review
from reviewer.sources import CommitSource


def run_github(args: argparse.Namespace) -> int:
    environ = os.environ
    ref = pull_request_ref(args.repo, args.pr, args.token_env, args.api_url, environ)
    root = git.repo_root(Path.cwd())
    github = make_client(ref.token, ref.api_url)
    with _api_errors(ref, f"reading pull request {ref.repo}#{ref.number}"):
        pull = github.get_repo(ref.repo).get_pull(ref.number)
        head, base = pull.head.sha, pull.base.sha
        listed, changed_files = list(pull.get_files()), pull.changed_files
    local = fetch_pull_commits(root, base, head, ref.number)
    diff = pull_diff(root, local, base, head, listed, changed_files)
    with base_settings(root, base if local.base else None, args.config, _overrides(args)) as (config, catalog):
        source = CommitSource(root, head, config.max_file_bytes)
        paths = [change.path for change in diff.changeset.files if change.reviewable]
        target = ReviewTarget(root, paths, source, diff.changeset)
        result = review(target, config, catalog, progress=Progress())
    sys.stdout.write(render("text", result))
    if args.sarif_file:
        write_report(Path(args.sarif_file), render("sarif", result))
    append_step_summary(result, environ)
    write_outputs(environ, {"findings": str(len(result.findings)), "sarif-file": args.sarif_file or ""})
    with _api_errors(ref, f"posting to pull request {ref.repo}#{ref.number}"):
        _post(github, pull, ref, head, result, diff.shown, config)
    return result.exit_code()


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.fail_on:
        overrides["fail_on"] = args.fail_on
    if args.filter_mode:
        overrides["filter_mode"] = args.filter_mode
    if args.max_comments is not None:
        overrides["github_max_comments"] = args.max_comments
    if args.request_changes:
        overrides["github_request_changes"] = True
    return overrides


def _post(github: Github, pull: PullRequest, ref: PullRequestRef, head: str, result: ReviewResult,
          shown: dict[str, tuple[range, ...]], config: Config) -> None:
    is_own = own_author_check(github.requester)
    prior = read_prior_state(pull, is_own)
    plan = plan_review(result.findings, shown, prior, config.github_max_comments)
    if result.engine_failures:
        plan.gone = []  # an engine that failed found nothing: that does not make its findings fixed
    event = "REQUEST_CHANGES" if config.github_request_changes and result.failing_findings() else "COMMENT"
    target = PullTarget(pull, ref.owner, ref.name, head, is_own)
    try:
        published = publish(target, result, plan, prior, event)
    except WriteForbidden:
        print(
            "review: the token cannot write to this pull request (a fork's read-only token?); "
            "reporting with workflow annotations and the job summary instead",
            file=sys.stderr,
        )
        sys.stdout.write(annotations(result))
        return
    print(f"review: {published.describe()}", file=sys.stderr)


def _api_errors(ref: PullRequestRef, doing: str) -> Any:
    return api_errors(doing, ref.token_env, (ref.token,))
