"""reviewer.analysis.queries on real libcst trees: where a query is sent, what an expression
holds, which assignments reach a name, and what the outer statement of SQL text does.

Each test parses a small module, picks a node by its source text and asks one question.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper

from reviewer.analysis.bindings import BindingKind, reaching_bindings
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.queries import (
    Cardinality,
    Operation,
    QueryReader,
    describe,
    might_query,
    selects_every_column,
    sql_bounds_rows,
    sql_operation,
)
from reviewer.analysis.sqltext import MARKER
from reviewer.catalog import builtin_pack_dir, load_cst_rule_classes
from reviewer.engines.cst_engine import analyze_source


class Module:
    """A parsed module, its QueryReader, and its nodes found by source text."""

    def __init__(self, source: str, path: str = "app/service.py") -> None:
        self.wrapper = MetadataWrapper(cst.parse_module(textwrap.dedent(source)))
        self.facts = ModuleFacts.from_wrapper(self.wrapper, module_names_for_path(path))
        self.reader = QueryReader(self.facts)
        nodes: list[cst.CSTNode] = []

        class Collect(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                nodes.append(node)
                return True

        self.wrapper.module.visit(Collect())
        self.nodes = nodes

    def code(self, node: cst.CSTNode) -> str:
        return self.wrapper.module.code_for_node(node)

    def node(self, text: str, kind: type = cst.BaseExpression, nth: int = -1) -> cst.CSTNode:
        """The nth node with this text (by default the last: a name's use after its assignments)."""
        return [n for n in self.nodes if isinstance(n, kind) and self.code(n) == text][nth]

    def runs(self, text: str, **kwargs):
        return self.reader.query_run_by(self.node(text), **kwargs)

    def result(self, text: str):
        return self.reader.result_of(self.node(text))

    def line(self, node: cst.CSTNode) -> int:
        return self.facts.line(node)


# -- DB-API drivers, asyncpg, pandas --------------------------------------------------------------


def test_aliased_sqlite3_execute_sends_the_query_and_fetchall_only_fetches() -> None:
    module = Module(
        """
        from sqlite3 import connect as c

        def names(path):
            rows = c(path).execute("SELECT id, name FROM users WHERE active = 1").fetchall()
            return rows
        """
    )
    execute = 'c(path).execute("SELECT id, name FROM users WHERE active = 1")'
    query = module.runs(execute)
    assert (query.family, query.operation, query.methods, query.api) == (
        "dbapi",
        Operation.READ,
        ("execute",),
        "c().execute()",
    )
    assert query.sql.text == "SELECT id, name FROM users WHERE active = 1" and not query.bounded
    assert module.runs(f"{execute}.fetchall()") is None
    result = module.result("rows")
    assert result.cardinality is Cardinality.MANY and not result.lazy
    assert result.query.node is module.node(execute)


def test_cursor_fetch_is_tied_to_the_last_execute_on_the_same_cursor() -> None:
    module = Module(
        """
        import psycopg2

        def report(dsn, customer_id):
            conn = psycopg2.connect(dsn)
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM orders WHERE customer_id = %s", (customer_id,))
                total = cur.fetchone()
                cur.execute("SELECT id, total FROM orders WHERE customer_id = %s", (customer_id,))
                return cur.fetchall()
        """
    )
    result = module.result("cur.fetchall()")
    assert result.cardinality is Cardinality.MANY
    assert module.line(result.query.node) == 9
    assert result.query.api == "cur.execute().fetchall()" and not result.query.bounded
    one = module.result("cur.fetchone()")
    assert one.cardinality is Cardinality.ONE and module.line(one.query.node) == 7 and one.query.bounded


def test_executemany_and_writes_are_told_from_reads() -> None:
    module = Module(
        """
        import pymysql

        def save(conn, rows):
            cur = conn.cursor()
            cur.executemany("INSERT INTO audit (id) VALUES (%s)", rows)
            cur.execute("WITH moved AS (DELETE FROM queue RETURNING id) INSERT INTO done SELECT id FROM moved")
        """
    )
    many = module.runs('cur.executemany("INSERT INTO audit (id) VALUES (%s)", rows)')
    assert many.methods == ("executemany",) and many.operation is Operation.WRITE
    cte = module.runs(
        'cur.execute("WITH moved AS (DELETE FROM queue RETURNING id) INSERT INTO done SELECT id FROM moved")'
    )
    assert cte.operation is Operation.WRITE


def test_asyncpg_fetch_methods_have_their_own_cardinality() -> None:
    module = Module(
        """
        import asyncpg

        async def load(conn: asyncpg.Connection, uid):
            rows = await conn.fetch("SELECT id FROM events WHERE user_id = $1", uid)
            row = await conn.fetchrow("SELECT name FROM users WHERE user_id = $1", uid)
            n = await conn.fetchval("SELECT count(*) FROM events")
            return rows, row, n
        """
    )
    assert module.result("rows").cardinality is Cardinality.MANY
    assert module.result("row").cardinality is Cardinality.ONE
    assert module.result("n").cardinality is Cardinality.VALUE
    assert module.runs('conn.fetch("SELECT id FROM events WHERE user_id = $1", uid)').family == "asyncpg"


def test_aiosqlite_cursor_from_async_with_is_fetched() -> None:
    module = Module(
        """
        import aiosqlite

        async def names(db: aiosqlite.Connection):
            async with db.execute("SELECT name FROM users") as cursor:
                rows = await cursor.fetchall()
            return rows
        """
    )
    result = module.result("rows")
    assert result.cardinality is Cardinality.MANY and result.query.sql.text == "SELECT name FROM users"


def test_pandas_read_sql_through_an_alias_reads_every_row() -> None:
    module = Module(
        """
        import pandas as pd

        def frames(engine):
            a = pd.read_sql("SELECT region, amount FROM sales LIMIT 100", engine)
            b = pd.read_sql_table("sales", engine)
            return a, b
        """
    )
    limited, table = module.result("a"), module.result("b")
    assert limited.cardinality is Cardinality.MANY and limited.query.bounded and limited.query.family == "pandas"
    assert table.cardinality is Cardinality.MANY and not table.query.bounded and table.query.operation is Operation.READ


def test_a_method_named_execute_on_an_unknown_object_needs_sql_text() -> None:
    module = Module(
        """
        def run(executor, job, cur):
            executor.execute(job)
            cur.execute("SELECT id FROM jobs WHERE state = 'new'")
        """
    )
    assert module.runs("executor.execute(job)") is None
    query = module.runs("""cur.execute("SELECT id FROM jobs WHERE state = 'new'")""")
    assert query.family == "dbapi" and query.operation is Operation.READ


# -- SQLAlchemy ----------------------------------------------------------------------------------


def test_sqlalchemy_2_statement_is_sent_by_execute_whatever_the_receiver() -> None:
    module = Module(
        """
        import sqlalchemy as sa
        from sqlalchemy import select as sa_select
        from app.models import User

        def user(session, uid):
            stmt = sa_select(User).where(User.id == uid)
            one = session.execute(stmt).scalar_one()
            many = session.execute(sa.select(User).where(User.active)).scalars().all()
            page = session.scalars(sa.select(User).order_by(User.id).limit(20)).all()
            return one, many, page
        """
    )
    query = module.runs("session.execute(stmt)")
    assert (query.family, query.operation) == ("sqlalchemy", Operation.READ) and query.bounded
    assert module.code(query.statement) == "sa_select(User).where(User.id == uid)"
    assert module.code(query.target) == "User"
    assert module.runs("session.execute(stmt).scalar_one()") is None
    assert module.result("one").cardinality is Cardinality.ONE
    many = module.result("many")
    assert many.cardinality is Cardinality.MANY and not many.query.bounded
    assert many.query.api == "session.execute().scalars().all()"
    assert module.result("page").query.bounded


def test_sqlalchemy_text_and_writes() -> None:
    module = Module(
        """
        from sqlalchemy import insert, text
        from app.models import User

        def work(conn, name):
            total = conn.execute(text("SELECT count(*) FROM users")).scalar()
            conn.execute(insert(User).values(name=name))
        """
    )
    total = module.result('conn.execute(text("SELECT count(*) FROM users")).scalar()')
    assert total.cardinality is Cardinality.ONE and total.query.sql.text == "SELECT count(*) FROM users"
    assert module.runs("conn.execute(insert(User).values(name=name))").operation is Operation.WRITE


def test_legacy_query_chain_runs_at_its_terminal_method() -> None:
    module = Module(
        """
        from sqlalchemy.orm import Session
        from app.models import User

        def users(session: Session, name):
            everyone = session.query(User).filter(User.name == name).all()
            first = session.query(User).filter_by(name=name).first()
            n = session.query(User).count()
            for user in session.query(User).order_by(User.id):
                pass
            return everyone, first, n
        """
    )
    everyone = module.runs("session.query(User).filter(User.name == name).all()")
    assert everyone.methods == ("query", "filter", "all") and not everyone.bounded
    assert module.runs("session.query(User).filter(User.name == name)") is None
    assert module.result("first").cardinality is Cardinality.ONE
    assert module.result("n").cardinality is Cardinality.VALUE
    iterated = module.runs("session.query(User).order_by(User.id)", iterated=True)
    assert iterated.family == "sqlalchemy" and iterated.methods == ("query", "order_by")


def test_session_get_needs_a_session_and_a_model_class() -> None:
    module = Module(
        """
        import requests
        from sqlalchemy.orm import Session
        from app.models import User

        def load(db: Session, registry, http, uid, url):
            user = db.get(User, uid)
            handler = registry.get(User, None)
            page = http.get(url, timeout=5)
            return user, handler, page
        """
    )
    user = module.result("user")
    assert user.cardinality is Cardinality.ONE and user.query.bounded and user.query.methods == ("get",)
    assert module.result("handler") is None
    assert module.result("page") is None


def test_flask_sqlalchemy_model_query() -> None:
    module = Module(
        """
        from flask_sqlalchemy import SQLAlchemy
        from app.models import User

        def by_email(email):
            return User.query.filter_by(email=email).first()
        """
    )
    query = module.runs("User.query.filter_by(email=email).first()")
    assert query.family == "sqlalchemy" and query.api == "User.query.filter_by().first()"


# -- Django ----------------------------------------------------------------------------------------


DJANGO = """
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404 as fetch_or_404
from shop.models import Order

def work(request, pk, bucket):
    qs = Order.objects.filter(owner=request.user)
    one = Order.objects.get(pk=pk)
    rows = list(qs)
    n = len(qs)
    first = qs[0]
    page = qs[:20]
    every_other = qs[::2]
    exists = qs.exists()
    created = Order.objects.create(owner=request.user)
    users = get_user_model().objects.all()
    order = fetch_or_404(Order, pk=pk)
    files = bucket.objects.filter(Prefix="a/")
    return qs
"""


def test_django_queryset_is_lazy_until_evaluated() -> None:
    module = Module(DJANGO, path="shop/views.py")
    assert module.runs("Order.objects.filter(owner=request.user)") is None
    iterated = module.runs("Order.objects.filter(owner=request.user)", iterated=True)
    assert iterated.family == "django" and iterated.methods == ("filter",) and module.code(iterated.target) == "Order"
    for text, cardinality in [
        ("list(qs)", Cardinality.MANY),
        ("len(qs)", Cardinality.VALUE),
        ("qs[0]", Cardinality.ONE),
        ("qs[::2]", Cardinality.MANY),
        ("qs.exists()", Cardinality.VALUE),
        ("Order.objects.get(pk=pk)", Cardinality.ONE),
    ]:
        assert module.runs(text) is not None, text
        assert module.result(text).cardinality is cardinality, text
    assert module.runs("qs[:20]") is None and module.result("qs[:20]").query.bounded


def test_django_results_writes_shortcuts_and_managers() -> None:
    module = Module(DJANGO, path="shop/views.py")
    returned = module.result("qs")
    assert returned.lazy and returned.cardinality is Cardinality.MANY and not returned.query.bounded
    assert returned.query.api == "Order.objects.filter()"
    assert module.runs("Order.objects.create(owner=request.user)").operation is Operation.WRITE
    assert module.result("get_user_model().objects.all()").query.api == "get_user_model().objects.all()"
    order = module.result("fetch_or_404(Order, pk=pk)")  # an aliased shortcut is still a result
    assert order.cardinality is Cardinality.ONE and order.query.bounded
    assert module.result('bucket.objects.filter(Prefix="a/")') is None  # boto3's bucket.objects is no model manager
    assert module.result("Order.objects.get(pk=pk)").query.bounded
    assert module.result("qs[::2]").query.methods == ("filter",)


def test_related_managers_are_guesses_only_where_django_models_are_used() -> None:
    source = """
        {imports}

        def totals(orders, matrix):
            for order in orders:
                order.items.count()
                order.tags.count("x")
            return matrix.rows.all()
    """
    django = Module(source.format(imports="from shop.models import Order"))
    query = django.runs("order.items.count()")
    assert query is not None and not query.certain and query.family == "django"
    assert django.runs('order.tags.count("x")') is None
    plain = Module(source.format(imports="import numpy"))
    assert plain.runs("order.items.count()") is None and plain.result("matrix.rows.all()") is None


def test_async_django_methods() -> None:
    module = Module(
        """
        from shop.models import Order

        async def one(pk):
            return await Order.objects.aget(pk=pk)
        """
    )
    query = module.runs("Order.objects.aget(pk=pk)")
    assert query.methods == ("aget",) and query.bounded


# -- reaching assignments -------------------------------------------------------------------------


def test_reaching_bindings_follow_straight_line_code_and_conditions() -> None:
    module = Module(
        """
        from shop.models import Order

        def listing(request, n):
            qs = Order.objects.all()
            qs = qs.filter(owner=request.user)
            if n:
                qs = qs[:n]
            return qs
        """
    )
    returned = module.node("qs", cst.Name)
    assert [module.line(b.assignment.node) for b in reaching_bindings(returned, module.facts)] == [6, 8]
    in_filter = module.node("qs", cst.Name, nth=2)  # the `qs` read by `qs.filter(...)`
    assert [module.line(b.assignment.node) for b in reaching_bindings(in_filter, module.facts)] == [5]
    result = module.result("qs")
    assert not result.query.bounded and module.line(result.query.statement) == 6


def test_reaching_bindings_of_parameters_loop_targets_and_comprehensions() -> None:
    module = Module(
        """
        def f(rows, limit):
            out = [row.id for row in rows]
            for item in rows:
                print(item, limit)
        """
    )
    row = module.node("row", cst.Name, nth=0)
    assert [b.kind for b in reaching_bindings(row, module.facts)] == [BindingKind.ITEM]
    item = module.node("item", cst.Name, nth=1)
    assert [b.kind for b in reaching_bindings(item, module.facts)] == [BindingKind.ITEM]
    limit = module.node("limit", cst.Name, nth=1)
    assert [b.kind for b in reaching_bindings(limit, module.facts)] == [BindingKind.PARAMETER]


def test_reaching_bindings_of_a_later_comprehension_clause_read_in_its_condition() -> None:
    module = Module("def f(cs, xs):\n    return [c for c in cs for x in xs if g(x)]\n")
    bindings = reaching_bindings(module.node("x", cst.Name), module.facts)
    assert [b.kind for b in bindings] == [BindingKind.ITEM]
    assert module.code(bindings[0].expression) == "xs"


def test_a_later_comprehension_clause_is_read_from_its_own_target_not_an_outer_name() -> None:
    # libcst resolves these reads to nothing, or to an outer `x`/`y`; facts.referents corrects it.
    module = Module(
        """
        def f(cs, xs):
            x = 1
            y = 2
            return [c for c in cs for x in xs for y in x if g(x, y)]
        """
    )
    in_condition = [n for n in module.nodes if isinstance(n, cst.Name) and n.value in ("x", "y")][-2:]
    loops = [module.facts.parent(module.facts.referents(name)[0].node) for name in in_condition]
    assert [(module.line(loop), module.code(loop.target), module.code(loop.iter)) for loop in loops] == [
        (5, "x", "xs"),
        (5, "y", "x"),
    ]
    second_iterable = module.node("x", cst.Name, nth=2)  # the `x` that `for y in x` iterates
    assert [module.code(b.expression) for b in reaching_bindings(second_iterable, module.facts)] == ["xs"]
    assert module.facts.referents(module.node("x", cst.Name, nth=1)) == []  # a target is not a read


def test_describe_names_chains_briefly() -> None:
    module = Module("x = await_(Order.objects.filter(a=1).values()[0])\n")
    assert describe(module.node("Order.objects.filter(a=1).values()[0]")) == "Order.objects.filter().values()[…]"


# -- SQL text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "operation"),
    [
        ("SELECT id FROM users", Operation.READ),
        ("  (SELECT 1)", Operation.UNKNOWN),
        ("WITH x AS (SELECT 1) SELECT * FROM x", Operation.READ),
        ("WITH gone AS (DELETE FROM t RETURNING id) INSERT INTO log SELECT id FROM gone", Operation.WRITE),
        ("update users set name = %s", Operation.WRITE),
        ("-- comment\nDELETE FROM t", Operation.WRITE),
        ("PRAGMA foreign_keys = ON", Operation.UNKNOWN),
    ],
)
def test_sql_operation(sql: str, operation: Operation) -> None:
    assert sql_operation(sql) is operation


