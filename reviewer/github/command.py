"""`review github`: the command line of the pull-request reviewer, and its wiring.

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
from reviewer.config import FAIL_ON_CHOICES, FILTER_MODES, Config
from reviewer.errors import UsageError
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
from reviewer.result import ReviewResult
from reviewer.runner import ReviewTarget, review
from reviewer.sources import CommitSource

EXIT_CODES = """exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on (also when the token is read-only and findings are annotated)
  2  usage or configuration error, bad token (401), repository or pull request not found (404)
  3  an engine failed, or GitHub kept failing (5xx, rate limit past the wait budget)"""


def add_github_parser(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "github",
        help="review a GitHub pull request and post one review, inline comments and a summary",
        description="Review a pull request's changes and post the findings on it.\n\n"
        "In GitHub Actions the pull request, repository and API URL come from the environment;\n"
        "flags override them. Config and custom rule packs are read from the pull request's\n"
        "base commit, never from its head.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repo", metavar="OWNER/NAME", help="the repository (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--pr", type=_positive, metavar="N", help="the pull request number (default: from the event)")
    parser.add_argument("--token-env", default="GITHUB_TOKEN", metavar="NAME",
                        help="environment variable holding the token (default: GITHUB_TOKEN)")
    parser.add_argument("--api-url", metavar="URL",
                        help="REST API root (default: $GITHUB_API_URL or https://api.github.com)")
    parser.add_argument("--fail-on", choices=FAIL_ON_CHOICES, help="lowest severity that exits 1 (default: error)")
    parser.add_argument("--filter-mode", choices=FILTER_MODES, help="which findings of changed files to keep")
    parser.add_argument("--max-comments", type=_non_negative, metavar="N",
                        help="inline comments per review; the rest go to the summary (default: 30)")
    parser.add_argument("--request-changes", action="store_true",
                        help="request changes when findings reach --fail-on (default: comment only)")
    parser.add_argument("--sarif-file", metavar="PATH", help="also write the findings as SARIF to PATH")
    parser.add_argument("--config", metavar="PATH",
                        help="config file path in the repository, read from the base commit (default: .reviewer.yml)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks for errors")
    parser.set_defaults(handler=run_github)


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}")
    return int(text)


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
        _write_file(Path(args.sarif_file), render("sarif", result))
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


def _write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
