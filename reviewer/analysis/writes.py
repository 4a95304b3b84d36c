"""Database writes and the transaction boundaries around them, read from the syntax alone.

Rules about consistency — several writes that must succeed together, a failure swallowed
between a write and its commit, a connection left open — ask the same questions of a call:

- Does it write? `WriteFinder.write(call)` knows three kinds of writes:
  SQL that inserts, updates, deletes, merges, replaces or upserts, sent through a query call
  (`sql.query_sink`, the text read by `strings.StringEvaluator`, also inside `text(...)`), and
  SQLAlchemy Core `insert()`/`update()`/`delete()` constructs passed to `execute()`;
  the Django ORM: `obj.save()`, `obj.delete()` and `create/update/delete/bulk_create/
  bulk_update/update_or_create/get_or_create` (and a user manager's `create_user`) on a manager
  or queryset reached from `.objects`;
  SQLAlchemy sessions: `add/add_all/delete/merge` (sent at the next flush) and
  `session.query(...).update()/.delete()`.
  Each write has a `WriteFamily`: how its library groups statements into transactions when
  the code opens none, which is what decides whether two writes can be half done.
  Not Django writes: `.delete()` on a file field (`export.file`) or on a boto3-style object a
  local builds (`s3.Object(...)`); a `….query(...).delete()` chain, which is SQLAlchemy's
  (a write only when its session is recognised as one).
- Which row does a Django write change? `written_row(write)`: two writes of one row leave no
  second row out of step.
- Does it delimit a transaction? `transaction_block(expression)` for with-items and
  decorators whose body runs in one transaction (`transaction.atomic()`, `session.begin()`,
  `conn.transaction()`, `with conn:` …); `transaction_call(call)` for commit, rollback and
  explicit begins; `autocommit_switch`/`opens_in_autocommit` for connections that commit
  every statement alone; `atomic_requests(path, read)` for Django's ATOMIC_REQUESTS setting.

Recognising a transaction too eagerly only hides findings, so those checks are generous
(any `*.atomic()` or `@transactional`); recognising a write or an autocommit connection
creates findings, so those need the library by qualified name or receiver tracing.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst
from libcst.metadata import GlobalScope

from reviewer.analysis.bindings import BindingKind, bindings_of
from reviewer.analysis.calls import keyword_arg, literal_bool, positional_args
from reviewer.analysis.dialect import RepoFileReader, django_settings_texts
from reviewer.analysis.facts import ModuleFacts
from reviewer.analysis.paths import is_migration_path, is_test_path
from reviewer.analysis.routes import RouteIndex
from reviewer.analysis.sql import imported_libraries, library_for, query_sink, receiver_origins
from reviewer.analysis.sqltext import looks_like_statement
from reviewer.analysis.strings import Kind, StringEvaluator

_CODE = cst.Module([])
MAX_HOPS = 8


class WriteFamily(enum.Enum):
    """How a library groups a write with the statements around it when no transaction is opened."""

    DJANGO = "django"  # ORM and django.db cursors: autocommit, every query commits on its own
    ASYNCPG = "asyncpg"  # autocommit outside `conn.transaction()`
    SQLALCHEMY_ENGINE = "sqlalchemy-engine"  # Engine.execute() (1.x only): each DML statement commits alone
    SQLALCHEMY_SESSION = "sqlalchemy-session"  # one transaction from the first statement to commit()
    SQLALCHEMY_CONNECTION = "sqlalchemy-connection"  # 2.0 like a session; 1.x autocommits DML: not known here
    DBAPI = "dbapi"  # PEP 249 drivers: one implicit transaction until commit(), unless autocommit is on


@dataclass(frozen=True, eq=False)
class Write:
    call: cst.Call
    family: WriteFamily
    api: str  # how messages name it: "cur.execute(INSERT …)", "order.save()", "Order.objects.create()"
    # The connection or session it goes through (a cursor's connection), and that expression's
    # text; None for the Django ORM, which uses the project's default database.
    connection: cst.BaseExpression | None
    connection_key: str | None


SQL_METHODS = frozenset({"execute", "executemany", "executescript", "fetch", "fetchrow", "fetchval", "exec_driver_sql"})
SESSION_METHODS = frozenset({"add", "add_all", "delete", "merge"})
QUERY_WRITE_METHODS = frozenset({"update", "delete"})
MODEL_METHODS = frozenset({"save", "delete"})
MANAGER_METHODS = frozenset(
    {
        "create",
        "update",
        "delete",
        "bulk_create",
        "bulk_update",
        "update_or_create",
        "get_or_create",
        "create_user",
        "create_superuser",
    }
)
MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})
WRITE_METHODS = SQL_METHODS | SESSION_METHODS | MODEL_METHODS | MANAGER_METHODS

# SQLAlchemy Core statement constructors (the dialects' inserts add ON CONFLICT / DUPLICATE KEY).
CORE_WRITES = {
    **{f"sqlalchemy.{verb}": verb.upper() for verb in ("insert", "update", "delete")},
    **{f"sqlalchemy.sql.{verb}": verb.upper() for verb in ("insert", "update", "delete")},
    **{f"sqlalchemy.sql.expression.{verb}": verb.upper() for verb in ("insert", "update", "delete")},
    **{f"sqlalchemy.dialects.{db}.insert": "INSERT" for db in ("postgresql", "mysql", "sqlite")},
}
SESSION_ORIGINS = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
        "sqlalchemy.ext.asyncio.async_scoped_session",
    }
)
ENGINE_ORIGINS = frozenset(
    {"sqlalchemy.create_engine", "sqlalchemy.engine.create_engine", "sqlalchemy.engine.create.create_engine"}
)
ENGINE_TYPES = frozenset({"sqlalchemy.Engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"})
# Libraries whose sessions are SQLAlchemy sessions; objects from these others are not.
SESSION_LIBRARIES = ("sqlalchemy", "flask_sqlalchemy", "sqlmodel")
OTHER_SESSIONS = ("requests", "httpx", "aiohttp", "urllib3", "boto3", "botocore", "flask", "tensorflow", "neo4j")
# Modules whose presence says `obj.save()` is something else than a Django model's.
OTHER_ORMS = (
    "sqlalchemy",
    "flask_sqlalchemy",
    "sqlmodel",
    "peewee",
    "mongoengine",
    "beanie",
    "tortoise",
    "pony",
    "odmantic",
)

SESSION_NAME = re.compile(r"session$", re.IGNORECASE)
CONNECTION_NAME = re.compile(r"(?:^|_)(?:conn|connection|con|cnx|db)$", re.IGNORECASE)
_LEADING_WORD = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*([A-Za-z]+)", re.DOTALL)
_EMBEDDED_WRITE = re.compile(
    r"\b(insert\s+into|update\s+[\w.\"`\[\]]+\s+set|delete\s+from|merge\s+into)\b", re.IGNORECASE
)
_WRITE_VERBS = ("insert", "update", "delete", "merge", "replace", "upsert")


_DATABASE_HINT = re.compile(
    # an import of a database library, an ORM, or an app's own models module ...
    r"^\s*(?:from|import)\s+[\w.]*(?:sqlite3|psycopg|asyncpg|pymysql|MySQLdb|mysql|sqlalchemy|sqlmodel|django|"
    r"rest_framework|models|aiosqlite|peewee)\b"
    # ... or a call only database code makes
    r"|\.objects\.|\.execute(?:many|script)?\s*\(|\.fetch(?:row|val)?\s*\(|\bsession\.(?:add|delete|merge|commit|flush)\b",
    re.MULTILINE,
)


def mentions_database(source: str) -> bool:
    """A cheap text check for rules' `should_run`: a file with none of these words cannot hold a
    write, a commit or a transaction this module recognises (`.add()`/`.update()` alone are
    sets and dicts, `commit()` alone may be git's)."""
    return _DATABASE_HINT.search(source) is not None


class WriteFinder:
    """Recognises the writes of one module; build one per rule instance."""

    def __init__(self, facts: ModuleFacts, strings: StringEvaluator | None = None) -> None:
        self.facts = facts
        self.strings = strings or StringEvaluator(facts)

    def write(self, call: cst.Call) -> Write | None:
        if not isinstance(call.func, cst.Attribute):
            return None
        method = call.func.attr.value
        if method not in WRITE_METHODS:
            return None
        receiver = call.func.value
        if method in SQL_METHODS:
            return self._sql_write(call, method)
        if method in SESSION_METHODS and positional_args(call) and is_sqlalchemy_session(receiver, self.facts):
            return self._write(call, WriteFamily.SQLALCHEMY_SESSION, receiver)
        if method in QUERY_WRITE_METHODS and self._session_query(receiver):
            return self._write(call, WriteFamily.SQLALCHEMY_SESSION, _query_session(receiver))
        if self._django_write(call, method):
            return Write(call, WriteFamily.DJANGO, call_text(call), None, None)
        return None

    def statement_verb(self, expression: cst.BaseExpression, *, script: bool = False) -> str | None:
        """INSERT, UPDATE, DELETE, MERGE, REPLACE or UPSERT when the statement writes; else None.

        `expression` is SQL text, `text("...")`, or a SQLAlchemy Core construct (`insert(t)...`),
        directly or through a local name; `script` reads every statement of an executescript().
        """
        verb = _core_verb(expression, self.facts, 0)
        if verb is not None:
            return verb
        if isinstance(expression, cst.Call):
            sink = query_sink(expression, self.facts)
            if sink is not None and sink.method is None and sink.family == "sqlalchemy":  # text("...")
                return self.statement_verb(sink.sql[0], script=script) if sink.sql else None
        value = self.strings.evaluate(expression)
        if not value.is_text or not looks_like_statement(value.text):
            return None
        return sql_write_verb(value.text, script=script)

    def _sql_write(self, call: cst.Call, method: str) -> Write | None:
        sink = query_sink(call, self.facts)
        if sink is None or sink.method is None or not sink.sql:
            return None
        verb = self.statement_verb(sink.sql[0], script=method == "executescript")
        if verb is None:
            return None
        receiver = call.func.value
        library = sink.library
        if is_sqlalchemy_session(receiver, self.facts):
            family = WriteFamily.SQLALCHEMY_SESSION
        elif is_sqlalchemy_engine(receiver, self.facts):
            family = WriteFamily.SQLALCHEMY_ENGINE
        elif library is None or library.family == "dbapi":
            family = WriteFamily.DBAPI
        elif library.family == "asyncpg":
            family = WriteFamily.ASYNCPG
        elif library.family == "django":
            family = WriteFamily.DJANGO
        else:
            family = WriteFamily.SQLALCHEMY_CONNECTION
        return self._write(call, family, receiver, f"{call_text(call)[:-1]}{verb} …)")

    def _write(self, call: cst.Call, family: WriteFamily, receiver: cst.BaseExpression, api: str = "") -> Write:
        connection = connection_of(receiver, self.facts)
        return Write(call, family, api or call_text(call), connection, connection_key(connection))

    def _session_query(self, receiver: cst.BaseExpression) -> bool:
        session = _query_session(receiver)
        return session is not None and is_sqlalchemy_session(session, self.facts)

    def _django_write(self, call: cst.Call, method: str) -> bool:
        receiver = call.func.value
        if _query_session(receiver) is not None:
            return False  # `db.session.query(User).delete()`: a SQLAlchemy Query, never a QuerySet
        if method in MODEL_METHODS and not positional_args(call):
            flag = keyword_arg(call, "commit" if method == "save" else "save")
            if literal_bool(flag) is False:
                return False  # form.save(commit=False), field_file.delete(save=False): no query
            if method == "delete" and _is_field_file(receiver):
                return False  # removes a stored file, which no database transaction covers
            return (
                self._django_module(call)
                and not _from_module_object(receiver, self.facts)
                and not _library_object(receiver, self.facts)
            )
        return (
            method in MANAGER_METHODS and _through_manager(call.func.value, self.facts, 0) and self._django_module(call)
        )

    def _django_module(self, node: cst.CSTNode) -> bool:
        """Django is imported here — or a `models` module is and no other ORM is."""
        imports = self.facts.visible_imports(node)
        tops = {name.lstrip(".").split(".")[0] for name in imports}
        if tops & {"django", "rest_framework"}:
            return True
        return any("models" in name.split(".") for name in imports) and not tops & set(OTHER_ORMS)


def sql_write_verb(text: str, *, script: bool = False) -> str | None:
    """The writing verb of SQL text (`WITH … INSERT` included); a script: of any statement."""
    word = _LEADING_WORD.match(text)
    first = word.group(1).lower() if word else ""
    if first in _WRITE_VERBS:
        return first.upper()
    if first == "with" or script:
        embedded = _EMBEDDED_WRITE.search(text)
        return embedded.group(1).split()[0].upper() if embedded else None
    return None


def _core_verb(expression: cst.BaseExpression, facts: ModuleFacts, hops: int) -> str | None:
    """`insert(User).values(...)`, `users.update().where(...)`, `stmt` bound to one of them."""
    node = expression
    while hops <= MAX_HOPS:
        hops += 1
        if isinstance(node, cst.Name):
            bindings = bindings_of(node, facts)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.VALUE:
                return None
            node = bindings[0].expression
            continue
        if not isinstance(node, cst.Call):
            return None
        for name in facts.qualified_names(node.func):
            if name in CORE_WRITES:
                return CORE_WRITES[name]
        if not isinstance(node.func, cst.Attribute):
            return None
        if (
            node.func.attr.value in ("insert", "update", "delete")
            and not positional_args(node)
            and _is_table(node.func.value)
        ):
            return node.func.attr.value.upper()
        node = node.func.value  # a generative method: .values(), .where(), .returning() …
    return None


def _is_table(receiver: cst.BaseExpression) -> bool:
    """`users.insert()`, `User.__table__.update()`: a Table, not a list or a chain being built."""
    return isinstance(receiver, (cst.Name, cst.Attribute))


def _through_manager(expression: cst.BaseExpression, facts: ModuleFacts, hops: int) -> bool:
    """The expression is a Django manager or queryset: `Model.objects…`, also through local names."""
    node = expression
    while hops <= MAX_HOPS:
        hops += 1
        if isinstance(node, cst.Attribute):
            if node.attr.value in MANAGER_ATTRIBUTES:
                return True
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Name):
            values = [b.expression for b in bindings_of(node, facts) if b.kind is BindingKind.VALUE and b.same_function]
            return any(_through_manager(value, facts, hops) for value in values)
        else:
            return False
    return False


