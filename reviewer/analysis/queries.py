"""Where code runs a database query and what it gets back, across database libraries.

Rules about how queries are *used* — one query per loop iteration, every row of a table sent
to a client — ask two questions of an expression, answered from the syntax alone:

- `QueryReader.query_run_by(node)`: does evaluating this node send a query, and which (library,
  read or write, what it is built from)? Each query runs at exactly one node: `cur.execute()`
  (not the `fetchall()` after it), `session.execute(select(...))` (not `.scalars().all()`), a
  Django queryset's `.get()`/`.first()`/`.count()`/`list()`/`len()`/`[0]`, or — asked with
  `iterated=True` — the iterable of a `for` over a lazy queryset or legacy SQLAlchemy Query.
- `QueryReader.result_of(expression)`: does this expression hold a query's result, and how
  many rows: every matching row (`fetchall()`, `.all()`, a queryset a serializer will iterate),
  at most one (`fetchone()`, `.first()`, `.get()`), or one computed value (`.count()`)?

Recognised:
- DB-API drivers, asyncpg, Django cursors and SQLAlchemy's `exec_driver_sql()` through
  `reviewer.analysis.sql.query_sink`; `cur.fetchall()` is tied to the last `cur.execute()` on
  the same variable before it. pandas `read_sql*`.
- SQLAlchemy 1.4/2.0: statements from `select()`/`insert()`/`update()`/`delete()`/`text()`
  (qualified names, so aliases work) run by `execute`/`scalars`/`scalar`/`exec`/`stream` on any
  receiver; `session.get(Model, pk)` and legacy `session.query(...)` on a receiver traced to
  SQLAlchemy or named like a session; Flask-SQLAlchemy's `Model.query`.
- Django: chains from a model's manager (`Order.objects`, `self.model._default_manager`,
  `get_user_model().objects`), `get_object_or_404()`/`get_list_or_404()`, and — with
  `certain=False`, since only the model knows — related managers (`order.items.all()`) in
  modules that use Django or a `models` module.

`query_run_by` tests method and function names before it asks for any metadata, so a function
that runs a query imported under another name (`get_object_or_404 as g`) is recognised by
`result_of` but not as the place its query runs. `might_query(source)` is the matching text
test for `should_run`.

Names are followed to the assignments that can reach them (`bindings.reaching_bindings`), so
`qs = Order.objects.all(); if q: qs = qs.filter(name=q); return qs` is one queryset.
The SQL text helpers (`sql_operation`, `sql_bounds_rows`, `selects_every_column`) read the
outer statement only: comments and string literals are blanked and parentheses skipped, so
`EXISTS (SELECT * ...)` or a `LIMIT` inside a subquery does not speak for the whole statement.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

import libcst as cst

from reviewer.analysis.bindings import BindingKind, bindings_of, reaching_bindings
from reviewer.analysis.calls import positional_args
from reviewer.analysis.facts import ModuleFacts
from reviewer.analysis.sql import FUNCTION_SINKS, query_sink, receiver_origins
from reviewer.analysis.sqltext import MARKER, looks_like_sql, mask_comments_and_literals
from reviewer.analysis.strings import StringEvaluator, StringValue

MAX_DEPTH = 24


class Operation(enum.Enum):
    READ = "read"
    WRITE = "write"
    UNKNOWN = "unknown"


class Cardinality(enum.Enum):
    MANY = "many"  # every row the query matches
    ONE = "one"  # at most one row or object
    VALUE = "value"  # one computed value: a count, a flag, an aggregate


@dataclass(frozen=True, eq=False)
class Query:
    """A query sent to the database.

    `node` is where it is sent (the `execute()`/`.first()` call, the iterated queryset) or, for
    a query not sent yet (a lazy queryset handed to a serializer), the expression that builds
    it. `inputs` are the argument lists and expressions the query is built from and bound to
    (`cst.Arg` nodes keep their keywords, e.g. `id__in=`). `methods` are the ORM/driver methods
    of the chain in order (`filter`, `prefetch_related`, `execute`, `executemany`...).
    `bounded`: the statement itself caps its rows (LIMIT, a slice, a primary-key lookup, an
    aggregate). `certain` is False for guesses by naming alone (Django related managers).
    """

    node: cst.CSTNode
    family: str  # "dbapi", "asyncpg", "sqlalchemy", "django", "pandas"
    api: str  # how messages name it: "cur.execute()", "Order.objects.filter().first()"
    operation: Operation
    statement: cst.CSTNode  # what builds the query: the queryset or select() before it is sent, else `node`
    target: cst.BaseExpression | None = None  # the model or table named in code: `Order` in `Order.objects`
    inputs: tuple[cst.CSTNode, ...] = ()
    sql: StringValue | None = None
    bounded: bool = False
    methods: tuple[str, ...] = ()
    certain: bool = True


@dataclass(frozen=True, eq=False)
class QueryResult:
    """What an expression holds: `query`'s rows. `lazy`: not fetched yet (a queryset, a cursor
    or Result) — whoever iterates or serializes it gets every row, so its cardinality is MANY."""

    query: Query
    cardinality: Cardinality
    lazy: bool = False


# --- what the libraries' methods do ---------------------------------------------------------------


class _Stage(enum.Enum):
    STATEMENT = "statement"  # a SQLAlchemy statement, not sent
    LAZY = "lazy"  # a Django QuerySet or SQLAlchemy Query: sent when evaluated
    SENT = "sent"  # sent; rows wait in a cursor or Result
    FETCHED = "fetched"  # rows or a value in hand


_MANY, _ONE, _VALUE = Cardinality.MANY, Cardinality.ONE, Cardinality.VALUE

DJANGO_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_DJANGO_LAZY = frozenset(
    [
        "all",
        "filter",
        "exclude",
        "order_by",
        "reverse",
        "distinct",
        "values",
        "values_list",
        "dates",
        "datetimes",
        "none",
        "union",
        "intersection",
        "difference",
        "select_related",
        "prefetch_related",
        "extra",
        "defer",
        "only",
        "using",
        "select_for_update",
        "annotate",
        "alias",
        "complex_filter",
        "iterator",
    ]
)
_DJANGO_RUN = {
    **dict.fromkeys(("get", "first", "last", "earliest", "latest"), _ONE),
    **dict.fromkeys(("count", "exists", "aggregate", "contains", "explain"), _VALUE),
    "in_bulk": _MANY,
}
_DJANGO_WRITES = frozenset(
    [
        "create",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "update",
        "delete",
    ]
)
_DJANGO_SHORTCUTS = {
    "django.shortcuts.get_object_or_404": _ONE,
    "django.shortcuts.aget_object_or_404": _ONE,
    "django.shortcuts.get_list_or_404": _MANY,
    "django.shortcuts.aget_list_or_404": _MANY,
}
_GET_USER_MODEL = "django.contrib.auth.get_user_model"
# Methods that tell a related manager (`order.items.all()`) from other attributes' methods.
_RELATED_MANAGER_METHODS = (_DJANGO_LAZY | set(_DJANGO_RUN)) - {"iterator", "none", "union", "explain", "contains"}
# Method names of a model's attribute that name something else than a related manager.
_NOT_RELATED_MANAGERS = DJANGO_MANAGERS | {"query", "session", "cache"}

_ORM_QUERY_LAZY = frozenset(
    [
        "filter",
        "filter_by",
        "where",
        "order_by",
        "group_by",
        "having",
        "join",
        "outerjoin",
        "options",
        "distinct",
        "with_entities",
        "select_from",
        "execution_options",
        "yield_per",
        "populate_existing",
        "enable_eagerloads",
        "correlate",
        "add_columns",
        "add_entity",
        "limit",
        "offset",
        "slice",
        "params",
        "with_for_update",
        "union",
        "union_all",
        "from_statement",
    ]
)
_ORM_QUERY_RUN = {
    **dict.fromkeys(("first", "one", "one_or_none", "get", "get_or_404", "first_or_404", "one_or_404"), _ONE),
    **dict.fromkeys(("scalar", "count"), _VALUE),
    "all": _MANY,
    "paginate": _MANY,  # Flask-SQLAlchemy: one page
}
_ORM_QUERY_WRITES = frozenset({"update", "delete"})
_BOUNDING_METHODS = frozenset({"limit", "slice", "fetch", "paginate", "first", "get", "get_or_404", "first_or_404"})

_STATEMENTS: dict[str, Operation | None] = {}
for _module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression", "sqlalchemy.future", "sqlmodel"):
    _STATEMENTS[f"{_module}.select"] = Operation.READ
    for _verb in ("insert", "update", "delete"):
        _STATEMENTS[f"{_module}.{_verb}"] = Operation.WRITE
for _dialect in ("postgresql", "mysql", "sqlite"):
    _STATEMENTS[f"sqlalchemy.dialects.{_dialect}.insert"] = Operation.WRITE
for _module in ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression"):
    _STATEMENTS[f"{_module}.text"] = None  # the operation is the SQL text's
# Statement methods that make something else than a runnable statement.
_NOT_STATEMENTS = frozenset(
    {"subquery", "cte", "alias", "scalar_subquery", "exists", "label", "compile", "lateral", "as_scalar"}
)
# Session/connection methods that run a statement passed as their first argument.
_EXECUTORS = {"execute": None, "exec": None, "stream": None, "scalars": None, "stream_scalars": None, "scalar": _ONE}
_SESSION_NAMES = frozenset({"session", "db_session", "dbsession"})
_SQLALCHEMY_MODULES = ("sqlalchemy", "flask_sqlalchemy", "sqlmodel")

_FETCH = {
    **dict.fromkeys(("fetchall", "all"), _MANY),
    **dict.fromkeys(("fetchone", "first", "one", "one_or_none", "scalar_one", "scalar_one_or_none"), _ONE),
    "scalar": _ONE,
}
_FETCH_SOME = frozenset({"fetchmany", "partitions"})  # a batch of rows at a time
_RESULT_VIEWS = frozenset({"scalars", "mappings", "unique", "tuples", "columns", "yield_per", "freeze"})
_CURSOR_SENDS = frozenset({"execute", "executescript", "executemany", "exec_driver_sql"})
_ASYNCPG_FETCH = {"fetch": _MANY, "fetchrow": _ONE, "fetchval": _VALUE}
_PANDAS_TABLE_READS = frozenset({"pandas.read_sql_table", "pandas.io.sql.read_sql_table"})
_COLLECTING_BUILTINS = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.sorted"}
)
_MEASURING_BUILTINS = frozenset({"builtins.len", "builtins.bool"})
_PRIMARY_KEY_LOOKUPS = frozenset({"pk", "id", "pk__exact", "id__exact", "pk__in", "id__in"})

# Every method name a query can be sent or fetched by: a cheap first test before any metadata.
_RUNNING_METHODS = (
    frozenset(_DJANGO_RUN)
    | _DJANGO_WRITES
    | frozenset(_ORM_QUERY_RUN)
    | _ORM_QUERY_WRITES
    | frozenset(_EXECUTORS)
    | _CURSOR_SENDS
    | frozenset(_ASYNCPG_FETCH)
    | {"raw", "get"}
    | {"read_sql", "read_sql_query", "read_sql_table"}
)
_CAP_WORDS = re.compile(r"^_*[A-Z][a-z0-9]\w*$")
# Text no module can send a recognised query without (related managers need a queryset too).
_QUERY_MARKERS = re.compile(
    r"\.objects\b|_default_manager|_base_manager|\.(?:execute|executemany|executescript|fetch|fetchrow|fetchval"
    r"|scalars?|exec|stream|exec_driver_sql|raw)\s*\(|\.query\s*\(|\.query\.\w+\s*\(|read_sql|_or_404|sqlalchemy"
    r"|sqlmodel|\bsession\.(?:get|query|execute|scalars?)\b"
)
_FUNCTION_NAMES = frozenset(
    name.rsplit(".", 1)[1]
    for name in (*_COLLECTING_BUILTINS, *_MEASURING_BUILTINS, *_DJANGO_SHORTCUTS, *_PANDAS_TABLE_READS)
) | {"read_sql", "read_sql_query"}


def might_query(source: str) -> bool:
    """A cheap text test for `CstRule.should_run`: False when no query can be recognised in it."""
    return _QUERY_MARKERS.search(source) is not None


@dataclass(frozen=True, eq=False)
class _State:
    """What an expression is, as far as queries go, while a chain is read left to right."""

    stage: _Stage
    kind: str  # method table: "queryset", "orm_query", "statement", "cursor", "rows"
    family: str
    node: cst.CSTNode  # the expression that built it (a name's value, not the name)
    api: str  # how messages name it
    operation: Operation = Operation.READ
    inputs: tuple[cst.CSTNode, ...] = ()
    sent_at: cst.CSTNode | None = None
    statement: cst.CSTNode | None = None  # the lazy queryset or statement that was sent
    target: cst.BaseExpression | None = None
    sql: StringValue | None = None
    bounded: bool = False
    methods: tuple[str, ...] = ()
    certain: bool = True
    cardinality: Cardinality = Cardinality.MANY

    def step(self, node: cst.CSTNode, method: str | None = None, **changes) -> _State:
        """The state of `node`, which calls `method` on (or otherwise uses) this one."""
        if "sent_at" in changes and self.stage in (_Stage.LAZY, _Stage.STATEMENT):
            changes.setdefault("statement", self.node)
        methods = self.methods + ((method,) if method else ())
        api = changes.pop("api", f"{self.api}.{method}()" if method else self.api)
        return replace(self, node=node, methods=methods, api=api, **changes)


def _start(stage: _Stage, kind: str, family: str, node: cst.CSTNode, **fields) -> _State:
    return _State(stage, kind, family, node, describe(node), **fields)


class QueryReader:
    """Answers query questions for one module; build one per rule instance (it caches)."""

    def __init__(self, facts: ModuleFacts, strings: StringEvaluator | None = None) -> None:
        self.facts = facts
        self.strings = strings or StringEvaluator(facts)
        self._states: dict[int, _State | None] = {}

    # --- public questions ---------------------------------------------------------------------

    def query_run_by(self, node: cst.CSTNode, *, iterated: bool = False) -> Query | None:
        """The query evaluating `node` sends; with `iterated`, the one iterating it sends."""
        if iterated:
            state = self._state(node) if isinstance(node, cst.BaseExpression) else None
            return _query(state, node) if state is not None and state.stage is _Stage.LAZY else None
        if not _may_send(node):
            return None
        state = self._state(node)
        return _query(state, node) if state is not None and state.sent_at is node else None

    def result_of(self, expression: cst.BaseExpression) -> QueryResult | None:
        """The query result `expression` holds, or None."""
        state = self._state(expression)
        if state is None or state.stage is _Stage.STATEMENT:
            return None
        if state.stage is _Stage.FETCHED:
            return QueryResult(_query(state, state.sent_at or state.node), state.cardinality)
        return QueryResult(_query(state, state.sent_at or state.node), Cardinality.MANY, lazy=True)

    # --- reading expressions ------------------------------------------------------------------

    def _state(self, node: cst.BaseExpression, depth: int = 0) -> _State | None:
        key = id(node)
        if key in self._states:
            return self._states[key]
        if depth > MAX_DEPTH:
            return None
        self._states[key] = None  # against cycles through assignments
        state = self._compute(node, depth + 1)
        self._states[key] = state
        return state

    def _compute(self, node: cst.BaseExpression, depth: int) -> _State | None:
        if isinstance(node, cst.Await):
            return self._state(node.expression, depth)
        if isinstance(node, cst.Name):
            return self._name(node, depth)
        if isinstance(node, cst.Attribute):
            return self._attribute(node)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, depth)
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        return None

    def _name(self, node: cst.Name, depth: int) -> _State | None:
        states = []
        for binding in reaching_bindings(node, self.facts):
            if binding.kind not in (BindingKind.VALUE, BindingKind.CONTEXT) or binding.expression is None:
                return None
            state = self._state(binding.expression, depth)
            if state is None:
                return None
            states.append(state)
        if not states or len({(state.stage, state.kind) for state in states}) != 1:
            return None
        # Several assignments may reach (`qs = ...; if n: qs = qs[:n]`): speak for the unbounded one.
        chosen = next((state for state in reversed(states) if not state.bounded), states[-1])
        inputs = tuple(dict.fromkeys(i for state in states for i in state.inputs))
        return chosen.step(chosen.node, inputs=inputs, certain=all(state.certain for state in states))

    def _attribute(self, node: cst.Attribute) -> _State | None:
        attribute = node.attr.value
        if attribute in DJANGO_MANAGERS and self._is_model(node.value):
            return _start(_Stage.LAZY, "queryset", "django", node, target=node.value)
        flask_sqlalchemy_model = (
            attribute == "query"
            and isinstance(node.value, cst.Name)
            and _CAP_WORDS.match(node.value.value)
            and (self._imports_sqlalchemy(node) or self._imported_model(node.value))
        )
        if flask_sqlalchemy_model:
            return _start(_Stage.LAZY, "orm_query", "sqlalchemy", node, target=node.value)
        return None

    def _subscript(self, node: cst.Subscript, depth: int) -> _State | None:
        base = self._state(node.value, depth)
        if base is None or base.stage is not _Stage.LAZY or len(node.slice) != 1:
            return None
        element = node.slice[0].slice
        api = f"{base.api}[…]"
        if isinstance(element, cst.Index):
            return base.step(node, api=api, sent_at=node, stage=_Stage.FETCHED, cardinality=_ONE, bounded=True)
        bounded = base.bounded or element.upper is not None
        inputs = base.inputs + tuple(n for n in (element.lower, element.upper) if n is not None)
        if base.kind == "queryset" and element.step is None:
            return base.step(node, api=api, bounded=bounded, inputs=inputs)  # Django slices stay lazy
        return base.step(
            node, api=api, sent_at=node, stage=_Stage.FETCHED, cardinality=_MANY, bounded=bounded, inputs=inputs
        )

    def _call(self, node: cst.Call, depth: int) -> _State | None:
        names = self.facts.qualified_names(node.func)
        if names:
            state = self._function_call(node, names, depth)
            if state is not None:
                return state
        if not isinstance(node.func, cst.Attribute):
            return None
        method = node.func.attr.value
        receiver = node.func.value
        base = self._state(receiver, depth)
        if base is not None:
            state = self._method(base, node, method)
            if state is not None:
                return state
        return (
            self._executed_statement(node, method, depth)
            or self._sink(node, method)
            or self._session_call(node, method, receiver)
            or self._related_manager(node, method, receiver)
            or self._cursor_fetch(node, method, receiver, depth)
        )

    def _function_call(self, node: cst.Call, names: frozenset[str], depth: int) -> _State | None:
        for name in names:
            if name in _STATEMENTS:
                return self._statement(node, _STATEMENTS[name])
            if name in _DJANGO_SHORTCUTS:
                cardinality = _DJANGO_SHORTCUTS[name]
                arguments = positional_args(node)
                return _start(
                    _Stage.FETCHED,
                    "rows",
                    "django",
                    node,
                    inputs=tuple(node.args),
                    sent_at=node,
                    target=arguments[0] if arguments else None,
                    cardinality=cardinality,
                    bounded=cardinality is _ONE,
                    methods=(name.rsplit(".", 1)[1],),
                )
            if name in _PANDAS_TABLE_READS:
                return _start(
                    _Stage.FETCHED,
                    "rows",
                    "pandas",
                    node,
                    inputs=tuple(node.args),
                    sent_at=node,
                    methods=("read_sql_table",),
                )
        arguments = positional_args(node)
        if len(arguments) == 1 and names & (_COLLECTING_BUILTINS | _MEASURING_BUILTINS):
            inner = self._state(arguments[0], depth)
            if inner is None or inner.stage is _Stage.STATEMENT:
                return None
            measuring = bool(names & _MEASURING_BUILTINS)
            api = f"{describe(node.func)}({inner.api})"
            if inner.stage is _Stage.LAZY:
                cardinality = _VALUE if measuring else _MANY
                return inner.step(node, api=api, sent_at=node, stage=_Stage.FETCHED, cardinality=cardinality)
            return None if measuring else inner.step(node, api=api, stage=_Stage.FETCHED, cardinality=inner.cardinality)
        return self._sink(node, None) if names & FUNCTION_SINKS.keys() else None

    def _statement(self, node: cst.Call, operation: Operation | None) -> _State | None:
        arguments = positional_args(node)
        if operation is not None:
            target = arguments[0] if arguments else None
            return _start(
                _Stage.STATEMENT,
                "statement",
                "sqlalchemy",
                node,
                operation=operation,
                inputs=tuple(node.args),
                target=target,
            )
        if not arguments:
            return None
        sql = self.strings.evaluate(arguments[0])
        return _start(
            _Stage.STATEMENT,
            "statement",
            "sqlalchemy",
            node,
            operation=_text_operation(sql),
            inputs=tuple(node.args),
            sql=sql,
            bounded=sql.is_text and sql_bounds_rows(sql.text),
        )

    def _method(self, base: _State, node: cst.Call, method: str) -> _State | None:
        """The state after calling `method` on what `base` describes."""
        if base.kind == "queryset":
            return self._queryset_method(base, node, method)
        if base.kind == "orm_query":
            return _orm_query_method(base, node, method)
        if base.kind == "statement":
            if method in _NOT_STATEMENTS:
                return None
            bounded = base.bounded or method in _BOUNDING_METHODS or _is_primary_key_lookup(node)
            return base.step(node, method, inputs=base.inputs + tuple(node.args), bounded=bounded)
        if base.stage is _Stage.SENT:
            if method in _RESULT_VIEWS:
                return base.step(node, method)
            if method in _FETCH_SOME:
                return base.step(node, method, stage=_Stage.FETCHED, cardinality=_MANY, bounded=True)
            if method in _FETCH:
                cardinality = _FETCH[method]
                return base.step(
                    node,
                    method,
                    stage=_Stage.FETCHED,
                    cardinality=cardinality,
                    bounded=base.bounded or cardinality is _ONE,
                )
        return None

    def _queryset_method(self, base: _State, node: cst.Call, method: str) -> _State | None:
        inputs = base.inputs + tuple(node.args)
        bounded = base.bounded or _is_primary_key_lookup(node)
        plain = method[1:] if method.startswith("a") and method[1:] in (_DJANGO_RUN.keys() | _DJANGO_WRITES) else method
        if method == "raw":
            sink = query_sink(node, self.facts)
            sql = self.strings.evaluate(sink.sql[0]) if sink and sink.sql else None
            operation = _text_operation(sql) if sql else Operation.UNKNOWN
            return base.step(
                node,
                method,
                inputs=inputs,
                sql=sql,
                operation=operation,
                bounded=bool(sql and sql.is_text and sql_bounds_rows(sql.text)),
            )
        if plain in _DJANGO_LAZY or method == "aiterator":
            return base.step(node, method, inputs=inputs, bounded=bounded)
        if plain in _DJANGO_RUN:
            cardinality = _DJANGO_RUN[plain]
            bounded = bounded or cardinality is not _MANY or (plain == "in_bulk" and bool(node.args))
            return base.step(
                node,
                method,
                inputs=inputs,
                sent_at=node,
                stage=_Stage.FETCHED,
                cardinality=cardinality,
                bounded=bounded,
            )
        if plain in _DJANGO_WRITES:
            return base.step(
                node,
                method,
                inputs=inputs,
                sent_at=node,
                stage=_Stage.FETCHED,
                cardinality=_VALUE,
                operation=Operation.WRITE,
            )
        return None

    def _executed_statement(self, node: cst.Call, method: str, depth: int) -> _State | None:
        """`session.execute(select(...))`, `conn.scalars(stmt)`: a statement sent by any receiver."""
        if method not in _EXECUTORS:
            return None
        arguments = positional_args(node)
        statement = self._state(arguments[0], depth) if arguments else None
        if statement is None or statement.stage is not _Stage.STATEMENT:
            return None  # a string or an unknown statement: a query sink, if anything
        inputs = statement.inputs + tuple(node.args[1:])
        one = _EXECUTORS[method]
        api = describe(node)
        if one is not None:
            return statement.step(
                node, method, api=api, inputs=inputs, sent_at=node, stage=_Stage.FETCHED, cardinality=one, bounded=True
            )
        return statement.step(node, method, api=api, inputs=inputs, sent_at=node, stage=_Stage.SENT, kind="cursor")

    def _sink(self, node: cst.Call, method: str | None) -> _State | None:
        """Raw SQL sent through a driver: `cur.execute(sql)`, `conn.fetch(sql)`, `pd.read_sql(sql)`."""
        if method is not None and method not in _CURSOR_SENDS and method not in _ASYNCPG_FETCH:
            return None
        sink = query_sink(node, self.facts)
        if sink is None or sink.family == "psycopg-sql" or sink.method in ("raw", "extra") or sink.api == "RawSQL()":
            return None
        sql = self.strings.evaluate(sink.sql[0])
        if not sink.confirmed and not (sql.is_text and looks_like_sql(sql.text)):
            return None
        state = _start(
            _Stage.SENT,
            "cursor",
            sink.family,
            node,
            operation=_text_operation(sql),
            inputs=tuple(node.args),
            sent_at=node,
            sql=sql,
            bounded=sql.is_text and sql_bounds_rows(sql.text),
            methods=(sink.method or sink.api.rstrip("()"),),
        )
        if sink.family == "pandas":
            return replace(state, stage=_Stage.FETCHED, kind="rows")
        if sink.method in _ASYNCPG_FETCH:
            cardinality = _ASYNCPG_FETCH[sink.method]
            return replace(
                state,
                stage=_Stage.FETCHED,
                kind="rows",
                cardinality=cardinality,
                bounded=state.bounded or cardinality is not _MANY,
            )
        return state

    def _session_call(self, node: cst.Call, method: str, receiver: cst.BaseExpression) -> _State | None:
        """`session.get(User, pk)` and legacy `session.query(User)` on a SQLAlchemy session."""
        arguments = positional_args(node)
        if method == "get" and len(arguments) == 2 and _is_model_class(arguments[0]) and self._is_session(receiver):
            if isinstance(arguments[1], cst.Name) and arguments[1].value == "None":
                return None  # a mapping's get(key, default)
            return _start(
                _Stage.FETCHED,
                "rows",
                "sqlalchemy",
                node,
                inputs=tuple(node.args),
                sent_at=node,
                cardinality=_ONE,
                bounded=True,
                methods=("get",),
                target=arguments[0],
            )
        if method == "query" and arguments and self._is_session(receiver):
            return _start(
                _Stage.LAZY,
                "orm_query",
                "sqlalchemy",
                node,
                inputs=tuple(node.args),
                methods=("query",),
                target=arguments[0],
            )
        return None

    def _related_manager(self, node: cst.Call, method: str, receiver: cst.BaseExpression) -> _State | None:
        """`order.items.all()`: a model instance's related manager, by naming only (certain=False)."""
        if method not in _RELATED_MANAGER_METHODS or not isinstance(receiver, cst.Attribute):
            return None
        owner, attribute = receiver.value, receiver.attr.value
        if attribute in _NOT_RELATED_MANAGERS or attribute.startswith("_") or self._is_model(owner):
            return None
        if not isinstance(owner, (cst.Name, cst.Attribute)) or not self._uses_django_models(node):
            return None
        if method in ("count", "exists", "first", "last") and node.args:
            return None  # list.count(x) and the like take an argument; the manager's don't
        manager = _start(_Stage.LAZY, "queryset", "django", receiver, inputs=(owner,), certain=False)
        return self._queryset_method(manager, node, method)

    def _cursor_fetch(self, node: cst.Call, method: str, receiver: cst.BaseExpression, depth: int) -> _State | None:
        """`cur.fetchall()` after `cur.execute(...)` earlier in the same function."""
        if method not in _FETCH and method not in _FETCH_SOME or not isinstance(receiver, cst.Name):
            return None
        execute = self._last_execute(receiver, node)
        sent = self._state(execute, depth) if execute is not None else None
        if sent is None or sent.stage is not _Stage.SENT:
            return None
        return self._method(sent, node, method)

    def _last_execute(self, cursor: cst.Name, before: cst.Call) -> cst.Call | None:
        function = self.facts.enclosing_function(before)
        limit = self.facts.sort_key(before)
        found: list[tuple[tuple[int, int], cst.Call]] = []
        for assignment in self.facts.referents(cursor):
            for access in assignment.references:
                attribute = self.facts.parent(access.node)
                call = self.facts.parent(attribute) if isinstance(attribute, cst.Attribute) else None
                if (
                    isinstance(call, cst.Call)
                    and call.func is attribute
                    and attribute.value is access.node
                    and attribute.attr.value in _CURSOR_SENDS
                    and self.facts.sort_key(call) < limit
                    and self.facts.enclosing_function(call) is function
                ):
                    found.append((self.facts.sort_key(call), call))
        return max(found, key=lambda item: item[0])[1] if found else None

    # --- what an object is ----------------------------------------------------------------------

    def _is_model(self, node: cst.BaseExpression) -> bool:
        """What a Django manager hangs off: `Order`, `models.Order`, `self.model`, `cls`,
        `get_user_model()`."""
        if isinstance(node, cst.Name):
            return _is_model_class(node) or node.value in ("cls", "model")
        if isinstance(node, cst.Attribute):
            return _is_model_class(node) or node.attr.value == "model"
        if isinstance(node, cst.Call):
            return _GET_USER_MODEL in self.facts.qualified_names(node.func)
        return False

    def _is_session(self, receiver: cst.BaseExpression) -> bool:
        if isinstance(receiver, cst.Attribute):
            last = receiver.attr.value
        else:
            last = receiver.value if isinstance(receiver, cst.Name) else ""
        return last in _SESSION_NAMES or self._is_sqlalchemy(receiver)

    def _is_sqlalchemy(self, receiver: cst.BaseExpression) -> bool:
        return any(name.startswith("sqlalchemy") for name in receiver_origins(receiver, self.facts))

    def _imports_sqlalchemy(self, node: cst.CSTNode) -> bool:
        return any(name.startswith(_SQLALCHEMY_MODULES) for name in self.facts.visible_imports(node))

    def _imported_model(self, name: cst.Name) -> bool:
        return any(binding.kind is BindingKind.IMPORT for binding in bindings_of(name, self.facts))

    def _uses_django_models(self, node: cst.CSTNode) -> bool:
        return any(
            name.startswith("django.") or "models" in name.split(".")[:-1] for name in self.facts.visible_imports(node)
        )


