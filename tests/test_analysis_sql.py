"""The shared analysis behind the SQL rules, tested directly on real libcst trees.

Each test parses a small module, picks the node it is about by its source text, and asks one
helper one question: is this call a query sink (which library, which argument), what does this
string expression hold, does this text read as SQL, can this f-string become placeholders.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from reviewer.analysis.bindings import BindingKind, bindings_of, called_function, returned_values
from reviewer.analysis.facts import module_names_for_path
from reviewer.analysis.parameterize import parameterize_f_string, parameterize_percent
from reviewer.analysis.sql import ParameterPassing, Paramstyle, SqlShape, query_sink, receiver_origins
from reviewer.analysis.sqltext import (
    MARKER,
    ValueSlot,
    in_string_literal,
    is_function_argument,
    looks_like_sql,
    looks_like_sql_fragment,
    looks_like_statement,
    takes_a_value,
    value_slot,
)
from reviewer.analysis.strings import (
    CONCATENATION,
    F_STRING,
    FORMAT,
    JOIN,
    MAX_FOLLOWED_CALLS,
    PERCENT,
    Kind,
    StringEvaluator,
)
from reviewer.catalog import builtin_pack_dir, load_cst_rule_classes
from reviewer.engines.cst_engine import analyze_source

from parsed_module import ParsedModule


class Parsed(ParsedModule):
    """A parsed module with ways to find calls and expressions by their source text."""

    def __init__(self, source: str, path: str = "app/queries.py") -> None:
        super().__init__(source, path)

    def call(self, callee: str, nth: int = 0) -> cst.Call:
        calls = [n for n in self.nodes if isinstance(n, cst.Call) and self.code(n.func) == callee]
        return calls[nth]

    def expression(self, text: str, kind: type = cst.BaseExpression, nth: int = 0) -> cst.BaseExpression:
        matches = [n for n in self.nodes if isinstance(n, kind) and self.code(n) == text]
        return matches[nth]

    def sink_argument(self, callee: str) -> cst.BaseExpression:
        return self.call(callee).args[0].value

    def evaluate(self, callee: str, sanitizers: tuple[str, ...] = ()):
        return StringEvaluator(self.facts, sanitizers).evaluate(self.sink_argument(callee))


# -- query sinks -------------------------------------------------------------------------------


def test_aliased_sqlite3_connect_is_traced_to_sqlite3() -> None:
    parsed = Parsed(
        """
        from sqlite3 import connect as c

        def load(path, name):
            c(path).execute(f"SELECT * FROM users WHERE name = '{name}'")
        """
    )
    sink = query_sink(parsed.call('c(path).execute'), parsed.facts)
    assert sink is not None and sink.confirmed
    assert (sink.library.name, sink.method, sink.api, sink.family) == ("sqlite3", "execute", "c().execute()", "dbapi")
    assert sink.library.paramstyle is Paramstyle.QMARK
    assert [parsed.code(e) for e in sink.sql] == ["f\"SELECT * FROM users WHERE name = '{name}'\""]
    assert sink.only_argument_is_sql


def test_aliased_psycopg2_cursor_is_traced_through_assignments() -> None:
    parsed = Parsed(
        """
        import sqlite3
        import psycopg2 as pg

        def load(dsn, query, params):
            conn = pg.connect(dsn)
            cur = conn.cursor()
            cur.execute(query, params)
        """
    )
    sink = query_sink(parsed.call("cur.execute"), parsed.facts)
    assert sink.confirmed and sink.library.name == "psycopg2"
    assert sink.library.paramstyle is Paramstyle.FORMAT and sink.library.passing is ParameterPassing.SEQUENCE
    assert not sink.only_argument_is_sql
    assert receiver_origins(parsed.expression("cur", cst.Name, nth=1), parsed.facts) == {"psycopg2.connect"}


def test_parameter_annotation_names_the_driver_when_several_are_imported() -> None:
    parsed = Parsed(
        """
        import sqlite3
        import psycopg2

        def load(conn: sqlite3.Connection, query):
            conn.execute(query)
        """
    )
    sink = query_sink(parsed.call("conn.execute"), parsed.facts)
    assert sink.confirmed and sink.library.name == "sqlite3"


def test_function_sinks_resolve_through_aliases_and_keywords() -> None:
    parsed = Parsed(
        """
        from sqlalchemy import text as t
        import pandas as pd
        from django.db.models.expressions import RawSQL

        def load(engine, q):
            t(q)
            pd.read_sql(con=engine, sql=q)
            RawSQL(q, ())
        """
    )
    text_sink = query_sink(parsed.call("t"), parsed.facts)
    assert (text_sink.api, text_sink.family, text_sink.method, text_sink.confirmed) == ("sqlalchemy.text()", "sqlalchemy", None, True)
    pandas_sink = query_sink(parsed.call("pd.read_sql"), parsed.facts)
    assert (pandas_sink.api, [parsed.code(e) for e in pandas_sink.sql]) == ("pandas.read_sql()", ["q"])
    raw_sink = query_sink(parsed.call("RawSQL"), parsed.facts)
    assert (raw_sink.api, raw_sink.family, raw_sink.shape) == ("RawSQL()", "django", SqlShape.FRAGMENT)


def test_asyncpg_connection_from_pool_takes_values_as_arguments() -> None:
    parsed = Parsed(
        """
        import asyncpg

        async def load(dsn, q):
            pool = await asyncpg.create_pool(dsn)
            async with pool.acquire() as conn:
                return await conn.fetchval(q)
        """
    )
    sink = query_sink(parsed.call("conn.fetchval"), parsed.facts)
    assert sink.confirmed and sink.library.name == "asyncpg"
    assert sink.library.paramstyle is Paramstyle.NUMERIC_DOLLAR and sink.library.passing is ParameterPassing.ARGUMENTS


def test_django_cursor_and_queryset_sinks() -> None:
    parsed = Parsed(
        """
        from django.db import connection
        from shop.models import Entry

        def load(a, b, c):
            with connection.cursor() as cursor:
                cursor.execute(a)
            Entry.objects.extra(where=[a, b], select={"n": c})
            Entry.objects.raw(raw_query=b)
        """
    )
    cursor_sink = query_sink(parsed.call("cursor.execute"), parsed.facts)
    assert cursor_sink.confirmed and cursor_sink.library.name == "django"
    extra_sink = query_sink(parsed.call("Entry.objects.extra"), parsed.facts)
    assert [parsed.code(e) for e in extra_sink.sql] == ["c", "a", "b"]
    assert (extra_sink.shape, extra_sink.confirmed, extra_sink.api) == (SqlShape.FRAGMENT, False, "Entry.objects.extra()")
    raw_sink = query_sink(parsed.call("Entry.objects.raw"), parsed.facts)
    assert [parsed.code(e) for e in raw_sink.sql] == ["b"] and raw_sink.family == "django"


def test_untraced_receiver_takes_the_only_imported_library_but_stays_unconfirmed() -> None:
    single = Parsed(
        """
        import pymysql

        def load(cur, q):
            cur.execute(q)
        """
    )
    sink = query_sink(single.call("cur.execute"), single.facts)
    assert (sink.confirmed, sink.library.name) == (False, "pymysql")

    several = Parsed(
        """
        import pymysql
        import MySQLdb

        def load(cur, q):
            cur.execute(q)
        """
    )
    sink = query_sink(several.call("cur.execute"), several.facts)
    assert (sink.confirmed, sink.library) == (False, None)


def test_function_local_import_counts_for_the_library() -> None:
    parsed = Parsed(
        """
        def load(cur, q):
            import sqlite3
            cur.execute(q)
        """
    )
    assert query_sink(parsed.call("cur.execute"), parsed.facts).library.name == "sqlite3"
    assert "sqlite3" in parsed.facts.visible_imports(parsed.call("cur.execute"))


def test_calls_that_are_not_query_sinks() -> None:
    parsed = Parsed(
        """
        import sqlite3

        def work(pool, executor, q):
            executor.submit(q)
            sqlite3.connect(q).fetch(q)
            print(q)
        """
    )
    assert query_sink(parsed.call("executor.submit"), parsed.facts) is None
    assert query_sink(parsed.call("sqlite3.connect(q).fetch"), parsed.facts) is None  # fetch() is asyncpg's
    assert query_sink(parsed.call("print"), parsed.facts) is None


# -- string values -----------------------------------------------------------------------------


def test_constants_implicit_concatenation_and_module_constants_are_text() -> None:
    parsed = Parsed(
        """
        TABLE = "users"
        QUERY = (
            "SELECT * FROM users "
            "WHERE active = 1"
        )

        def load(cur):
            cur.execute(QUERY)
            cur.executemany("DELETE FROM %s WHERE id = %%s" % TABLE)
        """
    )
    value = parsed.evaluate("cur.execute")
    assert (value.kind, value.text) == (Kind.TEXT, "SELECT * FROM users WHERE active = 1")
    value = parsed.evaluate("cur.executemany")
    assert (value.kind, value.text) == (Kind.TEXT, "DELETE FROM users WHERE id = %s")


@pytest.mark.parametrize(
    ("expression", "technique", "unsafe"),
    [
        ("f\"SELECT * FROM t WHERE a = '{name}'\"", F_STRING, ["name"]),
        ("\"SELECT * FROM t WHERE a = '%s'\" % name", PERCENT, ["name"]),
        ("\"SELECT * FROM t WHERE a = '{}'\".format(name)", FORMAT, ["name"]),
        ("\"SELECT * FROM t WHERE a = '\" + name + \"'\"", CONCATENATION, ["name"]),
        ("\"SELECT \" + \", \".join(name) + \" FROM t\"", CONCATENATION, ["name"]),
    ],
)
def test_each_way_of_building_text_from_a_parameter(expression: str, technique: str, unsafe: list[str]) -> None:
    parsed = Parsed(f"def load(cur, name):\n    cur.execute({expression})\n")
    value = parsed.evaluate("cur.execute")
    assert value.kind is Kind.BUILT
    [build] = value.builds
    assert build.node is parsed.sink_argument("cur.execute")  # the outermost building expression
    assert build.techniques[0] == technique and not build.through_variable
    assert [parsed.code(part) for part in build.unsafe_parts] == unsafe


def test_join_of_a_parameter_names_both_techniques() -> None:
    parsed = Parsed("def load(cur, cols):\n    cur.execute(f\"SELECT {', '.join(cols)} FROM t\")\n")
    [build] = parsed.evaluate("cur.execute").builds
    assert build.techniques == (F_STRING, JOIN)
    assert [parsed.code(part) for part in build.unsafe_parts] == ["cols"]


def test_text_built_through_a_variable_points_at_the_building_line() -> None:
    parsed = Parsed(
        """
        def search(cur, name, city):
            query = "SELECT * FROM people WHERE name = %s"
            if city:
                query += f" AND city = '{city}'"
            cur.execute(query, (name,))
        """
    )
    value = parsed.evaluate("cur.execute")
    assert value.kind is Kind.BUILT
    assert value.text == f"SELECT * FROM people WHERE name = %s AND city = '{MARKER}'"
    [build] = value.builds
    assert build.through_variable and parsed.line(build.node) == 5
    assert [(parsed.code(hole.expression), before[-8:], after) for hole, before, after in value.holes_in_context()] == [
        ("city", "city = '", "'")
    ]


def test_opaque_text_added_to_known_sql_is_a_build_but_not_to_an_opaque_start() -> None:
    parsed = Parsed(
        """
        def with_where(cur, where):
            query = "SELECT * FROM t WHERE "
            query += where
            cur.execute(query)

        def paginate(cur, query):
            query += " LIMIT 10"
            cur.executemany(query)
        """
    )
    [build] = parsed.evaluate("cur.execute").builds
    assert parsed.code(build.node) == "where" and build.techniques == (CONCATENATION,)
    assert parsed.evaluate("cur.executemany").kind is Kind.UNKNOWN


def test_values_that_cannot_carry_sql_keep_text_known() -> None:
    parsed = Parsed(
        """
        from typing import Optional

        ALLOWED = ("name", "created_at")

        def listing(cur, sort, direction, key, limit, page: Optional[int], ratio):
            if sort not in ALLOWED:
                raise ValueError(sort)
            order = "DESC" if direction == "down" else "ASC"
            column = {"new": "created_at", "old": "updated_at"}[key]
            cur.execute(f"SELECT * FROM t WHERE {column} > {ratio:.2f} ORDER BY {sort} {order} LIMIT {int(limit)} OFFSET {page}")
        """
    )
    value = parsed.evaluate("cur.execute")
    assert value.kind is Kind.TEXT
    assert value.text.startswith("SELECT * FROM t WHERE created_at > ")


def test_an_allow_list_check_is_void_after_a_reassignment() -> None:
    parsed = Parsed(
        """
        def listing(cur, sort, request):
            if sort not in ("name", "id"):
                return []
            sort = request.args["sort"]
            cur.execute(f"SELECT * FROM t ORDER BY {sort}")
        """
    )
    [build] = parsed.evaluate("cur.execute").builds
    assert [parsed.code(part) for part in build.unsafe_parts] == ["sort"]


def test_an_and_condition_is_not_an_allow_list_check() -> None:
    parsed = Parsed(
        """
        def listing(cur, sort, strict):
            if strict and sort not in ("name", "id"):
                raise ValueError(sort)
            cur.execute(f"SELECT * FROM t ORDER BY {sort}")
        """
    )
    assert parsed.evaluate("cur.execute").kind is Kind.BUILT


def test_sanitizers_are_matched_by_qualified_name_including_relative_imports() -> None:
    source = """
        from .db import checked_table

        def dump(cur, table):
            cur.execute(f"SELECT * FROM {checked_table(table)}")
        """
    parsed = Parsed(source, path="myapp/views.py")
    assert parsed.evaluate("cur.execute", sanitizers=("myapp.db.checked_table",)).kind is Kind.TEXT
    assert parsed.evaluate("cur.execute", sanitizers=("otherapp.db.checked_table",)).kind is Kind.BUILT


def test_list_appends_feed_a_join() -> None:
    parsed = Parsed(
        """
        def search(cur, name, city):
            clauses, params = ["active = 1"], []
            if name:
                clauses.append("name = ?")
                params.append(name)
            cur.execute("SELECT * FROM t WHERE " + " AND ".join(clauses), params)

        def unsafe(conn, city):
            clauses = []
            clauses.append(f"city = '{city}'")
            conn.execute("SELECT * FROM t WHERE " + " AND ".join(clauses))
        """
    )
    value = parsed.evaluate("cur.execute")
    assert (value.kind, value.text) == (Kind.TEXT, "SELECT * FROM t WHERE active = 1 AND name = ?")
    [build] = parsed.evaluate("conn.execute").builds
    assert build.through_variable and parsed.line(build.node) == 11 and build.techniques == (F_STRING,)


def test_generated_placeholders_are_text() -> None:
    parsed = Parsed(
        """
        COLUMNS = ["id", "name"]

        def by_ids(cur, ids):
            marks = ", ".join("?" * len(ids))
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM t WHERE id IN ({marks}) AND x IN ({','.join(['%s'] * len(ids))})")
        """
    )
    assert parsed.evaluate("cur.execute").kind is Kind.TEXT


def test_psycopg_composition_is_not_text() -> None:
    parsed = Parsed(
        """
        from psycopg2 import sql

        def count(cur, table):
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        """
    )
    assert parsed.evaluate("cur.execute").kind is Kind.UNKNOWN


def test_a_loop_reassignment_does_not_recurse_forever() -> None:
    parsed = Parsed(
        """
        def load(cur, ids):
            q = "SELECT * FROM t WHERE id IN (0"
            for i in ids:
                q = q + ", " + str(i)
            cur.execute(q + ")")
        """
    )
    value = parsed.evaluate("cur.execute")
    [build] = value.builds
    assert build.through_variable and parsed.line(build.node) == 5
    assert [parsed.code(part) for part in build.unsafe_parts] == ["str(i)"]


# -- SQL text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"SELECT * FROM users WHERE id = {MARKER}",
        f"  -- newest first\nselect id from t order by {MARKER}",
        "(SELECT a FROM t) UNION (SELECT b FROM u)",
        f"INSERT INTO t (a) VALUES ({MARKER})",
        f"update users set name = '{MARKER}'",
        f"DELETE FROM t WHERE id = {MARKER}",
        f"WITH recent AS (SELECT * FROM t) SELECT * FROM recent WHERE id = {MARKER}",
        f"CREATE TEMP TABLE {MARKER} (id int)",
        f"DROP TABLE {MARKER}",
        f"VACUUM {MARKER}",
        f"EXPLAIN ANALYZE SELECT * FROM {MARKER}",
        f"SELECT pg_advisory_lock({MARKER})",
    ],
)
def test_text_reads_as_a_statement(text: str) -> None:
    assert looks_like_statement(text)


@pytest.mark.parametrize(
    "text",
    [
        f"job {MARKER}",
        f"select {MARKER}",
        f"DELETE /users/{MARKER}",
        f"update {MARKER} now",
        f"vacuum the {MARKER}",
        f"{MARKER} FROM t",
        f"drop {MARKER} into the bucket",
    ],
)
def test_text_does_not_read_as_a_statement(text: str) -> None:
    assert not looks_like_statement(text)


def test_clauses_and_fragments() -> None:
    assert looks_like_sql(f"{MARKER} WHERE id = {MARKER}")
    assert looks_like_sql(f"{MARKER} ORDER BY {MARKER}")
    assert not looks_like_sql(f"process {MARKER} now")
    assert looks_like_sql_fragment(f"headline LIKE '%{MARKER}%'")
    assert looks_like_sql_fragment(f"pub_date > '{MARKER}'")
    assert not looks_like_sql_fragment(f"hello {MARKER}")


@pytest.mark.parametrize(
    ("before", "after", "slot"),
    [
        ("WHERE id = ", "", ValueSlot()),
        ("WHERE name = '", "' AND x = 1", ValueSlot("'", "'")),
        ("WHERE name = \\'", "\\'", ValueSlot("\\'", "\\'")),
        ("WHERE id IN (1, ", ")", ValueSlot()),
        (f"VALUES ({MARKER}, ", ")", ValueSlot()),
        ("WHERE name LIKE ", "", ValueSlot()),
        ("LIMIT ", " OFFSET 5", ValueSlot()),
        ("SELECT * FROM ", " WHERE id = 1", None),
        ("ORDER BY ", "", None),
        ("WHERE id = ", "::int", None),
        ("WHERE id = ", MARKER, None),
        ("WHERE name LIKE '%", "%'", None),
        ("SELECT a, ", " FROM t", None),
    ],
)
def test_value_slots(before: str, after: str, slot: ValueSlot | None) -> None:
    assert value_slot(before, after) == slot


def test_string_literal_detection() -> None:
    assert in_string_literal("WHERE name LIKE '%")
    assert not in_string_literal("WHERE name = 'a' AND b = ")


@pytest.mark.parametrize(
    ("before", "after", "value", "argument"),
    [
        ("WHERE id = ", "", True, False),
        ("WHERE name LIKE '%", "%'", True, False),
        ("ORDER BY ", " DESC", False, False),
        ("SELECT pg_try_advisory_xact_lock(", ")", False, True),
        ("SELECT SYSTEM$CANCEL_ALL_QUERIES(", ")", False, True),
        ("SELECT coalesce(total, ", ") FROM t", False, True),
        ("SELECT * FROM generate_series(1, ", ")", False, True),
        ("INSERT INTO t (", ") VALUES (%s)", False, False),
        ('CREATE TABLE IF NOT EXISTS "t" (', " int)", False, False),
        ("CREATE INDEX i ON t (", ")", False, False),
        ("ALTER TABLE t ADD FOREIGN KEY (", ") REFERENCES u (id)", False, False),
        ("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (", ")", False, False),
        ("SELECT * FROM a JOIN b USING (", ")", False, False),
        ("SELECT f(x ", ")", False, False),
    ],
)
def test_values_and_function_arguments(before: str, after: str, value: bool, argument: bool) -> None:
    assert (takes_a_value(before, after), is_function_argument(before, after)) == (value, argument)


# -- parameterizing f-strings ------------------------------------------------------------------


def _f_string(source: str) -> cst.FormattedString:
    node = cst.parse_expression(source)
    assert isinstance(node, cst.FormattedString)
    return node


def _arguments(source: str, paramstyle: Paramstyle, passing: ParameterPassing = ParameterPassing.SEQUENCE) -> str | None:
    result = parameterize_f_string(_f_string(source), paramstyle)
    module = cst.Module(body=[])
    return None if result is None else result.arguments(passing, module.code_for_node)


def test_parameterize_each_paramstyle() -> None:
    source = "f\"SELECT * FROM t WHERE name = '{user.name}' AND id IN ({a}, {b}) AND pct LIKE '5%'\""
    assert _arguments(source, Paramstyle.QMARK) == "\"SELECT * FROM t WHERE name = ? AND id IN (?, ?) AND pct LIKE '5%'\", (user.name, a, b)"
    assert _arguments(source, Paramstyle.FORMAT) == "\"SELECT * FROM t WHERE name = %s AND id IN (%s, %s) AND pct LIKE '5%%'\", (user.name, a, b)"
    assert (
        _arguments(source, Paramstyle.NUMERIC_DOLLAR, ParameterPassing.ARGUMENTS)
        == "\"SELECT * FROM t WHERE name = $1 AND id IN ($2, $3) AND pct LIKE '5%'\", user.name, a, b"
    )


def test_parameterize_keeps_prefix_quotes_and_unescapes_braces() -> None:
    assert _arguments("rf'''SELECT '{{}}' AS j, x FROM t WHERE id = {uid}'''", Paramstyle.QMARK) == (
        "r'''SELECT '{}' AS j, x FROM t WHERE id = ?''', (uid,)"
    )


@pytest.mark.parametrize(
    "source",
    [
        "f\"SELECT * FROM {table} WHERE id = {uid}\"",  # a table name cannot be a parameter
        "f\"SELECT * FROM t ORDER BY {column}\"",
        "f\"SELECT * FROM t WHERE name LIKE '%{term}%'\"",  # inside a literal pattern
        "f\"SELECT * FROM t WHERE id = {uid!r}\"",
        "f\"SELECT * FROM t WHERE id = {uid:>5}\"",
        "f\"SELECT * FROM t WHERE id = {ids[0]}\"",
        "f\"SELECT * FROM t WHERE id = {get_id()}\"",
        "f\"SELECT * FROM t WHERE id = {uid}::int\"",
        "f\"SELECT * FROM t WHERE a = ? AND id = {uid}\"",  # a literal ? would be read as a placeholder
        "f\"SELECT 1\"",
    ],
)
def test_parameterize_refuses_what_is_not_certainly_safe(source: str) -> None:
    assert parameterize_f_string(_f_string(source), Paramstyle.QMARK) is None


# -- facts -------------------------------------------------------------------------------------


def test_module_names_for_path() -> None:
    assert module_names_for_path("src/shop/db.py") == ("src.shop.db", "shop.db", "db")
    assert module_names_for_path("shop/__init__.py") == ("shop",)


def test_one_line_allow_list_reset_counts_as_a_check() -> None:
    parsed = Parsed(
        """
        def listing(cur, order):
            if order not in ("asc", "desc"): order = "asc"
            cur.execute(f"SELECT * FROM t ORDER BY id {order}")
        """
    )
    assert parsed.evaluate("cur.execute").kind is Kind.TEXT


# -- SQL001 uses these helpers to offer a fix only where it is certain --------------------------


@pytest.mark.parametrize(
    ("source", "line"),
    [
        # a value in a name position (ORDER BY) cannot become a parameter
        ("import sqlite3\ndef f(conn, tag, sort):\n    conn.execute(f\"SELECT * FROM t WHERE tag = '{tag}' ORDER BY {sort}\")\n", 3),
        # the driver is unknown: two libraries imported, the cursor comes from a parameter
        ("import sqlite3\nimport psycopg2\ndef f(cur, pk):\n    cur.execute(f\"DELETE FROM t WHERE id = {pk}\")\n", 4),
        # the SQL is passed by keyword, or alongside other arguments
        ("import sqlite3\ndef f(cur, pk):\n    cur.execute(sql=f\"DELETE FROM t WHERE id = {pk}\")\n", 3),
        ("import sqlite3\ndef f(cur, pk, rows):\n    cur.executemany(f\"DELETE FROM t WHERE id = {pk}\", rows)\n", 3),
        # executescript takes no parameters at all
        ("import sqlite3\ndef f(cur, pk):\n    cur.executescript(f\"DELETE FROM t WHERE id = {pk}\")\n", 3),
        # the text arrives through a variable
        ("import sqlite3\ndef f(cur, pk):\n    q = f\"DELETE FROM t WHERE id = {pk}\"\n    cur.execute(q)\n", 3),
    ],
)
def test_sql001_offers_no_fix_where_a_fix_is_not_certain(source: str, line: int) -> None:
    [finding] = _sql001(source)
    assert (finding.code, finding.start.line, finding.fix) == ("SQL001", line, None)


def test_sql001_fix_for_an_untraced_cursor_uses_the_only_imported_driver() -> None:
    [finding] = _sql001("import pymysql\ndef f(cur, pk):\n    cur.execute(f\"DELETE FROM t WHERE id = {pk}\")\n")
    assert [edit.replacement for edit in finding.fix.edits] == ['"DELETE FROM t WHERE id = %s", (pk,)']
    assert finding.message == "SQL built with an f-string reaches cur.execute(); pass the values as parameters (`%s` placeholders)"


def _sql001(source: str):
    [rule] = load_cst_rule_classes(builtin_pack_dir() / "python" / "sql" / "sql001_string_built_sql.py")
    return analyze_source([rule], "app/db.py", textwrap.dedent(source))


# -- functions of the same file ----------------------------------------------------------------


def test_called_function_resolves_module_functions_and_own_methods() -> None:
    parsed = Parsed(
        """
        import functools

        def build(name, order="id", *, limit=10):
            return name

        @functools.lru_cache(maxsize=None)
        def cached(name):
            return name

        def traced(f):
            return f

        @traced
        def wrapped(name):
            return name

        class Repo:
            def where(self, column, value=None):
                return column

            @staticmethod
            def plain(column):
                return column

            @classmethod
            def named(cls, column):
                return column

            def load(self, other, x):
                build(x, limit=5)
                cached(x)
                wrapped(x)
                self.where(x)
                self.plain(x)
                other.where(x)
                self.missing(x)

            @classmethod
            def create(cls, x):
                cls.named(x)
                cls.where(x)
        """
    )
    called = called_function(parsed.call("build"), parsed.facts)
    assert called.name == "build" and not called.receiver_bound
    assert {param.name.value: parsed.code(arg) if arg else None for param, arg in called.arguments(parsed.call("build")).items()} == {
        "name": "x",
        "order": '"id"',
        "limit": "5",
    }
    assert called_function(parsed.call("cached"), parsed.facts).name == "cached"
    assert called_function(parsed.call("wrapped"), parsed.facts) is None  # an unknown decorator may change the result
    method = called_function(parsed.call("self.where"), parsed.facts)
    assert (method.name, method.receiver_bound) == ("where", True)
    assert {param.name.value: parsed.code(arg) if arg else None for param, arg in method.arguments(parsed.call("self.where")).items()} == {
        "column": "x",
        "value": "None",
    }
    static = called_function(parsed.call("self.plain"), parsed.facts)
    assert (static.name, static.receiver_bound) == ("plain", False)
    assert called_function(parsed.call("other.where"), parsed.facts) is None  # not `self`: could be any object
    classmethod_call = called_function(parsed.call("cls.named"), parsed.facts)
    assert (classmethod_call.name, classmethod_call.receiver_bound) == ("named", True)
    assert called_function(parsed.call("cls.where"), parsed.facts) is None  # x would land in `self`
    assert called_function(parsed.call("self.missing"), parsed.facts) is None


def test_returned_values_skip_nested_functions_and_generators() -> None:
    parsed = Parsed(
        """
        def query(kind):
            def inner():
                return "nested"
            if kind:
                return "SELECT a FROM t"
            return f"SELECT {kind} FROM t"

        def rows(cur):
            yield from cur
            return "done"
        """
    )
    definitions = [node for node in parsed.nodes if isinstance(node, cst.FunctionDef)]
    query, _inner, rows = definitions
    assert [parsed.code(value) for value in returned_values(query)] == ['"SELECT a FROM t"', 'f"SELECT {kind} FROM t"']
    assert returned_values(rows) == ()


def test_enclosing_function_and_unpacked_loop_bindings() -> None:
    parsed = Parsed(
        """
        def load(cur, pairs):
            for index, (column, kind) in enumerate(pairs):
                cur.execute(column)
        """
    )
    use = parsed.sink_argument("cur.execute")
    assert parsed.facts.enclosing_function(use).name.value == "load"
    [binding] = bindings_of(use, parsed.facts)
    assert (binding.kind, binding.components, parsed.code(binding.expression)) == (BindingKind.UNPACKED_ITEM, (1, 0), "enumerate(pairs)")


def _followed(parsed: Parsed, callee: str):
    return StringEvaluator(parsed.facts, follow_calls=True).evaluate(parsed.sink_argument(callee))


def test_helper_calls_are_followed_only_when_asked() -> None:
    parsed = Parsed(
        """
        def build(name):
            return f"SELECT * FROM users WHERE name = '{name}'"

        def load(cur, x):
            cur.execute(build(x))
        """
    )
    assert parsed.evaluate("cur.execute").kind is Kind.UNKNOWN  # other rules' evaluators are unchanged
    value = _followed(parsed, "cur.execute")
    assert value.kind is Kind.BUILT and value.text == f"SELECT * FROM users WHERE name = '{MARKER}'"
    [build] = value.builds
    assert parsed.line(build.node) == 3 and build.via_call is parsed.call("build")
    # the unsafe part is the caller's argument, which the helper's parameter stood for
    assert [(parsed.code(part), parsed.line(part)) for part in build.unsafe_parts] == [("x", 6)]


def test_followed_arguments_that_are_text_keep_the_result_text() -> None:
    parsed = Parsed(
        """
        ORDERS = {"new": "created_at DESC"}

        def where(column, value: int):
            return f"{column} = {value}"

        def query(table, column, key):
            return f"SELECT * FROM {table} WHERE " + where(column, key) + " ORDER BY " + ORDERS.get(key, "id")

        def load(cur, key):
            cur.execute(query("users", "id", key))
        """
    )
    value = _followed(parsed, "cur.execute")
    assert (value.kind, value.text) == (Kind.TEXT, f"SELECT * FROM users WHERE id = {MARKER} ORDER BY created_at DESC")


def test_calls_are_followed_two_deep_and_not_into_recursion() -> None:
    parsed = Parsed(
        """
        def one(x):
            return f"a = '{x}'"

        def two(x):
            return "WHERE " + one(x)

        def three(x):
            return "SELECT * FROM t " + two(x)

        def again(x):
            return again(x) + f"'{x}'"

        def load(cur, v):
            cur.execute(two(v))
            cur.executemany(three(v))
            cur.executescript(again(v))
        """
    )
    [build] = _followed(parsed, "cur.execute").builds
    assert parsed.line(build.node) == 3 and build.via_call is parsed.call("two", 1)
    [build] = _followed(parsed, "cur.executemany").builds  # one() is a third call deep: an opaque value
    assert (parsed.code(build.node), [parsed.code(part) for part in build.unsafe_parts]) == ('"WHERE " + one(x)', ["one(x)"])
    [build] = _followed(parsed, "cur.executescript").builds
    assert parsed.code(build.node) == "again(x) + f\"'{x}'\""  # the recursive call is opaque, not followed


def test_the_follow_budget_is_per_module() -> None:
    calls = "\n".join(f"    cur.execute(build(v{i}))" for i in range(MAX_FOLLOWED_CALLS + 5))
    parsed = Parsed(f"def build(name):\n    return f\"SELECT * FROM t WHERE a = '{{name}}'\"\n\ndef load(cur):\n{calls}\n")
    evaluator = StringEvaluator(parsed.facts, follow_calls=True)
    kinds = [evaluator.evaluate(call.args[0].value).kind for call in parsed.nodes if isinstance(call, cst.Call) and parsed.code(call.func) == "cur.execute"]
    assert kinds == [Kind.BUILT] * MAX_FOLLOWED_CALLS + [Kind.UNKNOWN] * 5


def test_evaluate_through_call_binds_the_wrappers_parameters() -> None:
    parsed = Parsed(
        """
        def run(cur, sql, suffix=" LIMIT 10"):
            cur.execute(sql + suffix)

        def load(cur, name):
            run(cur, f"SELECT * FROM t WHERE name = '{name}'")
            run(cur, "SELECT 1", suffix=f" LIMIT {int(name)}")
        """
    )
    run = called_function(parsed.call("run"), parsed.facts)
    evaluator = StringEvaluator(parsed.facts)
    inner = parsed.sink_argument("cur.execute")
    assert evaluator.evaluate(inner).kind is Kind.UNKNOWN
    value = evaluator.evaluate_through_call(inner, parsed.call("run"), run)
    assert value.text == f"SELECT * FROM t WHERE name = '{MARKER}' LIMIT 10"
    [build] = value.builds
    assert build.through_variable and parsed.line(build.node) == 6
    assert evaluator.evaluate_through_call(inner, parsed.call("run", 1), run).kind is Kind.TEXT


# -- format(**locals()), environment, unpacked loops -------------------------------------------


def test_format_with_locals_reads_each_named_local() -> None:
    parsed = Parsed(
        """
        def purge(cur, days: int, name, **kwargs):
            table = "events"
            cur.execute("DELETE FROM {table} WHERE age > {days}".format(**locals()))
            cur.executemany("DELETE FROM {table} WHERE name = '{name}'".format_map(vars()))
            cur.executescript("DELETE FROM {table} WHERE name = '{name}'".format(**kwargs))
        """
    )
    value = parsed.evaluate("cur.execute")
    assert (value.kind, value.text) == (Kind.TEXT, f"DELETE FROM events WHERE age > {MARKER}")
    value = parsed.evaluate("cur.executemany")
    assert value.text == f"DELETE FROM events WHERE name = '{MARKER}'"
    [build] = value.builds
    assert build.techniques == (FORMAT,) and [parsed.code(part) for part in build.unsafe_parts] == ["vars()"]
    [build] = parsed.evaluate("cur.executescript").builds
    assert [parsed.code(part) for part in build.unsafe_parts] == ["kwargs"]


def test_format_with_a_literal_mapping_is_text() -> None:
    parsed = Parsed(
        """
        def purge(cur):
            names = {"table": "events", "column": "created_at"}
            cur.execute("DELETE FROM {table} WHERE {column} IS NULL".format(**names))
        """
    )
    assert parsed.evaluate("cur.execute").text == "DELETE FROM events WHERE created_at IS NULL"


def test_environment_variables_are_trusted_configuration() -> None:
    parsed = Parsed(
        """
        import os
        from os import environ

        def report(cur, day):
            cur.execute(f"SELECT * FROM {os.environ['TABLE']} JOIN {environ.get('OTHER')} USING (id) WHERE {os.getenv('COLUMN')} = %s", (day,))
        """
    )
    assert parsed.evaluate("cur.execute").kind is Kind.TEXT


@pytest.mark.parametrize(
    ("loop", "kind"),
    [
        ("for column, kind in (('id', 'int'), ('name', 'text')):", Kind.TEXT),
        ("for column, label in {'sku': 'SKU', 'name': 'Name'}.items():", Kind.TEXT),
        ("for index, column in enumerate(('id', 'name')):", Kind.TEXT),
        ("for column, other in zip(('id', 'name'), request_columns):", Kind.TEXT),
        ("for other, column in zip(('id', 'name'), request_columns):", Kind.BUILT),
        ("for column, value in request_filters.items():", Kind.BUILT),
        ("for column, *rest in (('id', 'int'),):", Kind.BUILT),
    ],
)
def test_unpacked_loop_targets_take_the_components_of_literal_items(loop: str, kind: Kind) -> None:
    parsed = Parsed(f"def load(cur, request_columns, request_filters):\n    {loop}\n        cur.execute(f'SELECT {{column}} FROM t')\n")
    assert parsed.evaluate("cur.execute").kind is kind


# -- forgotten parameters: `%` into execute ----------------------------------------------------


def _percent(source: str, paramstyle: Paramstyle = Paramstyle.FORMAT, unescapes_percent: bool = True) -> str | None:
    node = cst.parse_expression(source)
    assert isinstance(node, cst.BinaryOperation)
    result = parameterize_percent(node, paramstyle, unescapes_percent=unescapes_percent)
    return None if result is None else result.arguments(ParameterPassing.SEQUENCE, cst.Module(body=[]).code_for_node)


def test_parameterize_percent_passes_the_values() -> None:
    assert _percent('"SELECT * FROM t WHERE id = %s" % user_id') == '"SELECT * FROM t WHERE id = %s", (user_id,)'
    assert _percent("'SELECT * FROM t WHERE a = \\'%s\\' AND b IN (%s, %s)' % (a.b, c(), d)") == (
        "'SELECT * FROM t WHERE a = %s AND b IN (%s, %s)', (a.b, c(), d)"
    )
    assert _percent("\"UPDATE t SET pct = '5%%' WHERE name = '%s'\" % request.args['name']") == (
        "\"UPDATE t SET pct = '5%%' WHERE name = %s\", (request.args['name'],)"
    )
    assert _percent('r"""SELECT * FROM t WHERE id = %s""" % (pk,)') == 'r"""SELECT * FROM t WHERE id = %s""", (pk,)'


@pytest.mark.parametrize(
    "source",
    [
        '"SELECT * FROM t WHERE id = %d" % pk',  # only %s
        '"SELECT * FROM t WHERE id = %(pk)s" % {"pk": pk}',
        '"SELECT * FROM %s WHERE id = %s" % (table, pk)',  # a table name cannot be a parameter
        "\"SELECT * FROM t WHERE name LIKE '%%%s%%'\" % term",  # inside a literal pattern
        '"SELECT * FROM t WHERE a = %s AND b = %s" % pair',  # one value for two conversions
        '"SELECT * FROM t WHERE a = %s" % (a, b)',
        '"SELECT * FROM t WHERE id = %s" % get_id()',  # may return a tuple
        '"SELECT * FROM t WHERE id = %s" % (*ids,)',
        '"SELECT * FROM t WHERE a = %s AND b = %s" % (a, (b, c))',
        '"SELECT * FROM t WHERE id = \\x25s" % pk',  # an escape spells the %
        'b"SELECT * FROM t WHERE id = %s" % pk',
        '"SELECT * FROM t " "WHERE id = %s" % pk',  # implicit concatenation: left as it is
        '"SELECT * FROM t WHERE id = %s %" % pk',
    ],
)
def test_parameterize_percent_refuses_what_is_not_certain(source: str) -> None:
    assert _percent(source) is None


def test_percent_fixes_follow_what_the_driver_does_with_double_percent() -> None:
    assert _percent('"SELECT * FROM t WHERE id = %s" % pk', Paramstyle.QMARK) is None  # `?` drivers: not this fix
    assert _percent("\"SELECT * FROM t WHERE pct = '5%%' AND id = %s\" % pk", unescapes_percent=False) is None
    assert _percent('"SELECT * FROM t WHERE id = %s" % pk', unescapes_percent=False) == '"SELECT * FROM t WHERE id = %s", (pk,)'
    f_string = _f_string("f\"SELECT * FROM t WHERE pct = '5%' AND id = {pk}\"")
    assert parameterize_f_string(f_string, Paramstyle.FORMAT, unescapes_percent=False) is None


# -- SQL001: where findings go for helpers, wrappers and loops ---------------------------------


def test_sql001_reports_a_helper_built_from_its_parameters_at_the_call() -> None:
    source = textwrap.dedent(
        """
        import sqlite3

        def by_name(name):
            return f"SELECT * FROM users WHERE name = '{name}'"

        def load(conn: sqlite3.Connection, first, second):
            conn.execute(by_name("admin"))
            conn.execute(by_name(first))
            query = by_name(second)
            return conn.execute(query).fetchall()
        """
    )
    findings = _sql001(source)
    assert [(f.start.line, f.start.column) for f in findings] == [(9, 18), (10, 13)]
    assert findings[0].message == (
        "SQL that `by_name()` builds with an f-string (line 5) from `first` reaches conn.execute(); "
        "have `by_name()` return the text with placeholders and the values, and pass those as parameters"
    )
    assert "from `second` reaches conn.execute() on line 11;" in findings[1].message
    assert all(f.fix is None for f in findings)


def test_sql001_reports_a_helpers_own_value_once_inside_the_helper() -> None:
    source = textwrap.dedent(
        """
        import sqlite3

        class Tenants:
            def _clause(self):
                return f"tenant = '{self.request.headers['X-Tenant']}'"

            def invoices(self, conn: sqlite3.Connection):
                return conn.execute("SELECT * FROM invoices WHERE " + self._clause()).fetchall()

            def payments(self, conn: sqlite3.Connection):
                return conn.execute("SELECT * FROM payments WHERE " + self._clause()).fetchall()
        """
    )
    [finding] = _sql001(source)
    assert finding.start.line == 6
    assert finding.message.startswith("SQL built with an f-string reaches conn.execute() on line 9 through `_clause()`;")


def test_sql001_wrapper_calls_are_sinks_one_level_deep() -> None:
    source = textwrap.dedent(
        """
        import psycopg2

        def run(sql, params=()):
            with psycopg2.connect("") as conn, conn.cursor() as cur:
                cur.execute(sql, params)

        def run_twice(sql):
            run(sql)
            run(sql)

        def report(region, day, queue):
            run(f"SELECT * FROM sales WHERE region = '{region}'")
            run("SELECT * FROM sales WHERE day = %s", (day,))
            run_twice(f"DELETE FROM sales WHERE region = '{region}'")  # a wrapper of a wrapper: not followed
            queue.run(f"DELETE FROM sales WHERE region = '{region}'")  # another object's run()
        """
    )
    [finding] = _sql001(source)
    assert finding.start.line == 13
    assert finding.message == (
        "SQL built with an f-string reaches cur.execute() on line 6 through `run()`; pass the values as parameters (`%s` placeholders)"
    )


def test_sql001_wrapper_reports_its_own_build_at_its_own_sink_only() -> None:
    source = textwrap.dedent(
        """
        import sqlite3

        def by_column(conn: sqlite3.Connection, column, value):
            return conn.execute(f"SELECT * FROM t WHERE {column} = ?", (value,)).fetchall()

        def load(conn, request):
            by_column(conn, "name", request.args["name"])
            by_column(conn, request.args["column"], 1)
        """
    )
    assert [f.start.line for f in _sql001(source)] == [5]


def test_sql001_percent_fix_only_where_the_value_is_one_value() -> None:
    source = textwrap.dedent(
        """
        import psycopg2

        def load(cur, user_id, rows):
            pair = (user_id,)
            cur.execute("SELECT * FROM t WHERE id = %s" % user_id)
            cur.execute("SELECT * FROM t WHERE id = %s" % pair)
            for row in rows:
                cur.execute("SELECT * FROM t WHERE id = %s" % row)
        """
    )
    findings = _sql001(source)
    assert [(f.start.line, f.fix is not None) for f in findings] == [(6, True), (7, False), (9, False)]
    assert findings[0].fix.description == "Pass the `%` values as the query's parameters argument"
    assert [edit.replacement for edit in findings[0].fix.edits] == ['"SELECT * FROM t WHERE id = %s", (user_id,)']


def test_sql001_no_percent_fix_for_mysql_connector_with_a_literal_percent() -> None:
    source = textwrap.dedent(
        """
        import mysql.connector

        def load(user_id):
            cur = mysql.connector.connect().cursor()
            cur.execute("SELECT * FROM t WHERE id = %s" % user_id)
            cur.execute("SELECT * FROM t WHERE pct LIKE '5%%' AND id = %s" % user_id)
        """
    )
    findings = _sql001(source)
    assert [(f.start.line, f.fix is not None) for f in findings] == [(6, True), (7, False)]


def test_sql001_loop_values_are_flagged_and_allow_listed_keys_are_not() -> None:
    source = textwrap.dedent(
        """
        import sqlite3

        FILTERABLE = ("status", "region")

        def orders(conn: sqlite3.Connection, filters):
            sql = "SELECT * FROM orders WHERE 1 = 1"
            for column, value in filters.items():
                if column in FILTERABLE:
                    sql += f" AND {column} = '{value}'"
            return conn.execute(sql).fetchall()
        """
    )
    [finding] = _sql001(source)
    assert finding.start.line == 10
    assert finding.message == "SQL built with an f-string reaches conn.execute() on line 11 through `sql`; pass the values as parameters (`?` placeholders)"


# -- identifier quoting, escaped quotes, literal rows -------------------------------------------


def test_identifier_quoting_helpers_are_recognised_by_name_but_not_url_or_shell_quoting() -> None:
    parsed = Parsed(
        """
        import shlex
        from urllib.parse import quote

        def f(cur, dialect, table, spec):
            cur.execute(f"SELECT * FROM {dialect.identifier_preparer.quote(table)}")
            cur.execute(f"SELECT * FROM {spec.quote_table(table, dialect)}")
            cur.execute(f"SELECT * FROM {quote(table)}")
            cur.execute(f"SELECT * FROM {shlex.quote(table)}")
            cur.execute(f"SELECT * FROM {spec.quoted(table)}")
        """
    )
    evaluator = StringEvaluator(parsed.facts)
    kinds = [evaluator.evaluate(parsed.call("cur.execute", nth).args[0].value).kind for nth in range(5)]
    assert kinds == [Kind.TEXT, Kind.TEXT, Kind.BUILT, Kind.BUILT, Kind.BUILT]


def test_a_callee_taken_from_a_literal_dict_is_safe_only_if_every_entry_is() -> None:
    parsed = Parsed(
        """
        def f(cur, table, preparer):
            quoting = {"schema": preparer.quote_schema, "table": preparer.quote}
            mixed = {"schema": preparer.quote_schema, "table": str}
            cur.execute("SELECT * FROM " + ".".join(q(getattr(table, k)) for k, q in quoting.items()))
            cur.execute("SELECT * FROM " + ".".join(q(getattr(table, k)) for k, q in mixed.items()))
        """
    )
    evaluator = StringEvaluator(parsed.facts)
    kinds = [evaluator.evaluate(parsed.call("cur.execute", nth).args[0].value).kind for nth in range(2)]
    assert kinds == [Kind.TEXT, Kind.BUILT]


def test_rows_of_a_literal_list_of_dicts_and_repeated_placeholders_are_text() -> None:
    parsed = Parsed(
        """
        import itertools

        TABLES = [{"name": "a_link", "column": "task_id"}, {"name": "b_link", "column": "task_id"}]
        ROWS = [{"name": "a_link"}, {"name": NAME_FROM_SETTINGS()}]

        def f(cur, ids):
            for table in TABLES:
                cur.execute(f'CREATE INDEX ON "{table["name"]}" ("{table["column"]}")')
            for row in ROWS:
                cur.execute(f'DROP TABLE "{row["name"]}"')
            cur.execute("DELETE FROM t WHERE id IN (" + ", ".join(itertools.repeat("%s", len(ids))) + ")", ids)
        """
    )
    evaluator = StringEvaluator(parsed.facts)
    kinds = [evaluator.evaluate(parsed.call("cur.execute", nth).args[0].value).kind for nth in range(3)]
    assert kinds == [Kind.TEXT, Kind.BUILT, Kind.TEXT]


def test_sql001_a_doubled_quote_is_safe_only_inside_that_quote() -> None:
    findings = _sql001(
        """
        import sqlite3

        def f(conn: sqlite3.Connection, url, note, flag):
            url = url.replace('"', '""')
            conn.execute(f'SELECT * FROM "{url}"')
            conn.execute(f"SELECT * FROM sheets WHERE url = '{url}'")
            note = note.replace("'", "''")
            conn.execute(f"SELECT * FROM sheets WHERE note = {note}")
            if flag:
                note = flag
            conn.execute(f"SELECT * FROM sheets WHERE note = '{note}'")
        """
    )
    assert [(f.start.line, f.severity.value) for f in findings] == [(7, "error"), (9, "error"), (12, "error")]


def test_sql001_severity_and_advice_follow_where_the_value_stands() -> None:
    findings = _sql001(
        """
        import psycopg2

        def f(cur, table, lock_id, customer, schema, catalog):
            cur.execute(f"SELECT id FROM {table}")
            cur.execute(f"SELECT pg_advisory_lock({lock_id})")
            cur.execute(f"SELECT id FROM {table} WHERE customer = '{customer}'")
            where = f"`{catalog}.{schema}.TABLES`" if catalog else f"`{schema}.TABLES`"
            cur.execute(f"SELECT table_name FROM {where}")
        """
    )
    names = "parameters cannot stand for names, so pick them from an allow-list"
    values = "pass the values as parameters (`%s` placeholders)"
    unclear = f"{values}; where it is a name, pick it from an allow-list instead"
    assert [(f.start.line, f.severity.value, f.message.split("; ", 1)[1]) for f in findings] == [
        (5, "warning", names),
        (6, "warning", unclear),  # an SQL function's argument: a value or a column
        (7, "error", values),
        (8, "warning", names),
        (8, "warning", unclear),  # the alternative whose text the evaluation did not keep
    ]


def test_sql001_in_migrations_reports_values_but_not_names() -> None:
    source = """
        from alembic import op

        def backfill(table, owner):
            op.execute(f"UPDATE {table} SET owner = '{owner}'")
            op.execute(f"ALTER TABLE {table} ADD COLUMN owner text")
        """
    [finding] = analyze_source(
        load_cst_rule_classes(builtin_pack_dir() / "python" / "sql" / "sql001_string_built_sql.py"),
        "app/migrations/versions/0003_owner.py",
        textwrap.dedent(source),
    )
    assert (finding.start.line, finding.severity.value) == (5, "error")
