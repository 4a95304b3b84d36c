"""The languages the engines review, and which files are which.

semgrep rules name their languages, with aliases (`py`, `js`, `ts`); a language outside this
table would silently never run, so loading such a rule is a config error instead.
"""

from __future__ import annotations

LANGUAGE_EXTENSIONS = {
    "python": (".py",),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
}
ALIASES = {"py": "python", "python3": "python", "js": "javascript", "ts": "typescript"}


def canonical_language(name: str) -> str | None:
    """The table's name for a semgrep language name or alias; None when it is not reviewed."""
    lowered = name.lower()
    lowered = ALIASES.get(lowered, lowered)
    return lowered if lowered in LANGUAGE_EXTENSIONS else None


def suffixes_for(languages: set[str]) -> tuple[str, ...]:
    return tuple(suffix for language in sorted(languages) for suffix in LANGUAGE_EXTENSIONS.get(language, ()))
