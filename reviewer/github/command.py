"""`review github`: its command-line arguments. The work is in reviewer.github.run, imported
only when the command runs, so `review diff` does not pay for loading PyGithub.
"""

from __future__ import annotations

import argparse
from typing import Any

from reviewer.config import FAIL_ON_CHOICES, FILTER_MODES

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
    parser.set_defaults(handler=_run)


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}")
    return int(text)


def _run(args: argparse.Namespace) -> int:
    from reviewer.github.run import run_github

    return run_github(args)
