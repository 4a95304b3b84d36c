"""The shared analysis behind the SQL rules, tested directly on real libcst trees.

Each test parses a small module, picks the node it is about by its source text, and asks one
helper one question: is this call a query sink (which library, which argument), what does this
string expression hold, does this text read as SQL, can this f-string become placeholders.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper

from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.parameterize import parameterize_f_string
from reviewer.analysis.sql import ParameterPassing, Paramstyle, SqlShape, query_sink, receiver_origins
from reviewer.analysis.sqltext import (
    MARKER,
    ValueSlot,
    in_string_literal,
    looks_like_sql,
    looks_like_sql_fragment,
    looks_like_statement,
    value_slot,
)
from reviewer.analysis.strings import CONCATENATION, F_STRING, FORMAT, JOIN, PERCENT, Kind, StringEvaluator
from reviewer.catalog import builtin_pack_dir, load_cst_rule_classes
from reviewer.engines.cst_engine import analyze_source


class Parsed:
    """A parsed module with its metadata, and ways to find nodes by their source text."""

    def __init__(self, source: str, path: str = "app/queries.py") -> None:
        self.wrapper = MetadataWrapper(cst.parse_module(textwrap.dedent(source)))
        self.facts = ModuleFacts.from_wrapper(self.wrapper, module_names_for_path(path))
        self.nodes: list[cst.CSTNode] = []
        nodes = self.nodes

        class Collect(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                nodes.append(node)
                return True

        self.wrapper.module.visit(Collect())

    def code(self, node: cst.CSTNode) -> str:
        return self.wrapper.module.code_for_node(node)

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

    def line(self, node: cst.CSTNode) -> int:
        return self.facts.line(node)


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
        from .db import quote_ident

        def dump(cur, table):
            cur.execute(f"SELECT * FROM {quote_ident(table)}")
        """
    parsed = Parsed(source, path="myapp/views.py")
    assert parsed.evaluate("cur.execute", sanitizers=("myapp.db.quote_ident",)).kind is Kind.TEXT
    assert parsed.evaluate("cur.execute", sanitizers=("otherapp.db.quote_ident",)).kind is Kind.BUILT


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
    return analyze_source([rule], "app/db.py", source)