def _from_module_object(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """The object comes from a module imported whole (`boto3.resource(...).Object(...)`, also
    through a local name): a library's object, not a model, which comes from `from … import`."""
    root = root_name(expression)
    for _ in range(MAX_HOPS):
        if root is None:
            return False
        bindings = bindings_of(root, facts)
        if any(isinstance(b.assignment.node, cst.Import) for b in bindings if b.kind is BindingKind.IMPORT):
            return True
        values = [b.expression for b in bindings if b.kind is BindingKind.VALUE and b.same_function]
        if len(values) != 1:
            return False
        root = root_name(values[0])
    return False


# Attribute names that hold a Django FieldFile (FileField, ImageField), whose delete() removes a file.
_FIELD_FILE_NAME = re.compile(r"(?:^|_)(?:file|image|photo|picture|avatar|thumbnail)$", re.IGNORECASE)


def _is_field_file(receiver: cst.BaseExpression) -> bool:
    """`export.file`, `self.avatar`: a model's file field, going by the attribute's name."""
    return isinstance(receiver, cst.Attribute) and _FIELD_FILE_NAME.search(receiver.attr.value) is not None


def _library_object(receiver: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """`s3.Object(bucket, key)`: an object a local or a parameter builds with a factory method
    (boto3's resources), not a model, whose class is imported or defined here (`Order(...)`,
    `models.Order(...)`)."""
    if not (isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute)):
        return False
    if not receiver.func.attr.value[:1].isupper():
        return False
    root = root_name(receiver.func.value)
    if root is None:
        return True
    return not any(binding.kind is BindingKind.IMPORT for binding in bindings_of(root, facts))


def _query_session(receiver: cst.BaseExpression) -> cst.BaseExpression | None:
    """The session of `session.query(User).filter(...)` (the receiver of the chain's `.query()`)."""
    node = receiver
    for _ in range(MAX_HOPS):
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            return None
        if node.func.attr.value == "query":
            return node.func.value
        node = node.func.value
    return None


# -- what an object is ------------------------------------------------------------------------


def is_sqlalchemy_session(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """A SQLAlchemy session: traced to Session/sessionmaker/AsyncSession, or — untraced — named
    like one (`session`, `db.session`, `self.db_session`) where SQLAlchemy, Flask-SQLAlchemy or
    SQLModel is imported and nothing binds it to another library's session."""
    origins = receiver_origins(expression, facts)
    if origins:
        return bool(origins & SESSION_ORIGINS)
    name = last_identifier(expression)
    if name is None or not SESSION_NAME.search(name):
        return False
    if not any(imported.split(".")[0] in SESSION_LIBRARIES for imported in facts.visible_imports(expression)):
        return False
    return not _bound_to_other_session(expression, facts)


def _bound_to_other_session(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    root = root_name(expression)
    if root is None:
        return False
    names = set(facts.qualified_names(root))
    for binding in bindings_of(root, facts):
        value = binding.expression
        if binding.kind is BindingKind.VALUE and isinstance(value, cst.Call):
            names |= facts.qualified_names(value.func)
    return any(name.split(".")[0] in OTHER_SESSIONS for name in names)


def is_sqlalchemy_engine(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """A name bound to `create_engine(...)` or a parameter annotated `Engine`."""
    if not isinstance(expression, cst.Name):
        return False
    for binding in bindings_of(expression, facts):
        value = _unawaited(binding.expression) if binding.expression is not None else None
        if (
            binding.kind is BindingKind.VALUE
            and isinstance(value, cst.Call)
            and facts.qualified_names(value.func) & ENGINE_ORIGINS
        ):
            return True
        if binding.kind is BindingKind.PARAMETER and value is not None and facts.qualified_names(value) & ENGINE_TYPES:
            return True
    return False


def is_database_object(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """A connection, cursor, session or transaction: traced to a database library, a SQLAlchemy
    session, a transaction object (`tr = conn.transaction()`, `trans = conn.begin()`), or named
    like a connection (`conn`, `db`, `self.connection`) where a database library is imported."""
    if receiver_origins(expression, facts) or is_sqlalchemy_session(expression, facts):
        return True
    if isinstance(expression, cst.Name) and any(
        _is_transaction_start(_unawaited(binding.expression))
        for binding in bindings_of(expression, facts)
        if binding.kind is BindingKind.VALUE
    ):
        return True
    name = last_identifier(expression)
    if name is None or not CONNECTION_NAME.search(name):
        return False
    return bool(imported_libraries(expression, facts)) or any(
        imported.split(".")[0] in SESSION_LIBRARIES for imported in facts.visible_imports(expression)
    )


def _is_transaction_start(value: cst.BaseExpression | None) -> bool:
    return (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value in ("transaction", "begin", "begin_nested")
    )


def connection_of(receiver: cst.BaseExpression, facts: ModuleFacts) -> cst.BaseExpression:
    """The connection a cursor comes from (`cur` ← `conn.cursor()`, `cur.connection`); other
    receivers are their own connection."""
    node = receiver
    for _ in range(MAX_HOPS):
        node = _unawaited(node)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "cursor":
            node = node.func.value
        elif isinstance(node, cst.Attribute) and node.attr.value == "connection":
            node = node.value
        elif isinstance(node, cst.Name):
            bindings = bindings_of(node, facts)
            if len(bindings) != 1 or bindings[0].kind not in (BindingKind.VALUE, BindingKind.CONTEXT):
                return node
            value = _unawaited(bindings[0].expression)
            if not (
                isinstance(value, cst.Call)
                and isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "cursor"
            ):
                return node
            node = value
        else:
            return node
    return node


def connection_key(expression: cst.BaseExpression | None) -> str | None:
    """Text that names a connection within a function (`conn`, `self.db`); None for calls."""
    if isinstance(expression, (cst.Name, cst.Attribute)):
        return _CODE.code_for_node(expression)
    return None


def is_module_level(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """A plain name all of whose assignments are at module level: one object shared by every call."""
    if not isinstance(expression, cst.Name):
        return False
    bindings = bindings_of(expression, facts)
    return bool(bindings) and all(
        binding.kind is BindingKind.VALUE and isinstance(binding.assignment.scope, GlobalScope) for binding in bindings
    )


# -- which row a write changes ----------------------------------------------------------------

# Writes that return the one instance they wrote: a manager's create()/get_or_create() (this
# one with a flag), a form's or a serializer's save().
_INSTANCE_RETURNING = frozenset(
    {"create", "get_or_create", "update_or_create", "create_user", "create_superuser", "save"}
)
_QUERYSET_WRITES = frozenset({"update", "delete"})


def written_row(write: Write, facts: ModuleFacts) -> str | None:
    """Text naming the row(s) a Django ORM write changes, so that two writes of the same row are
    told from writes of two rows: the instance for `obj.save()`/`obj.delete()` (`self` for
    `super().save()`), the name a `create()`/`get_or_create()`/`form.save()` result is assigned
    to, the queryset for `Model.objects.filter(pk=pk).update(...)`. None when not known
    (`bulk_create()`, a `create()` whose result is not kept, other libraries' writes)."""
    if write.family is not WriteFamily.DJANGO or not isinstance(write.call.func, cst.Attribute):
        return None
    method = write.call.func.attr.value
    receiver = write.call.func.value
    if method in _INSTANCE_RETURNING:
        assigned = _assigned_instance(write.call, facts)
        if assigned is not None:
            return assigned
    if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super":
        return "self"
    if method in MODEL_METHODS and isinstance(receiver, (cst.Name, cst.Attribute)) and not _is_manager(receiver):
        return _CODE.code_for_node(receiver)
    if method in _QUERYSET_WRITES and not _is_manager(receiver):
        return _CODE.code_for_node(receiver)
    return None


def _assigned_instance(call: cst.Call, facts: ModuleFacts) -> str | None:
    """`order` of `order = ...create(...)` and of `order, created = ...get_or_create(...)`."""
    statement = facts.parent(call)
    if not isinstance(statement, cst.Assign) or len(statement.targets) != 1:
        return None
    target = statement.targets[0].target
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements:
        target = target.elements[0].value
    return target.value if isinstance(target, cst.Name) else None


def _is_manager(expression: cst.BaseExpression) -> bool:
    """`Order.objects`: every row of the table, not one instance or one filtered queryset."""
    return isinstance(expression, cst.Attribute) and expression.attr.value in MANAGER_ATTRIBUTES


# -- transactions -----------------------------------------------------------------------------


class TransactionEvent(enum.Enum):
    BEGIN = "begin"
    COMMIT = "commit"
    ROLLBACK = "rollback"


@dataclass(frozen=True, eq=False)
class TransactionCall:
    call: cst.Call
    event: TransactionEvent
    api: str
    connection: cst.BaseExpression | None
    connection_key: str | None  # "django" for django.db.transaction's functions


DJANGO_TRANSACTION = "django.db.transaction"
DJANGO_ATOMIC = "django.db.transaction.atomic"
_BLOCK_CALLEES = re.compile(r"atomic|transaction|^begin(?:_nested)?$", re.IGNORECASE)
_SQL_EVENTS = {
    "begin": TransactionEvent.BEGIN,
    "start": TransactionEvent.BEGIN,
    "commit": TransactionEvent.COMMIT,
    "end": TransactionEvent.COMMIT,
    "rollback": TransactionEvent.ROLLBACK,
}


def transaction_block(expression: cst.BaseExpression, facts: ModuleFacts) -> str | None:
    """How messages name the transaction when `expression` — a with-item or a decorator — runs
    its body in one: `transaction.atomic()`, `session.begin()`, `engine.begin()`,
    `Session.begin()`, `begin_nested()`, `conn.transaction()` (psycopg 3, asyncpg), `with conn:`
    (sqlite3, psycopg2), `with psycopg2.connect(...)`, and any `*atomic*`/`*transaction*`
    callee (`@transactional`, `db.atomic()`) except Django's `non_atomic_requests`."""
    callee = expression.func if isinstance(expression, cst.Call) else expression
    name = last_identifier(callee)
    if DJANGO_ATOMIC in facts.qualified_names(callee) or (
        name is not None and _BLOCK_CALLEES.search(name) and "non_atomic" not in name
    ):
        return call_text(expression) if isinstance(expression, cst.Call) else _CODE.code_for_node(expression)
    if isinstance(expression, cst.Call):
        library = _connect_library(expression, facts)
        if library in ("sqlite3", "psycopg2", "psycopg", "aiosqlite"):
            return f"with {call_text(expression)}"
        return None
    if isinstance(expression, (cst.Name, cst.Attribute)) and _is_connection(expression, facts):
        return f"with {_CODE.code_for_node(expression)}"
    return None


def _is_connection(expression: cst.BaseExpression, facts: ModuleFacts) -> bool:
    libraries = {library_for(name) for name in receiver_origins(expression, facts)}
    if any(library is not None and library.family == "dbapi" for library in libraries):
        return True
    name = last_identifier(expression)
    return not libraries and name is not None and bool(CONNECTION_NAME.search(name))


def _connect_library(call: cst.Call, facts: ModuleFacts) -> str | None:
    """The DB-API library whose connect function `call` calls (`sqlite3.connect(...)`)."""
    for name in facts.qualified_names(call.func):
        library = library_for(name)
        if library is not None and library.family in ("dbapi", "asyncpg") and name.rsplit(".", 1)[-1] == "connect":
            return library.name
    return None


def transaction_call(call: cst.Call, facts: ModuleFacts, strings: StringEvaluator) -> TransactionCall | None:
    """commit(), rollback() and explicit begins: `conn.commit()`, `transaction.set_rollback(True)`,
    `transaction.set_autocommit(False)`, `conn.begin()`/`conn.transaction()` outside a with,
    `cur.execute("BEGIN")`. The caller decides whether a begin stands in a with-item."""
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    receiver = call.func.value
    django = DJANGO_TRANSACTION in facts.qualified_names(receiver)
    if method in ("commit", "rollback") and not call.args:
        event = TransactionEvent.COMMIT if method == "commit" else TransactionEvent.ROLLBACK
        return _transaction_call(call, event, receiver, facts, django)
    if django and method in ("set_rollback", "set_autocommit") and positional_args(call):
        flag = literal_bool(positional_args(call)[0])
        if method == "set_rollback" and flag is not False:
            return _transaction_call(call, TransactionEvent.ROLLBACK, receiver, facts, django)
        if method == "set_autocommit" and flag is False:
            return _transaction_call(call, TransactionEvent.BEGIN, receiver, facts, django)
        return None
    if method in ("begin", "begin_nested", "transaction") and not positional_args(call):
        return _transaction_call(call, TransactionEvent.BEGIN, receiver, facts, django)
    if method in SQL_METHODS:
        sink = query_sink(call, facts)
        value = strings.evaluate(sink.sql[0]) if sink is not None and sink.sql else None
        if value is not None and value.kind is Kind.TEXT:
            words = value.text.strip().rstrip(";").split()
            event = _SQL_EVENTS.get(words[0].lower()) if words and len(words) <= 3 else None
            if event is not None and (
                words[0].lower() != "start" or [w.lower() for w in words[1:2]] == ["transaction"]
            ):
                return _transaction_call(call, event, receiver, facts, django)
    return None


def _transaction_call(
    call: cst.Call, event: TransactionEvent, receiver: cst.BaseExpression, facts: ModuleFacts, django: bool
) -> TransactionCall:
    if django:
        return TransactionCall(call, event, call_text(call), None, "django")
    connection = connection_of(receiver, facts)
    return TransactionCall(call, event, call_text(call), connection, connection_key(connection))


def autocommit_switch(node: cst.CSTNode) -> cst.BaseExpression | None:
    """The connection a statement turns autocommit on for: `conn.autocommit = True`,
    `conn.isolation_level = None` (sqlite3), `conn.set_session(autocommit=True)`,
    `conn.autocommit(True)`, `await conn.set_autocommit(True)`,
    `conn.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)`."""
    if isinstance(node, cst.Assign) and len(node.targets) == 1:
        target = node.targets[0].target
        if isinstance(target, cst.Attribute):
            if target.attr.value == "autocommit" and literal_bool(node.value) is True:
                return target.value
            if (
                target.attr.value == "isolation_level"
                and isinstance(node.value, cst.Name)
                and node.value.value == "None"
            ):
                return target.value
        return None
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return None
    method = node.func.attr.value
    arguments = positional_args(node)
    first = arguments[0] if arguments else None
    if method == "set_session" and literal_bool(keyword_arg(node, "autocommit")) is True:
        return node.func.value
    if method in ("autocommit", "set_autocommit") and literal_bool(first) is True:
        return node.func.value
    if method == "set_isolation_level" and first is not None:
        level = last_identifier(first)
        if (level or "").endswith("AUTOCOMMIT") or (isinstance(first, cst.Integer) and first.value == "0"):
            return node.func.value
    return None


def opens_in_autocommit(connection: cst.BaseExpression | None, facts: ModuleFacts) -> bool:
    """The connection was opened with `autocommit=True` or sqlite3's `isolation_level=None`."""
    if not isinstance(connection, cst.Name):
        return False
    for binding in bindings_of(connection, facts):
        value = _unawaited(binding.expression) if binding.expression is not None else None
        if binding.kind not in (BindingKind.VALUE, BindingKind.CONTEXT) or not isinstance(value, cst.Call):
            continue
        if _connect_library(value, facts) is None:
            continue
        isolation = keyword_arg(value, "isolation_level")
        if literal_bool(keyword_arg(value, "autocommit")) is True or (
            isinstance(isolation, cst.Name) and isolation.value == "None"
        ):
            return True
    return False


# -- code that runs in a transaction by convention ---------------------------------------------


def transactional_by_convention(path: str) -> bool:
    """Tests and migrations: Django's TestCase and pytest-django run each test in a transaction
    that is rolled back, and Django and Alembic run each migration in one (on PostgreSQL and
    SQLite), so several writes there are atomic without a transaction in sight."""
    return is_test_path(path) or is_migration_path(path)


# -- Django requests --------------------------------------------------------------------------

_ATOMIC_REQUESTS = re.compile(r"""\bATOMIC_REQUESTS\b["']?\s*(?:\]\s*=|:|=)\s*([\w.]+)""")
NON_ATOMIC_REQUESTS = "django.db.transaction.non_atomic_requests"


def atomic_requests(path: str, read_repo_file: RepoFileReader) -> bool:
    """Whether the project's Django settings (found from manage.py, nearest folder first) turn
    ATOMIC_REQUESTS on. Any value but a literal False counts: `env.bool(...)` may be True."""
    for folder in PurePosixPath(path).parents:
        texts = django_settings_texts(folder, read_repo_file)
        if texts:
            return any(match.group(1) != "False" for text in texts for match in _ATOMIC_REQUESTS.finditer(text))
    return False


# Classes whose methods run while a view handles a request: DRF serializers, Django forms.
REQUEST_TIME_BASES = ("rest_framework.serializers.", "django.forms.", "django.contrib.auth.forms.")


def runs_in_django_request(function: cst.FunctionDef, routes: RouteIndex, facts: ModuleFacts) -> bool:
    """A Django or DRF view, or a method of a view class (`perform_create`, `form_valid`; the
    class may derive from the view class through classes of this file), of a DRF serializer or
    of a Django form (`create`, `save`), not marked `@non_atomic_requests`: the code that
    ATOMIC_REQUESTS wraps in a transaction."""
    if any(NON_ATOMIC_REQUESTS in facts.qualified_names(_decorator_callee(d.decorator)) for d in function.decorators):
        return False
    route = routes.route_info(function)
    if route is not None:
        return route.framework in ("django", "drf")
    owner = facts.parent(facts.parent(function) or function)
    if not isinstance(owner, cst.ClassDef):
        return False
    if routes.view_class_framework(owner) in ("django", "drf"):
        return True
    return any(
        name.startswith(REQUEST_TIME_BASES) for base in owner.bases for name in facts.qualified_names(base.value)
    )


def _decorator_callee(decorator: cst.BaseExpression) -> cst.BaseExpression:
    return decorator.func if isinstance(decorator, cst.Call) else decorator


# -- small syntax helpers ---------------------------------------------------------------------


def call_text(call: cst.Call) -> str:
    """A short name for a call: `cur.execute()`, `Order.objects.filter(…).update()`."""
    text = f"{_callee_text(call.func)}()"
    return text if len(text) <= 60 else "…" + text[-59:]


def _callee_text(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_callee_text(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return f"{_callee_text(node.func)}(…)" if node.args else f"{_callee_text(node.func)}()"
    if isinstance(node, cst.Subscript):
        return f"{_callee_text(node.value)}[…]"
    if isinstance(node, cst.Await):
        return _callee_text(node.expression)
    return "…"


def last_identifier(expression: cst.BaseExpression) -> str | None:
    """`conn` of `conn`, `session` of `db.session`; None for calls and other expressions."""
    if isinstance(expression, cst.Name):
        return expression.value
    if isinstance(expression, cst.Attribute):
        return expression.attr.value
    return None


def root_name(expression: cst.BaseExpression) -> cst.Name | None:
    """`db` of `db.session.query(...)`."""
    node = expression
    while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node if isinstance(node, cst.Name) else None


def _unawaited(expression: cst.BaseExpression | None) -> cst.BaseExpression | None:
    return expression.expression if isinstance(expression, cst.Await) else expression
