"""`.reviewer.yml`: loading and validation.

Validation is strict because a typo in a config key silently changing nothing is worse than an
error: an unknown key, a wrong type or an unknown rule code is a one-line error naming the key
and the file (exit 2). The schema (config-schema.json) doubles as documentation and editor help.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from reviewer.catalog import Catalog
from reviewer.errors import ConfigError
from reviewer.finding import Severity

CONFIG_FILE_NAME = ".reviewer.yml"
FILTER_MODES = ("added", "diff_context", "file", "nofilter")
FAIL_ON_CHOICES = ("error", "warning", "note", "never")
DEFAULT_MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class EngineSettings:
    enabled: bool = True
    timeout: float = 300.0
    timeout_per_file: float = 30.0
    workers: int = 0
    skip: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    source: str = "defaults"
    fail_on: str = "error"
    filter_mode: str = "added"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_path_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    rule_packs: tuple[Path, ...] = ()
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    engines: dict[str, EngineSettings] = field(
        default_factory=lambda: {
            "libcst": EngineSettings(),
            "semgrep": EngineSettings(timeout_per_file=30.0),
            "bandit": EngineSettings(skip=("B101", "B404")),
        }
    )
    github_max_comments: int = 30
    github_request_changes: bool = False

    @property
    def fail_on_severity(self) -> Severity | None:
        return None if self.fail_on == "never" else Severity(self.fail_on)


@cache
def config_schema() -> dict:
    return json.loads((Path(__file__).parent / "config-schema.json").read_text(encoding="utf-8"))


def find_config_file(root: Path) -> Path | None:
    candidate = root / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def parse_config_text(text: str, source: str, root: Path) -> Config:
    """Schema-check the YAML text and build a Config; rule codes are checked by `check_codes`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}{where}: {problem}") from error
    if data is None:
        data = {}
    _validate_schema(data, source)
    engines = Config().engines.copy()
    for engine, settings in data.get("engines", {}).items():
        default = engines[engine]
        engines[engine] = EngineSettings(
            enabled=settings.get("enabled", default.enabled),
            timeout=float(settings.get("timeout", default.timeout)),
            timeout_per_file=float(settings.get("timeout-per-file", default.timeout_per_file)),
            workers=settings.get("workers", default.workers),
            skip=tuple(settings.get("skip", default.skip)),
        )
    github = data.get("github", {})
    return Config(
        source=source,
        fail_on=data.get("fail-on", "error"),
        filter_mode=data.get("filter-mode", "added"),
        select=tuple(data.get("select", ())),
        ignore=tuple(data.get("ignore", ())),
        per_path_ignores={glob: tuple(codes) for glob, codes in data.get("per-path-ignores", {}).items()},
        exclude=tuple(data.get("exclude", ())),
        severity={code: Severity(value) for code, value in data.get("severity", {}).items()},
        rule_packs=tuple(_pack_path(root, entry, source) for entry in data.get("rule-packs", ())),
        rule_options={code: dict(options) for code, options in data.get("rules", {}).items()},
        max_file_bytes=data.get("max-file-bytes", DEFAULT_MAX_FILE_BYTES),
        engines=engines,
        github_max_comments=github.get("max-comments", 30),
        github_request_changes=github.get("request-changes", False),
    )


def load_config(root: Path, explicit: Path | None = None) -> Config:
    path = explicit if explicit is not None else find_config_file(root)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"config file not found: {path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from error
    return parse_config_text(text, str(path), root)


def _pack_path(root: Path, entry: str, source: str) -> Path:
    resolved = (root / entry).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ConfigError(f"{source}: rule-packs entry {entry!r} points outside the repository")
    if not resolved.is_dir():
        raise ConfigError(f"{source}: rule-packs entry {entry!r} is not a folder")
    return resolved


def _validate_schema(data: Any, source: str) -> None:
    import jsonschema  # only when there is a config file: it is a tenth of a second to import

    validator = jsonschema.Draft202012Validator(config_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise ConfigError(f"{source}: {_describe(errors[0])}")


def _describe(error: Any) -> str:
    """One line a person can act on, naming the key, instead of jsonschema's dump of the value."""
    key_path = ".".join(str(part) for part in error.absolute_path)
    where = f"key '{key_path}'" if key_path else "the top level"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        if allowed:
            prefix = f"{key_path}." if key_path else ""
            name = unknown[0]
            hint = difflib.get_close_matches(name, allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else f" (known keys: {', '.join(allowed)})"
            return f"unknown key '{prefix}{name}'{suggestion}"
    if error.validator == "enum":
        return f"{where} must be one of {', '.join(map(str, error.validator_value))}, not {error.instance!r}"
    if error.validator == "type":
        return f"{where} must be {_type_name(error.validator_value)}, not {_type_name(type(error.instance).__name__)}"
    if error.validator == "pattern":
        return f"{where}: {error.instance!r} is not a valid value"
    if error.validator in ("minimum", "exclusiveMinimum", "minLength"):
        return f"{where}: {error.instance!r} is too small"
    return f"{where}: {error.message}"


def _type_name(name: Any) -> str:
    names = {
        "object": "a mapping", "dict": "a mapping", "array": "a list", "list": "a list",
        "string": "a string", "str": "a string", "integer": "an integer", "int": "an integer",
        "number": "a number", "float": "a number", "boolean": "true or false", "bool": "true or false",
        "NoneType": "empty", "null": "empty",
    }
    return names.get(str(name), str(name))


def check_codes(config: Config, catalog: Catalog, extra: dict[str, tuple[str, ...]] | None = None) -> None:
    """Every code or prefix named in config (or on the command line) must name a known rule."""
    named: list[tuple[str, str]] = [("select", code) for code in config.select]
    named += [("ignore", code) for code in config.ignore]
    named += [(f"per-path-ignores.{glob}", code) for glob, codes in config.per_path_ignores.items() for code in codes]
    named += [("severity", code) for code in config.severity]
    named += [("rules", code) for code in config.rule_options]
    for where, codes in (extra or {}).items():
        named += [(where, code) for code in codes]
    for where, code in named:
        exact = where in ("severity", "rules")
        known = catalog.get(code) is not None if exact else catalog.matches_prefix(code)
        if not known:
            raise ConfigError(f"{config.source}: {where}: unknown rule code '{code}'")
    for code, options in config.rule_options.items():
        meta = catalog.get(code)
        for option, value in options.items():
            if option not in meta.options:
                known = ", ".join(sorted(meta.options)) or "none"
                raise ConfigError(f"{config.source}: rules.{code}: unknown option '{option}' (options: {known})")
            default = meta.options[option]
            if default is not None and not isinstance(value, type(default)):
                raise ConfigError(
                    f"{config.source}: rules.{code}.{option} must be {_type_name(type(default).__name__)}"
                )
