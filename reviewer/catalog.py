"""Rule packs: folders of libcst rule files and semgrep rule YAML, found by discovery.

The built-in packs are loaded exactly like a folder a user names in config. In a pack:
- `*.yaml`/`*.yml` is one semgrep rule; a file with the same stem beside it is its test file;
- any other `*.py` not starting with `_` is one libcst rule class.
Importing a libcst rule file runs it: only packs from trusted places are loaded (in PR mode,
the base revision).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import ModuleType

import yaml

from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.diagnostics import DIAGNOSTIC_RULES
from reviewer.engines.bandit_rules import bandit_rules
from reviewer.errors import ConfigError
from reviewer.finding import Severity
from reviewer.languages import LANGUAGE_EXTENSIONS, canonical_language
from reviewer.rulemeta import CONFIDENCES, RuleMeta, validate_identity

SEMGREP_SEVERITY = {"ERROR": Severity.ERROR, "WARNING": Severity.WARNING, "INFO": Severity.NOTE}
SEMGREP_SUFFIXES = (".yaml", ".yml")
REQUIRED_SEMGREP_METADATA = ("code", "summary", "what", "why", "example", "use-instead", "references")


def builtin_pack_dir() -> Path:
    """The built-in rules: inside the package in a wheel, beside it in a source checkout."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "rules", package_dir.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"built-in rules not found next to {package_dir}; the installation is incomplete")


@dataclass(frozen=True)
class SemgrepRuleFile:
    path: Path
    rule_id: str
    code: str
    test_file: Path | None


@dataclass
class Catalog:
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    cst_rule_files: list[Path] = field(default_factory=list)
    semgrep_rules: list[SemgrepRuleFile] = field(default_factory=list)

    def add(self, meta: RuleMeta) -> None:
        existing = self.rules.get(meta.code)
        if existing is not None:
            raise ConfigError(f"rule code {meta.code} is defined twice: {existing.source} and {meta.source}")
        self.rules[meta.code] = meta

    def get(self, code: str) -> RuleMeta | None:
        if code in self.rules:
            return self.rules[code]
        return bandit_rules().get(code)

    def all_rules(self, *, include_bandit: bool = True) -> list[RuleMeta]:
        metas = dict(self.rules)
        if include_bandit:
            metas.update(bandit_rules())
        return [metas[code] for code in sorted(metas)]

    def matches_prefix(self, prefix: str) -> bool:
        """Whether a code or code prefix from config names at least one known rule."""
        return any(code.startswith(prefix) for code in self.rules) or any(
            code.startswith(prefix) for code in bandit_rules()
        )

    @cached_property
    def semgrep_code_by_id(self) -> dict[str, str]:
        return {rule.rule_id: rule.code for rule in self.semgrep_rules}

    def semgrep_code(self, check_id: str) -> str | None:
        """Map semgrep's dotted, path-prefixed check_id back to the rule's code."""
        return self.semgrep_code_by_id.get(check_id.rsplit(".", 1)[-1])


# libyaml's C loader when PyYAML has it: the built-in semgrep rules take 0.13 s to parse with the
# Python loader, on every run, before semgrep can start.
_RULE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_catalog(extra_packs: list[Path] = ()) -> Catalog:
    catalog = Catalog()
    for meta in DIAGNOSTIC_RULES:
        catalog.add(meta)
    for pack in [builtin_pack_dir(), *extra_packs]:
        load_pack(pack, catalog)
    return catalog


def load_pack(pack: Path, catalog: Catalog) -> None:
    if not pack.is_dir():
        raise ConfigError(f"rule pack {pack} is not a folder")
    files = sorted(p for p in pack.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    semgrep_stems = {p.with_suffix("") for p in files if p.suffix in SEMGREP_SUFFIXES}
    for path in files:
        if path.suffix in SEMGREP_SUFFIXES:
            rule_file, meta = load_semgrep_rule(path, files)
            catalog.semgrep_rules.append(rule_file)
            catalog.add(meta)
        elif path.suffix == ".py" and not path.name.startswith("_") and path.with_suffix("") not in semgrep_stems:
            for rule_class in load_cst_rule_classes(path):
                catalog.add(cst_rule_meta(rule_class, path))
            catalog.cst_rule_files.append(path)


def load_cst_rule_classes(path: Path) -> list[type[CstRule]]:
    """Import one rule file by path and return the CstRule subclasses it defines (exactly one)."""
    module = _import_by_path(path)
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, CstRule) and value.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise ConfigError(f"{path}: a rule file defines exactly one CstRule subclass, found {len(classes)}")
    return classes