@pytest.mark.parametrize(
    ("sql", "bounded"),
    [
        ("SELECT id FROM users", False),
        ("SELECT id FROM users ORDER BY id LIMIT %s OFFSET %s", True),
        ("SELECT id FROM users FETCH FIRST 10 ROWS ONLY", True),
        ("SELECT TOP 10 id FROM users", True),
        ("SELECT now()", True),
        ("SELECT count(*), max(created) FROM users", True),
        ("SELECT coalesce(sum(total), 0) FROM orders", True),
        ("SELECT status, count(*) FROM orders GROUP BY status", False),
        ("SELECT id, count(*) OVER () FROM orders", False),
        ("SELECT json_agg(o) FROM orders o", False),
        ("SELECT * FROM users WHERE id = %s", True),
        ("SELECT * FROM users u WHERE u.id = $1 AND u.active", True),
        ("SELECT * FROM users WHERE id = ? OR name = ?", False),
        ("SELECT * FROM users WHERE user_id = ?", False),
        (f"SELECT * FROM users WHERE pk = {MARKER}", True),
        ("SELECT id FROM users WHERE id IN (SELECT user_id FROM t LIMIT 5)", False),
        ("SELECT id FROM notes WHERE body = 'LIMIT 5'", False),
    ],
)
def test_sql_bounds_rows(sql: str, bounded: bool) -> None:
    assert sql_bounds_rows(sql) is bounded


