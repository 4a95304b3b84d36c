"""docs/rules/ is generated from the rules; the committed pages must match the generator."""

from __future__ import annotations

from reviewer.catalog import load_catalog
from reviewer.docs_gen import DOCS_DIR, generated_pages, rule_page
from reviewer.finding import Severity
from reviewer.rulemeta import RuleMeta


def test_committed_rule_docs_are_current() -> None:
    pages = generated_pages(load_catalog())
    committed = {path.name: path.read_text(encoding="utf-8") for path in DOCS_DIR.glob("*.md")}
    stale = sorted(name for name in pages if committed.get(name) != pages[name])
    extra = sorted(set(committed) - set(pages))
    assert not stale and not extra, f"run `python -m reviewer.docs_gen`: stale {stale}, extra {extra}"


def test_every_rule_page_has_the_fixed_sections() -> None:
    for name, text in generated_pages(load_catalog()).items():
        if name == "README.md" or name.startswith("RVW"):
            continue
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## References"):
            assert section in text, f"{name} lacks {section}"


def test_option_defaults_are_written_as_in_the_config_file() -> None:
    meta = RuleMeta(
        code="OPT001",
        name="options-shown",
        severity=Severity.NOTE,
        engine="libcst",
        summary="s",
        options={"check-tests": False, "sanitizers": [], "allowed": frozenset({"b", "a"})},
    )
    assert "- Options: `check-tests` (default `false`), `sanitizers` (default `[]`), " \
           '`allowed` (default `["a", "b"]`)' in rule_page(meta)