def _is_model_class(node: cst.BaseExpression) -> bool:
    """A class by its CapWords name: `User`, `models.User`."""
    name = node.value if isinstance(node, cst.Name) else node.attr.value if isinstance(node, cst.Attribute) else ""
    return bool(_CAP_WORDS.match(name))


def _orm_query_method(base: _State, node: cst.Call, method: str) -> _State | None:
    inputs = base.inputs + tuple(node.args)
    bounded = base.bounded or method in _BOUNDING_METHODS or _is_primary_key_lookup(node)
    if method in _ORM_QUERY_LAZY:
        return base.step(node, method, inputs=inputs, bounded=bounded)
    if method in _ORM_QUERY_RUN:
        cardinality = _ORM_QUERY_RUN[method]
        bounded = bounded or cardinality is not _MANY
        return base.step(
            node, method, inputs=inputs, sent_at=node, stage=_Stage.FETCHED, cardinality=cardinality, bounded=bounded
        )
    if method in _ORM_QUERY_WRITES:
        return base.step(
            node,
            method,
            inputs=inputs,
            sent_at=node,
            stage=_Stage.FETCHED,
            cardinality=_VALUE,
            operation=Operation.WRITE,
        )
    return None


def _query(state: _State, node: cst.CSTNode) -> Query:
    return Query(
        node=node,
        family=state.family,
        api=state.api,
        operation=state.operation,
        statement=state.statement or state.sent_at or state.node,
        target=state.target,
        inputs=state.inputs,
        sql=state.sql,
        bounded=state.bounded,
        methods=state.methods,
        certain=state.certain,
    )


