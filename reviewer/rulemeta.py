"""What the tool knows about a rule, whatever engine runs it: identity, severity, docs.

Docs have fixed sections (what it does, why it is bad, example, use instead, references) and are
rendered from this one record by `review explain`, the SARIF reporter and docs/rules/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reviewer.finding import Severity

CODE_PATTERN = re.compile(r"^(?:[A-Z]{2,4}\d{3}|B\d{3})$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
CONFIDENCES = ("high", "medium", "low")
DOCS_BASE_URL = "https://github.com/backend-reviewer/backend-reviewer/blob/v{version}/docs/rules/{code}.md"


@dataclass(frozen=True)
class RuleMeta:
    code: str
    name: str
    severity: Severity
    engine: str
    summary: str
    what: str = ""
    why: str = ""
    example: str = ""
    use_instead: str = ""
    references: tuple[str, ...] = ()
    cwe: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    confidence: str = "high"
    languages: tuple[str, ...] = ("python",)
    fixable: bool = False
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    source: str = ""
    help_uri: str = ""

    @property
    def is_security(self) -> bool:
        return "security" in self.tags or bool(self.cwe)

    @property
    def all_tags(self) -> tuple[str, ...]:
        """Tags as code scanning reads them: `security` plus `external/cwe/cwe-NNN`."""
        tags = list(self.tags)
        if self.is_security and "security" not in tags:
            tags.append("security")
        tags.extend(f"external/cwe/cwe-{n}" for n in self.cwe)
        return tuple(dict.fromkeys(tags))


def docs_url(code: str) -> str:
    from reviewer import __version__

    return DOCS_BASE_URL.format(version=__version__, code=code)


def validate_identity(code: str, name: str, where: str) -> list[str]:
    """Problems with a rule's code or name, phrased for the rule author."""
    problems = []
    if not CODE_PATTERN.match(code or ""):
        problems.append(f"{where}: rule code {code!r} must look like ABC123 (2-4 capitals, 3 digits)")
    if not NAME_PATTERN.match(name or ""):
        problems.append(f"{where}: rule name {name!r} must be kebab-case")
    return problems
