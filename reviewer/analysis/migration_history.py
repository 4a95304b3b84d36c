"""What a Django model field or model looked like before a migration changed it, from earlier
migrations.

`AlterField` carries only the new definition, so whether it changes a column's type or adds an
index is not visible in the file itself; `RenameModel` renames the table only when the model has
no `db_table` of its own. Their history is: walk back from the operation through the migration's
dependencies within the same app (files beside it in `migrations/`), newest operation first,
following `RenameField`/`RenameModel`, until an `AddField`, `AlterField` or `CreateModel` defines
the field (or a `CreateModel` the model). Earlier migrations are read with the standard library's
`ast` (several times faster than libcst, and like libcst it never runs the file); they are
generated code, so plain names (`models.CharField`) are resolved through the file's imports only.

The answer is None — not known — when a file on the way is missing or unreadable, an app label
does not match its folder, branches disagree, or the walk passes `MAX_FILES` files. Parsed
earlier migrations are cached per reader and path: every AlterField of every migration in a
review walks much the same chain.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Callable, Iterable

from reviewer.analysis.migrations import DJANGO_OPERATION_PARAMS

RepoFileReader = Callable[[str], "str | None"]
MAX_FILES = 400


@dataclass(frozen=True)
class FieldDefinition:
    """A field as an earlier migration defined it. `class_name` is "" for non-Django classes.

    `options` holds the keyword arguments whose values are literals; `keywords` names them all.
    """

    class_name: str
    options: tuple[tuple[str, object], ...] = ()
    keywords: frozenset[str] = field(default_factory=frozenset)

    def option(self, name: str, default: object = None) -> object:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class ModelTable:
    """A model's table as earlier migrations set it: `db_table` when given, whether the model has
    (or may have) a many-to-many field, whose join table is named after the model, and whether
    migrations change its table at all (not for `managed = False` or proxy models)."""

    db_table: str | None
    many_to_many: bool
    managed: bool = True


@dataclass(frozen=True)
class _Operation:
    name: str
    args: dict
    line: int


@dataclass(frozen=True)
class _MigrationFile:
    dependencies: tuple[tuple[str, str], ...]
    operations: tuple[_Operation, ...]
    imports: dict
    # Lower-cased names the operations mention: a file not naming the model is skipped quickly.
    mentioned: frozenset[str] = frozenset()


class _Unknown(Exception):
    """The history cannot be told with confidence."""


def previous_field(
    read_repo_file: RepoFileReader,
    path: str,
    source: str,
    model: str,
    field_name: str,
    before_line: int,
) -> FieldDefinition | None:
    """The definition of `model.field_name` in force before line `before_line` of this migration."""
    return _walk_back(read_repo_file, path, source, (model.lower(), field_name), before_line, _look_back_field)


def previous_model_table(
    read_repo_file: RepoFileReader, path: str, source: str, model: str, before_line: int
) -> ModelTable | None:
    """The table options of `model` in force before line `before_line` of this migration."""
    return _walk_back(read_repo_file, path, source, (model.lower(), False), before_line, _look_back_model)


# Given operations newest first, a look-back returns what it found, or the key to keep looking
# for in older migrations (a key's first item is the lower-cased model name).
LookBack = Callable[[Iterable[_Operation], _MigrationFile, tuple], object]


def _walk_back(read_repo_file: RepoFileReader, path: str, source: str, key: tuple, before_line: int, look_back: LookBack):
    """Walk this migration's same-app dependencies breadth first; the one answer all branches give."""
    current = _parse(source)
    folder = PurePosixPath(path).parent
    app_label = folder.parent.name
    if current is None:
        return None
    # A list, not a set: literal options such as `choices=[...]` are not hashable.
    found: list = []
    queue = deque([(current, key, before_line)])
    visited = {PurePosixPath(path).stem}
    try:
        while queue:
            migration, key, before = queue.popleft()
            if key[0] in migration.mentioned:
                earlier = [op for op in migration.operations if op.line < before]
                outcome = look_back(reversed(earlier), migration, key)
                if not isinstance(outcome, tuple):
                    if outcome not in found:
                        found.append(outcome)
                    continue
                key = outcome
            for name in _same_app_dependencies(migration, app_label):
                if name in visited:
                    continue
                if len(visited) >= MAX_FILES:
                    raise _Unknown
                visited.add(name)
                parsed = _read_migration_file(read_repo_file, f"{folder}/{name}.py")
                if parsed is None:
                    raise _Unknown
                queue.append((parsed, key, float("inf")))
    except _Unknown:
        return None
    return found[0] if len(found) == 1 else None


