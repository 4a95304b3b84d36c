"""SQL002 query-in-loop: a query per item of a collection (the N+1 query pattern).

How it decides (what a query is lives in reviewer.analysis.queries):
- A query is sent inside the body of a `for` loop or a comprehension — `cur.execute()`,
  asyncpg `fetch*()`, `session.execute(select(...))`, `session.get()`, `session.query(...)
  .first()`, `Model.objects.get()`, a queryset's `.first()`/`.count()`/`list()`/`[0]`, or a
  lazy queryset iterated by an inner loop — and what it sends depends on the loop's item:
  the loop variable, or a local assigned from it inside the loop, appears in its SQL text,
  parameters, filter arguments or where clause.
- Reads, and one kind of write: a fixed INSERT/UPDATE/DELETE text sent through a driver
  (DB-API, asyncpg, SQLAlchemy `text()`) with the item's values, whose result the loop does not
  use — one `executemany()` does the same work. One finding per loop for such writes. Left alone:
  ORM writes (`.save()`, `.create()`: signals and per-object logic), writes the loop treats as a
  unit of work per item (inside a `try` or `with` in the loop, a commit or rollback in the loop,
  the cursor read after it: `rowcount`, `fetchone()`, `RETURNING`; other awaited work in the
  loop), SQL text built per item,
  and statements of unknown text.
- A Django related manager on the item (`order.items.all()`) counts only when the loop
  iterates a queryset this function builds without `prefetch_related()` (and not
  `values()`/`values_list()`, whose items are not model instances).
- Not flagged: loops over `range()`, over literal collections or constants holding them (or
  any module-level UPPER_CASE constant: a set the code fixes, such as the tables to visit), and
  over chunks (`chunked(ids, 500)`), whose queries are retries, pages or batches; queries whose
  only use of the item is in a batch slot (`id__in=`, `.in_()`, SQL `IN (...)`/`ANY(...)`),
  `executemany()`; a query followed by an unconditional `break`/`return`/`raise` (it runs
  once); `while` loops (pagination by offset or cursor, polling); code in a function or lambda
  defined inside the loop; loops whose item picks the model or a table/column name in the SQL
  (`for model in models: model.objects.count()` — one query per table, nothing to batch); files
  under tests/ and migrations (migrations/, alembic/: they run once, at deploy time, not per
  request); lookups memoized per key (`if key not in cache: cache[key] = <query>`); rows tried
  one at a time for a lock (`select_for_update(...)` in a loop that returns or breaks: finding
  the first unlocked row is the point); a count or other single value read in a loop that also
  writes per item (`qs.filter(project=p).update(...)`, `.create(project=p)`): each iteration
  is a unit of work on its item and needs its own round trips anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import GlobalScope

from reviewer.analysis.bindings import BindingKind, reaching_bindings
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.paths import is_migration_path, is_test_path
from reviewer.analysis.queries import (
    Cardinality,
    Operation,
    Query,
    QueryReader,
    describe,
    might_query,
    sql_keyword,
)
from reviewer.analysis.sql import query_sink
from reviewer.analysis.sqltext import MARKER, takes_a_value
from reviewer.analysis.strings import CONSTANT_NAME
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity

_LOOP = re.compile(r"\bfor\b")
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_NUMBER_SOURCES = frozenset({"builtins.range", "itertools.count", "itertools.repeat"})
_WRAPPERS = frozenset({"builtins.enumerate", "builtins.reversed", "builtins.sorted", "builtins.zip"})
_BATCH_WORDS = re.compile(r"chunk|batch|paginat|partition|split", re.IGNORECASE)
_BATCH_SLOT = re.compile(
    rf"\b(?:in|any|all)\s*\(\s*(?:%s|\?|\$\d+|:\w+|%\(\w+\)s|{MARKER})|\bunnest\s*\(", re.IGNORECASE
)
_BATCH_CALLS = frozenset({"in_", "not_in", "notin_", "any_", "all_", "in_bulk"})
_EXITS = (cst.Return, cst.Raise)
_TRANSACTION_ENDS = frozenset({"commit", "rollback"})
# Row writes one batched call can send for many items (not DDL such as ALTER or GRANT).
_ROW_WRITES = frozenset({"insert", "update", "delete", "merge", "replace", "upsert"})
_SENDS = frozenset({"execute", "exec_driver_sql"})


@dataclass(frozen=True, eq=False)
class _Loop:
    node: cst.CSTNode  # a For, or a comprehension
    targets: frozenset[int]  # ids of the names the loop binds
    iterable: cst.BaseExpression
    line_node: cst.CSTNode  # what to name the line of


class QueryInLoop(CstRule):
    code = "SQL002"
    name = "query-in-loop"
    severity = Severity.WARNING
    summary = "A query runs once per item of a loop (N+1 queries) instead of once for all items"
    what = """
        Flags a read query sent inside a `for` loop or a comprehension when what it asks for
        depends on the loop's item: `cur.execute("... WHERE id = %s", (row.id,))`,
        `Product.objects.get(id=line.product_id)`, `session.get(User, order.user_id)`,
        `session.execute(select(Address).where(Address.user_id == user.id))`, a related manager
        on the item (`order.items.count()`) while iterating a queryset without
        `prefetch_related()`. Also flags a fixed INSERT, UPDATE or DELETE sent through a driver
        once per item with the item's values (`for row in rows: cur.execute("UPDATE ... WHERE
        id = %s", (row.id,))`), which one `executemany()` call does at once. DB-API drivers,
        asyncpg, SQLAlchemy Core and ORM (1.4 and 2.0 styles) and the Django ORM are recognised
        through their imports and aliases. Left alone: loops over numbers, literals, chunks or
        a module's UPPER_CASE constants (`for table in TABLES`),
        batch lookups (`id__in=`, `.in_()`, `= ANY(%s)`), lookups memoized per key, row-lock
        probes, a count kept beside per-item writes, writes handled one item at a time (in a
        `try` or `with` inside the loop, committed per item, followed by a read of the cursor
        such as `rowcount`, or with other awaited work between them), ORM saves, and code in
        tests and migrations.
    """
    why = """
        Each query is a round trip to the database: network latency, parsing, planning and
        locking paid once per item. A page of 50 orders that loads each order's customer sends
        51 queries where 2 would do; it looks fine on a laptop with ten rows and becomes the
        slowest endpoint in production, while holding a connection from the pool the whole
        time. Fetching the related rows in one query (`WHERE id IN (...)`/`= ANY(%s)`,
        `in_bulk()`, `select_related()`/`prefetch_related()`, `selectinload()`/`joinedload()`)
        costs one round trip whatever the number of items, and lets the database use its
        indexes once for the whole set. Writes are the same: a thousand rows updated one
        `execute()` at a time are a thousand round trips, where `executemany()` (asyncpg, psycopg
        3, sqlite3) or `execute_values()` (psycopg2) sends them together.
    """
    references = (
        "https://docs.djangoproject.com/en/stable/topics/db/optimization/",
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#prefetch-related",
        "https://docs.djangoproject.com/en/stable/ref/models/querysets/#in-bulk",
        "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
        "https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.ColumnOperators.in_",
        "https://www.psycopg.org/docs/usage.html#lists-adaptation",
        "https://www.psycopg.org/docs/extras.html#fast-execution-helpers",
        "https://docs.python.org/3/library/sqlite3.html#sqlite3.Cursor.executemany",
        "https://magicstack.github.io/asyncpg/current/usage.html#type-conversion",
    )
    tags = ("performance",)
    confidence = "high"

    VALID = [
        Valid(
            """
            from myapp.models import Product

            def cart_lines(cart):
                products = Product.objects.in_bulk([item.product_id for item in cart.items])
                return [(item, products[item.product_id]) for item in cart.items]
            """
        ),
        Valid(
            """
            import psycopg2

            def status_counts(conn, customer_id):
                counts = {}
                with conn.cursor() as cur:
                    for status in ("new", "paid", "shipped"):
                        cur.execute("SELECT count(*) FROM orders WHERE customer_id = %s AND status = %s", (customer_id, status))
                        counts[status] = cur.fetchone()[0]
                    cur.execute("SELECT id, email FROM customers WHERE id = ANY(%s)", ([o.customer_id for o in orders],))
                    cur.executemany("UPDATE customers SET seen = now() WHERE id = %s", [(r[0],) for r in rows])
                return counts
            """
        ),
        Valid(
            """
            import time
            import sqlite3

            def load_order(conn: sqlite3.Connection, order_id, lines):
                for attempt in range(3):
                    try:
                        return conn.execute("SELECT id, total FROM orders WHERE id = ?", (order_id,)).fetchone()
                    except sqlite3.OperationalError:
                        time.sleep(2 ** attempt)
                for line in lines:
                    if line.primary:
                        product = conn.execute("SELECT name FROM products WHERE id = ?", (line.product_id,)).fetchone()
                        break
            """
        ),
        Valid(
            """
            import sqlite3

            def export(conn: sqlite3.Connection, size=500):
                offset = 0
                while True:
                    rows = conn.execute("SELECT id, name FROM users ORDER BY id LIMIT ? OFFSET ?", (size, offset)).fetchall()
                    if not rows:
                        break
                    offset += size
                for page in range(10):
                    conn.execute("SELECT id FROM events ORDER BY id LIMIT 100 OFFSET ?", (page * 100,)).fetchall()
            """
        ),
        Valid(
            """
            from more_itertools import chunked
            from sqlalchemy import select
            from sqlalchemy.orm import Session
            from myapp.models import User

            def users(session: Session, ids, id_batches, orders):
                found = []
                for batch in chunked(ids, 500):
                    found += session.execute(select(User).where(User.id.in_(batch))).scalars().all()
                for id_list in id_batches:
                    found += session.scalars(select(User).where(User.id.in_(id_list))).all()
                for order in orders:
                    order.total = sum(line.price for line in order.lines)
                return found
            """
        ),
        Valid(
            """
            from myapp.models import Order

            def order_totals(customer):
                orders = Order.objects.filter(customer=customer).prefetch_related("items")
                return {order.id: sum(item.price for item in order.items.all()) for order in orders}
            """
        ),
        Valid(
            """
            from concurrent.futures import ThreadPoolExecutor
            import requests

            def fetch_all(urls, jobs, executor, cache):
                session = requests.Session()
                pages = [session.get(url, timeout=5) for url in urls]
                for job in jobs:
                    executor.execute(job.run, job.args)
                    cache.get(job.key)
                return pages
            """
        ),
        Valid(
            """
            from myapp.models import Customer

            def first_vip(rows, ids):
                callbacks = [lambda: Customer.objects.get(pk=i) for i in ids]
                for row in rows:
                    return Customer.objects.get(pk=row.customer_id)
            """
        ),
        Valid(
            """
            from django.apps import apps
            from django.db import connection

            def row_counts(tables):
                counts = {model.__name__: model._default_manager.count() for model in apps.get_models()}
                with connection.cursor() as cursor:
                    for table in tables:
                        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
                        counts[table] = cursor.fetchone()[0]
                return counts
            """
        ),
        Valid(
            """
            from myapp.models import Customer

            def test_every_order_has_a_customer(orders):
                for order in orders:
                    assert Customer.objects.get(pk=order.customer_id)
            """,
            path="tests/test_orders.py",
        ),
        Valid(
            """
            from django.db import migrations

            def backfill(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                Customer = apps.get_model("shop", "Customer")
                for order in Order.objects.filter(customer_name=""):
                    order.customer_name = Customer.objects.get(pk=order.customer_id).name
                    order.save(update_fields=["customer_name"])

            class Migration(migrations.Migration):
                operations = [migrations.RunPython(backfill)]
            """,
            path="shop/migrations/0012_backfill_customer_name.py",
        ),
        Valid(
            """
            from myapp.models import Annotation

            def annotators_by_view(views):
                by_project = {}
                for view in views:
                    if view.project_id not in by_project:
                        by_project[view.project_id] = set(
                            Annotation.objects.filter(project_id=view.project_id).values_list("user_id", flat=True)
                        )
                    view.annotators = by_project[view.project_id]
            """
        ),
        Valid(
            """
            from myapp.models import Task

            def next_unlocked(candidate_ids, user):
                for task_id in candidate_ids:
                    try:
                        task = Task.objects.select_for_update(skip_locked=True).get(pk=task_id)
                    except Task.DoesNotExist:
                        continue
                    if not task.is_locked_for(user):
                        return task
            """
        ),
        Valid(
            """
            from myapp.models import JobStatus, Prediction

            def fill_prediction_projects(project_ids):
                for project_id in project_ids:
                    status = JobStatus.objects.create(project_id=project_id, name="fill")
                    Prediction.objects.filter(task__project_id=project_id).update(project_id=project_id)
                    status.total = Prediction.objects.filter(project_id=project_id).count()
                    status.save()
            """
        ),
        Valid(
            """
            import sqlite3

            def import_rows(conn: sqlite3.Connection, rows, log):
                for row in rows:
                    try:
                        conn.execute("INSERT INTO users (id, email) VALUES (?, ?)", (row.id, row.email))
                    except sqlite3.IntegrityError:
                        log.warning("duplicate user %s", row.id)
                for row in rows:
                    with conn:
                        conn.execute("UPDATE users SET seen = 1 WHERE id = ?", (row.id,))
                for row in rows:
                    conn.execute("UPDATE users SET seen = 1 WHERE id = ?", (row.id,))
                    conn.commit()
            """
        ),
        Valid(
            """
            import psycopg2
            from psycopg2.extras import execute_values

            def touch(conn, rows, kinds):
                with conn.cursor() as cur:
                    for row in rows:
                        cur.execute("UPDATE users SET seen = now() WHERE id = %s", (row.id,))
                        if cur.rowcount == 0:
                            raise LookupError(row.id)
                    for row in rows:
                        cur.execute("INSERT INTO audit (user_id) VALUES (%s) RETURNING id", (row.id,))
                        row.audit_id = cur.fetchone()[0]
                    for kind in ("a", "b", "c"):
                        cur.execute("DELETE FROM cache WHERE kind = %s", (kind,))
                    for attempt in range(3):
                        cur.execute("UPDATE counters SET n = n + 1 WHERE id = %s", (attempt,))
                    execute_values(cur, "INSERT INTO seen (user_id) VALUES %s", [(row.id,) for row in rows])
            """
        ),
        Valid(
            """
            import sqlite3

            def reset(conn: sqlite3.Connection, tables, rows, order):
                for table in tables:
                    conn.execute(f"DELETE FROM {table}")
                for row in rows:
                    new_id = conn.execute("INSERT INTO copies (src) VALUES (?) RETURNING id", (row.id,)).fetchone()
                    row.copy_id = new_id
                for row in rows:
                    conn.execute("UPDATE orders SET total = 0 WHERE id = ?", (order.id,))
                    row.save()
            """
        ),
        Valid(
            """
            import asyncpg

            async def run_jobs(conn: asyncpg.Connection, jobs, worker):
                for job in jobs:
                    await conn.execute("UPDATE jobs SET status = 'running' WHERE id = $1", job.id)
                    await worker.run(job)
                    await conn.execute("UPDATE jobs SET status = 'done' WHERE id = $1", job.id)
            """
        ),
        Valid(
            """
            import sqlalchemy as sa
            from myapp.tables import CHILD_TABLES, ROOT_MODELS

            _WORKSPACE_TABLES = [model.__tablename__ for model in ROOT_MODELS] + CHILD_TABLES

            def count_rows(conn, workspace):
                counts = {}
                for table_name in _WORKSPACE_TABLES:
                    table = sa.table(table_name, sa.column("workspace"))
                    statement = sa.select(sa.func.count()).select_from(table).where(table.c.workspace == workspace)
                    counts[table_name] = conn.execute(statement).scalar_one()
                return counts
            """
        ),
    ]

    INVALID = [
        Invalid(
            """
            from myapp.models import Product

            def cart_lines(cart):
                lines = []
                for item in cart.items:
                    product = Product.objects.get(id=item.product_id)
                    lines.append((item, product))
                return lines
            """,
            line=7,
        ),
        Invalid(
            """
            import psycopg2

            def customers_of(conn, orders):
                names = {}
                with conn.cursor() as cur:
                    for order in orders:
                        cur.execute("SELECT name FROM customers WHERE id = %s", (order["customer_id"],))
                        names[order["id"]] = cur.fetchone()[0]
                return names
            """,
            line=8,
        ),
        Invalid(
            """
            from sqlalchemy import select as sa_select
            from sqlalchemy.orm import Session
            from app.models import User

            def authors(session: Session, posts):
                result = []
                for post in posts:
                    author_id = post.author_id
                    statement = sa_select(User).where(User.id == author_id)
                    result.append(session.execute(statement).scalar_one())
                return result
            """,
            line=11,
        ),
        Invalid(
            """
            from sqlalchemy.orm import Session
            from app.models import User

            def owners(session: Session, orders):
                return [session.get(User, order.user_id) for order in orders]
            """,
            line=6,
        ),
        Invalid(
            """
            from app.models import Address

            def addresses(db, users):
                for user in users:
                    user.cached = db.session.query(Address).filter(Address.user_id == user.id).all()
            """,
            line=6,
        ),
        Invalid(
            """
            import asyncpg

            async def balances(conn: asyncpg.Connection, account_ids):
                return {i: await conn.fetchval("SELECT balance FROM accounts WHERE id = $1", i) for i in account_ids}
            """,
            line=5,
        ),
        Invalid(
            """
            from myapp.models import Order

            def order_totals(customer):
                totals = {}
                for order in Order.objects.filter(customer=customer):
                    totals[order.id] = order.items.count()
                return totals
            """,
            line=7,
        ),
        Invalid(
            """
            from myapp.models import Order, OrderLine

            def report(orders):
                for order in orders:
                    for line in OrderLine.objects.filter(order_id=order.id).select_related("product"):
                        print(line.product.name)
            """,
            line=6,
        ),
        Invalid(
            """
            import sqlite3

            def mark_seen(conn: sqlite3.Connection, rows):
                for row in rows:
                    conn.execute("UPDATE users SET seen = 1 WHERE id = ?", (row[0],))
                    conn.execute("INSERT INTO audit (user_id) VALUES (?)", (row[0],))
            """,
            line=6,
        ),
        Invalid(
            """
            import psycopg2

            def archive(conn, orders):
                with conn.cursor() as cur:
                    for order in orders:
                        cur.execute("INSERT INTO archive (order_id, total) VALUES (%s, %s)", (order.id, order.total))
            """,
            line=7,
        ),
        Invalid(
            """
            import asyncpg

            async def clear_carts(conn: asyncpg.Connection, carts):
                for cart in carts:
                    await conn.execute("DELETE FROM cart_items WHERE cart_id = $1", cart.id)
            """,
            line=6,
        ),
        Invalid(
            """
            from sqlalchemy import text

            def reprice(session, products):
                statement = text("UPDATE products SET price = :price WHERE id = :id")
                for product in products:
                    session.execute(statement, {"price": product.price, "id": product.id})
            """,
            line=7,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        return _LOOP.search(source) is not None and might_query(source)

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.queries = QueryReader(self.facts)
        # Test loops run over a handful of fixture rows; a migration's loops run once, at deploy time.
        self.exempt = is_test_path(self.context.path) or is_migration_path(self.context.path)
        self.writes_per_item: dict[int, bool] = {}
        self.loop_depth = 0
        self.reported: set[int] = set()
        self.write_loops: set[int] = set()  # loops already reported for a per-item write

    # Loop depth is only a cheap gate: the precise loop comes from the parent chain.
    def visit_For(self, node: cst.For) -> None:
        if self.loop_depth:
            self._check(node.iter, iterated=True)
        self.loop_depth += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_depth -= 1

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self.loop_depth += 1

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self.loop_depth -= 1

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self.loop_depth += 1

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self.loop_depth -= 1

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self.loop_depth += 1

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self.loop_depth -= 1

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.loop_depth += 1

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self.loop_depth -= 1

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._check(node.iter, iterated=True)

    def visit_Call(self, node: cst.Call) -> None:
        if self.loop_depth:
            self._check(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self.loop_depth:
            self._check(node)

    # --- deciding -------------------------------------------------------------------------------

    def _check(self, node: cst.BaseExpression, iterated: bool = False) -> None:
        if self.exempt:
            return
        query = self.queries.query_run_by(node, iterated=iterated)
        if query is None or "executemany" in query.methods or id(node) in self.reported:
            return
        if query.operation is Operation.WRITE:
            self._check_write(node, query)
            return
        if query.operation is not Operation.READ:
            return
        for loop in self._enclosing_loops(node):
            if not self._depends_on(query, loop) or not self._iterates_items(loop.iterable):
                continue
            if self._item_picks_table(query, loop):
                return  # one query per table or column: nothing to batch
            if self._runs_once(node, loop) or (not query.certain and not self._iterates_unprefetched_models(loop)):
                return
            if self._memoized(node, loop) or self._probes_row_locks(query, loop) or self._bookkeeping(node, loop):
                return
            self.reported.add(id(node))
            self.report(node, self._message(query, loop, iterated))
            return

    def _check_write(self, node: cst.CSTNode, query: Query) -> None:
        """One fixed INSERT/UPDATE/DELETE sent per item with the item's values: one batched call
        does the same work. Left alone when the loop treats each item as its own unit of work
        (a `try` or `with` around the write, a commit per item, the cursor read after it) or when
        the statement's text is built per item (SQL001's concern)."""
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute) or not _fixed_sql(query):
            return
        if not self._result_unused(node):
            return
        for loop in self._enclosing_loops(node):
            if not self._depends_on(query, loop) or not self._iterates_items(loop.iterable):
                continue
            if id(loop.node) in self.write_loops or not isinstance(loop.node, cst.For):
                return
            if self._runs_once(node, loop) or self._unit_of_work_per_item(node, loop, node.func.value):
                return
            self.write_loops.add(id(loop.node))
            self.report(node, self._write_message(node, query, loop))
            return

    def _result_unused(self, node: cst.Call) -> bool:
        parent = self.facts.parent(node)
        if isinstance(parent, cst.Await):
            parent = self.facts.parent(parent)
        return isinstance(parent, cst.Expr)

    def _unit_of_work_per_item(self, node: cst.CSTNode, loop: _Loop, receiver: cst.BaseExpression) -> bool:
        """Per-item error handling or transactions, per-item use of the cursor's result, or other
        awaited work between the writes (a job runner marking each job as it goes): what a
        single batched call cannot do."""
        child, parent = node, self.facts.parent(node)
        while parent is not None and parent is not loop.node:
            if isinstance(parent, (cst.Try, cst.TryStar, cst.With)) and child is parent.body:
                return True
            child, parent = parent, self.facts.parent(parent)
        sender = self.module.code_for_node(receiver)
        pending: list[cst.CSTNode] = [loop.node.body]
        while pending:
            current = pending.pop()
            if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute):
                if current.func.attr.value in _TRANSACTION_ENDS:
                    return True
                if current.func.attr.value in _SENDS and self.module.code_for_node(current.func.value) == sender:
                    pending.extend(current.args)  # the receiver sends a statement: not a per-item read
                    continue
            if isinstance(current, (cst.Name, cst.Attribute)) and self.module.code_for_node(current) == sender:
                return True  # `cur.rowcount`, `cur.fetchone()`, `conn.transaction()`: the item needs its own result
            if isinstance(current, cst.Await) and not self._sends_through(current.expression, sender):
                return True
            pending.extend(current.children)
        return False

    def _sends_through(self, expression: cst.BaseExpression, sender: str) -> bool:
        return (
            isinstance(expression, cst.Call)
            and isinstance(expression.func, cst.Attribute)
            and expression.func.attr.value in _SENDS
            and self.module.code_for_node(expression.func.value) == sender
        )

    def _write_message(self, node: cst.Call, query: Query, loop: _Loop) -> str:
        operation = sql_keyword(query.sql.text).upper() if query.sql is not None else "write"
        article = "an" if operation[0] in "AEIOU" else "a"
        return (
            f"`{query.api}` sends {article} {operation} for every item of `{describe(loop.iterable)}` (loop on line "
            f"{self.facts.line(loop.line_node)}): one round trip per item; {_batch_advice(node, query, self.facts)}"
        )

    def _enclosing_loops(self, node: cst.CSTNode) -> list[_Loop]:
        """The loops that run `node` once per item, innermost first. A loop's own iterable is
        evaluated once, outside it (a comprehension's first one too); a comprehension's element
        runs per item of every `for` clause, a clause's conditions and inner iterables per item
        of the clauses before them; functions and lambdas defined in a loop do not run there."""
        loops: list[_Loop] = []
        clauses: list[cst.CompFor] = []  # the clauses enclosing `node` in the comprehension being left
        child, parent = node, self.facts.parent(node)
        while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            if isinstance(parent, cst.For) and child is parent.body:
                loops.append(_Loop(parent, _bound_names(parent.target), parent.iter, parent))
            elif isinstance(parent, cst.CompFor) and child is not parent.iter:
                clauses.append(parent)
            elif isinstance(parent, _COMPREHENSIONS):
                if child is not parent.for_in:
                    clauses = list(reversed(_clauses(parent.for_in)))
                loops.extend(_Loop(parent, _bound_names(c.target), c.iter, c) for c in clauses)
                clauses = []
            child, parent = parent, self.facts.parent(parent)
        return loops

    def _depends_on(self, query: Query, loop: _Loop) -> bool:
        """Whether the query's inputs use the loop's item, directly or through locals assigned
        from it inside the loop. An item that is itself a list of keys, passed whole where a
        query takes a list (`id__in=batch`, `.in_(batch)`, `= ANY(%s)`), is a batch, not a key."""
        batch_sql = query.sql is not None and query.sql.is_text and _BATCH_SLOT.search(query.sql.text) is not None
        return self._uses_item([(node, batch_sql) for node in query.inputs], loop)

    def _item_picks_table(self, query: Query, loop: _Loop) -> bool:
        """The item chooses the model (`model._default_manager`, `session.get(model, pk)`) or a
        name in the SQL text (`FROM {table}`, `ORDER BY {column}`), not a value."""
        if query.target is not None and self._uses_item([(query.target, False)], loop):
            return True
        if query.sql is None:
            return False
        names = [
            hole.expression for hole, before, after in query.sql.holes_in_context() if not takes_a_value(before, after)
        ]
        return bool(names) and self._uses_item([(name, False) for name in names], loop)

    def _uses_item(self, pending: list[tuple[cst.CSTNode, bool]], loop: _Loop) -> bool:
        seen: set[int] = set()
        while pending:
            node, in_batch_slot = pending.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, cst.Name):
                for binding in reaching_bindings(node, self.facts):
                    if id(getattr(binding.assignment, "node", None)) in loop.targets:
                        if not in_batch_slot:
                            return True
                    elif (
                        binding.kind is BindingKind.VALUE
                        and binding.expression is not None
                        and self._inside(binding.expression, loop.node)
                    ):
                        pending.append((binding.expression, False))
            elif isinstance(node, cst.Arg):
                keyword = node.keyword.value if node.keyword is not None else ""
                pending.append((node.value, in_batch_slot or keyword.endswith("__in")))
            elif isinstance(node, (cst.Tuple, cst.List, cst.Element)):
                pending.extend((child, in_batch_slot) for child in node.children)
            elif (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in _BATCH_CALLS
            ):
                pending.append((node.func.value, False))
                pending.extend((arg, True) for arg in node.args)
            elif isinstance(node, cst.Attribute):
                pending.append((node.value, False))
            elif not isinstance(node, (cst.Lambda, cst.FunctionDef)):
                pending.extend((child, False) for child in node.children)
        return False

    def _inside(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        current = self.facts.parent(node)
        while current is not None:
            if current is ancestor:
                return True
            current = self.facts.parent(current)
        return False

    def _iterates_items(self, iterable: cst.BaseExpression) -> bool:
        """False for numbers (`range()`), literal collections and chunks: retries, pages, batches."""
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.SimpleString, cst.ConcatenatedString)):
            return False
        if isinstance(iterable, cst.Call):
            names = self.facts.qualified_names(iterable.func)
            if names & _NUMBER_SOURCES or _BATCH_WORDS.search(describe(iterable.func)):
                return False
            if names & _WRAPPERS:
                return any(self._iterates_items(arg.value) for arg in iterable.args if arg.keyword is None)
            if isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value in ("items", "keys", "values"):
                return self._iterates_items(iterable.func.value)
            return True
        if isinstance(iterable, cst.Name):
            bindings = reaching_bindings(iterable, self.facts)
            if bindings and CONSTANT_NAME.match(iterable.value) and all(_at_module_level(b) for b in bindings):
                return False  # `for table in WORKSPACE_TABLES`: a set the code fixes, not rows
            literal = bindings and all(
                binding.kind is BindingKind.VALUE
                and binding.expression is not None
                and not self._iterates_items(binding.expression)
                for binding in bindings
            )
            return not literal
        return True

    def _runs_once(self, node: cst.CSTNode, loop: _Loop) -> bool:
        """An unconditional `return`/`raise` (or `break` of this loop) after the query."""
        child, parent = node, self.facts.parent(node)
        crossed_inner_loop = False
        while parent is not None and parent is not loop.node:
            if isinstance(parent, _EXITS):
                return True
            if isinstance(parent, (cst.IndentedBlock, cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                statements = list(parent.body)
                index = next((i for i, statement in enumerate(statements) if statement is child), len(statements))
                later = statements[index + 1 :]
                if any(_exits(statement, allow_break=not crossed_inner_loop) for statement in later):
                    return True
            if isinstance(parent, (cst.For, cst.While)) and child is parent.body:
                crossed_inner_loop = True
            child, parent = parent, self.facts.parent(parent)
        return False

    def _memoized(self, node: cst.CSTNode, loop: _Loop) -> bool:
        """`if key not in cache: cache[key] = <query>`: one query per distinct key, by design."""
        child, parent = node, self.facts.parent(node)
        while parent is not None and parent is not loop.node:
            if isinstance(parent, cst.If) and child is parent.body:
                test = parent.test
                if (
                    isinstance(test, cst.Comparison)
                    and len(test.comparisons) == 1
                    and isinstance(test.comparisons[0].operator, cst.NotIn)
                    and self._stores(parent.body, test.comparisons[0].comparator, test.left)
                ):
                    return True
            child, parent = parent, self.facts.parent(parent)
        return False

    def _stores(self, block: cst.BaseSuite, mapping: cst.BaseExpression, key: cst.BaseExpression) -> bool:
        """Whether `block` has a statement `mapping[key] = ...` (same source text)."""
        wanted = (self.module.code_for_node(mapping), self.module.code_for_node(key))
        for statement in block.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
                for target in targets:
                    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
                        index = target.slice[0].slice
                        if isinstance(index, cst.Index):
                            stored = (self.module.code_for_node(target.value), self.module.code_for_node(index.value))
                            if stored == wanted:
                                return True
        return False

    def _probes_row_locks(self, query: Query, loop: _Loop) -> bool:
        """`for pk in candidates: row = qs.select_for_update(skip_locked=True).get(pk=pk); if ...:
        return row`: trying rows one by one until one can be locked is the point of the loop."""
        if "select_for_update" not in query.methods or not isinstance(loop.node, cst.For):
            return False
        pending: list[tuple[cst.CSTNode, bool]] = [(loop.node.body, True)]  # (node, a `break` there ends this loop)
        while pending:
            current, breaks_this_loop = pending.pop()
            if isinstance(current, cst.Return) or (breaks_this_loop and isinstance(current, cst.Break)):
                return True
            if not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                inner = breaks_this_loop and not isinstance(current, (cst.For, cst.While))
                pending.extend((child, inner) for child in current.children)
        return False

    def _bookkeeping(self, node: cst.CSTNode, loop: _Loop) -> bool:
        """A count or other single value read in a loop that also writes per item (`for project in
        projects: qs.filter(project=project).update(...); stats = qs.count()`): each iteration is a
        unit of work on its item, and its writes need a round trip per item anyway."""
        result = self.queries.result_of(node) if isinstance(node, cst.BaseExpression) else None
        if result is None or result.cardinality is not Cardinality.VALUE:
            return False
        key = id(loop.node)
        if key not in self.writes_per_item:
            self.writes_per_item[key] = any(
                write.operation is Operation.WRITE and self._depends_on(write, loop)
                for write in self._queries_in(loop.node.body if isinstance(loop.node, cst.For) else loop.node)
            )
        return self.writes_per_item[key]

    def _queries_in(self, block: cst.CSTNode) -> list[Query]:
        """The queries sent by calls in `block`, outside functions defined there."""
        queries: list[Query] = []
        pending: list[cst.CSTNode] = [block]
        while pending:
            current = pending.pop()
            if isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                continue
            if isinstance(current, cst.Call):
                query = self.queries.query_run_by(current)
                if query is not None:
                    queries.append(query)
            pending.extend(current.children)
        return queries

    def _iterates_unprefetched_models(self, loop: _Loop) -> bool:
        """A related manager's query per item is certain only when the loop walks model instances
        of a queryset built here that does not prefetch."""
        iterated = self.queries.result_of(loop.iterable)
        if iterated is None or iterated.query.family != "django" or not iterated.query.certain:
            return False
        return not {"prefetch_related", "values", "values_list"} & set(iterated.query.methods)

    def _message(self, query: Query, loop: _Loop, iterated: bool) -> str:
        runs = f"iterating `{query.api}`" if iterated else f"`{query.api}`"
        return (
            f"{runs} sends a query for every item of `{describe(loop.iterable)}` (loop on line "
            f"{self.facts.line(loop.line_node)}): N+1 queries; {_advice(query, self._relation(query, loop))}"
        )

    def _relation(self, query: Query, loop: _Loop) -> str | None:
        """The related manager's path from the loop's item, for `prefetch_related()`:
        `order.items.count()` → "items", `p.user.emails.all()` → "user__emails"."""
        if query.certain or not query.inputs:
            return None
        owner = query.inputs[0]
        node: cst.CSTNode = query.statement
        while isinstance(node, (cst.Call, cst.Attribute)) and not (
            isinstance(node, cst.Attribute) and node.value is owner
        ):
            node = node.func if isinstance(node, cst.Call) else node.value
        path: list[str] = []
        while isinstance(node, cst.Attribute):
            path.insert(0, node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        item = any(id(getattr(b.assignment, "node", None)) in loop.targets for b in reaching_bindings(node, self.facts))
        return "__".join(path) if item else None


def _advice(query: Query, relation: str | None) -> str:
    if query.family == "django" and query.sql is None:
        if not query.certain:
            prefetch = f'`prefetch_related("{relation}")`' if relation else "`prefetch_related()` for this relation"
            return f"add {prefetch} to the queryset the loop iterates"
        return (
            "load them in one query before the loop with `in_bulk(ids)` or `filter(<field>__in=ids)`, "
            "or with `select_related()`/`prefetch_related()` on the queryset being looped over"
        )
    if query.family == "sqlalchemy" and query.sql is None:
        return (
            "load them in one query before the loop with `.where(Model.id.in_(ids))`, "
            "or eager-load the relationship with `selectinload()`/`joinedload()`"
        )
    return (
        "collect the keys and run one query before the loop with `WHERE id IN (...)` or `= ANY(%s)` "
        "(a list parameter), then look the rows up in a dict"
    )


def _fixed_sql(query: Query) -> bool:
    """Known row-writing SQL with no value spliced in: the same statement for every item."""
    if query.family not in ("dbapi", "asyncpg", "sqlalchemy") or query.sql is None or not query.sql.is_text:
        return False
    return next(query.sql.holes_in_context(), None) is None and sql_keyword(query.sql.text) in _ROW_WRITES


def _batch_advice(node: cst.Call, query: Query, facts: ModuleFacts) -> str:
    sink = query_sink(node, facts)
    library = sink.library.name if sink is not None and sink.library is not None else None
    receiver = describe(node.func.value) if isinstance(node.func, cst.Attribute) else "cur"
    if library == "psycopg2":
        return (
            "send them in one call with `psycopg2.extras.execute_values()` or `execute_batch()` "
            "(psycopg2's own `executemany()` is no faster than the loop)"
        )
    if query.family == "sqlalchemy":
        return (
            f"collect the parameter dicts and pass the list in one `{receiver}.execute(statement, [params, ...])` call"
        )
    return f"collect the parameters and send them in one `{receiver}.executemany(sql, [params, ...])` call"


def _at_module_level(binding) -> bool:
    return isinstance(getattr(binding.assignment, "scope", None), GlobalScope)


def _clauses(first: cst.CompFor) -> list[cst.CompFor]:
    clauses = []
    clause: cst.CompFor | None = first
    while clause is not None:
        clauses.append(clause)
        clause = clause.inner_for_in
    return clauses


def _bound_names(target: cst.BaseExpression) -> frozenset[int]:
    names: list[int] = []
    pending: list[cst.CSTNode] = [target]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Name):
            names.append(id(node))
        elif isinstance(node, (cst.Tuple, cst.List)):
            pending.extend(element.value for element in node.elements)
        elif isinstance(node, cst.StarredElement):
            pending.append(node.value)
    return frozenset(names)


def _exits(statement: cst.CSTNode, allow_break: bool) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return any(_exits(small, allow_break) for small in statement.body)
    return isinstance(statement, _EXITS) or (allow_break and isinstance(statement, cst.Break))
