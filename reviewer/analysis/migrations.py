"""Django and Alembic migration files, read as the schema operations they run on the database.

The MIG rules all ask the same questions of a file — is it a migration, which operations run
forward, on which tables, and which of those tables the same migration creates (changes to a
brand-new, empty table are safe) — so the file is read here once per rule, by qualified names:

- Django: a file under a `migrations/` folder with a `Migration(django.db.migrations.Migration)`
  class; its `operations` list, with `SeparateDatabaseAndState.database_operations` flattened in
  and its `state_operations` left out (they never touch the database).
- Alembic: a file with a module-level `upgrade()` (or `upgrade_<engine>()`) calling
  `alembic.op.*`; the calls in those functions, including `batch_op.*` inside
  `with op.batch_alter_table(...) as batch_op:` (bound to that table). `downgrade()` is kept
  aside: undoing the upgrade is its job, so it is not judged like forward operations. Table
  names may be module-level string constants (`table_name = "report"`), and a call to a
  project's own imported `create_table(name, ...)` helper (a wrapper of `op.create_table`, as in
  Apache Superset) counts as creating that table; its other arguments are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any, Mapping

import libcst as cst
from libcst.metadata import ScopeProvider

from reviewer.analysis.calls import (
    GetMetadata,
    bind_arguments,
    keyword_arg,
    literal_bool,
    literal_int,
    literal_string,
    positional_args,
    qualified_names,
)
from reviewer.analysis.dialect import project_database
from reviewer.analysis.imports import TopLevelImports, dotted_name
from reviewer.analysis.sqltext import mask_comments_and_literals
from reviewer.cst_rule import CstRule

DJANGO_MIGRATION_BASES = {"django.db.migrations.Migration", "django.db.migrations.migration.Migration"}
DJANGO_OPERATION_MODULES = ("django.db.migrations.", "django.contrib.postgres.operations.")

# Django operation -> its parameters in order (keywords are bound whatever the operation).
DJANGO_OPERATION_PARAMS: dict[str, tuple[str, ...]] = {
    "CreateModel": ("name", "fields", "options", "bases", "managers"),
    "DeleteModel": ("name",),
    "RenameModel": ("old_name", "new_name"),
    "AlterModelTable": ("name", "table"),
    "AlterModelOptions": ("name", "options"),
    "AlterUniqueTogether": ("name", "unique_together"),
    "AlterIndexTogether": ("name", "index_together"),
    "AddField": ("model_name", "name", "field", "preserve_default"),
    "AlterField": ("model_name", "name", "field", "preserve_default"),
    "RemoveField": ("model_name", "name"),
    "RenameField": ("model_name", "old_name", "new_name"),
    "AddIndex": ("model_name", "index"),
    "AddIndexConcurrently": ("model_name", "index"),
    "RemoveIndex": ("model_name", "name"),
    "RemoveIndexConcurrently": ("model_name", "name"),
    "AddConstraint": ("model_name", "constraint"),
    "RunSQL": ("sql", "reverse_sql", "state_operations", "hints", "elidable"),
    "RunPython": ("code", "reverse_code", "atomic", "hints", "elidable"),
    "SeparateDatabaseAndState": ("database_operations", "state_operations"),
}

# Alembic `op.<name>` -> its parameters in order. The batch form (`batch_op.<name>`) takes the
# same ones without the table, which comes from `batch_alter_table(...)`.
ALEMBIC_OPERATION_PARAMS: dict[str, tuple[str, ...]] = {
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("old_table_name", "new_table_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "execute": ("sqltext",),
}
ALEMBIC_TABLE_PARAMS = ("table_name", "source_table", "old_table_name")


@dataclass(frozen=True)
class Operation:
    """One schema operation: `args` are bound to the operation's parameter names.

    `table` is the table (Alembic) or lower-cased model name (Django) it works on, if literal
    (or, in Alembic, the text of a dotted name such as `Model.__tablename__`).
    `autocommit` is true for an Alembic call inside `with op.get_context().autocommit_block():`.
    `via_helper` marks a `create_table` made through a project's own helper: the table is new,
    but the helper's other arguments are not read as op.create_table's would be.
    """

    name: str
    call: cst.Call
    args: Mapping[str, cst.BaseExpression]
    table: str | None = None
    autocommit: bool = False
    via_helper: bool = False

    def arg(self, name: str) -> cst.BaseExpression | None:
        return self.args.get(name)

    def string(self, name: str) -> str | None:
        return literal_string(self.args.get(name))

    @property
    def has_splat(self) -> bool:
        """`*args`/`**kwargs` in the call: arguments that cannot be bound to names may be there."""
        return any(arg.star for arg in self.call.args)


@dataclass(frozen=True)
class DjangoMigration:
    class_def: cst.ClassDef
    atomic: bool | None  # None when `atomic = ...` is not a literal
    operations: tuple[Operation, ...]
    # Lower-cased models this migration creates, under every name a RenameModel here gives them.
    created_models: frozenset[str] = field(default_factory=frozenset)
    initial: bool = False  # `initial = True`: the app's first migration, unapplied only with the app

    def creates(self, model: str | None) -> bool:
        return model is not None and model.lower() in self.created_models

    def created_before(self, operation: Operation) -> bool:
        """Whether an earlier operation of this migration created the model `operation` works on."""
        return operation.table is not None and operation.table in _created_models(_before(self.operations, operation))


@dataclass(frozen=True)
class AlembicMigration:
    upgrades: tuple[cst.FunctionDef, ...]
    downgrade: cst.FunctionDef | None
    operations: tuple[Operation, ...]
    created_tables: frozenset[str] = field(default_factory=frozenset)

    def creates(self, table: str | None) -> bool:
        return table is not None and table in self.created_tables

    def created_before(self, operation: Operation) -> bool:
        """Whether an earlier operation of this upgrade created the table `operation` works on."""
        earlier = _before(self.operations, operation)
        return operation.table is not None and any(op.name == "create_table" and op.table == operation.table for op in earlier)


Migration = DjangoMigration | AlembicMigration


def _before(operations: tuple[Operation, ...], operation: Operation) -> tuple[Operation, ...]:
    """The operations that run before `operation` (found by identity: equal calls may repeat)."""
    index = next(i for i, candidate in enumerate(operations) if candidate is operation)
    return operations[:index]


_DJANGO_MIGRATION_CLASS = re.compile(r"^class\s+Migration\s*\(", re.MULTILINE)
_ALEMBIC_IMPORT = re.compile(r"^\s*(?:from\s+alembic\b|import\s+alembic\b)", re.MULTILINE)


def should_check_migrations(source: str) -> bool:
    """Cheap text pre-check shared by the MIG rules: a Django Migration class or an alembic import."""
    return bool(_DJANGO_MIGRATION_CLASS.search(source) or _ALEMBIC_IMPORT.search(source))


def read_migration(module: cst.Module, path: str, get_metadata: GetMetadata) -> Migration | None:
    return read_django_migration(module, path, get_metadata) or read_alembic_migration(module, get_metadata)


def read_migration_for(rule: CstRule) -> Migration | None:
    """The migration a CstRule is looking at (its module, path and metadata), or None.

    All MIG rules of a file ask for it; a worker analyses one file at a time, so remembering the
    last module's answer reads each migration once.
    """
    cached_module, cached = _last_read
    if cached_module is not rule.module:
        cached = read_migration(rule.module, rule.context.path, rule.get_metadata)
        _last_read[:] = [rule.module, cached]
    return cached


_last_read: list = [None, None]


class MigrationRule(CstRule):
    """Base of the MIG rules: runs on Django and Alembic migrations only, and dispatches by kind.

    Migrations are declarative and import what they use at the top, so their names resolve from
    the import statements (`TopLevelImports`) instead of a full scope analysis, which would cost
    more than everything else these rules do. A rule whose hazard does not exist on some
    databases names them in `quiet_on_databases`; it goes quiet only when the project's own
    configuration names such a database (`configured_database`).
    """

    quiet_on_databases: frozenset[str] = frozenset()

    def get_metadata(self, key: type, node: cst.CSTNode, *default: Any) -> Any:
        if key is ScopeProvider:
            if self._imports is None:
                self._imports = TopLevelImports(self.module)
            return self._imports
        return super().get_metadata(key, node, *default)

    _imports: TopLevelImports | None = None

    @classmethod
    def should_run(cls, source: str) -> bool:
        return should_check_migrations(source)

    def visit_Module(self, node: cst.Module) -> None:
        migration = read_migration_for(self)
        if migration is None or self.configured_database in self.quiet_on_databases:
            return
        if isinstance(migration, DjangoMigration):
            self.check_django(migration)
        else:
            self.check_alembic(migration)

    @cached_property
    def database(self) -> str | None:
        """The database as `dialect.project_database` tells it from this file and the project."""
        return project_database(self.context.path, self.context.read_repo_file, file_source=self.context.source)

    @cached_property
    def configured_database(self) -> str | None:
        """The database the project's settings, alembic.ini or requirements name, not this file.

        A migration's own dialect imports are weak evidence: Alembic autogenerate writes
        `mysql.VARCHAR` when run against a developer's MySQL, and multi-database projects import
        `sqlalchemy.dialects.mysql` for a MySQL-only branch. Enough to speak louder, not to
        go quiet.
        """
        return project_database(self.context.path, self.context.read_repo_file)

    def check_django(self, migration: DjangoMigration) -> None:
        """Report on a Django migration; rules override what applies to them."""

    def check_alembic(self, migration: AlembicMigration) -> None:
        """Report on an Alembic migration; rules override what applies to them."""


# --- Django ------------------------------------------------------------------------------------


def read_django_migration(module: cst.Module, path: str, get_metadata: GetMetadata) -> DjangoMigration | None:
    if "migrations" not in PurePosixPath(path).parts[:-1]:
        return None
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == "Migration":
            if any(DJANGO_MIGRATION_BASES & qualified_names(get_metadata, base.value) for base in statement.bases):
                return _django_migration(statement, get_metadata)
    return None


def _django_migration(class_def: cst.ClassDef, get_metadata: GetMetadata) -> DjangoMigration:
    attributes = class_attributes(class_def)
    atomic_value = attributes.get("atomic")
    atomic = True if atomic_value is None else literal_bool(atomic_value)
    operations = tuple(_django_operations(attributes.get("operations"), get_metadata))
    initial = literal_bool(attributes.get("initial")) is True
    return DjangoMigration(class_def, atomic, operations, _created_models(operations), initial)


def _created_models(operations: tuple[Operation, ...]) -> frozenset[str]:
    created: set[str] = set()
    for op in operations:
        if op.name == "CreateModel" and op.table:
            created.add(op.table)
        elif op.name == "RenameModel" and op.table in created:
            new_name = op.string("new_name")
            if new_name:
                created.add(new_name.lower())
    return frozenset(created)


def _django_operations(listing: cst.BaseExpression | None, get_metadata: GetMetadata):
    if not isinstance(listing, (cst.List, cst.Tuple)):
        return
    for element in listing.elements:
        call = element.value
        name = django_operation_name(call, get_metadata) if isinstance(call, cst.Call) else None
        if name is None:
            continue
        args = bind_arguments(call, DJANGO_OPERATION_PARAMS.get(name, ()))
        if name == "SeparateDatabaseAndState":
            yield from _django_operations(args.get("database_operations"), get_metadata)
            continue
        yield Operation(name, call, args, _django_model(name, args))


def django_operation_name(call: cst.Call, get_metadata: GetMetadata) -> str | None:
    for name in qualified_names(get_metadata, call.func):
        if name.startswith(DJANGO_OPERATION_MODULES):
            return name.rsplit(".", 1)[1]
    return None


def _django_model(name: str, args: Mapping[str, cst.BaseExpression]) -> str | None:
    params = DJANGO_OPERATION_PARAMS.get(name, ())
    for key in ("model_name", "old_name" if name == "RenameModel" else "name"):
        if key in params:
            model = literal_string(args.get(key))
            return model.lower() if model else None
    return None


@dataclass(frozen=True)
class FieldSpec:
    """A Django model field written in a migration: `models.CharField(max_length=10)`."""

    class_name: str
    call: cst.Call
    keywords: Mapping[str, cst.BaseExpression]

    def flag(self, name: str) -> bool | None:
        """A boolean option as written; None when absent or not a literal."""
        return literal_bool(self.keywords.get(name))


def django_field(node: cst.BaseExpression | None, get_metadata: GetMetadata) -> FieldSpec | None:
    """The field if `node` constructs one of Django's own field classes (others are unknown)."""
    if not isinstance(node, cst.Call):
        return None
    for name in qualified_names(get_metadata, node.func):
        if name.startswith("django."):
            keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
            return FieldSpec(name.rsplit(".", 1)[1], node, keywords)
    return None


