"""The text of one inline comment: severity, rule (linked to its docs), message, the fix as a
one-click suggestion when it fits the anchored lines, and the finding's hidden marker.

Messages can quote reviewed code, so they are escaped: no HTML, no links, no @-mentions.
"""

from __future__ import annotations

from reviewer.finding import Finding
from reviewer.github.markers import finding_marker
from reviewer.report import help_uri
from reviewer.report.markdown import escape_markdown, message_markdown
from reviewer.rulemeta import RuleMeta

# GitHub refuses comment bodies over 65,536 characters; a suggestion that large is not offered.
MAX_COMMENT_CHARS = 60_000


def inline_comment(finding: Finding, meta: RuleMeta, suggestion: str | None) -> str:
    title = escape_markdown(f"{finding.code} {meta.name}")
    parts = [f"**{finding.severity.value}** · [{title}]({help_uri(meta)})", "", message_markdown(finding.message)]
    if finding.fix is not None:
        description = message_markdown(finding.fix.description)
        if suggestion is not None and len(suggestion) < MAX_COMMENT_CHARS:
            parts += ["", f"Suggested fix: {description}", "", suggestion]
        else:
            parts += ["", f"A fix is available ({description}); it reaches beyond these lines, so `review diff` shows it."]
    parts += ["", finding_marker(finding.fingerprint)]
    return "\n".join(parts)