@pytest.mark.parametrize(
    ("sql", "star"),
    [
        ("SELECT * FROM users", "*"),
        ("select distinct * from users", "*"),
        ("SELECT o.*, u.name FROM orders o JOIN users u ON u.id = o.user_id", "o.*"),
        ("SELECT count(*) FROM users", None),
        ("SELECT price * quantity FROM lines", None),
        ("SELECT 1 FROM t WHERE EXISTS (SELECT * FROM u WHERE u.t_id = t.id)", None),
        ("SELECT id -- SELECT *\nFROM t", None),
        ("SELECT id FROM t WHERE note = 'SELECT * FROM x'", None),
        ("WITH r AS (SELECT * FROM orders) SELECT id FROM r", None),
        ("WITH r AS (SELECT id, total FROM orders) SELECT * FROM r", None),
        ("WITH r AS (SELECT * FROM orders) SELECT * FROM r", "*"),
        ("SELECT * FROM (SELECT id FROM users) u", None),
        ("SELECT * FROM (SELECT * FROM users) u", "*"),
        ("SELECT * FROM a JOIN (SELECT id FROM b) x ON x.id = a.id", "*"),
        ("SELECT * FROM generate_series(1, 10)", None),
        ("INSERT INTO archive SELECT * FROM orders", None),
        ("SELECT * FROM orders LIMIT 0", None),
        ("SELECT * FROM orders WHERE 1 = 0", None),
        ("SELECT * FROM orders LIMIT 1", None),
        (f'SELECT * FROM "{MARKER}" LIMIT 1;', None),
        ("SELECT * FROM orders WHERE id = %s LIMIT 1", "*"),
        ("SELECT * FROM orders ORDER BY created DESC LIMIT 1", "*"),
        ("SELECT * FROM orders LIMIT 10", "*"),
        (f"SELECT * FROM {MARKER} WHERE id = %s", "*"),
        ("SELECT * FROM ", None),
    ],
)
def test_selects_every_column(sql: str, star: str | None) -> None:
    assert selects_every_column(sql) == star


