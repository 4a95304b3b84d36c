"""The tool's own diagnostics: things about the review itself, reported like findings.

They are not engine failures (exit 3): one file that cannot be parsed or was skipped leaves the
rest of the review valid, but the user must see it, never a silent "no findings".
"""

from __future__ import annotations

from reviewer.finding import Finding, Position, Severity
from reviewer.rulemeta import RuleMeta

PARSE_ERROR = "RVW001"
FILE_SKIPPED = "RVW002"
FILE_ANALYSIS_FAILED = "RVW003"

DIAGNOSTIC_RULES = (
    RuleMeta(
        code=PARSE_ERROR,
        name="file-does-not-parse",
        severity=Severity.WARNING,
        engine="reviewer",
        summary="A changed file could not be parsed, so no rule checked it",
        what="Reports a file whose syntax an engine could not parse, with the line it stopped at.",
        why="Rules only see code that parses; a file that does not parse was not reviewed at all, "
        "so silence about it would read as a clean bill of health.",
        example="def handler(:\n    ...",
        use_instead="def handler(request):\n    ...",
        references=("https://docs.python.org/3/reference/grammar.html",),
    ),
    RuleMeta(
        code=FILE_SKIPPED,
        name="file-not-reviewed",
        severity=Severity.NOTE,
        engine="reviewer",
        summary="A changed file was skipped: too large, not text, not UTF-8, or outside the repository",
        what="Reports a changed file the review did not read, and why.",
        why="Files above the size cap, binary or undecodable files, and paths that resolve outside "
        "the repository are not read. Knowing which files were skipped keeps the review honest.",
        example="# a 3 MB generated module, above the default 1 MiB cap",
        use_instead="# raise `max-file-bytes` in .reviewer.yml, or exclude generated files",
        references=(),
    ),
    RuleMeta(
        code=FILE_ANALYSIS_FAILED,
        name="file-analysis-failed",
        severity=Severity.WARNING,
        engine="reviewer",
        summary="An engine crashed or timed out on one file; that file was not fully reviewed",
        what="Reports a file on which a parser or rule crashed or ran past its per-file time limit.",
        why="A pathological file must not take the whole review down, but the file itself was not "
        "(fully) checked, and the user needs to know.",
        example="# a 50,000-line generated expression that hangs the parser",
        use_instead="# exclude generated files, or raise the per-file timeout",
        references=(),
    ),
)


def diagnostic(code: str, path: str, message: str, line: int = 1, column: int = 1, engine: str = "reviewer") -> Finding:
    meta = next(rule for rule in DIAGNOSTIC_RULES if rule.code == code)
    return Finding(
        code=code,
        name=meta.name,
        severity=meta.severity,
        message=message,
        path=path,
        start=Position(line, column),
        end=Position(line, column),
        engine=engine,
    )
