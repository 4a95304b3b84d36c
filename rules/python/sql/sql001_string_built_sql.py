"""SQL001 string-built-sql: SQL text assembled from values reaches a query call.

How it decides (the analysis lives in reviewer.analysis, shared with the other SQL rules):
- Sinks: DB-API execute/executemany/executescript (sqlite3, aiosqlite, psycopg2, psycopg,
  pymysql, MySQLdb, mysql.connector), asyncpg execute/fetch/fetchrow/fetchval, SQLAlchemy
  text() and exec_driver_sql(), Django raw(), extra(select=/where=), RawSQL() and cursors,
  pandas read_sql()/read_sql_query(), psycopg's sql.SQL(). Functions resolve by qualified name.
  A method call counts when its receiver traces to a database library, or — receiver unknown,
  e.g. a cursor passed in — when the text's own literal parts read as SQL (`SELECT … FROM`,
  `UPDATE … SET`, `WHERE id = …`). An import alone is never enough: `executor.execute(f"job
  {x}")` in a module that imports sqlite3 is still not SQL.
- Built: an f-string, `%`, `.format()`, `+` or `.join()` with a part that is neither known text
  nor a safe value (number, cast, `int`-annotated parameter, allow-listed, sanitized, constant
  by convention such as `TABLE` or `Model._meta.db_table`), directly or through local
  assignments in the same function. Text assembled in another function or at import time is
  not followed. `self.table`/`cls.table` standing where a name goes counts as the object's own
  setting; the same attribute where a value goes (`WHERE id = {self.id}`) is flagged.
- The finding points at the expression that builds the text (where the fix goes), once, naming
  the sink and, when the text travels through a variable, the sink's line.
- The fix is offered only for a simple f-string passed alone to a parameter-taking call of a
  known driver, with every value in a value position; it writes the driver's placeholders and
  passes the values.
"""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.parameterize import parameterize_f_string
from reviewer.analysis.sql import METHOD_SINKS, QuerySink, SqlShape, query_sink
from reviewer.analysis.sqltext import in_string_literal, looks_like_sql, looks_like_sql_fragment, value_slot
from reviewer.analysis.strings import Build, Kind, StringEvaluator, StringValue
from reviewer.cst_rule import CstRule, Invalid, Replace, Valid
from reviewer.errors import ConfigError
from reviewer.finding import Severity

# A file with none of these cannot hold a sink (aliased functions need their library's import).
_TRIGGER = re.compile(rf"\.(?:{'|'.join(METHOD_SINKS)})\s*\(|sqlalchemy|pandas|RawSQL|psycopg")


