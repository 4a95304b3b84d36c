"""Query sinks: which calls send SQL text to a database, through which library, and which of
their arguments is the SQL.

Function-style sinks (`sqlalchemy.text`, `pandas.read_sql`, Django's `RawSQL`) are recognised by
qualified name, so aliases work (`from sqlalchemy import text as t`, `import pandas as pd`).
Method-style sinks (`cur.execute`, `conn.fetch`, `Model.objects.raw`) are recognised by method
name; their receiver is traced through local assignments (`cur = conn.cursor()`,
`conn = sqlite3.connect(...)`, `with connection.cursor() as cur`) to a known library when it
can be. A method sink whose receiver could not be traced is `confirmed=False`: callers must
then require the SQL text to look like SQL (see `sqltext`), because `.execute()` is also a task
runner's, a thread pool's, a GraphQL client's method.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import libcst as cst

from reviewer.analysis.bindings import BindingKind, bindings_of
from reviewer.analysis.facts import ModuleFacts

MAX_TRACE = 8
_TRACED_BINDINGS = (BindingKind.VALUE, BindingKind.CONTEXT, BindingKind.PARAMETER)


class Paramstyle(enum.Enum):
    """Placeholder styles (PEP 249 names; `$1` is asyncpg's), each writing the n-th value (1-based)."""

    QMARK = "qmark"  # ... WHERE id = ?
    FORMAT = "format"  # ... WHERE id = %s
    NUMERIC_DOLLAR = "numeric_dollar"  # ... WHERE id = $1 (asyncpg, PostgreSQL's own style)

    def placeholder(self, position: int) -> str:
        return {"qmark": "?", "format": "%s", "numeric_dollar": f"${position}"}[self.value]


class ParameterPassing(enum.Enum):
    SEQUENCE = "sequence"  # cur.execute(sql, (a, b))
    ARGUMENTS = "arguments"  # conn.fetch(sql, a, b)


@dataclass(frozen=True)
class Library:
    """A database library: the modules that identify it and how its query calls take values."""

    name: str
    modules: tuple[str, ...]
    family: str  # "dbapi", "asyncpg", "sqlalchemy", "django", "pandas"
    sink_methods: frozenset[str] = frozenset()
    paramstyle: Paramstyle | None = None  # None: depends on the driver underneath
    passing: ParameterPassing = ParameterPassing.SEQUENCE
    # Methods taking (sql, parameters) in `paramstyle`: where a fix may add parameters.
    parameter_methods: frozenset[str] = frozenset()
    # Format paramstyle: whether, once parameters are passed, the driver reads `%%` as `%`
    # (mysql.connector passes `%%` through as it is).
    unescapes_percent: bool = True

    def owns(self, dotted_name: str) -> bool:
        return any(dotted_name == module or dotted_name.startswith(module + ".") for module in self.modules)


_DBAPI = frozenset({"execute", "executemany"})
_SQLITE = _DBAPI | {"executescript"}
_ASYNCPG = frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval"})

LIBRARIES: tuple[Library, ...] = (
    Library("sqlite3", ("sqlite3",), "dbapi", _SQLITE, Paramstyle.QMARK, parameter_methods=frozenset({"execute"})),
    Library("aiosqlite", ("aiosqlite",), "dbapi", _SQLITE, Paramstyle.QMARK, parameter_methods=frozenset({"execute"})),
    Library("psycopg2", ("psycopg2",), "dbapi", _DBAPI, Paramstyle.FORMAT, parameter_methods=frozenset({"execute"})),
    Library("psycopg", ("psycopg",), "dbapi", _DBAPI, Paramstyle.FORMAT, parameter_methods=frozenset({"execute"})),
    Library("pymysql", ("pymysql",), "dbapi", _DBAPI, Paramstyle.FORMAT, parameter_methods=frozenset({"execute"})),
    Library("MySQLdb", ("MySQLdb",), "dbapi", _DBAPI, Paramstyle.FORMAT, parameter_methods=frozenset({"execute"})),
    Library(
        "mysql.connector",
        ("mysql.connector",),
        "dbapi",
        _DBAPI,
        Paramstyle.FORMAT,
        parameter_methods=frozenset({"execute"}),
        unescapes_percent=False,
    ),
    Library(
        "asyncpg",
        ("asyncpg",),
        "asyncpg",
        _ASYNCPG,
        Paramstyle.NUMERIC_DOLLAR,
        ParameterPassing.ARGUMENTS,
        parameter_methods=frozenset({"execute", "fetch", "fetchrow", "fetchval"}),
    ),
    Library("sqlalchemy", ("sqlalchemy",), "sqlalchemy", frozenset({"execute", "exec_driver_sql"})),
    Library("django", ("django.db",), "django", _DBAPI, Paramstyle.FORMAT, parameter_methods=frozenset({"execute"})),
    Library("pandas", ("pandas",), "pandas"),
)


def library_for(dotted_name: str) -> Library | None:
    return next((library for library in LIBRARIES if library.owns(dotted_name)), None)


class SqlShape(enum.Enum):
    STATEMENT = "statement"  # a whole statement: execute(), raw(), text()
    FRAGMENT = "fragment"  # a piece of one: Django extra(where=[...]), RawSQL(...)


@dataclass(frozen=True)
class SqlArgument:
    """Where a sink takes its SQL: a position and/or keyword; `items` when it takes a list/dict of them."""

    position: int | None
    keywords: tuple[str, ...]
    items: bool = False


@dataclass(frozen=True)
class SinkSpec:
    display: str  # how messages name the call, e.g. "sqlalchemy.text()"
    family: str
    arguments: tuple[SqlArgument, ...]
    shape: SqlShape = SqlShape.STATEMENT


_TEXT = SinkSpec("sqlalchemy.text()", "sqlalchemy", (SqlArgument(0, ("text",)),))
_READ_SQL = SinkSpec("pandas.read_sql()", "pandas", (SqlArgument(0, ("sql",)),))
_READ_SQL_QUERY = SinkSpec("pandas.read_sql_query()", "pandas", (SqlArgument(0, ("sql",)),))
_RAW_SQL = SinkSpec("RawSQL()", "django", (SqlArgument(0, ("sql",)),), SqlShape.FRAGMENT)

FUNCTION_SINKS: dict[str, SinkSpec] = {
    "sqlalchemy.text": _TEXT,
    "sqlalchemy.sql.text": _TEXT,
    "sqlalchemy.sql.expression.text": _TEXT,
    "pandas.read_sql": _READ_SQL,
    "pandas.io.sql.read_sql": _READ_SQL,
    "pandas.read_sql_query": _READ_SQL_QUERY,
    "pandas.io.sql.read_sql_query": _READ_SQL_QUERY,
    "django.db.models.expressions.RawSQL": _RAW_SQL,
    "django.db.models.RawSQL": _RAW_SQL,
    # psycopg's composition API: SQL() takes trusted text, values go in Literal()/Identifier().
    "psycopg2.sql.SQL": SinkSpec("psycopg2.sql.SQL()", "psycopg-sql", (SqlArgument(0, ()),), SqlShape.FRAGMENT),
    "psycopg.sql.SQL": SinkSpec("psycopg.sql.SQL()", "psycopg-sql", (SqlArgument(0, ()),), SqlShape.FRAGMENT),
}

_STATEMENT_ARGUMENT = (SqlArgument(0, ("sql", "query", "operation", "statement", "sql_script")),)

METHOD_SINKS: dict[str, SinkSpec] = {
    "execute": SinkSpec("execute()", "dbapi", _STATEMENT_ARGUMENT),
    "executemany": SinkSpec("executemany()", "dbapi", _STATEMENT_ARGUMENT),
    "executescript": SinkSpec("executescript()", "dbapi", _STATEMENT_ARGUMENT),
    "fetch": SinkSpec("fetch()", "asyncpg", _STATEMENT_ARGUMENT),
    "fetchrow": SinkSpec("fetchrow()", "asyncpg", _STATEMENT_ARGUMENT),
    "fetchval": SinkSpec("fetchval()", "asyncpg", _STATEMENT_ARGUMENT),
    "exec_driver_sql": SinkSpec("exec_driver_sql()", "sqlalchemy", _STATEMENT_ARGUMENT),
    "raw": SinkSpec("raw()", "django", (SqlArgument(0, ("raw_query",)),)),
    "extra": SinkSpec(
        "extra()",
        "django",
        (SqlArgument(0, ("select",), items=True), SqlArgument(1, ("where",), items=True)),
        SqlShape.FRAGMENT,
    ),
}


# The last name of every sink: `cur.execute`, `sa.text`, `pd.read_sql`, `sql.SQL`.
_SINK_ATTRIBUTES = frozenset(METHOD_SINKS) | frozenset(name.rsplit(".", 1)[-1] for name in FUNCTION_SINKS)


@dataclass(frozen=True, eq=False)
class QuerySink:
    call: cst.Call
    method: str | None  # the method name for method-style sinks, None for functions
    api: str  # how messages name the call: "cur.execute()", "sqlalchemy.text()"
    family: str  # "dbapi", "asyncpg", "sqlalchemy", "django", "pandas", "psycopg-sql"
    library: Library | None  # the library when known (traced receiver or the only one imported)
    sql: tuple[cst.BaseExpression, ...]  # the SQL text expressions (several for extra(where=[...]))
    shape: SqlShape
    confirmed: bool  # resolved by qualified name or receiver tracing, not by method name alone

    @property
    def only_argument_is_sql(self) -> bool:
        """`execute(sql)` with nothing else: parameters can be added without clashing."""
        args = self.call.args
        return len(args) == 1 and args[0].keyword is None and not args[0].star and args[0].value is self.sql[0]


def query_sink(call: cst.Call, facts: ModuleFacts) -> QuerySink | None:
    """The query sink this call is, or None."""
    if isinstance(call.func, cst.Attribute) and call.func.attr.value not in _SINK_ATTRIBUTES:
        return None  # an attribute's qualified name ends with the attribute: no need to ask
    for name in facts.qualified_names(call.func):
        spec = FUNCTION_SINKS.get(name)
        if spec is not None:
            sql = _sql_expressions(call, spec)
            library = library_for(name)
            return QuerySink(call, None, spec.display, spec.family, library, sql, spec.shape, True) if sql else None
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    spec = METHOD_SINKS.get(method)
    if spec is None:
        return None
    sql = _sql_expressions(call, spec)
    if not sql:
        return None
    traced = _traced_library(call.func.value, facts)
    if traced is not None and method not in traced.sink_methods:
        return None  # e.g. asyncpg-only fetch() on a sqlite3 connection: not a query call
    library = traced or _only_imported_library(call, facts, method)
    family = library.family if library else spec.family
    api = f"{_receiver_text(call.func.value)}.{spec.display}"
    return QuerySink(call, method, api, family, library, sql, spec.shape, traced is not None)


def receiver_origins(expression: cst.BaseExpression, facts: ModuleFacts) -> frozenset[str]:
    """Database-library names an object comes from: `cur` ← `conn.cursor()` ← `sqlite3.connect()`
    gives sqlite3.connect. Follows assignments, `with … as`, parameter annotations
    (`conn: sqlite3.Connection`), calls, attributes, subscripts and awaits."""
    origins: set[str] = set()
    pending: list[tuple[cst.BaseExpression, int]] = [(expression, 0)]
    seen: set[int] = set()
    while pending:
        node, hops = pending.pop()
        if id(node) in seen or hops > MAX_TRACE:
            continue
        seen.add(id(node))
        names = {name for name in facts.qualified_names(node) if library_for(name)}
        if names:
            origins |= names
            continue
        if isinstance(node, cst.Call):
            pending.append((node.func, hops + 1))
        elif isinstance(node, (cst.Attribute, cst.Subscript)):
            pending.append((node.value, hops + 1))
        elif isinstance(node, cst.Await):
            pending.append((node.expression, hops + 1))
        elif isinstance(node, cst.Name):
            for binding in bindings_of(node, facts):
                if binding.kind in _TRACED_BINDINGS and binding.expression is not None:
                    pending.append((binding.expression, hops + 1))
    return frozenset(origins)


def imported_libraries(node: cst.CSTNode, facts: ModuleFacts) -> tuple[Library, ...]:
    """The database libraries imported where `node` is (module level or enclosing functions)."""
    return _libraries_among(facts.visible_imports(node))


@functools.lru_cache(maxsize=256)
def _libraries_among(imports: frozenset[str]) -> tuple[Library, ...]:
    """Asked for every method-style sink; a scope's imports are one frozenset, so this is a lookup."""
    return tuple(library for library in LIBRARIES if any(library.owns(name) for name in imports))


def _traced_library(receiver: cst.BaseExpression, facts: ModuleFacts) -> Library | None:
    libraries = {library_for(name) for name in receiver_origins(receiver, facts)}
    return libraries.pop() if len(libraries) == 1 else None


def _only_imported_library(call: cst.Call, facts: ModuleFacts, method: str) -> Library | None:
    """The library a receiver must belong to when the module imports exactly one database
    library (pandas aside: it runs SQL through another one) and that library has this method."""
    libraries = [library for library in imported_libraries(call, facts) if library.family != "pandas"]
    if len(libraries) == 1 and method in libraries[0].sink_methods:
        return libraries[0]
    return None


def _sql_expressions(call: cst.Call, spec: SinkSpec) -> tuple[cst.BaseExpression, ...]:
    expressions: list[cst.BaseExpression] = []
    positional = [arg for arg in call.args if arg.keyword is None]
    for argument in spec.arguments:
        value = None
        if argument.position is not None and argument.position < len(positional) and not positional[argument.position].star:
            if not any(arg.star for arg in positional[: argument.position]):
                value = positional[argument.position].value
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in argument.keywords:
                value = arg.value
        if value is None:
            continue
        expressions.extend(_sql_items(value) if argument.items else [value])
    return tuple(expressions)


def _sql_items(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """extra(where=[...]) holds SQL in list items; extra(select={...}) in dict values."""
    if isinstance(value, (cst.List, cst.Tuple)):
        return [element.value for element in value.elements if isinstance(element, cst.Element)]
    if isinstance(value, cst.Dict):
        return [element.value for element in value.elements if isinstance(element, cst.DictElement)]
    return [value]


def _receiver_text(receiver: cst.BaseExpression) -> str:
    """A short name for the receiver: `cur`, `self.db`, `User.objects`; calls shown as `f()`."""
    parts: list[str] = []
    node = receiver
    while True:
        if isinstance(node, cst.Name):
            parts.append(node.value)
            break
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
            parts.append("()")
            node = node.func
        else:
            parts.append("…")
            break
    text = ".".join(reversed(parts)).replace(".()", "()")
    return text if len(text) <= 40 else "…" + text[-39:]
