"""Bandit's tests as catalog entries, so `B608` works wherever one of our codes does."""

from __future__ import annotations

import re
import warnings
from functools import cache

from reviewer.finding import Severity
from reviewer.rulemeta import RuleMeta

BANDIT_DOCS = "https://bandit.readthedocs.io/en/latest"
_TITLE = re.compile(r"^\*\*B\d{3}:\s*(?P<title>.+?)\*\*$")


@cache
def bandit_rules() -> dict[str, RuleMeta]:
    try:
        with warnings.catch_warnings():  # stevedore's deprecation noise is not the user's concern
            warnings.simplefilter("ignore", DeprecationWarning)
            from bandit.core import extension_loader
    except ImportError:  # the engine reports bandit missing when it runs; the catalog just lacks it
        return {}
    manager = extension_loader.MANAGER
    rules = {}
    for plugin in manager.plugins:
        code = plugin.plugin._test_id
        first_line = (plugin.plugin.__doc__ or "").strip().splitlines()[0:1]
        match = _TITLE.match(first_line[0].strip()) if first_line else None
        summary = match["title"] if match else plugin.name.replace("_", " ")
        url = f"{BANDIT_DOCS}/plugins/{code.lower()}_{plugin.name}.html"
        rules[code] = _meta(code, plugin.name, summary, url, cwe=())
    for code, entry in manager.blacklist_by_id.items():
        kind = "imports" if code.startswith("B4") else "calls"
        url = f"{BANDIT_DOCS}/blacklists/blacklist_{kind}.html#{code.lower()}-{entry['name'].replace('_', '-')}"
        summary = entry["message"].split(".")[0].replace("{name}", entry["name"])
        rules[code] = _meta(code, entry["name"], summary, url, cwe=(entry["cwe"],) if entry.get("cwe") else ())
    return rules


def _meta(code: str, plugin_name: str, summary: str, url: str, cwe: tuple[int, ...]) -> RuleMeta:
    return RuleMeta(
        code=code,
        name=plugin_name.replace("_", "-").lower(),
        severity=Severity.WARNING,
        engine="bandit",
        summary=summary,
        what=f"Bandit's `{plugin_name}` check ({code}); see its documentation for details.",
        references=(url,),
        help_uri=url,
        cwe=cwe,
        tags=("security",),
        confidence="medium",
        source="bandit",
    )