def _look_back_field(operations: Iterable[_Operation], migration: _MigrationFile, key: tuple) -> FieldDefinition | tuple:
    """The field's definition in these operations, or the (model, field) names to keep looking for."""
    model, field_name = key
    for op in operations:
        args = op.args
        if op.name in ("AddField", "AlterField") and _model_is(args, "model_name", model) and _field_is(args, "name", field_name):
            return _definition(args.get("field"), migration.imports)
        if op.name == "CreateModel" and _model_is(args, "name", model):
            for name, value in _created_fields(args.get("fields")):
                if name == field_name:
                    return _definition(value, migration.imports)
            raise _Unknown
        if op.name == "RenameField" and _model_is(args, "model_name", model) and _field_is(args, "new_name", field_name):
            field_name = _string(args.get("old_name")) or ""
        elif op.name == "RenameModel" and _model_is(args, "new_name", model):
            model = (_string(args.get("old_name")) or "").lower()
        elif op.name == "RemoveField" and _model_is(args, "model_name", model) and _field_is(args, "name", field_name):
            raise _Unknown
        elif op.name == "DeleteModel" and _model_is(args, "name", model):
            raise _Unknown
    if not model or not field_name:
        raise _Unknown
    return model, field_name


def _look_back_model(operations: Iterable[_Operation], migration: _MigrationFile, key: tuple) -> ModelTable | tuple:
    """The model's CreateModel in these operations, or (model, many-to-many field seen) to keep looking for.

    A many-to-many field added later counts too: its join table is named after the model.
    """
    model, many_to_many = key
    for op in operations:
        args = op.args
        if op.name == "CreateModel" and _model_is(args, "name", model):
            options = _dict_entries(args.get("options"))
            if "db_table" in options and _string(options["db_table"]) is None:
                raise _Unknown
            fields = [_definition_or_none(value, migration.imports) for _name, value in _created_fields(args.get("fields"))]
            many_to_many = many_to_many or any(f is None or f.class_name == "ManyToManyField" for f in fields)
            unmanaged = _literal(options.get("managed")) is False or _literal(options.get("proxy")) is True
            return ModelTable(_string(options.get("db_table")), many_to_many, managed=not unmanaged)
        if op.name == "AlterModelOptions" and _model_is(args, "name", model) and "managed" in _dict_entries(args.get("options")):
            raise _Unknown
        if op.name == "AddField" and _model_is(args, "model_name", model):
            added = _definition_or_none(args.get("field"), migration.imports)
            many_to_many = many_to_many or added is None or added.class_name == "ManyToManyField"
        elif op.name == "RenameModel" and _model_is(args, "new_name", model):
            model = (_string(args.get("old_name")) or "").lower()
        elif op.name in ("AlterModelTable", "DeleteModel") and _model_is(args, "name", model):
            raise _Unknown
    if not model:
        raise _Unknown
    return model, many_to_many


def _same_app_dependencies(migration: _MigrationFile, app_label: str) -> list[str]:
    return [name for app, name in migration.dependencies if app == app_label]


def _model_is(args: dict, key: str, model: str) -> bool:
    """Django compares model names case-insensitively in migrations."""
    value = _string(args.get(key))
    return value is not None and value.lower() == model


