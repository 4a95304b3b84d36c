"""Errors the user can act on, each with the exit code the CLI returns for it.

Anything raised as a ReviewerError is printed as one line (`review: error: ...`) with no
traceback; `--verbose` adds one.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ENGINE = 3


class ReviewerError(Exception):
    exit_code = EXIT_USAGE


class UsageError(ReviewerError):
    """Bad arguments or bad input (a malformed diff, an unknown revision)."""


class ConfigError(ReviewerError):
    """A configuration file or rule pack that cannot be used as written."""


class EngineError(ReviewerError):
    """An analysis engine is missing or failed as a whole."""

    exit_code = EXIT_ENGINE
