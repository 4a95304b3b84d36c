"""Every VALID and INVALID example of every built-in libcst rule runs as a test.

INVALID examples must be flagged by their rule on exactly the named line (and, where they name
one, produce exactly the fixed source, which the rule then accepts); VALID examples must not be
flagged by their rule at all.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reviewer.catalog import load_catalog, load_cst_rule_classes
from reviewer.cst_rule import CstRule, Invalid, Valid, apply_fix
from reviewer.engines.cst_engine import analyze_source

RULES: list[type[CstRule]] = [
    rule for path in load_catalog().cst_rule_files for rule in load_cst_rule_classes(path)
]


def _cases(kind: str) -> list:
    cases = []
    for rule in RULES:
        for index, example in enumerate(getattr(rule, kind)):
            cases.append(pytest.param(rule, example, id=f"{rule.code}-{kind.lower()}-{index}"))
    return cases


def _run(rule: type[CstRule], example: Valid | Invalid, source: str, tmp_path: Path):
    for relative, text in example.files.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")

    def read_repo_file(relative: str) -> str | None:
        target = tmp_path / relative
        return target.read_text(encoding="utf-8") if target.is_file() else None

    findings = analyze_source([rule], example.path, source, {rule.code: dict(example.options)}, read_repo_file)
    diagnostics = [f for f in findings if f.code.startswith("RVW")]
    assert not diagnostics, f"the example itself does not analyse cleanly: {diagnostics}"
    return [f for f in findings if f.code == rule.code]


@pytest.mark.parametrize(("rule", "example"), _cases("VALID"))
def test_valid_example_is_not_flagged(rule: type[CstRule], example: Valid, tmp_path: Path) -> None:
    source = textwrap.dedent(example.code)
    findings = _run(rule, example, source, tmp_path)
    assert findings == [], f"{rule.code} flagged a VALID example:\n{source}\n{findings}"


@pytest.mark.parametrize(("rule", "example"), _cases("INVALID"))
def test_invalid_example_is_flagged_on_its_line(rule: type[CstRule], example: Invalid, tmp_path: Path) -> None:
    source = textwrap.dedent(example.code)
    findings = _run(rule, example, source, tmp_path)
    assert [f.start.line for f in findings] == [example.line], (
        f"{rule.code} should flag line {example.line} exactly once:\n{source}\n{findings}"
    )
    finding = findings[0]
    assert finding.name == rule.name and finding.severity is not None and finding.message
    if example.fixed is not None:
        assert finding.fix is not None, f"{rule.code} should offer a fix for:\n{source}"
        fixed = apply_fix(source, finding.fix)
        assert fixed == textwrap.dedent(example.fixed)
        assert _run(rule, example, fixed, tmp_path) == [], "the fixed code is still flagged"


def test_every_rule_has_examples_and_docs() -> None:
    assert RULES, "no built-in libcst rules were discovered"
    for rule in RULES:
        assert rule.VALID and rule.INVALID, rule.code
        assert rule.summary and rule.what.strip() and rule.why.strip(), rule.code
        assert rule.references, f"{rule.code} has no references"
