"""Every built-in semgrep rule: its annotated test files, its metadata, and its docs examples.

semgrep starts slowly (about 2 s), so the file runs it few times: one `semgrep --test` over the
whole built-in folder, one over a deliberately broken copy (to prove a wrong annotation fails),
and one `semgrep scan` over the docs snippets of all rules at once, whose JSON also serves to
check the check_id -> code mapping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reviewer.catalog import SemgrepRuleFile, builtin_pack_dir, load_catalog, load_semgrep_rule
from reviewer.errors import ConfigError
from reviewer.finding import Severity

SEMGREP_FOLDER = builtin_pack_dir() / "semgrep"
# Without these semgrep tries the network for metrics and a version check, and hangs offline.
OFFLINE_FLAGS = ["--metrics=off", "--disable-version-check"]
OFFLINE_ENV = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off", "NO_COLOR": "1"}
SNIPPET_SUFFIX = {"python": ".py", "typescript": ".ts", "javascript": ".js"}
ANNOTATION = re.compile(r"^\s*(?:#|//)\s*(ruleid|ok):\s*([\w-]+)\s*$")

# The rules this file was written with; rules added later are covered by the generic tests.
EXPECTED_RULES = {
    "SEC001": ("request-data-in-shell-command", ("python",), (78,), "python/security"),
    "SQL101": ("request-data-in-sql-string", ("typescript", "javascript"), (89,), "typescript/sql"),
}

CATALOG = load_catalog()
SEMGREP_RULES: list[SemgrepRuleFile] = CATALOG.semgrep_rules


def run_semgrep(options: list[str], targets: list[str], cwd: Path) -> subprocess.CompletedProcess:
    beside_python = Path(sys.executable).parent / "semgrep"
    executable = str(beside_python) if beside_python.is_file() else shutil.which("semgrep")
    assert executable, "semgrep is not installed; it is a dependency of backend-reviewer"
    return subprocess.run(
        [executable, *options, *OFFLINE_FLAGS, "--", *targets],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE_ENV},
        timeout=120,
    )


def run_self_test(folder: Path) -> tuple[list[str], dict]:
    """Run `semgrep --test` on a rule folder: its report, and every way it failed as one line.

    semgrep exits 1 with a report when lines differ, but 2 with no report at all when a file's
    `ruleid:` rule reports nothing there or a rule file does not load.
    """
    completed = run_semgrep(["--test", "--json"], [str(folder)], cwd=folder)
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
        return [f"semgrep --test exited with {completed.returncode} and no report: {tail}"], {}
    problems = [f"rule file with errors: {entry}" for entry in report["config_with_errors"]]
    problems += [f"rule without a test file: {entry}" for entry in report["config_missing_tests"]]
    for rule_report in report["results"].values():
        for rule_id, check in rule_report["checks"].items():
            problems += [f"{rule_id}: {error}" for error in check["errors"]]
            for test_file, lines in sorted(check["matches"].items()):
                missing = sorted(set(lines["expected_lines"]) - set(lines["reported_lines"]))
                unexpected = sorted(set(lines["reported_lines"]) - set(lines["expected_lines"]))
                if missing or unexpected:
                    problems.append(f"{rule_id}: {test_file}: not reported {missing}, not expected {unexpected}")
    if completed.returncode != 0 and not problems:
        problems.append(f"semgrep --test exited with {completed.returncode}: {completed.stderr.strip()[-300:]}")
    return problems, report


def annotated_lines(test_file: Path, rule_id: str) -> dict[str, list[int]]:
    """Lines the test file's `ruleid:`/`ok:` comments point at (the line after each comment)."""
    lines: dict[str, list[int]] = {"ruleid": [], "ok": []}
    for number, text in enumerate(test_file.read_text(encoding="utf-8").splitlines(), start=1):
        match = ANNOTATION.match(text)
        if match and match.group(2) == rule_id:
            lines[match.group(1)].append(number + 1)
    return lines


def rule_test_files(rule: SemgrepRuleFile) -> list[Path]:
    """semgrep --test pairs a rule with every file of the same stem, whatever its extension."""
    return sorted(p for p in rule.path.parent.glob(f"{rule.path.stem}.*") if p.suffix not in (".yaml", ".yml"))