def _import_by_path(path: Path) -> ModuleType:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"reviewer_rulepack_{digest}_{path.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: cannot be loaded as a Python rule file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a broken rule file is a config problem, not a crash
        del sys.modules[module_name]
        raise ConfigError(f"{path}: rule file failed to load: {type(error).__name__}: {error}") from error
    return module


def cst_rule_meta(rule: type[CstRule], path: Path) -> RuleMeta:
    problems = validate_identity(rule.code, rule.name, str(path))
    for attribute in ("summary", "what", "why"):
        if not getattr(rule, attribute).strip():
            problems.append(f"{path}: {rule.__name__}.{attribute} is empty")
    if not rule.VALID or not rule.INVALID:
        problems.append(f"{path}: {rule.__name__} needs VALID and INVALID examples")
    if rule.confidence not in CONFIDENCES:
        problems.append(f"{path}: confidence must be one of {', '.join(CONFIDENCES)}")
    if problems:
        raise ConfigError(problems[0])
    return RuleMeta(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        engine="libcst",
        summary=rule.summary,
        what=_dedent(rule.what),
        why=_dedent(rule.why),
        example=_dedent(_documented(rule.INVALID).code),
        use_instead=_dedent(_documented(rule.VALID).code),
        references=tuple(rule.references),
        cwe=tuple(rule.cwe),
        tags=tuple(rule.tags),
        confidence=rule.confidence,
        languages=("python",),
        fixable=rule.fixable,
        options=dict(rule.options),
        source=str(path),
    )


def load_semgrep_rule(path: Path, pack_files: list[Path]) -> tuple[SemgrepRuleFile, RuleMeta]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_RULE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: not a readable semgrep rule file: {error}".splitlines()[0]) from error
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list) or len(rules) != 1 or not isinstance(rules[0], dict):
        raise ConfigError(f"{path}: a semgrep rule file holds exactly one rule under `rules:`")
    rule = rules[0]
    rule_id = str(rule.get("id", ""))
    metadata = rule.get("metadata") or {}
    missing = [key for key in REQUIRED_SEMGREP_METADATA if not metadata.get(key)]
    if missing:
        raise ConfigError(f"{path}: metadata is missing {', '.join(missing)}")
    code = str(metadata["code"])
    problems = validate_identity(code, rule_id, str(path))
    severity = SEMGREP_SEVERITY.get(str(rule.get("severity", "")).upper())
    if severity is None:
        problems.append(f"{path}: severity must be ERROR, WARNING or INFO")
    confidence = str(metadata.get("confidence", "high")).lower()
    if confidence not in CONFIDENCES:
        problems.append(f"{path}: metadata.confidence must be one of {', '.join(CONFIDENCES)}")
    languages = [str(name) for name in rule.get("languages") or []]
    unknown = [name for name in languages if canonical_language(name) is None]
    if not languages or unknown:
        problems.append(
            f"{path}: languages {unknown or languages} are not reviewed (use {', '.join(LANGUAGE_EXTENSIONS)})"
        )
    cwe = metadata.get("cwe", [])
    if not isinstance(cwe, list) or not all(isinstance(n, int) for n in cwe):
        problems.append(f"{path}: metadata.cwe must be a list of CWE numbers")
    if problems:
        raise ConfigError(problems[0])
    test_file = next(
        (p for p in pack_files if p.with_suffix("") == path.with_suffix("") and p.suffix not in SEMGREP_SUFFIXES),
        None,
    )
    meta = RuleMeta(
        code=code,
        name=rule_id,
        severity=severity,
        engine="semgrep",
        summary=str(metadata["summary"]),
        what=_dedent(str(metadata["what"])),
        why=_dedent(str(metadata["why"])),
        example=_dedent(str(metadata["example"])),
        use_instead=_dedent(str(metadata["use-instead"])),
        references=tuple(metadata["references"]),
        cwe=tuple(cwe),
        tags=tuple(metadata.get("tags", ())),
        confidence=confidence,
        languages=tuple(dict.fromkeys(canonical_language(name) for name in languages)),
        fixable="fix" in rule,
        source=str(path),
    )
    return SemgrepRuleFile(path, rule_id, code, test_file), meta


def _documented(examples: list[Valid] | list[Invalid]) -> Valid | Invalid:
    """The example the docs show: the first that stands on its own — at the default path, with
    no options or extra files — since one that is fine only as a test file, or only with an
    option set, would teach the wrong thing. Rules whose examples all need a path (migrations)
    show their first."""
    default_path = Valid.__dataclass_fields__["path"].default
    standalone = [e for e in examples if e.path == default_path and not e.options and not e.files]
    return (standalone or examples)[0]


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")