def _field_is(args: dict, key: str, field_name: str) -> bool:
    return _string(args.get(key)) == field_name


def _definition(node: ast.expr | None, imports: dict) -> FieldDefinition:
    if not isinstance(node, ast.Call):
        raise _Unknown
    dotted = _dotted(node.func)
    if dotted is None:
        raise _Unknown
    head, _, rest = dotted.partition(".")
    full = f"{imports.get(head, head)}.{rest}" if rest else imports.get(head, head)
    class_name = full.rsplit(".", 1)[-1] if full.startswith("django.") else ""
    options = []
    for keyword in node.keywords:
        if keyword.arg is None:
            continue
        try:
            options.append((keyword.arg, ast.literal_eval(keyword.value)))
        except (ValueError, TypeError, SyntaxError, RecursionError):
            continue
    keywords = frozenset(k.arg for k in node.keywords if k.arg)
    return FieldDefinition(class_name, tuple(sorted(options, key=lambda item: item[0])), keywords)


def _definition_or_none(node: ast.expr | None, imports: dict) -> FieldDefinition | None:
    try:
        return _definition(node, imports)
    except _Unknown:
        return None


def _literal(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _dict_entries(node: ast.expr | None) -> dict:
    """String-keyed entries of a dict display: `{"db_table": "task"}`."""
    if not isinstance(node, ast.Dict):
        return {}
    return {key.value: value for key, value in zip(node.keys, node.values) if isinstance(key, ast.Constant) and isinstance(key.value, str)}


def _created_fields(node: ast.expr | None) -> list[tuple[str, ast.expr]]:
    pairs = []
    if isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                name = _string(element.elts[0])
                if name is not None:
                    pairs.append((name, element.elts[1]))
    return pairs


@lru_cache(maxsize=4096)
def _read_migration_file(read_repo_file: RepoFileReader, path: str) -> _MigrationFile | None:
    return _parse(read_repo_file(path))


def _parse(source: str | None) -> _MigrationFile | None:
    if source is None:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    imports = _imports(tree)
    for statement in tree.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Migration":
            attributes = _class_attributes(statement)
            operations = tuple(_operations(attributes.get("operations")))
            mentioned = frozenset(
                value.lower()
                for op in operations
                for key in ("model_name", "name", "old_name", "new_name")
                if (value := _string(op.args.get(key)))
            )
            return _MigrationFile(_dependencies(attributes.get("dependencies")), operations, imports, mentioned)
    return None


def _operations(node: ast.expr | None) -> Iterable[_Operation]:
    """Operations as Django's state sees them: SeparateDatabaseAndState's state_operations."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return
    for element in node.elts:
        if not isinstance(element, ast.Call):
            continue
        dotted = _dotted(element.func) or ""
        name = dotted.rsplit(".", 1)[-1]
        args = _bind(element, DJANGO_OPERATION_PARAMS.get(name, ()))
        if name == "SeparateDatabaseAndState":
            yield from _operations(args.get("state_operations"))
        else:
            yield _Operation(name, args, element.lineno)


def _dependencies(node: ast.expr | None) -> tuple[tuple[str, str], ...]:
    pairs = []
    if isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                app, name = (_string(e) for e in element.elts)
                if app and name:
                    pairs.append((app, name))
    return tuple(pairs)


def _class_attributes(class_def: ast.ClassDef) -> dict:
    attributes = {}
    for statement in class_def.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    attributes[target.id] = statement.value
    return attributes


def _imports(tree: ast.Module) -> dict:
    """Local name -> the dotted module or object it was imported as."""
    names = {}
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                names[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    return names


def _bind(call: ast.Call, params: tuple[str, ...]) -> dict:
    bound = dict(zip(params, (arg for arg in call.args if not isinstance(arg, ast.Starred))))
    bound.update({keyword.arg: keyword.value for keyword in call.keywords if keyword.arg})
    return bound


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