def _may_send(node: cst.CSTNode) -> bool:
    """A cheap syntactic test: could evaluating this node send a query at all?"""
    if isinstance(node, cst.Subscript):
        return True
    if not isinstance(node, cst.Call):
        return False
    if isinstance(node.func, cst.Attribute):
        name = node.func.attr.value
        return name in _RUNNING_METHODS or (name.startswith("a") and name[1:] in _RUNNING_METHODS)
    return isinstance(node.func, cst.Name) and node.func.value in _FUNCTION_NAMES


def _is_primary_key_lookup(call: cst.Call) -> bool:
    """`filter(pk=...)`, `filter_by(id=...)`, `where(User.id == ...)`, `where(User.id.in_(...))`."""
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value in _PRIMARY_KEY_LOOKUPS:
                return True
            continue
        value = arg.value
        equals = (
            isinstance(value, cst.Comparison)
            and len(value.comparisons) == 1
            and isinstance(value.comparisons[0].operator, cst.Equal)
            and _names_primary_key(value.left)
        )
        one_of = (
            isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "in_"
        )
        if equals or (one_of and _names_primary_key(value.func.value)):
            return True
    return False


def _names_primary_key(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value in ("id", "pk")


def _text_operation(sql: StringValue) -> Operation:
    return sql_operation(sql.text) if sql.is_text else Operation.UNKNOWN


def describe(node: cst.CSTNode) -> str:
    """A short name for a query expression: `Order.objects.filter().first()`, `cur.execute()`."""

    def text(current: cst.CSTNode) -> str:
        if isinstance(current, cst.Name):
            return current.value
        if isinstance(current, cst.Attribute):
            return f"{text(current.value)}.{current.attr.value}"
        if isinstance(current, cst.Call):
            return f"{text(current.func)}()"
        if isinstance(current, cst.Subscript):
            return f"{text(current.value)}[…]"
        if isinstance(current, cst.Await):
            return text(current.expression)
        return "…"

    result = text(node)
    return result if len(result) <= 60 else "…" + result[-59:]


# --- reading the outer statement of SQL text ------------------------------------------------------

_NAME = rf'[\w"`\[\]{MARKER}]+'
_CTE = re.compile(rf"\s*({_NAME})\s*(?:\(\s*\)\s*)?as\s+(?:not\s+)?(?:materialized\s+)?\((\s*)\)\s*(,)?", re.IGNORECASE)
_WITH = re.compile(r"\s*with\s+(?:recursive\s+)?", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[\s(]*([A-Za-z]+)")
_SELECT_HEAD = re.compile(
    r"\s*select\s+(?:(?:distinct(?:\s+on\s*\(\s*\))?|all|top\s*(?:\d+|\(\s*\))(?:\s+percent)?(?:\s+with\s+ties)?"
    r"|sql_\w+|high_priority|straight_join)\s+)*",
    re.IGNORECASE,
)
_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)
_FROM_END = re.compile(
    r"\b(?:where|group\s+by|having|order\s+by|limit|offset|fetch|for|window|union|intersect|except|returning)\b|;",
    re.IGNORECASE,
)
_SOURCE_SEPARATOR = re.compile(
    r",|\b(?:natural\s+)?(?:(?:inner|cross|left|right|full)\s+)?(?:outer\s+)?join\b", re.IGNORECASE
)
_SOURCE = re.compile(rf"\s*(?:lateral\s+)?(?:(\()|({_NAME}(?:\.{_NAME})*)\s*(\()?)", re.IGNORECASE)
_STAR_ITEM = re.compile(rf"\*|{_NAME}(?:\.{_NAME})*\.\*")
_ROW_LIMIT = re.compile(
    r"\blimit\b|\bfetch\s+(?:first|next)\b|\brownum\b|^\s*select\s+(?:distinct\s+)?top\b", re.IGNORECASE
)
_GROUP_BY = re.compile(r"\bgroup\s+by\b", re.IGNORECASE)
_AGGREGATE = re.compile(
    r"\b(?:count|sum|avg|min|max|bool_and|bool_or|every|stddev\w*|var_\w+|variance)\s*\(", re.IGNORECASE
)
_WINDOW = re.compile(r"\bover\b", re.IGNORECASE)
# `LIMIT 0`, `WHERE 1 = 0`, `WHERE false`: reading a table's columns, not its rows.
_NO_ROWS = re.compile(
    r"\blimit\s+0\b|\bwhere\s+(?:1\s*=\s*0|0\s*=\s*1|false)\s*(?:$|;|\blimit\b|\border\b)", re.IGNORECASE
)
# `SELECT * FROM t LIMIT 1` and nothing else: a probe that the table exists and can be read, or
# one sample row to see its shape; no code depends on which columns come back.
_ONE_ROW_PROBE = re.compile(rf"\s*select\s+\*\s+from\s+{_NAME}(?:\.{_NAME})*\s+limit\s+1\s*;?\s*", re.IGNORECASE)
_WHERE = re.compile(r"\bwhere\b", re.IGNORECASE)
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_PLACEHOLDER = rf"(?:%s|\?|\$\d+|:\w+|%\(\w+\)s|\d+|{MARKER})"
_PRIMARY_KEY_EQUALS = re.compile(
    rf'(?:^|\band\b)\s*(?:{_NAME}\.)?["`]?(?:id|pk)["`]?\s*=\s*{_PLACEHOLDER}', re.IGNORECASE
)
_READ_WORDS = frozenset({"select", "values", "show", "explain", "table", "describe"})
_WRITE_WORDS = frozenset(
    [
        "insert",
        "update",
        "delete",
        "merge",
        "replace",
        "upsert",
        "create",
        "drop",
        "alter",
        "truncate",
        "grant",
        "revoke",
        "rename",
        "comment",
    ]
)


@dataclass(frozen=True)
class _Sql:
    """A statement with comments and string literals blanked (`masked`), the same with
    everything inside parentheses blanked too (`top`), and its CTEs' bodies by name."""

    masked: str
    top: str
    ctes: dict[str, str]


def _read_sql(text: str) -> _Sql:
    masked = mask_comments_and_literals(text)
    top = _outside_parentheses(masked)
    ctes: dict[str, str] = {}
    start = _WITH.match(top)
    if start:
        position = start.end()
        while True:
            cte = _CTE.match(top, position)
            if cte is None:
                break
            ctes[cte.group(1).strip('"`[]').lower()] = masked[cte.start(2) : cte.end(2)]
            position = cte.end()
            if not cte.group(3):
                break
        masked, top = masked[position:], top[position:]
    return _Sql(masked, top, ctes)


def _outside_parentheses(text: str) -> str:
    """The text with what is inside parentheses replaced by spaces (the parentheses stay)."""
    out = []
    depth = 0
    for char in text:
        if char == "(":
            out.append("(" if depth == 0 else " ")
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            out.append(")" if depth == 0 else " ")
        else:
            out.append(char if depth == 0 else " ")
    return "".join(out)


def sql_keyword(text: str) -> str:
    """The outer statement's first keyword, lowercased, after comments and any WITH clause:
    "update" for `-- note\nWITH t AS (...) UPDATE ...`; "" when there is none."""
    word = _FIRST_WORD.match(_read_sql(text).top)
    return word.group(1).lower() if word else ""


def sql_operation(text: str) -> Operation:
    """Whether the outer statement reads or writes (a data-modifying CTE's statement writes)."""
    keyword = sql_keyword(text)
    if keyword in _READ_WORDS:
        return Operation.READ
    if keyword in _WRITE_WORDS:
        return Operation.WRITE
    return Operation.UNKNOWN


def sql_bounds_rows(text: str) -> bool:
    """Whether a SELECT caps the rows it returns: LIMIT/FETCH FIRST/TOP/ROWNUM, no FROM, only
    aggregates and no GROUP BY, or an `id = ?` primary-key lookup (with no top-level OR)."""
    sql = _read_sql(text)
    head = _SELECT_HEAD.match(sql.top)
    if head is None:
        return False
    if _ROW_LIMIT.search(sql.top):
        return True
    source = _FROM.search(sql.top, head.end())
    if source is None:
        return True
    items = _split_top_level(sql, head.end(), source.start())
    if not _GROUP_BY.search(sql.top) and all(_AGGREGATE.search(item) and not _WINDOW.search(item) for item in items):
        return True
    where = _WHERE.search(sql.top, source.end())
    if where is None:
        return False
    end = _FROM_END.search(sql.top, where.end())
    clause = sql.top[where.end() : end.start() if end and end.start() > where.end() else len(sql.top)]
    return not _OR.search(clause) and bool(_PRIMARY_KEY_EQUALS.search(clause.strip()))


def selects_every_column(text: str) -> str | None:
    """The `*` or `t.*` of a SELECT whose outer list takes every column of a table (or of a
    table named by an interpolated value), or None. A star over a derived table or CTE with an
    explicit list, or over a table function (`generate_series(...)`), takes only the columns
    written there; `LIMIT 0`/`WHERE 1 = 0` reads a table's columns, not its rows, and a bare
    `SELECT * FROM t LIMIT 1` probes the table or samples one row of it."""
    return _star_over_tables(_read_sql(text), {}, 0)


def _star_over_tables(sql: _Sql, outer_ctes: dict[str, str], depth: int) -> str | None:
    if depth > 8:
        return None
    ctes = {**outer_ctes, **sql.ctes}
    head = _SELECT_HEAD.match(sql.top)
    if head is None:
        return None
    source = _FROM.search(sql.top, head.end())
    end = source.start() if source else len(sql.top)
    star = next((item for item in _split_top_level(sql, head.end(), end, top=True) if _STAR_ITEM.fullmatch(item)), None)
    if star is None or source is None or _NO_ROWS.search(sql.top) or _ONE_ROW_PROBE.fullmatch(sql.top):
        return None
    clause_end = _FROM_END.search(sql.top, source.end())
    stop = clause_end.start() if clause_end else len(sql.top)
    start = source.end()
    for separator in [*_SOURCE_SEPARATOR.finditer(sql.top, start, stop), None]:
        piece_end = separator.start() if separator else stop
        if _source_is_table(sql, start, piece_end, ctes, depth):
            return star
        if separator is not None:
            start = separator.end()
    return None


def _source_is_table(sql: _Sql, start: int, end: int, ctes: dict[str, str], depth: int) -> bool:
    found = _SOURCE.match(sql.top, start, end)
    if found is None:
        return False  # nothing readable after FROM: a fragment (`sql.SQL("SELECT * FROM ")`) or a placeholder
    if found.group(1):  # a derived table: look at its own select list
        opening = found.start(1)
        closing = sql.top.index(")", opening) if ")" in sql.top[opening:end] else end
        return _star_over_tables(_read_sql(sql.masked[opening + 1 : closing]), ctes, depth + 1) is not None
    if found.group(3):
        return False  # a table function's result columns
    name = found.group(2).strip('"`[]').lower()
    if name in ctes:
        return _star_over_tables(_read_sql(ctes[name]), ctes, depth + 1) is not None
    return True


def _split_top_level(sql: _Sql, start: int, end: int, *, top: bool = False) -> list[str]:
    """The comma-separated items between `start` and `end` (masked text, or top-level text)."""
    items = []
    text = sql.top if top else sql.masked
    position = start
    for index in range(start, end):
        if sql.top[index] == ",":
            items.append(text[position:index].strip())
            position = index + 1
    items.append(text[position:end].strip())
    return [item for item in items if item]
