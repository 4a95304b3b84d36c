"""Config: every bad input is one line naming the key and the file; good input means what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.catalog import load_catalog
from reviewer.config import Config, check_codes, load_config, parse_config_text
from reviewer.errors import ConfigError
from reviewer.finding import Severity


def _parse(text: str, tmp_path: Path) -> Config:
    return parse_config_text(text, ".reviewer.yml", tmp_path)


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.fail_on == "error" and config.filter_mode == "added"
    assert config.max_file_bytes == 1024 * 1024
    assert config.engines["bandit"].skip == ("B101", "B404")


def test_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "custom_rules").mkdir()
    config = _parse(
        """
fail-on: warning
filter-mode: diff_context
select: [SQL, B6]
ignore: [SQL005]
per-path-ignores:
  "tests/**": [B]
exclude: ["migrations/**"]
severity: {RVW002: warning}
rule-packs: [custom_rules]
max-file-bytes: 2048
engines:
  semgrep: {timeout: 60, timeout-per-file: 5}
  bandit: {enabled: false, skip: [B105]}
  libcst: {workers: 1, timeout-per-file: 3}
github: {max-comments: 10, request-changes: true}
""",
        tmp_path,
    )
    assert config.fail_on_severity is Severity.WARNING
    assert config.filter_mode == "diff_context"
    assert config.select == ("SQL", "B6") and config.ignore == ("SQL005",)
    assert config.per_path_ignores == {"tests/**": ("B",)}
    assert config.exclude == ("migrations/**",)
    assert config.severity == {"RVW002": Severity.WARNING}
    assert config.rule_packs == ((tmp_path / "custom_rules").resolve(),)
    assert config.max_file_bytes == 2048
    assert config.engines["semgrep"].timeout == 60 and config.engines["semgrep"].timeout_per_file == 5
    assert config.engines["bandit"].enabled is False and config.engines["bandit"].skip == ("B105",)
    assert config.engines["libcst"].workers == 1
    assert config.github_max_comments == 10 and config.github_request_changes is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fial-on: error", "unknown key 'fial-on' (did you mean 'fail-on'?)"),
        ("engines: {semgrep: {timout: 3}}", "unknown key 'engines.semgrep.timout' (did you mean 'timeout'?)"),
        ("fail-on: sometimes", "key 'fail-on' must be one of error, warning, note, never, not 'sometimes'"),
        ("select: SQL001", "key 'select' must be a list, not a string"),
        ("max-file-bytes: big", "key 'max-file-bytes' must be an integer, not a string"),
        ("max-file-bytes: 0", "key 'max-file-bytes': 0 is too small"),
        ("severity: {SQL001: fatal}", "key 'severity.SQL001' must be one of error, warning, note, not 'fatal'"),
        ("engines: {bandit: {skip: [X1]}}", "key 'engines.bandit.skip.0': 'X1' is not a valid value"),
        ("- just\n- a list", "the top level must be a mapping, not a list"),
        ("fail-on: [unclosed", "line 1"),
        ("rule-packs: [../outside]", "rule-packs entry '../outside' points outside the repository"),
        ("rule-packs: [missing]", "rule-packs entry 'missing' is not a folder"),
    ],
)
def test_bad_config_is_one_line_naming_key_and_file(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        _parse(text, tmp_path)
    assert str(raised.value).startswith(".reviewer.yml")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select: [XYZ]", "select: unknown rule code 'XYZ'"),
        ("ignore: [SQL999]", "ignore: unknown rule code 'SQL999'"),
        ("severity: {B9: note}", "severity: unknown rule code 'B9'"),
        ("per-path-ignores: {'a/**': [NOPE1]}", "per-path-ignores.a/**: unknown rule code 'NOPE1'"),
        ("rules: {RVW001: {x: 1}}", "rules.RVW001: unknown option 'x' (options: none)"),
    ],
)
def test_unknown_rule_codes_are_errors(text: str, message: str, tmp_path: Path) -> None:
    config = _parse(text, tmp_path)
    with pytest.raises(ConfigError, match="unknown") as raised:
        check_codes(config, load_catalog())
    assert message in str(raised.value)


def test_known_prefixes_and_bandit_ids_are_accepted(tmp_path: Path) -> None:
    config = _parse("select: [RVW, B608]\nseverity: {B608: error}\n", tmp_path)
    check_codes(config, load_catalog())


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path, tmp_path / "nope.yml")


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".reviewer.yml"
    path.write_bytes(b"fail-on: \xff\xfe")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)