def created_model_fields(operation: Operation) -> list[tuple[str, cst.BaseExpression]]:
    """The (name, field expression) pairs of a CreateModel's `fields` list."""
    listing = operation.arg("fields")
    pairs = []
    if isinstance(listing, (cst.List, cst.Tuple)):
        for element in listing.elements:
            pair = element.value
            if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                name = literal_string(pair.elements[0].value)
                if name is not None:
                    pairs.append((name, pair.elements[1].value))
    return pairs


def class_attributes(class_def: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    """Simple `name = value` assignments in a class body (the last one wins)."""
    attributes: dict[str, cst.BaseExpression] = {}
    body = class_def.body.body if isinstance(class_def.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            attributes[target.target.value] = small.value
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                    attributes[small.target.value] = small.value
    return attributes


# --- Alembic -----------------------------------------------------------------------------------


def read_alembic_migration(module: cst.Module, get_metadata: GetMetadata) -> AlembicMigration | None:
    upgrades: list[cst.FunctionDef] = []
    downgrade = None
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            name = statement.name.value
            if name == "upgrade" or name.startswith("upgrade_"):
                upgrades.append(statement)
            elif name == "downgrade":
                downgrade = statement
    operations: list[Operation] = []
    constants = module_string_constants(module)
    for function in upgrades:
        local = _bound_names(function)
        collector = _AlembicOperationCollector(get_metadata, {k: v for k, v in constants.items() if k not in local})
        function.body.visit(collector)
        operations.extend(collector.operations)
    if not operations:
        return None
    created = frozenset(op.table for op in operations if op.name == "create_table" and op.table)
    return AlembicMigration(tuple(upgrades), downgrade, tuple(operations), created)


def module_string_constants(module: cst.Module) -> dict[str, str]:
    """Module-level names bound exactly once, to a string literal: `table_name = "report"`."""
    values: dict[str, str | None] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                name = small.targets[0].target.value
                values[name] = literal_string(small.value) if name not in values else None
    return {name: value for name, value in values.items() if value is not None}


def _bound_names(function: cst.FunctionDef) -> set[str]:
    """Names a function binds itself (parameters, assignments, loop and `as` targets)."""
    binder = _NameBinder()
    function.visit(binder)
    return binder.names


class _NameBinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def _add(self, target: cst.CSTNode | None) -> None:
        if isinstance(target, cst.Name):
            self.names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add(element.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._add(node.name)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._add(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._add(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)


class _AlembicOperationCollector(cst.CSTVisitor):
    """Collects `op.*` and batch `batch_op.*` calls of one function body, in source order."""

    def __init__(self, get_metadata: GetMetadata, constants: Mapping[str, str]) -> None:
        super().__init__()
        self.get_metadata = get_metadata
        self.constants = constants
        self.operations: list[Operation] = []
        # One entry per enclosing `with`: (batch alias -> table, is an autocommit block).
        self.blocks: list[tuple[dict[str, str | None], bool]] = []

    def visit_With(self, node: cst.With) -> None:
        aliases: dict[str, str | None] = {}
        autocommit = False
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call):
                continue
            if self._op_name(call) == "batch_alter_table" and item.asname and isinstance(item.asname.name, cst.Name):
                aliases[item.asname.name.value] = self._string(_first_arg(call, "table_name"))
            autocommit = autocommit or _is_autocommit_block(call, self.get_metadata)
        self.blocks.append((aliases, autocommit))

    def leave_With(self, original_node: cst.With) -> None:
        self.blocks.pop()

    def visit_Call(self, node: cst.Call) -> None:
        name = self._op_name(node)
        if name is None and self._is_create_table_helper(node):
            table = self._string(_first_arg(node, "table_name"))
            self.operations.append(Operation("create_table", node, {}, table, via_helper=True))
            return
        if name in ALEMBIC_OPERATION_PARAMS:
            args = bind_arguments(node, ALEMBIC_OPERATION_PARAMS[name])
            table = next((self._string(args[p]) for p in ALEMBIC_TABLE_PARAMS if p in args), None)
            self._add(name, node, args, table)
            return
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return
        method = func.attr.value
        for aliases, _autocommit in reversed(self.blocks):
            if func.value.value in aliases and method in ALEMBIC_OPERATION_PARAMS:
                params = tuple(p for p in ALEMBIC_OPERATION_PARAMS[method] if p not in ALEMBIC_TABLE_PARAMS)
                self._add(method, node, bind_arguments(node, params), aliases[func.value.value])
                return

    def _add(self, name: str, call: cst.Call, args: dict[str, cst.BaseExpression], table: str | None) -> None:
        autocommit = any(flag for _aliases, flag in self.blocks)
        self.operations.append(Operation(name, call, args, table, autocommit))

    def _op_name(self, call: cst.Call) -> str | None:
        for name in qualified_names(self.get_metadata, call.func):
            if name.startswith("alembic.op."):
                return name[len("alembic.op.") :]
        return None

    def _is_create_table_helper(self, call: cst.Call) -> bool:
        """An imported `create_table(...)` of the project's own, taking the table name first."""
        names = qualified_names(self.get_metadata, call.func)
        return any(name.endswith(".create_table") and not name.startswith("sqlalchemy.") for name in names)

    def _string(self, node: cst.BaseExpression | None) -> str | None:
        """A string literal, or a module-level string constant's value. A dotted name stands for
        itself (`SqlWebhook.__tablename__`): its value is unknown, but the same text names the
        same table throughout one migration."""
        if isinstance(node, cst.Name):
            return self.constants.get(node.value)
        if isinstance(node, cst.Attribute):
            return dotted_name(node)
        return literal_string(node)


def _is_autocommit_block(call: cst.Call, get_metadata: GetMetadata) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "autocommit_block"
        and isinstance(func.value, cst.Call)
        and "alembic.op.get_context" in qualified_names(get_metadata, func.value.func)
    )


def _first_arg(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    positionals = positional_args(call)
    return positionals[0] if positionals else keyword_arg(call, keyword)


@dataclass(frozen=True)
class ColumnSpec:
    """A SQLAlchemy `Column(...)` in a migration: its name, options and schema items."""

    call: cst.Call
    name: str | None
    keywords: Mapping[str, cst.BaseExpression]
    items: frozenset[str]  # SQLAlchemy constructs passed positionally: ForeignKey, Identity, ...

    def flag(self, name: str) -> bool | None:
        return literal_bool(self.keywords.get(name))


def sqlalchemy_name(node: cst.BaseExpression, get_metadata: GetMetadata) -> str | None:
    """`sa.Column` -> "Column" when the name comes from SQLAlchemy (any submodule)."""
    target = node.func if isinstance(node, cst.Call) else node
    for name in qualified_names(get_metadata, target):
        if name.startswith("sqlalchemy."):
            return name.rsplit(".", 1)[1]
    return None


def alembic_sql_text(operation: Operation, get_metadata: GetMetadata) -> str | None:
    """The literal SQL of `op.execute("...")` or `op.execute(sa.text("..."))`; None otherwise."""
    node = operation.arg("sqltext")
    if isinstance(node, cst.Call) and sqlalchemy_name(node, get_metadata) == "text":
        arguments = positional_args(node)
        return literal_string(arguments[0]) if arguments else None
    return literal_string(node)


_SQL_INDEX = re.compile(
    r"""\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:[\w."]+\s+)?
        ON\s+(?:ONLY\s+)?(?P<table>[\w."]+)\s*(?:USING\s+\w+\s*)?\(\s*(?P<column>"[^"]+"|\w+)""",
    re.IGNORECASE | re.VERBOSE,
)


def sql_index_leads(sql: str) -> list[tuple[str, str]]:
    """(table, first column) of each `CREATE INDEX ... ON table (column, ...)` in raw SQL, outside
    comments and string literals, without the schema, as the database stores the names: quoted
    ones as written, others lowercased (`ON public."Order" (User_Id)` gives ("Order", "user_id"))."""
    return [
        (_identifier(match["table"].rsplit(".", 1)[-1]), _identifier(match["column"]))
        for match in _SQL_INDEX.finditer(mask_comments_and_literals(sql))
    ]


def _identifier(name: str) -> str:
    return name[1:-1] if len(name) > 1 and name[0] == name[-1] == '"' else name.lower()


SQLALCHEMY_STRINGS = frozenset({"String", "VARCHAR", "Unicode", "NVARCHAR"})
SQLALCHEMY_TEXTS = frozenset({"Text", "TEXT", "UnicodeText"})
_UNKNOWN_LENGTH = -1
_SOURCE = cst.Module([])  # renders a node's source text


def keeps_storage(old: cst.BaseExpression | None, new: cst.BaseExpression, get_metadata: GetMetadata) -> bool:
    """Whether `alter_column(existing_type=old, type_=new)` keeps the column's storage: the same
    type again, or varchar(n) -> text / unbounded varchar / varchar(m >= n) — no rewrite, and
    every value the previous release wrote still fits.

    Also true when it cannot be told: a string whose old length is not a literal may be
    widened or narrowed. An `existing_type` chosen by a condition keeps storage when every
    branch does.
    """
    if isinstance(old, cst.IfExp):
        return keeps_storage(old.body, new, get_metadata) and keeps_storage(old.orelse, new, get_metadata)
    if old is not None and _SOURCE.code_for_node(old) == _SOURCE.code_for_node(new):
        return True
    old_name = sqlalchemy_name(old, get_metadata) if old is not None else None
    new_name = sqlalchemy_name(new, get_metadata)
    if old_name not in SQLALCHEMY_STRINGS:
        return False
    if new_name in SQLALCHEMY_TEXTS:
        return True
    if new_name not in SQLALCHEMY_STRINGS:
        return False
    old_length, new_length = _string_length(old), _string_length(new)
    if _UNKNOWN_LENGTH in (old_length, new_length):
        return True
    return new_length is None or (old_length is not None and new_length >= old_length)


def _string_length(node: cst.BaseExpression) -> int | None:
    """The length of `sa.String(50)` / `sa.String(length=50)`: None for no length (or no call),
    _UNKNOWN_LENGTH when it is given but not a literal."""
    if not isinstance(node, cst.Call):
        return None
    arguments = positional_args(node)
    given = arguments[0] if arguments else keyword_arg(node, "length")
    if given is None:
        return None
    length = literal_int(given)
    return _UNKNOWN_LENGTH if length is None else length


def column_spec(node: cst.BaseExpression | None, get_metadata: GetMetadata) -> ColumnSpec | None:
    if not isinstance(node, cst.Call) or sqlalchemy_name(node, get_metadata) != "Column":
        return None
    positionals = positional_args(node)
    name = literal_string(positionals[0]) if positionals else None
    keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    items = frozenset(
        item for value in positionals if isinstance(value, cst.Call) and (item := sqlalchemy_name(value, get_metadata))
    )
    return ColumnSpec(node, name, keywords, items)


def table_columns(operation: Operation, get_metadata: GetMetadata) -> list[ColumnSpec]:
    """The columns an `op.create_table` defines (its positional arguments after the table name)."""
    if operation.via_helper:
        return []
    return [spec for value in positional_args(operation.call)[1:] if (spec := column_spec(value, get_metadata))]


def table_constructs(operation: Operation, get_metadata: GetMetadata) -> list[tuple[str, cst.Call]]:
    """The table-level constructs of an `op.create_table`: ("Index", call), ("UniqueConstraint", call)..."""
    if operation.via_helper:
        return []
    constructs = []
    for value in positional_args(operation.call)[1:]:
        if isinstance(value, cst.Call):
            name = sqlalchemy_name(value, get_metadata)
            if name and name != "Column":
                constructs.append((name, value))
    return constructs
