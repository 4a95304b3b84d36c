"""Rule packs: discovery, identity checks, and semgrep languages the runner can route."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.catalog import load_catalog
from reviewer.errors import ConfigError

RULE = """\
rules:
  - id: eval-of-input
    message: eval of request input
    severity: ERROR
    languages: {languages}
    pattern: eval(...)
    metadata:
      code: EVL001
      summary: eval
      what: w
      why: y
      example: eval(x)
      use-instead: JSON.parse(x)
      references: [https://example.com]
"""


def _pack(tmp_path: Path, languages: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "eval-of-input.yaml").write_text(RULE.format(languages=languages))
    return pack


def test_semgrep_language_aliases_are_understood(tmp_path: Path) -> None:
    catalog = load_catalog([_pack(tmp_path, "[ts, js]")])
    assert catalog.rules["EVL001"].languages == ("typescript", "javascript")


@pytest.mark.parametrize("languages", ["[go]", "[generic]", "[]"])
def test_a_language_the_runner_cannot_route_is_a_config_error(tmp_path: Path, languages: str) -> None:
    with pytest.raises(ConfigError, match="eval-of-input.yaml: languages .* are not reviewed"):
        load_catalog([_pack(tmp_path, languages)])


CST_RULE = '''
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity


class DangerCall(CstRule):
    code = "DNG001"
    name = "danger-call"
    severity = Severity.WARNING
    summary = "danger() is called"
    what = "Flags danger()."
    why = "It is dangerous."
    references = ("https://example.com/danger",)
    options = {"strict": False}

    VALID = [
        Valid("danger()\\n", path="tests/test_danger.py"),
        Valid("safe()\\n"),
    ]
    INVALID = [
        Invalid("maybe_danger()\\n", line=1, options={"strict": True}),
        Invalid("danger()\\n", line=1),
    ]

    def visit_Call(self, node):
        pass
'''


def test_docs_show_the_first_examples_that_stand_on_their_own(tmp_path: Path) -> None:
    # An example that is fine only as a test file, or flagged only with an option set, would
    # teach the wrong thing as "Example" or "Use instead".
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "danger_call.py").write_text(CST_RULE)
    meta = load_catalog([pack]).get("DNG001")
    assert (meta.example, meta.use_instead) == ("danger()", "safe()")
