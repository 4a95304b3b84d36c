"""Command line: argument parsing and wiring only; the work happens in runner and reporters."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Sequence

from reviewer import __version__, git
from reviewer.catalog import Catalog, load_catalog
from reviewer.config import FAIL_ON_CHOICES, FILTER_MODES, Config, check_codes, load_config
from reviewer.errors import EXIT_ENGINE, EXIT_OK, EXIT_USAGE, ReviewerError, UsageError
from reviewer.discovery import files_under
from reviewer.docs_gen import rule_page
from reviewer.github.command import add_github_parser
from reviewer.patch_check import check_patch_matches
from reviewer.progress import Progress
from reviewer.report import FORMATS, render
from reviewer.report.text import count_noun
from reviewer.report.output_file import write_report
from reviewer.runner import ReviewTarget, review
from reviewer.sources import CommitSource, WorktreeSource

EXIT_CODES_HELP = """exit codes:
  0  nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or configuration error
  3  an engine failed (wins over 1)"""


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # a file name that is not UTF-8 prints as \xNN, not a crash
            stream.reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ReviewerError as error:
        _error(str(error), args)
        return error.exit_code
    except KeyboardInterrupt:
        print("review: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `review rules | head`: the reader has what it wanted
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # a bug of ours: one line, the traceback only on request
        _error(f"internal error: {type(error).__name__}: {error} (run with --verbose for details)", args)
        return EXIT_ENGINE


def _error(message: str, args: argparse.Namespace) -> None:
    if getattr(args, "verbose", False):
        traceback.print_exc()
    print(f"review: error: {message}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with one line, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"review: error: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="review",
        description="Review backend code changes against your team's guidelines.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"backend-reviewer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    diff = commands.add_parser(
        "diff",
        help="review what a change touches (default: working tree vs the merge-base with the default branch)",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("range", nargs="?", help="A..B, A...B (pull-request semantics) or a single revision")
    diff.add_argument("--patch", metavar="FILE", help="read a unified diff from FILE ('-' for stdin) instead of git")
    diff.add_argument(
        "--filter-mode", choices=FILTER_MODES, help="which findings of changed files to keep (default: added)"
    )
    _review_options(diff)
    diff.set_defaults(handler=_run_diff)

    check = commands.add_parser(
        "check", help="review whole files or folders, no diff filter", epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("paths", nargs="+", metavar="PATH")
    _review_options(check)
    check.set_defaults(handler=_run_check)

    rules = commands.add_parser("rules", help="list the rules: code, name, severity, engine, summary")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.add_argument("--config", type=Path, help="config file (default: .reviewer.yml at the repository root)")
    rules.set_defaults(handler=_run_rules, verbose=False)

    explain = commands.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code")
    explain.add_argument("--config", type=Path, help="config file (default: .reviewer.yml at the repository root)")
    explain.set_defaults(handler=_run_explain, verbose=False)

    add_github_parser(commands)
    return parser


def _review_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--fail-on", choices=FAIL_ON_CHOICES, help="lowest severity that exits 1 (default: error)")
    parser.add_argument("--config", type=Path, help="config file (default: .reviewer.yml at the repository root)")
    parser.add_argument("--select", metavar="CODES", help="comma-separated codes or prefixes to run")
    parser.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes to skip")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks for errors")


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip()) if text else ()


def _settings(args: argparse.Namespace, root: Path) -> tuple[Config, Catalog]:
    config = load_config(root, args.config)
    overrides = {}
    if getattr(args, "fail_on", None):
        overrides["fail_on"] = args.fail_on
    if getattr(args, "filter_mode", None):
        overrides["filter_mode"] = args.filter_mode
    if getattr(args, "select", None):
        overrides["select"] = _codes(args.select)
    if getattr(args, "ignore", None):
        overrides["ignore"] = config.ignore + _codes(args.ignore)
    config = dataclasses.replace(config, **overrides)
    catalog = load_catalog(list(config.rule_packs))
    check_codes(config, catalog)
    return config, catalog


def _repo_root_or_cwd() -> Path:
    try:
        return git.repo_root(Path.cwd())
    except UsageError:
        return Path.cwd()


def _run_diff(args: argparse.Namespace) -> int:
    if args.patch is not None and args.range:
        raise UsageError("give either a range or --patch, not both")
    if args.patch is not None:
        root = _repo_root_or_cwd()
        changeset = git.changeset_from_patch(_read_patch(args.patch), description=f"patch {args.patch}")
    else:
        root = git.repo_root(Path.cwd())
        changeset = None
    config, catalog = _settings(args, root)
    if changeset is None:
        changeset = git.changeset_for_range(root, args.range)
    paths = [change.path for change in changeset.files if change.reviewable]
    if changeset.head:
        source: WorktreeSource | CommitSource = CommitSource(root, changeset.head, config.max_file_bytes)
    else:
        source = WorktreeSource(root, config.max_file_bytes)
    if args.patch is not None:  # a patch has no head commit: its files are the working tree's
        check_patch_matches(changeset, source)
    target = ReviewTarget(root=root, paths=paths, source=source, changeset=changeset)
    return _review_and_report(args, target, config, catalog)


def _read_patch(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"patch file not found: {name}") from None
    except OSError as error:
        raise UsageError(f"cannot read patch {name}: {error.strerror}") from None
    return data.decode("utf-8", "surrogateescape")


def _check_root(paths: list[Path]) -> Path:
    """The repository holding the first path named, so `review check ../other-repo` reviews that repository.

    Outside git: the current directory when it holds that path, else the path's own folder.
    """
    named = Path.cwd() / paths[0]
    anchor = named.resolve()
    if not anchor.exists():
        raise UsageError(f"no such file or folder: {paths[0]}")
    try:  # where the path is named, not where a symlink leads (that is checked, and refused, later)
        return git.repo_root(named if named.is_dir() and not named.is_symlink() else named.parent)
    except UsageError:
        cwd = Path.cwd().resolve()
        if anchor.is_relative_to(cwd):
            return cwd
        return anchor if anchor.is_dir() else anchor.parent


def _run_check(args: argparse.Namespace) -> int:
    root = _check_root([Path(p) for p in args.paths])
    config, catalog = _settings(args, root)
    paths = files_under(root, [Path(p) for p in args.paths])
    target = ReviewTarget(root=root, paths=paths, source=WorktreeSource(root, config.max_file_bytes))
    return _review_and_report(args, target, config, catalog)


def _review_and_report(args: argparse.Namespace, target: ReviewTarget, config: Config, catalog: Catalog) -> int:
    progress = Progress()
    result = review(target, config, catalog, progress=progress)
    color = args.color == "always" or (
        args.color == "auto" and args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    if args.verbose:
        timings = ", ".join(f"{engine} {seconds:.1f}s" for engine, seconds in sorted(result.engine_seconds.items()))
        print(f"review: {count_noun(result.files_reviewed, 'file')}; {timings or 'no engine ran'}", file=sys.stderr)
    report = render(args.format, result, color=color)
    if args.output:
        write_report(Path(args.output), report)
    else:
        try:
            sys.stdout.write(report if report.endswith("\n") or not report else report + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the reader left early; the exit code still tells the result
            _silence_stdout()
    return result.exit_code()


def _silence_stdout() -> None:
    """After a broken pipe, send what is still buffered to /dev/null so exiting does not fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _run_rules(args: argparse.Namespace) -> int:
    _config, catalog = _settings(args, _repo_root_or_cwd())
    ours = [meta for meta in catalog.all_rules(include_bandit=False) if not meta.code.startswith("RVW")]
    tool = [meta for meta in catalog.all_rules(include_bandit=False) if meta.code.startswith("RVW")]
    bandit = [meta for meta in catalog.all_rules() if meta.engine == "bandit"]
    metas = ours + tool + bandit
    if args.format == "json":
        rows = [
            {"code": m.code, "name": m.name, "severity": m.severity.value, "engine": m.engine, "summary": m.summary}
            for m in metas
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for meta in metas:
        print(f"{meta.code:<7} {meta.name:<40} {meta.severity.value:<8} {meta.engine:<8} {meta.summary}")
    return EXIT_OK


def _run_explain(args: argparse.Namespace) -> int:
    _config, catalog = _settings(args, _repo_root_or_cwd())
    meta = catalog.get(args.code.upper())
    if meta is None:
        raise UsageError(f"unknown rule code '{args.code}' (see `review rules`)")
    print(rule_page(meta), end="")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