# -- paths and text gates ----------------------------------------------------------------------------


def test_might_query_is_a_cheap_gate() -> None:
    assert might_query("rows = Order.objects.filter(a=1)")
    assert might_query("cur.execute(sql)")
    assert might_query("from sqlalchemy import select")
    assert not might_query("for x in items:\n    total += x.price\n    cache.get(x)")


# -- SQL002's exemptions stay narrow -------------------------------------------------------------


def _sql002(source: str):
    [rule] = load_cst_rule_classes(builtin_pack_dir() / "python" / "sql" / "sql002_query_in_loop.py")
    return analyze_source([rule], "app/jobs.py", textwrap.dedent(source))


def test_sql002_memoized_probing_and_bookkeeping_lookups_need_their_exact_shape() -> None:
    findings = _sql002(
        """
        from myapp.models import Annotation, JobStatus, Prediction, Task

        def f(views, candidate_ids, project_ids, seen):
            cache = {}
            for view in views:
                if view.project_id not in cache:
                    cache[view.id] = Annotation.objects.filter(project_id=view.project_id).count()
            for task_id in candidate_ids:
                Task.objects.select_for_update(skip_locked=True).get(pk=task_id).touch()
            for project_id in project_ids:
                seen[project_id] = Prediction.objects.filter(project_id=project_id).count()
            for project_id in project_ids:
                JobStatus.objects.create(project_id=project_id)
                first = Prediction.objects.filter(project_id=project_id).first()
        """
    )
    assert [(f.start.line, f.message.split(" sends", 1)[0]) for f in findings] == [
        (8, "`Annotation.objects.filter().count()`"),
        (10, "`Task.objects.select_for_update().get()`"),
        (12, "`Prediction.objects.filter().count()`"),
        (15, "`Prediction.objects.filter().first()`"),
    ]