# --- semgrep --test --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builtin_self_test() -> tuple[list[str], dict]:
    return run_self_test(SEMGREP_FOLDER)


def test_builtin_rules_pass_their_annotated_tests(builtin_self_test) -> None:
    problems, _ = builtin_self_test
    assert problems == []


def test_semgrep_read_every_annotation_of_every_test_file(builtin_self_test) -> None:
    """Guards against annotations semgrep silently ignores (a typo in `ruleid:`, a missing file)."""
    problems, report = builtin_self_test
    assert report, problems
    checks = {rule_id: check for entry in report["results"].values() for rule_id, check in entry["checks"].items()}
    assert sorted(checks) == sorted(rule.rule_id for rule in SEMGREP_RULES)
    for rule in SEMGREP_RULES:
        test_files = rule_test_files(rule)
        assert test_files, f"{rule.path} has no test file"
        matches = checks[rule.rule_id]["matches"]
        for test_file in test_files:
            expected = annotated_lines(test_file, rule.rule_id)
            assert expected["ruleid"], f"{test_file} has no `ruleid: {rule.rule_id}` case"
            assert sorted(matches[str(test_file)]["reported_lines"]) == expected["ruleid"], test_file
        ruleid_cases = sum(len(annotated_lines(f, rule.rule_id)["ruleid"]) for f in test_files)
        ok_cases = sum(len(annotated_lines(f, rule.rule_id)["ok"]) for f in test_files)
        assert ruleid_cases >= 5 and ok_cases >= 6, f"{rule.rule_id}: {ruleid_cases} ruleid / {ok_cases} ok cases"


def test_a_wrong_annotation_fails_the_self_test(tmp_path: Path) -> None:
    folder = tmp_path / "semgrep"
    shutil.copytree(SEMGREP_FOLDER, folder)
    shell_tests = folder / "python/security/request-data-in-shell-command.py"
    turned_ok = _flip_first_annotation(shell_tests, "ok", "ruleid")
    sql_tests = folder / "typescript/sql/request-data-in-sql-string.ts"
    turned_ruleid = _flip_first_annotation(sql_tests, "ruleid", "ok")

    problems, _ = run_self_test(folder)

    assert sorted(problems) == [
        f"request-data-in-shell-command: {shell_tests}: not reported [{turned_ok}], not expected []",
        f"request-data-in-sql-string: {sql_tests}: not reported [], not expected [{turned_ruleid}]",
    ]


def _flip_first_annotation(test_file: Path, old: str, new: str) -> int:
    """Rewrite the first `old:` annotation as `new:`; return the line of the case it marks."""
    lines = test_file.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, text in enumerate(lines):
        match = ANNOTATION.match(text)
        if match and match.group(1) == old:
            lines[index] = text.replace(f"{old}:", f"{new}:", 1)
            test_file.write_text("".join(lines), encoding="utf-8")
            return index + 2
    raise AssertionError(f"no `{old}:` annotation in {test_file}")


# --- metadata through reviewer.catalog --------------------------------------------------------


@pytest.mark.parametrize("code", sorted(EXPECTED_RULES))
def test_rule_metadata_is_loaded_by_the_catalog(code: str) -> None:
    rule_id, languages, cwe, area = EXPECTED_RULES[code]
    meta = CATALOG.get(code)
    assert meta is not None, f"{code} was not discovered"
    assert (meta.name, meta.engine, meta.severity, meta.cwe, meta.confidence) == (
        rule_id, "semgrep", Severity.ERROR, cwe, "high"
    )
    assert meta.languages == languages
    assert meta.tags == ("security",)
    assert f"https://cwe.mitre.org/data/definitions/{cwe[0]}.html" in meta.references
    rule_file = next(rule for rule in SEMGREP_RULES if rule.code == code)
    assert rule_file.path == SEMGREP_FOLDER / area / f"{rule_id}.yaml"
    assert rule_file.rule_id == rule_id


