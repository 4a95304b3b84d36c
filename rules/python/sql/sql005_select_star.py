"""SQL005 select-star: application SQL whose outer select list is `*` or `t.*`.

How it decides:
- Only SQL text that reaches a query call (reviewer.analysis.sql.query_sink: DB-API and asyncpg
  calls, SQLAlchemy `text()`, pandas `read_sql()`, psycopg's `sql.SQL()`), directly or through
  local variables and module constants; any other string that mentions `SELECT *` is prose.
- Only the outer statement's select list counts, and only for reads: `COUNT(*)`,
  `EXISTS (SELECT * ...)`, `INSERT ... SELECT *` and `CREATE VIEW ... AS SELECT *` are not
  flagged. A star over a derived table or CTE that lists its columns, or over a table function
  (`generate_series(...)`), selects only those columns and is not flagged; a star over a CTE
  that itself selects `*` is. `t.*` is flagged like `*`: it has the same consequences.
- Comments and SQL string literals are ignored (`-- SELECT *`, `WHERE note = 'SELECT *'`), and
  so are the column-discovery idiom `SELECT * FROM t LIMIT 0`/`WHERE 1 = 0` and a bare
  `SELECT * FROM t LIMIT 1` (no WHERE, JOIN or ORDER BY): a probe that the table exists and can
  be read, or one sample row, where no code depends on which columns come back.
- Not flagged: Django `raw()` (it maps columns to model fields by name, and leaving a field out
  makes every access to it a query of its own), and files under tests/ or migrations
  (alembic/), where `SELECT *` compares or copies whole rows on purpose.
- The finding points at the string to edit (the literal, also when it travels through a
  variable), once, naming the query call when that is elsewhere.
"""

from __future__ import annotations

import re

import libcst as cst

from reviewer.analysis.bindings import BindingKind, reaching_bindings
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.paths import is_migration_path, is_test_path
from reviewer.analysis.queries import selects_every_column
from reviewer.analysis.sql import QuerySink, SqlShape, query_sink
from reviewer.analysis.sqltext import looks_like_sql
from reviewer.analysis.strings import StringEvaluator
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity

_TRIGGER = re.compile(r"select\s+(?:(?:distinct|all)\s+)?(?:[\w.\"`\[\]{}]+\.)?\*", re.IGNORECASE)