class StringBuiltSql(CstRule):
    code = "SQL001"
    name = "string-built-sql"
    severity = Severity.ERROR
    summary = "SQL text built from values with an f-string, `%`, `.format()`, `+` or `.join()` reaches a query call"
    what = """
        Flags SQL whose text is assembled from values — with an f-string, `%` formatting,
        `.format()`, `+` or `.join()` — and then handed to something that runs it: a DB-API
        cursor or connection (`execute`, `executemany`, `executescript`), asyncpg (`execute`,
        `fetch`, `fetchrow`, `fetchval`), SQLAlchemy `text()` and `exec_driver_sql()`, Django
        `raw()`, `extra()`, `RawSQL()` and `connection.cursor()`, pandas `read_sql()`, or
        psycopg's `sql.SQL()`. The text may arrive directly or through local variables
        (`q = f"..."; q += ...`). Values that cannot carry SQL are accepted: numbers and
        `int()`/`float()` casts, picks from a literal allow-list (`if col not in ALLOWED: raise`,
        `{"new": "created_at"}[key]`, a ternary between literals), and calls to functions
        listed in the `sanitizers` option.
    """
    why = """
        When a value is pasted into SQL text, the database cannot tell the value from the
        statement: a name like `x' OR '1'='1` rewrites the query, and a stacked `; DROP TABLE`
        may run with the application's rights (SQL injection, CWE-89). Bind parameters send
        the statement and the values separately, so a value is only ever a value, and the
        driver handles quoting and types. Table and column names cannot be parameters; pick
        those from a fixed allow-list or quote them with the driver's identifier helper.
    """
    references = (
        "https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html",
        "https://cwe.mitre.org/data/definitions/89.html",
        "https://docs.python.org/3/library/sqlite3.html#sqlite3-placeholders",
        "https://www.psycopg.org/docs/usage.html#passing-parameters-to-sql-queries",
        "https://www.psycopg.org/psycopg3/docs/basic/params.html",
        "https://magicstack.github.io/asyncpg/current/usage.html",
        "https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text",
        "https://docs.djangoproject.com/en/stable/topics/db/sql/",
    )
    cwe = (89,)
    tags = ("security",)
    confidence = "high"
    fixable = True
    options = {"sanitizers": []}

    VALID = [
        Valid(
            """
            import sqlite3

            def find_user(conn: sqlite3.Connection, name):
                return conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
            """
        ),
        Valid(
            """
            import psycopg2

            def orders(conn, customer_id, statuses):
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM orders WHERE customer_id = %s AND status = ANY(%s)", (customer_id, statuses))
                    cur.executemany("INSERT INTO audit (customer_id) VALUES (%s)", [(customer_id,)])
            """
        ),
        Valid(
            """
            import sqlite3

            ACTIVE_USERS = (
                "SELECT id, name FROM users "
                "WHERE active = 1"
            )
            TABLE = "users"

            def active(conn):
                conn.execute(ACTIVE_USERS)
                conn.execute("DELETE FROM %s WHERE expired = 1" % TABLE)
                conn.execute(f"SELECT count(*) FROM {TABLE}")
            """
        ),
        Valid(
            """
            from sqlalchemy import select, text
            from myapp.models import User

            def load(session, user_id, email):
                session.execute(text("SELECT * FROM users WHERE id = :id").bindparams(id=user_id))
                session.execute(text("SELECT * FROM users WHERE email = :email"), {"email": email})
                return session.scalars(select(User).where(User.email == email)).all()
            """
        ),
        Valid(
            """
            from psycopg2 import sql
            import psycopg

            def count(conn, table, column, value):
                query = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(column))
                conn.cursor().execute(query, (value,))
                conn.execute(psycopg.sql.SQL("DROP TABLE {}").format(psycopg.sql.Identifier(table)))
            """
        ),
        Valid(
            """
            import sqlite3

            SORTABLE = {"name", "created_at"}

            def listing(conn, sort, direction, key):
                if sort not in SORTABLE:
                    raise ValueError(sort)
                order = "DESC" if direction == "down" else "ASC"
                column = {"new": "created_at", "old": "updated_at"}[key]
                return conn.execute(f"SELECT * FROM items WHERE {column} IS NOT NULL ORDER BY {sort} {order}").fetchall()
            """
        ),
        Valid(
            """
            import pymysql

            def page(conn, limit, offset, ratio):
                with conn.cursor() as cur:
                    cur.execute(f"SELECT * FROM items LIMIT {int(limit)} OFFSET {int(offset)}")
                    cur.execute("SELECT * FROM items WHERE score > %f LIMIT %d" % (ratio, limit))
                    cur.execute("SELECT * FROM items WHERE score > {:.2f}".format(float(ratio)))
            """
        ),
        Valid(
            """
            import sqlite3

            def run_jobs(executor, job_id, conn):
                executor.execute(f"job {job_id}")
                executor.execute("rebuild " + job_id)
            """
        ),
        Valid(
            """
            import sqlite3

            def by_ids(conn, ids, name=None):
                placeholders = ", ".join("?" for _ in ids)
                conn.execute(f"SELECT * FROM users WHERE id IN ({placeholders})", ids)
                clauses, params = ["active = 1"], []
                if name:
                    clauses.append("name = ?")
                    params.append(name)
                conn.execute("SELECT * FROM users WHERE " + " AND ".join(clauses), params)
            """
        ),
        Valid(
            """
            from django.db import connection

            def stats(model, column):
                for field in ("views", "likes"):
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT sum({field}) FROM {model._meta.db_table}")
            """
        ),
        Valid(
            """
            from myapp.db import quote_ident

            def dump(cur, table):
                cur.execute(f"SELECT * FROM {quote_ident(table)}")
            """,
            options={"sanitizers": ["myapp.db.quote_ident"]},
        ),
        Valid(
            """
            import pandas as pd

            def report(engine, region):
                return pd.read_sql("SELECT * FROM sales WHERE region = %(region)s", engine, params={"region": region})
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import sqlite3

            def find_user(conn: sqlite3.Connection, name):
                cur = conn.cursor()
                cur.execute(f"SELECT id FROM users WHERE name = '{name}'")
                return cur.fetchone()
            """,
            line=6,
            fixed="""
            import sqlite3

            def find_user(conn: sqlite3.Connection, name):
                cur = conn.cursor()
                cur.execute("SELECT id FROM users WHERE name = ?", (name,))
                return cur.fetchone()
            """,
        ),
        Invalid(
            """
            import psycopg2

            def orders(dsn, customer, status):
                conn = psycopg2.connect(dsn)
                with conn.cursor() as cur:
                    cur.execute(f"SELECT * FROM orders WHERE customer_id = {customer.id} AND status = '{status}'")
            """,
            line=7,
            fixed="""
            import psycopg2

            def orders(dsn, customer, status):
                conn = psycopg2.connect(dsn)
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM orders WHERE customer_id = %s AND status = %s", (customer.id, status))
            """,
        ),
        Invalid(
            """
            import asyncpg

            async def load(pool, user_id):
                async with pool.acquire() as conn:
                    return await conn.fetchrow(f"SELECT * FROM users WHERE id = {user_id}")
            """,
            line=6,
            fixed="""
            import asyncpg

            async def load(pool, user_id):
                async with pool.acquire() as conn:
                    return await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
            """,
        ),
        Invalid(
            """
            import psycopg

            def search(conn, name, city):
                query = "SELECT * FROM people WHERE name LIKE %s"
                if city:
                    query += f" AND city = '{city}'"
                return conn.execute(query, (name,)).fetchall()
            """,
            line=7,
        ),
        Invalid(
            """
            import pymysql
            import MySQLdb

            def rename(db, old, new):
                cur = db.cursor()
                cur.execute("UPDATE accounts SET name = '%s' WHERE name = '%s'" % (new, old))
            """,
            line=7,
        ),
        Invalid(
            """
            import aiosqlite

            async def purge(db, table):
                await db.executescript("DROP TABLE " + table + ";")
            """,
            line=5,
        ),
        Invalid(
            """
            from sqlalchemy import text as t

            def by_email(session, email):
                return session.execute(t(f"SELECT * FROM users WHERE email = '{email}'")).all()
            """,
            line=5,
        ),
        Invalid(
            """
            def archive(engine, before):
                with engine.connect() as conn:
                    conn.exec_driver_sql("DELETE FROM events WHERE created < '{}'".format(before))
            """,
            line=4,
        ),
        Invalid(
            """
            from myapp.models import Person

            def people(username):
                return Person.objects.raw(f"SELECT * FROM myapp_person WHERE username = '{username}'")
            """,
            line=5,
        ),
        Invalid(
            """
            from myapp.models import Entry

            def search(term):
                return Entry.objects.extra(where=[f"headline LIKE '%%{term}%%'"])
            """,
            line=5,
        ),
        Invalid(
            """
            from django.db.models.expressions import RawSQL
            from myapp.models import Book

            def annotated(author_id):
                return Book.objects.annotate(n=RawSQL("SELECT count(*) FROM reviews WHERE author_id = %s" % author_id, ()))
            """,
            line=6,
        ),
        Invalid(
            """
            from django.db import connection

            def set_schema(schema):
                with connection.cursor() as cursor:
                    cursor.execute("set search_path to " + schema)
            """,
            line=6,
        ),
        Invalid(
            """
            import pandas as pd

            def report(engine, region):
                sql = f"SELECT * FROM sales WHERE region = '{region}'"
                return pd.read_sql(sql, engine)
            """,
            line=5,
        ),
        Invalid(
            """
            from psycopg2 import sql

            def drop(cur, table):
                cur.execute(sql.SQL(f"DROP TABLE {table}"))
            """,
            line=5,
        ),
        Invalid(
            """
            import sqlite3

            def report(conn, columns):
                conn.execute("SELECT " + ", ".join(columns) + " FROM reports")
            """,
            line=5,
        ),
        Invalid(
            """
            import sqlite3

            def tagged(conn, tag, sort):
                return conn.execute(f"SELECT * FROM posts WHERE tag = '{tag}' ORDER BY {sort}").fetchall()
            """,
            line=5,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        return _TRIGGER.search(source) is not None

    def visit_Module(self, node: cst.Module) -> None:
        sanitizers = self.option("sanitizers")
        if not isinstance(sanitizers, list) or not all(isinstance(name, str) for name in sanitizers):
            raise ConfigError(f"rules.{self.code}.sanitizers must be a list of qualified function names, got {sanitizers!r}")
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.strings = StringEvaluator(self.facts, sanitizers)
        self.reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        sink = query_sink(node, self.facts)
        if sink is None:
            return
        for expression in sink.sql:
            value = self.strings.evaluate(expression)
            if value.kind is not Kind.BUILT or not (sink.confirmed or _reads_as_sql(value.text, sink.shape)):
                continue
            for build in value.builds:
                unsafe = [part for part in build.unsafe_parts if not _own_setting_as_name(part, value)]
                if not unsafe or id(build.node) in self.reported:
                    continue
                build = replace(build, unsafe_parts=tuple(unsafe))
                self.reported.add(id(build.node))
                fix = self._fix(sink, expression, build)
                self.report(
                    build.node,
                    self._message(sink, expression, value, build),
                    fix=fix,
                    fix_description="Pass the interpolated values as query parameters" if fix else "",
                )

    def _message(self, sink: QuerySink, expression: cst.BaseExpression, value: StringValue, build: Build) -> str:
        where = ""
        if build.through_variable:
            where = f" on line {self.facts.line(sink.call)}"
            if isinstance(expression, cst.Name):
                where += f" through `{expression.value}`"
        return f"SQL built with {' and '.join(build.techniques)} reaches {sink.api}{where}; {_advice(sink, value, build)}"

    def _fix(self, sink: QuerySink, expression: cst.BaseExpression, build: Build) -> list[Replace] | None:
        library = sink.library
        if not (
            isinstance(expression, cst.FormattedString)
            and build.node is expression
            and library is not None
            and library.paramstyle is not None
            and sink.method in library.parameter_methods
            and sink.only_argument_is_sql
        ):
            return None
        parameterized = parameterize_f_string(expression, library.paramstyle)
        if parameterized is None:
            return None
        return [Replace(expression, parameterized.arguments(library.passing, self.module.code_for_node))]


def _reads_as_sql(text: str, shape: SqlShape) -> bool:
    return looks_like_sql_fragment(text) if shape is SqlShape.FRAGMENT else looks_like_sql(text)


def _advice(sink: QuerySink, value: StringValue, build: Build) -> str:
    if sink.family == "psycopg-sql":
        return "compose it with sql.Identifier() and sql.Literal() instead"
    if not _any_in_value_position(value, build):
        return "parameters cannot stand for names, so pick them from an allow-list"
    if sink.method == "extra":
        return "pass the values in `params`/`select_params`"
    if sink.method == "raw" or sink.api == "RawSQL()":
        return "pass the values in `params`"
    if sink.family == "pandas":
        return "pass the values in `params=`"
    if sink.api == "sqlalchemy.text()":
        return "use `:name` bind parameters and pass the values separately"
    if sink.library is not None and sink.library.paramstyle is not None:
        return f"pass the values as parameters (`{sink.library.paramstyle.placeholder(1)}` placeholders)"
    return "pass the values as parameters"


def _own_setting_as_name(part: cst.BaseExpression, value: StringValue) -> bool:
    """`self.table`/`cls.table` where a name goes: the object's own setting, not user input.

    Only plain attribute chains, and only outside value positions: `WHERE id = {self.id}` is data.
    """
    root = part
    while isinstance(root, cst.Attribute):
        root = root.value
    if part is root or not (isinstance(root, cst.Name) and root.value in ("self", "cls")):
        return False
    contexts = [(before, after) for hole, before, after in value.holes_in_context() if hole.expression is part]
    return bool(contexts) and not any(_takes_a_value(before, after) for before, after in contexts)


def _any_in_value_position(value: StringValue, build: Build) -> bool:
    """Whether a value this build pastes in stands where SQL takes a value (vs. a name or a clause)."""
    unsafe = {id(part) for part in build.unsafe_parts}
    contexts = [(before, after) for hole, before, after in value.holes_in_context() if id(hole.expression) in unsafe]
    return not contexts or any(_takes_a_value(before, after) for before, after in contexts)


def _takes_a_value(before: str, after: str) -> bool:
    """A value slot (`= …`, `IN (…)`) or the inside of an SQL string literal (`LIKE '%…%'`)."""
    return value_slot(before, after) is not None or in_string_literal(before)
