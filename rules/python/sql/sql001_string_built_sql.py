"""SQL001 string-built-sql: SQL text assembled from values reaches a query call.

How it decides (the analysis lives in reviewer.analysis, shared with the other SQL rules):
- Sinks: DB-API execute/executemany/executescript (sqlite3, aiosqlite, psycopg2, psycopg,
  pymysql, MySQLdb, mysql.connector), asyncpg execute/fetch/fetchrow/fetchval, SQLAlchemy
  text() and exec_driver_sql(), Django raw(), extra(select=/where=), RawSQL() and cursors,
  pandas read_sql()/read_sql_query(), psycopg's sql.SQL(). Functions resolve by qualified name.
  A method call counts when its receiver traces to a database library, or — receiver unknown,
  e.g. a cursor passed in — when the text's own literal parts read as SQL (`SELECT … FROM`,
  `UPDATE … SET`, `WHERE id = …`). An import alone is never enough: `executor.execute(f"job
  {x}")` in a module that imports sqlite3 is still not SQL. A function of this file that runs
  its parameter as SQL (`def run(sql): cur.execute(sql)`, also `self.run`) makes its calls
  sinks too, one level deep: `run(f"… {x}")` is checked like `cur.execute(f"… {x}")`.
- Built: an f-string, `%`, `.format()`/`.format_map()`, `+` or `.join()` with a part that is
  neither known text nor a safe value (number, cast, `int`-annotated parameter, allow-listed,
  sanitized, quoted by an identifier-quoting helper — `quote_ident`, `connection.ops.quote_name`,
  and by name any `quote`/`quote_table`/`quote_schema`/… method such as SQLAlchemy's
  `identifier_preparer.quote()` — constant by convention such as `TABLE` or
  `Model._meta.db_table`, environment variable), directly, through local assignments in the
  same function (loops too: `for k, v in filters.items(): sql += f"{k} = '{v}'"` — keys and
  values are followed into literal dicts, pairs and rows such as `for row in ROWS:
  row["table"]`), or through functions of this file: a call in the query text
  (`build_query(x)`, `self._where(x)`) is followed into the function's `return`s with its
  parameters holding the call's arguments, up to two calls deep. `.format(**locals())` reads
  each field's local variable; `**kwargs` fields are unknown values.
- Trusted, by decision: deployment configuration. Text built at import time (`QUERY = "SELECT
  …" + os.environ["SCHEMA"]`) and environment variables are set by whoever deploys the code,
  who can run SQL anyway; flagging them would be noise. Text built in one function and kept
  elsewhere (an attribute, a global) is not followed either. `self.table`/`cls.table` standing
  where a name goes counts as the object's own setting; the same attribute where a value goes
  (`WHERE id = {self.id}`) is flagged. A value escaped SQL's way for the quotes it stands in
  (`x.replace('"', '""')` inside `"…"`, `x.replace("'", "''")` inside `'…'`) cannot leave them.
- Severity: error when a pasted value stands where SQL takes a value — a bind parameter is
  certain to fit there. Warning when every pasted part stands where a name or a clause goes,
  or where the text cannot tell (an SQL function's argument: `pg_advisory_lock(…)` takes a
  value, `sum(…)` a column; a place in an alternative text the analysis keeps only one of):
  names cannot be parameters, and whether one is a flaw depends on where it comes from. In
  migrations (migrations/, alembic/) only values are reported: their DDL names tables and
  columns, from the migration's own code.
- Where the finding goes, once per place: the expression that builds the text (where the fix
  goes), naming the sink and, when the text travels through a variable or a function, the
  sink's line and the function. When a helper builds the text from its parameters and only the
  caller's argument is unvetted (`cur.execute(build_query(name))`), the finding goes on that
  call instead: it is the line holding both the value and the query call, the line a change
  adds when it starts feeding new input to an existing helper (a helper that was only ever
  called with constants has nothing to report), and usually added together with a new helper
  too. A helper that pastes in something of its own is reported inside the helper.
- Cost: the batched traversal records sinks and calls; calls are followed only from query text,
  through a per-module StringEvaluator that caches each function's `return`s and stops after
  MAX_FOLLOWED_CALLS calls; functions that run their parameter are matched to their calls by
  name at the end of the module, so nothing walks the module twice.
- The fix is offered only for text passed alone to a parameter-taking call of a known driver,
  with every value in a value position: a simple f-string (the driver's placeholders replace
  the values), or `%` formatting under a `%s` driver whose every conversion is `%s` — the
  forgotten parameters argument: `"… = %s" % x` becomes `"… = %s", (x,)`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import replace
from pathlib import PurePosixPath

import libcst as cst

from reviewer.analysis.bindings import BindingKind, CalledFunction, bindings_of, called_function, reaching_bindings
from reviewer.analysis.calls import literal_string
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.parameterize import parameterize_f_string, parameterize_percent
from reviewer.analysis.imports import TopLevelImports
from reviewer.analysis.paths import is_migration_path, is_test_path
from reviewer.analysis.sql import METHOD_SINKS, QuerySink, SqlShape, query_sink
from reviewer.analysis.sqltext import is_function_argument, looks_like_sql, looks_like_sql_fragment, takes_a_value
from reviewer.analysis.strings import Build, Kind, StringEvaluator, StringValue
from reviewer.cst_rule import CstRule, Invalid, Replace, Valid
from reviewer.errors import ConfigError
from reviewer.finding import Severity

# A file with none of these cannot hold a sink (aliased functions need their library's import).
_TRIGGER = re.compile(rf"\.(?:{'|'.join(METHOD_SINKS)})\s*\(|sqlalchemy|pandas|RawSQL|psycopg")
_NAMES_ADVICE = "parameters cannot stand for names, so pick them from an allow-list"
_UNCLEAR_ADVICE = "where it is a name, pick it from an allow-list instead"


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
        psycopg's `sql.SQL()`. The text may arrive directly, through local variables
        (`q = f"..."; q += ...`, also in loops such as `for k, v in filters.items(): sql +=
        f"{k} = '{v}' AND "`), or through functions of the same file: a helper that returns
        built text (`cur.execute(build_query(name))`, `self._where(col)`, followed two calls
        deep), and a function that runs its parameter (`def run(sql): cur.execute(sql)` makes
        `run(f"... {x}")` a query call). `.format(**locals())`, `.format(**kwargs)` and
        `.format_map(...)` paste in every field they name. Values that cannot carry SQL are
        accepted: numbers, `int()`/`float()` casts, `math.ceil()` and the like (and `max()`/`min()`
        of such values), picks from a literal allow-list (`if col
        not in ALLOWED: raise`, `{"new": "created_at"}[key]`, a ternary between literals, keys
        of a literal dict), names quoted by an identifier-quoting helper (`quote_ident`,
        `connection.ops.quote_name`, SQLAlchemy's `identifier_preparer.quote()`, a method named
        `quote_table`), values whose quote character is doubled inside those quotes
        (`name.replace("'", "''")` within `'...'`), calls to functions listed in the
        `sanitizers` option, and deployment configuration — environment variables and
        constants built at import time are trusted. When a helper builds the text from its
        parameters, the finding is placed on the call that passes it an unvetted value. A value
        where SQL takes a value is an error; names (`FROM {table}`, `ORDER BY {column}`) and SQL
        function arguments are warnings, since only their origin decides, and in migrations
        they are not reported. Test code (under `tests/`, `conftest.py`, or a `test_*.py` that
        imports a test framework) is left alone — its SQL carries fixtures, not requests —
        unless the `check-tests` option is true. For `%s` drivers (psycopg2, psycopg, PyMySQL, MySQLdb, Django),
        `"... WHERE id = %s" % user_id` — the parameters argument forgotten — is fixed by
        passing the values: `"... WHERE id = %s", (user_id,)`.
    """
    why = """
        When a value is pasted into SQL text, the database cannot tell the value from the
        statement: a name like `x' OR '1'='1` rewrites the query, and a stacked `; DROP TABLE`
        may run with the application's rights (SQL injection, CWE-89). Bind parameters send
        the statement and the values separately, so a value is only ever a value, and the
        driver handles quoting and types. Moving the pasting into a helper function or a
        loop changes nothing: the text that reaches the database is still built from the
        value. Table and column names cannot be parameters; pick those from a fixed
        allow-list or quote them with the driver's identifier helper.
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
    options = {"sanitizers": [], "check-tests": False}

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
            from myapp.db import checked_table

            def dump(cur, table):
                cur.execute(f"SELECT * FROM {checked_table(table)}")
            """,
            options={"sanitizers": ["myapp.db.checked_table"]},
        ),
        Valid(
            """
            import pandas as pd

            def report(engine, region):
                return pd.read_sql("SELECT * FROM sales WHERE region = %(region)s", engine, params={"region": region})
            """
        ),
        Valid(
            """
            import sqlite3

            def select_from(table):
                return f"SELECT * FROM {table}"

            def by_name(name):
                return "SELECT id FROM users WHERE name = ?", (name,)

            def load(conn: sqlite3.Connection, name):
                conn.execute(select_from("users"))
                sql, params = by_name(name)
                conn.execute(sql, params)
                return conn.execute(*by_name(name)).fetchall()
            """
        ),
        Valid(
            """
            import psycopg2

            ORDERINGS = {"new": "created_at DESC", "old": "created_at ASC"}

            class Listing:
                def _order(self, key):
                    return ORDERINGS.get(key, "id")

                def _sql(self, key):
                    return "SELECT * FROM posts ORDER BY " + self._order(key)

                def load(self, conn, key):
                    with conn.cursor() as cur:
                        cur.execute(self._sql(key))
            """
        ),
        Valid(
            """
            import psycopg2

            FILTERABLE = {"status", "region"}

            def orders(conn, filters):
                sql, params = "SELECT * FROM orders WHERE true", []
                for column, value in filters.items():
                    if column not in FILTERABLE:
                        raise ValueError(column)
                    sql += " AND " + column + " = %s"
                    params.append(value)
                with conn.cursor() as cur:
                    cur.execute(sql, params)
            """
        ),
        Valid(
            """
            import sqlite3

            COLUMNS = (("name", "TEXT"), ("created_at", "TIMESTAMP"))

            def migrate(conn: sqlite3.Connection):
                for column, kind in COLUMNS:
                    conn.execute(f"ALTER TABLE items ADD COLUMN {column} {kind}")
                for position, (column, _kind) in enumerate(COLUMNS):
                    conn.execute(f"UPDATE items SET {column} = NULL WHERE rowid = {position}")
                for column, label in {"sku": "SKU", "name": "Name"}.items():
                    conn.execute(f'SELECT {column} AS "{label}" FROM items')
            """
        ),
        Valid(
            """
            import sqlite3

            DB = sqlite3.connect("app.db")

            def run(sql, params=()):
                return DB.execute(sql, params).fetchall()

            def orders_for(customer, limit: int):
                run("SELECT * FROM orders WHERE customer = ?", (customer,))
                return run(f"SELECT * FROM orders LIMIT {limit}")
            """
        ),
        Valid(
            """
            import sqlite3

            def find(conn: sqlite3.Connection, name):
                return conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

            def lookup(conn, request):
                return find(conn, f"{request.args['first']} {request.args['last']}")
            """
        ),
        Valid(
            """
            import os
            import psycopg2

            SCHEMA = os.environ.get("APP_SCHEMA", "public")
            REPORT = "SELECT * FROM " + os.environ["REPORT_TABLE"] + " WHERE day = %s"

            def report(conn, day):
                with conn.cursor() as cur:
                    cur.execute(f"SET search_path TO {SCHEMA}")
                    cur.execute(REPORT, (day,))
                    cur.execute(f"SELECT * FROM {os.getenv('AUDIT_TABLE')} WHERE day = %s", (day,))
            """
        ),
        Valid(
            """
            import sqlite3

            def purge(conn: sqlite3.Connection, days: int):
                table = "events"
                column = "created_at"
                conn.execute("DELETE FROM {table} WHERE {column} < date('now', '-{days} days')".format(**locals()))
                conn.execute("DELETE FROM {table} WHERE archived = 1".format(**{"table": "events_archive"}))
            """
        ),
        Valid(
            """
            import asyncpg

            def page_clause(page: int, size: int):
                return f"LIMIT {size} OFFSET {page * size}"

            def listing_sql(page, size):
                return "SELECT * FROM items ORDER BY id " + page_clause(page, size)

            async def listing(pool, page, size):
                async with pool.acquire() as conn:
                    return await conn.fetch(listing_sql(page, size))
            """
        ),
        Valid(
            """
            from sqlalchemy import text

            class EngineSpec:
                @classmethod
                def quote_table(cls, table, dialect):
                    quoters = {"schema": dialect.identifier_preparer.quote_schema, "table": dialect.identifier_preparer.quote}
                    return ".".join(quote(getattr(table, key)) for key, quote in quoters.items() if getattr(table, key))

                @classmethod
                def columns(cls, engine, table, dialect):
                    engine.execute(text(f"SELECT * FROM {cls.quote_table(table, dialect)} LIMIT 100"))
                    return engine.execute(f"SHOW COLUMNS FROM {dialect.identifier_preparer.quote(table.name)}").fetchall()
            """
        ),
        Valid(
            """
            import sqlite3

            def check_sheets(conn: sqlite3.Connection, catalog):
                for name, url in catalog.items():
                    url = url.replace('"', '""')
                    conn.execute(f'SELECT * FROM "{url}" LIMIT 1')
                    note = name.replace("'", "''")
                    conn.execute(f"UPDATE sheets SET checked = 1 WHERE note = '{note}'")
            """
        ),
        Valid(
            """
            from django.db import connection

            INDEXES = [
                {"table": "storage_s3link", "index": "storage_s3link_task_id", "column": "task_id"},
                {"table": "storage_gcslink", "index": "storage_gcslink_task_id", "column": "task_id"},
            ]

            def add_indexes():
                with connection.cursor() as cursor:
                    for spec in INDEXES:
                        cursor.execute(f'CREATE INDEX IF NOT EXISTS "{spec["index"]}" ON "{spec["table"]}" ("{spec["column"]}")')
            """
        ),
        Valid(
            """
            from alembic import op
            from sqlalchemy import text

            def cast_to_jsonb(table, column):
                op.get_bind().execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING to_jsonb({column})"))

            def upgrade():
                cast_to_jsonb("dashboards", "position_json")
            """,
            path="superset/migrations/shared/utils.py",
        ),
        Valid(
            """
            import psycopg2

            def create_test_role(conn, name):
                cur = conn.cursor()
                cur.execute("CREATE ROLE %s LOGIN" % name)
                cur.execute("INSERT INTO audit (who) VALUES ('%s')" % name)
            """,
            path="app/roles/tests/utils.py",
        ),
        Valid(
            """
            import sqlite3
            import pytest

            @pytest.fixture
            def seeded(conn: sqlite3.Connection, name="ada"):
                conn.execute("INSERT INTO users (name) VALUES ('%s')" % name)
            """,
            path="app/test_users.py",
        ),
        Valid(
            """
            from math import ceil
            import sqlalchemy as sa

            def lock_timeout(connection: sa.Connection, seconds: float):
                timeout_ms = max(1, ceil(seconds * 1000))
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{timeout_ms}ms'")
                connection.exec_driver_sql(f"SET SESSION lock_wait_timeout = {min(600, round(seconds))}")
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
        Invalid(
            """
            import sqlite3

            def build_query(name):
                return f"SELECT id FROM users WHERE name = '{name}'"

            def find(conn: sqlite3.Connection, request):
                return conn.execute(build_query(request.args["name"])).fetchone()
            """,
            line=8,
        ),
        Invalid(
            """
            import psycopg2

            class Reports:
                def _filter(self, region):
                    return f"region = '{region}'"

                def _query(self, region):
                    return "SELECT * FROM sales WHERE " + self._filter(region)

                def load(self, conn, region):
                    with conn.cursor() as cur:
                        cur.execute(self._query(region))
            """,
            line=13,
        ),
        Invalid(
            """
            import sqlite3
            from flask import request

            def tenant_filter():
                return f"tenant = '{request.headers['X-Tenant']}'"

            def invoices(conn: sqlite3.Connection):
                return conn.execute("SELECT * FROM invoices WHERE " + tenant_filter()).fetchall()
            """,
            line=6,
        ),
        Invalid(
            """
            import psycopg2

            def get_user(dsn, user_id):
                conn = psycopg2.connect(dsn)
                cur = conn.cursor()
                cur.execute("SELECT * FROM users WHERE id = %s" % user_id)
                return cur.fetchone()
            """,
            line=7,
            fixed="""
            import psycopg2

            def get_user(dsn, user_id):
                conn = psycopg2.connect(dsn)
                cur = conn.cursor()
                cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
                return cur.fetchone()
            """,
        ),
        Invalid(
            """
            import pymysql

            def search(conn, name, city):
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM people WHERE name = '%s' AND city = '%s' AND note NOT LIKE '100%%'" % (name, city))
                    return cur.fetchall()
            """,
            line=6,
            fixed="""
            import pymysql

            def search(conn, name, city):
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM people WHERE name = %s AND city = %s AND note NOT LIKE '100%%'", (name, city))
                    return cur.fetchall()
            """,
        ),
        Invalid(
            """
            import sqlite3

            def lookup(conn: sqlite3.Connection, email):
                table = "users"
                return conn.execute("SELECT * FROM {table} WHERE email = '{email}'".format(**locals())).fetchone()
            """,
            line=6,
        ),
        Invalid(
            """
            from django.db import connection

            def count(**filters):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM orders WHERE status = '{status}'".format(**filters))
                    return cursor.fetchone()
            """,
            line=6,
        ),
        Invalid(
            """
            import sqlite3

            def search(conn: sqlite3.Connection, filters):
                sql = "SELECT * FROM products WHERE 1 = 1"
                for column, value in filters.items():
                    sql += f" AND {column} = '{value}'"
                return conn.execute(sql).fetchall()
            """,
            line=7,
        ),
        Invalid(
            """
            import psycopg

            SEARCHABLE = ("name", "sku")

            def search(conn, filters):
                sql = "SELECT * FROM products WHERE true"
                for column, value in filters.items():
                    if column not in SEARCHABLE:
                        continue
                    sql += " AND " + column + " = '" + value + "'"
                return conn.execute(sql).fetchall()
            """,
            line=11,
        ),
        Invalid(
            """
            import sqlite3

            DB = sqlite3.connect("app.db")

            def run(sql, params=()):
                return DB.execute(sql, params).fetchall()

            def orders_for(customer):
                return run(f"SELECT * FROM orders WHERE customer = '{customer}'")
            """,
            line=10,
        ),
        Invalid(
            """
            class Store:
                def __init__(self, conn):
                    self.conn = conn

                def query(self, sql):
                    cursor = self.conn.cursor()
                    cursor.execute(sql)
                    return cursor.fetchall()

                def by_sku(self, sku):
                    return self.query("SELECT * FROM items WHERE sku = '%s'" % sku)
            """,
            line=12,
        ),
        Invalid(
            """
            import psycopg2

            def create_test_role(conn, name):
                cur = conn.cursor()
                cur.execute("INSERT INTO audit (who) VALUES ('%s')" % name)
            """,
            line=6,
            path="app/roles/tests/utils.py",
            options={"check-tests": True},
        ),
        Invalid(
            """
            import sqlite3

            def runs_named(conn: sqlite3.Connection, name):
                return conn.execute("SELECT id FROM test_runs WHERE name = '%s'" % name).fetchall()
            """,
            line=5,
            path="app/services/test_runs.py",
        ),
        Invalid(
            """
            import sqlite3

            def page(conn: sqlite3.Connection, size):
                return conn.execute(f"SELECT id FROM events LIMIT {max(10, size)}").fetchall()
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
            raise ConfigError(
                f"rules.{self.code}.sanitizers must be a list of qualified function names, got {sanitizers!r}"
            )
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.strings = StringEvaluator(self.facts, sanitizers, follow_calls=True)
        self.reported: set[int] = set()
        self.in_migration = is_migration_path(self.context.path)
        self.skip_file = not self.option("check-tests") and _is_test_code(self.context.path, node)
        # Functions whose query text may come from their parameters, and calls that may run them.
        self.wrapped_sinks: dict[cst.FunctionDef, list[tuple[QuerySink, cst.BaseExpression]]] = {}
        self.calls_by_name: dict[str, list[cst.Call]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        if self.skip_file:
            return
        callee = _callee_name(node)
        if callee is not None:
            self.calls_by_name.setdefault(callee, []).append(node)
        sink = query_sink(node, self.facts)
        if sink is None:
            return
        home = self.facts.enclosing_function(node)
        for expression in sink.sql:
            value = self.strings.evaluate(expression)
            if isinstance(home, cst.FunctionDef) and value.kind in (Kind.UNKNOWN, Kind.BUILT):
                self.wrapped_sinks.setdefault(home, []).append((sink, expression))
            self._check(sink, expression, value, home)

    def leave_Module(self, original_node: cst.Module) -> None:
        """Calls to a function that runs its parameter as SQL are sinks too (one level deep)."""
        for function, sinks in self.wrapped_sinks.items():
            for call in self.calls_by_name.get(function.name.value, ()):
                called = called_function(call, self.facts)
                if called is None or called.definition is not function:
                    continue
                home = self.facts.enclosing_function(call)
                for sink, expression in sinks:
                    value = self.strings.evaluate_through_call(expression, call, called)
                    self._check(sink, expression, value, home, through=called)

    def _check(
        self,
        sink: QuerySink,
        expression: cst.BaseExpression,
        value: StringValue,
        home: cst.CSTNode | None,
        through: CalledFunction | None = None,
    ) -> None:
        """Report each build in the text `sink` runs; `home` is the function the report belongs in
        (the sink's, or the wrapper call's when `through` a function that runs its parameter)."""
        if value.kind is not Kind.BUILT or not (sink.confirmed or _reads_as_sql(value.text, sink.shape)):
            return
        for build in value.builds:
            unsafe = tuple(
                part
                for part in build.unsafe_parts
                if not _own_setting_as_name(part, value) and not self._escaped_within_its_quotes(part, value)
            )
            if not unsafe:
                continue
            build = replace(build, unsafe_parts=unsafe)
            slot = _slot(value, build)
            if slot is not _Slot.VALUE and self.in_migration:
                continue  # a migration's DDL names its tables and columns; no request reaches it
            builder = self.facts.enclosing_function(build.node)
            if through is not None and builder is through.definition:
                continue  # the wrapper's own text: reported at its own sink
            # A helper that only pastes in what this call passes it: the call is reported (see the
            # module docstring, "Where the finding goes").
            from_the_call = (
                build.via_call is not None
                and builder is not home
                and all(self.facts.enclosing_function(part) is home for part in unsafe)
            )
            anchor = build.via_call if from_the_call else build.node
            if id(anchor) in self.reported:
                continue
            self.reported.add(id(anchor))
            # Only a value has a certain fix (a bind parameter); a name is a flaw only if it is not trusted.
            severity = None if slot is _Slot.VALUE else Severity.WARNING
            if from_the_call:
                self.report(anchor, self._helper_message(sink, build, builder, slot), severity=severity)
                continue
            fix = None if through else self._fix(sink, expression, build)
            message = self._message(sink, expression, build, through, slot)
            self.report(anchor, message, fix=fix, fix_description=_fix_description(fix), severity=severity)

    def _escaped_within_its_quotes(self, part: cst.BaseExpression, value: StringValue) -> bool:
        """`url.replace('"', '""')` pasted inside `"…"`: SQL reads a doubled quote as the quote
        character itself, so the value cannot end the quoted name or literal it stands in."""
        quote = _doubled_quote(part)
        if isinstance(part, cst.Name):
            bindings = reaching_bindings(part, self.facts)
            quotes = {_doubled_quote(b.expression) if b.kind is BindingKind.VALUE else None for b in bindings}
            quote = quotes.pop() if len(quotes) == 1 else None
        if quote is None:
            return False
        contexts = [(before, after) for hole, before, after in value.holes_in_context() if hole.expression is part]
        inside = (before.count(quote) % 2 == 1 and after.count(quote) % 2 == 1 for before, after in contexts)
        return bool(contexts) and all(inside)

    def _message(
        self, sink: QuerySink, expression: cst.BaseExpression, build: Build, through: CalledFunction | None, slot: _Slot
    ) -> str:
        route = through.name if through else _callee_name(build.via_call) if build.via_call else None
        where = ""
        if build.through_variable or route:
            where = f" on line {self.facts.line(sink.call)}"
            if isinstance(expression, cst.Name) and through is None:
                where += f" through `{expression.value}`"
            if route:
                where += f" through `{route}()`"
        return f"SQL built with {' and '.join(build.techniques)} reaches {sink.api}{where}; {_advice(sink, slot)}"

    def _helper_message(self, sink: QuerySink, build: Build, builder: cst.CSTNode | None, slot: _Slot) -> str:
        helper = builder.name.value if isinstance(builder, cst.FunctionDef) else "lambda"
        called = _callee_name(build.via_call)
        values = ", ".join(dict.fromkeys(f"`{_short(self.module.code_for_node(part))}`" for part in build.unsafe_parts))
        sink_line = self.facts.line(sink.call)
        where = "" if self.facts.line(build.via_call) == sink_line else f" on line {sink_line}"
        if called != helper:
            where += f" through `{called}()`"
        advice = f"have `{helper}()` return the text with placeholders and the values, and pass those as parameters"
        if slot is _Slot.NAME:
            advice = _NAMES_ADVICE
        elif slot is _Slot.UNCLEAR:
            advice += f"; {_UNCLEAR_ADVICE}"
        return (
            f"SQL that `{helper}()` builds with {' and '.join(build.techniques)} (line {self.facts.line(build.node)}) "
            f"from {values} reaches {sink.api}{where}; {advice}"
        )

    def _fix(self, sink: QuerySink, expression: cst.BaseExpression, build: Build) -> list[Replace] | None:
        library = sink.library
        if not (
            build.node is expression
            and library is not None
            and library.paramstyle is not None
            and sink.method in library.parameter_methods
            and sink.only_argument_is_sql
        ):
            return None
        percent = library.unescapes_percent
        if isinstance(expression, cst.FormattedString):
            parameterized = parameterize_f_string(expression, library.paramstyle, unescapes_percent=percent)
        elif isinstance(expression, cst.BinaryOperation) and _one_value_or_a_tuple(expression.right, self.facts):
            parameterized = parameterize_percent(expression, library.paramstyle, unescapes_percent=percent)
        else:
            return None
        if parameterized is None:
            return None
        return [Replace(expression, parameterized.arguments(library.passing, self.module.code_for_node))]


def _fix_description(fix: list[Replace] | None) -> str:
    if not fix:
        return ""
    if isinstance(fix[0].node, cst.BinaryOperation):
        return "Pass the `%` values as the query's parameters argument"
    return "Pass the interpolated values as query parameters"


_TEST_FRAMEWORKS = frozenset(
    {"pytest", "unittest", "nose", "nose2", "hypothesis", "django.test", "rest_framework.test"}
)


def _is_test_code(path: str, module: cst.Module) -> bool:
    """Test code by where it lives (`tests/`, `test/`, `conftest.py`, `tests.py`) — or, for a name
    that only looks like a test (`test_*.py`, `*_test.py`, `testing/`), when it also imports a
    test framework: a product may have a `services/test_runs.py` that serves requests."""
    if not is_test_path(path):
        return False
    posix = PurePosixPath(path)
    if {"tests", "test"} & set(posix.parts[:-1]) or posix.name in ("conftest.py", "tests.py"):
        return True
    imported = TopLevelImports(module).names.values()
    return any(
        name == framework or name.startswith(f"{framework}.") for name in imported for framework in _TEST_FRAMEWORKS
    )


def _callee_name(call: cst.Call) -> str | None:
    """`helper` for `helper(x)`, `method` for `self.method(x)`: names a local call may have."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        return func.attr.value
    return None


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 30 else code[:29] + "…"


def _one_value_or_a_tuple(right: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """`%`'s right side is a literal tuple, or a value that is not one: a name bound to a tuple,
    or to a loop's rows, would turn into a single parameter holding the whole tuple."""
    if isinstance(right, cst.Tuple) or not isinstance(right, cst.Name):
        return True
    return all(
        binding.kind is BindingKind.PARAMETER
        or (binding.kind is BindingKind.VALUE and not isinstance(binding.expression, (cst.Tuple, cst.List, cst.Call)))
        for binding in bindings_of(right, facts)
    )


def _reads_as_sql(text: str, shape: SqlShape) -> bool:
    return looks_like_sql_fragment(text) if shape is SqlShape.FRAGMENT else looks_like_sql(text)


def _advice(sink: QuerySink, slot: _Slot) -> str:
    if sink.family == "psycopg-sql":
        return "compose it with sql.Identifier() and sql.Literal() instead"
    if slot is _Slot.NAME:
        return _NAMES_ADVICE
    advice = _values_advice(sink)
    return f"{advice}; {_UNCLEAR_ADVICE}" if slot is _Slot.UNCLEAR else advice


def _values_advice(sink: QuerySink) -> str:
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
    return bool(contexts) and not any(takes_a_value(before, after) for before, after in contexts)


class _Slot(enum.Enum):
    """Where the values a build pastes in stand in the SQL text."""

    VALUE = "value"  # at least one where SQL takes a value: a bind parameter fits there
    NAME = "name"  # every one where a name or a clause goes: only an allow-list or quoting helps
    UNCLEAR = "unclear"  # an SQL function's argument (a value or a column), or a place not in view


def _slot(value: StringValue, build: Build) -> _Slot:
    """Where the parts a build pastes in stand. The text of alternatives (`q = f"…{a}…" if x
    else f"…{b}…"`) is not all kept, so a part may have no context here: its place is unclear."""
    unsafe = {id(part) for part in build.unsafe_parts}
    holes = [(hole, before, after) for hole, before, after in value.holes_in_context() if id(hole.expression) in unsafe]
    contexts = [(before, after) for _, before, after in holes]
    if any(takes_a_value(before, after) for before, after in contexts):
        return _Slot.VALUE
    if len({id(hole.expression) for hole, _, _ in holes}) < len(unsafe):
        return _Slot.UNCLEAR
    if any(is_function_argument(before, after) for before, after in contexts):
        return _Slot.UNCLEAR
    return _Slot.NAME


def _doubled_quote(expression: cst.BaseExpression | None) -> str | None:
    """The quote character `x.replace(q, q + q)` escapes SQL's way, for `'`, `"` and backticks."""
    if not (isinstance(expression, cst.Call) and isinstance(expression.func, cst.Attribute)):
        return None
    arguments = [literal_string(arg.value) if arg.keyword is None and not arg.star else None for arg in expression.args]
    if expression.func.attr.value != "replace" or len(arguments) != 2:
        return None
    quote, escaped = arguments
    return quote if quote in ("'", '"', "`") and escaped == quote * 2 else None