class SelectStar(CstRule):
    code = "SQL005"
    name = "select-star"
    severity = Severity.NOTE
    summary = "A query selects every column with `SELECT *` instead of naming the columns it uses"
    what = """
        Flags application SQL whose outer select list is `*` or `table.*`, when the text reaches
        a query call: DB-API and asyncpg `execute`/`fetch*`, SQLAlchemy `text()`, pandas
        `read_sql()`, psycopg `sql.SQL()` — directly, through a local variable or from a module
        constant. Stars inside `COUNT(*)`, `EXISTS (...)` subqueries, CTEs or derived tables that
        the outer query lists columns from, write statements (`INSERT ... SELECT *`), Django
        `raw()`, table probes (`SELECT * FROM t LIMIT 0`, or `LIMIT 1` with nothing else) and
        files in tests/ and migrations are left alone.
    """
    why = """
        `SELECT *` ties the code to the table's current shape without saying so. A column added,
        dropped or reordered by a migration shifts every position-based read (`id, name = row`,
        `row[2]`), and a column added later — a password hash, an internal note — flows
        unnoticed into API responses, logs and caches. Every row also carries columns nobody
        reads: more bytes from the database and over the network, and the planner cannot answer
        the query from a covering index (an index-only scan) because it must visit the table for
        the rest of the columns. Naming the columns documents what the code needs and lets
        indexes be designed for it.
    """
    references = (
        "https://www.postgresql.org/docs/current/queries-select-lists.html",
        "https://www.postgresql.org/docs/current/indexes-index-only-scans.html",
        "https://dev.mysql.com/doc/refman/8.0/en/select.html",
        "https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text",
    )
    tags = ("performance", "maintainability")
    confidence = "high"

    VALID = [
        Valid(
            """
            import sqlite3

            def find_user(conn: sqlite3.Connection, user_id):
                return conn.execute("SELECT id, name, email FROM users WHERE id = ?", (user_id,)).fetchone()
            """
        ),
        Valid(
            """
            import psycopg2

            def stats(conn, customer_id):
                with conn.cursor() as cur:
                    cur.execute("SELECT COUNT(*), SUM(total) FROM orders WHERE customer_id = %s", (customer_id,))
                    cur.execute("SELECT 1 FROM customers c WHERE EXISTS (SELECT * FROM orders o WHERE o.customer_id = c.id)")
                    cur.execute("SELECT price * quantity AS line_total FROM order_lines WHERE order_id = %s", (customer_id,))
            """
        ),
        Valid(
            """
            import sqlite3

            def notes(conn, author):
                # SELECT * would also work here, but we only need two columns
                return conn.execute(
                    "SELECT id, body -- not SELECT * on purpose\\n"
                    "FROM notes WHERE author = ? AND body <> 'SELECT * FROM x'",
                    (author,),
                ).fetchall()
            """
        ),
        Valid(
            """
            import asyncpg

            RECENT = '''
                WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day')
                SELECT id, total FROM recent
            '''

            async def recent(conn):
                rows = await conn.fetch(RECENT)
                return await conn.fetch("SELECT * FROM (SELECT id, name FROM users) AS u ORDER BY u.name")
            """
        ),
        Valid(
            """
            import sqlite3

            def archive(conn, before, days):
                conn.execute("INSERT INTO orders_archive SELECT * FROM orders WHERE created < ?", (before,))
                columns = [d[0] for d in conn.execute("SELECT * FROM orders LIMIT 0").description]
                return conn.execute("SELECT * FROM generate_series(1, ?)", (days,)).fetchall()
            """
        ),
        Valid(
            """
            from myapp.models import Person

            def people(last_name):
                return Person.objects.raw("SELECT * FROM myapp_person WHERE last_name = %s", [last_name])
            """
        ),
        Valid(
            """
            import sqlite3

            def test_signup_stores_the_user(conn):
                row = conn.execute("SELECT * FROM users WHERE email = ?", ("a@example.com",)).fetchone()
                assert row == (1, "a@example.com", "Ann")
            """,
            path="tests/test_signup.py",
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                op.execute("INSERT INTO users_new SELECT * FROM users")
                conn = op.get_bind()
                conn.exec_driver_sql("SELECT * FROM users")
            """,
            path="alembic/versions/3f2a_copy_users.py",
        ),
        Valid(
            """
            import logging
            import sqlite3

            log = logging.getLogger(__name__)
            HELP = "Type SQL such as SELECT * FROM users to explore the schema."

            def explain(conn, job_queue):
                '''Never run SELECT * FROM users in production.'''
                log.info("refusing to run SELECT * FROM users")
                job_queue.execute("export", HELP)
            """
        ),
        Valid(
            """
            import sqlite3

            def sheet_is_readable(conn: sqlite3.Connection, url):
                url = url.replace('"', '""')
                try:
                    conn.execute(f'SELECT * FROM "{url}" LIMIT 1').fetchall()
                except sqlite3.Error:
                    return False
                return True
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import sqlite3

            def find_user(conn: sqlite3.Connection, user_id):
                return conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
            """,
            line=5,
        ),
        Invalid(
            """
            import psycopg2

            def open_orders(conn, customer_id):
                query = (
                    "SELECT * FROM orders "
                    "WHERE customer_id = %s AND status = 'open'"
                )
                with conn.cursor() as cur:
                    cur.execute(query, (customer_id,))
                    return cur.fetchall()
            """,
            line=6,
        ),
        Invalid(
            """
            from sqlalchemy import text as sql_text

            def members(session, org_id):
                statement = sql_text("SELECT u.* FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = :org")
                return session.execute(statement, {"org": org_id}).all()
            """,
            line=5,
        ),
        Invalid(
            """
            import asyncpg

            async def active(pool):
                async with pool.acquire() as conn:
                    return await conn.fetch(
                        "WITH active AS (SELECT * FROM accounts WHERE active) SELECT * FROM active"
                    )
            """,
            line=7,
        ),
        Invalid(
            """
            import pandas as pd

            def sales_frame(engine, region):
                return pd.read_sql("SELECT DISTINCT * FROM sales WHERE region = %(region)s", engine, params={"region": region})
            """,
            line=5,
        ),
        Invalid(
            """
            from django.db import connection

            ALL_INVOICES = "SELECT * FROM billing_invoice WHERE account_id = %s"

            def invoices(account_id):
                with connection.cursor() as cursor:
                    cursor.execute(ALL_INVOICES, [account_id])
                    return cursor.fetchall()
            """,
            line=4,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        return _TRIGGER.search(source) is not None

    def visit_Module(self, node: cst.Module) -> None:
        self.exempt = is_test_path(self.context.path) or is_migration_path(self.context.path)
        if not self.exempt:
            self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
            self.strings = StringEvaluator(self.facts)
            self.reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if self.exempt:
            return
        sink = query_sink(node, self.facts)
        if sink is None or sink.method == "raw" or (sink.shape is SqlShape.FRAGMENT and sink.family != "psycopg-sql"):
            return
        for expression in sink.sql:
            value = self.strings.evaluate(expression)
            if not value.is_text or not (sink.confirmed or looks_like_sql(value.text)):
                continue
            star = selects_every_column(value.text)
            if star is None:
                continue
            origin = self._origin(expression)
            if id(origin) in self.reported:
                continue
            self.reported.add(id(origin))
            self.report(origin, self._message(star, sink, expression, origin))

    def _origin(self, expression: cst.BaseExpression) -> cst.BaseExpression:
        """The string to edit: follow a name to its only assignment (local or module constant)."""
        seen: set[int] = set()
        while isinstance(expression, cst.Name) and id(expression) not in seen:
            seen.add(id(expression))
            bindings = reaching_bindings(expression, self.facts)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.VALUE or bindings[0].expression is None:
                break
            expression = bindings[0].expression
        return expression

    def _message(self, star: str, sink: QuerySink, expression: cst.BaseExpression, origin: cst.BaseExpression) -> str:
        where = "" if origin is expression else f" (run by {sink.api} on line {self.facts.line(sink.call)})"
        return (
            f"`SELECT {star}` reads every column{where}; name the columns the code uses, so a schema "
            "change cannot shift or add columns under it and an index can cover the query"
        )