@pytest.mark.parametrize("rule", SEMGREP_RULES, ids=lambda rule: rule.code)
def test_every_semgrep_rule_follows_the_conventions(rule: SemgrepRuleFile) -> None:
    meta = CATALOG.get(rule.code)
    assert rule.path.stem == rule.rule_id == meta.name, "the file is named after the rule id"
    assert rule.test_file is not None, f"{rule.path} has no same-named test file"
    assert meta.references and all(ref.startswith("https://") for ref in meta.references), meta.references
    assert all(language in SNIPPET_SUFFIX for language in meta.languages), meta.languages
    if "security" in meta.tags:
        assert meta.cwe, f"{rule.code} is tagged security but names no CWE"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rule: rule["metadata"].pop("why"), "metadata is missing why"),
        (lambda rule: rule["metadata"].update(cwe="CWE-78"), "metadata.cwe must be a list of CWE numbers"),
        (lambda rule: rule["metadata"].update(confidence="certain"), "metadata.confidence must be one of"),
        (lambda rule: rule.update(id="RequestDataInShell"), "rule name 'RequestDataInShell' must be kebab-case"),
    ],
    ids=["missing-why", "cwe-not-a-list", "unknown-confidence", "id-not-kebab-case"],
)
def test_catalog_rejects_broken_metadata(tmp_path: Path, change, message: str) -> None:
    source = SEMGREP_FOLDER / "python/security/request-data-in-shell-command.yaml"
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(document["rules"][0])
    broken = tmp_path / source.name
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_semgrep_rule(broken, [broken])
    assert str(raised.value).startswith(f"{broken}: ")
    assert message in str(raised.value)


# --- docs examples and check_id mapping, one semgrep scan for all rules -------------------------


@pytest.fixture(scope="module")
def snippet_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Path]], dict]:
    """Write every rule's `example` and `use-instead` to a file and scan them all at once."""
    folder = tmp_path_factory.mktemp("snippets")
    files: dict[str, dict[str, Path]] = {}
    for rule in SEMGREP_RULES:
        meta = CATALOG.get(rule.code)
        suffix = SNIPPET_SUFFIX[meta.languages[0]]
        files[rule.code] = {
            "example": folder / f"{rule.code}-example{suffix}",
            "use-instead": folder / f"{rule.code}-use-instead{suffix}",
        }
        files[rule.code]["example"].write_text(meta.example + "\n", encoding="utf-8")
        files[rule.code]["use-instead"].write_text(meta.use_instead + "\n", encoding="utf-8")
    configs = [arg for rule in SEMGREP_RULES for arg in ("--config", str(rule.path))]
    targets = [str(path) for pair in files.values() for path in pair.values()]
    completed = run_semgrep(["scan", "--json", "--quiet", "--no-git-ignore", *configs], targets, cwd=folder)
    assert completed.returncode == 0, f"semgrep scan failed:\n{completed.stdout}\n{completed.stderr}"
    report = json.loads(completed.stdout)
    assert report["errors"] == []
    return files, report


def _codes_on(report: dict, path: Path) -> list[str | None]:
    return [CATALOG.semgrep_code(result["check_id"]) for result in report["results"] if Path(result["path"]) == path]


@pytest.mark.parametrize("rule", SEMGREP_RULES, ids=lambda rule: rule.code)
def test_docs_example_is_flagged_and_use_instead_is_not(rule: SemgrepRuleFile, snippet_scan) -> None:
    files, report = snippet_scan
    assert rule.code in _codes_on(report, files[rule.code]["example"]), f"{rule.code}'s example is not flagged"
    assert rule.code not in _codes_on(report, files[rule.code]["use-instead"]), f"{rule.code}'s use-instead is flagged"


def test_path_prefixed_check_ids_map_back_to_codes(snippet_scan) -> None:
    files, report = snippet_scan
    shell_example = [r for r in report["results"] if Path(r["path"]) == files["SEC001"]["example"]]
    assert len(shell_example) == 1
    check_id = shell_example[0]["check_id"]
    # semgrep prefixes the id with the dotted path of the rule file it was given.
    assert check_id.endswith(".rules.semgrep.python.security.request-data-in-shell-command"), check_id
    assert shell_example[0]["start"]["line"] == 6
    assert CATALOG.semgrep_code(check_id) == "SEC001"
    assert {CATALOG.semgrep_code(r["check_id"]) for r in report["results"]} <= set(CATALOG.semgrep_code_by_id.values())
    assert CATALOG.semgrep_code("request-data-in-sql-string") == "SQL101"
    assert CATALOG.semgrep_code("rules.semgrep.typescript.sql.not-a-rule") is None