def test_sql002_per_item_writes_point_at_the_batch_call_of_their_driver() -> None:
    findings = _sql002(
        """
        import psycopg2
        from psycopg2.extras import execute_values

        def archive(conn, orders, unrelated_cursor):
            with conn.cursor() as cur:
                for order in orders:
                    cur.execute("INSERT INTO archive (order_id) VALUES (%s)", (order.id,))
                    cur.execute("DELETE FROM orders WHERE id = %s", (order.id,))
                for order in orders:
                    cur.execute("UPDATE orders SET seen = true WHERE id = %s", (order.id,))
                    unrelated_cursor.execute("SELECT 1")
                    if cur.rowcount != 1:
                        raise LookupError(order.id)
        """
    )
    # One finding per loop, on its first write; the second loop reads the cursor per item.
    assert [f.start.line for f in findings] == [8]
    assert "an INSERT for every item of `orders`" in findings[0].message
    assert "execute_values()" in findings[0].message

    findings = _sql002(
        """
        import sqlite3

        def mark(conn: sqlite3.Connection, rows):
            for row in rows:
                conn.execute("-- replace what was seen\\nDELETE FROM seen WHERE id = ?", (row.id,))
            for row in rows:
                conn.execute("ALTER ROLE app SET search_path = ?", (row.schema,))
        """
    )
    assert [f.start.line for f in findings] == [6]
    assert "a DELETE for every item" in findings[0].message
    assert "`conn.executemany(sql, [params, ...])`" in findings[0].message
