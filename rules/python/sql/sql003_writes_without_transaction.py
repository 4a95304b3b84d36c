"""SQL003 writes-without-transaction: two writes in one function that can commit separately.

How it decides (writes and transactions come from reviewer.analysis.writes):
- Only what the library's semantics make certainly non-atomic is flagged:
  * a commit between two writes on the same connection or session (DB-API drivers, SQLAlchemy
    sessions and connections): the first write is durable before the second runs;
  * two writes that each commit on their own because the library is in autocommit mode and no
    transaction is open: the Django ORM and django.db cursors (autocommit by default), asyncpg
    (autocommit outside `conn.transaction()`), SQLAlchemy 1.x `Engine.execute()`, and DB-API
    connections switched to autocommit (`autocommit=True`, `isolation_level=None`,
    `conn.autocommit = True`, `set_session(autocommit=True)`).
- Two writes count only when one can run after the other: not in exclusive branches (`if`/`else`,
  `try` body/`except`, `match` cases) and not separated by a `return`/`raise`. One write in a
  loop is one write. Two Django writes of the same row (`obj = M.objects.create()` then
  `obj.save()`, `self.save()` twice, the same `filter(pk=…)` updated twice) are not a pair:
  the row only passes through states, and no second row is left out of step.
- Covered, so not flagged: writes inside a transaction block (`transaction.atomic()`,
  `session.begin()`, `engine.begin()`, `conn.transaction()`, `with conn:` …) or a function
  decorated with one; a connection after an explicit begin (`conn.begin()`,
  `transaction.set_autocommit(False)`, `execute("BEGIN")`); Django views — and methods of view,
  serializer and form classes — when the settings found from manage.py set ATOMIC_REQUESTS;
  a function (or method) every caller in this file runs inside a transaction; tests and
  migrations, which their frameworks run in a transaction.
- One finding per function: on the commit that splits the writes, or on the second
  autocommitted write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

import libcst as cst
from libcst.metadata import Scope

from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.routes import RouteIndex
from reviewer.analysis.strings import StringEvaluator
from reviewer.analysis.writes import (
    SQL_METHODS,
    WRITE_METHODS,
    TransactionCall,
    TransactionEvent,
    Write,
    WriteFamily,
    WriteFinder,
    atomic_requests,
    autocommit_switch,
    connection_key,
    mentions_database,
    opens_in_autocommit,
    runs_in_django_request,
    transaction_block,
    transaction_call,
    transactional_by_convention,
    written_row,
)
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity

_WRITE_CALL = re.compile(rf"\.(?:{'|'.join(sorted(WRITE_METHODS))})\s*\(")
_EVENT_METHODS = frozenset({"commit", "begin", "begin_nested", "transaction", "set_autocommit"}) | SQL_METHODS
_SWITCH_METHODS = frozenset({"set_session", "autocommit", "set_autocommit", "set_isolation_level"})
_BLOCKS = (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite, cst.SimpleStatementLine)
_EXITS = (cst.Return, cst.Raise)
DJANGO = "django"

_WHY_ALONE = {
    WriteFamily.DJANGO: "Django runs every query in autocommit mode outside `transaction.atomic()`",
    WriteFamily.ASYNCPG: "asyncpg commits every statement on its own outside `conn.transaction()`",
    WriteFamily.SQLALCHEMY_ENGINE: "SQLAlchemy 1.x `Engine.execute()` commits every INSERT/UPDATE/DELETE on its own",
}
_USE_INSTEAD = {
    WriteFamily.DJANGO: "`with transaction.atomic():`",
    WriteFamily.ASYNCPG: "`async with {key}.transaction():`",
    WriteFamily.SQLALCHEMY_ENGINE: "`with engine.begin() as conn:`",
    WriteFamily.DBAPI: "an explicit transaction (`with {key}.transaction():` in psycopg 3, `with {key}:` in psycopg2)",
}


def _django_project(*, atomic_requests: bool) -> dict[str, str]:
    """The manage.py and settings module of the examples' Django project."""
    settings = {"ENGINE": "django.db.backends.postgresql", "ATOMIC_REQUESTS": atomic_requests}
    return {
        "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n',
        "proj/settings.py": f"DATABASES = {{'default': {settings!r}}}\n",
    }


@dataclass
class _FunctionWork:
    """What one function does, in source order (`order` numbers from the traversal)."""

    function: cst.FunctionDef
    writes: list[tuple[int, Write]] = field(default_factory=list)
    events: list[tuple[int, TransactionCall]] = field(default_factory=list)
    switches: list[tuple[int, str]] = field(default_factory=list)  # autocommit turned on for a key


class WritesWithoutTransaction(CstRule):
    code = "SQL003"
    name = "writes-without-transaction"
    severity = Severity.WARNING
    summary = "Two writes in one function can commit separately, so a failure leaves the first one done"
    what = """
        Flags a function with two or more database writes (INSERT/UPDATE/DELETE/MERGE SQL, Django
        `save()`/`delete()`/`objects.create()`…, SQLAlchemy `session.add()`/`delete()`/`merge()`,
        Core `insert()`/`update()`/`delete()`) that the library will certainly commit separately.
        That depends on the library. DB-API drivers (sqlite3, psycopg2, psycopg 3, PyMySQL,
        MySQLdb) and SQLAlchemy sessions and 2.0 connections open a transaction at the first
        statement and keep it until `commit()`: their writes are split only by a `commit()`
        between them, which is flagged. The Django ORM and `django.db` cursors run in autocommit
        mode, asyncpg commits every statement outside `conn.transaction()`, SQLAlchemy 1.x
        `Engine.execute()` commits every DML statement, and so does a DB-API connection opened
        with `autocommit=True`/`isolation_level=None` or switched with `conn.autocommit = True`:
        there, two writes outside a transaction are flagged. Fine: writes inside
        `transaction.atomic()` (block or decorator), `session.begin()`, `engine.begin()`,
        `conn.transaction()` or `with conn:`; writes after an explicit begin; a function (or
        method, called as `self.name()`) that every caller in the file runs inside a
        transaction; tests and migrations, which Django's TestCase, pytest-django, Django and
        Alembic run in a transaction; Django views and methods of view, serializer and form
        classes when the project's settings, found through manage.py, set `ATOMIC_REQUESTS`
        (unless the view is `@non_atomic_requests`). Writes in exclusive branches, or separated
        by a `return`, are not a pair; a write in a loop counts once; two writes of one Django
        row (`obj = Model.objects.create()` then `obj.save()`, `self.save()` in a `try` and
        again in its `finally`) are not a pair either. Not writes: `.delete()` on a file field
        (`export.file.delete()` removes a stored file, no transaction covers it), on a boto3
        object (`s3.Object(...).delete()`) or on a SQLAlchemy `session.query(...)`. SQLAlchemy 1.x
        `Connection.execute()` outside `begin()` autocommits but 2.0 does not, so it is only
        judged by its commits.
    """
    why = """
        Steps that belong together — debit and credit, an order and its lines, a row and its
        audit record — must all happen or none. When each write commits on its own, a failure
        between them (a constraint violation, a timeout, a crash, a deploy) leaves the database
        half-updated: money debited but not credited, an order without lines. Nothing rolls the
        first write back, and the inconsistency is found later, by someone else. One
        transaction around the steps makes the database undo them all when any fails.
    """
    references = (
        "https://docs.djangoproject.com/en/stable/topics/db/transactions/",
        "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html",
        "https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage",
        "https://magicstack.github.io/asyncpg/current/api/index.html#transactions",
        "https://www.psycopg.org/docs/usage.html#transactions-control",
        "https://www.psycopg.org/psycopg3/docs/basic/transactions.html",
        "https://docs.python.org/3/library/sqlite3.html#transaction-control",
        "https://peps.python.org/pep-0249/#commit",
    )
    cwe = ()
    tags = ("correctness",)
    confidence = "high"

    VALID = [
        Valid(
            """
            from django.db import transaction
            from shop.models import Order, Payment

            @transaction.atomic
            def pay(order_id, amount):
                order = Order.objects.select_for_update().get(pk=order_id)
                Payment.objects.create(order=order, amount=amount)
                order.status = "paid"
                order.save(update_fields=["status"])
            """
        ),
        Valid(
            """
            from django.shortcuts import redirect
            from django.views.decorators.http import require_POST
            from shop.models import Order, Payment

            @require_POST
            def pay(request, order_id):
                order = Order.objects.get(pk=order_id, customer=request.user)
                Payment.objects.create(order=order, amount=order.total)
                order.status = "paid"
                order.save(update_fields=["status"])
                return redirect("receipt", order_id)
            """,
            path="shop/views.py",
            files=_django_project(atomic_requests=True),
        ),
        Valid(
            """
            import psycopg2

            def transfer(conn, source, target, amount):
                try:
                    with conn.cursor() as cur:
                        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, source))
                        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, target))
                    conn.commit()
                except psycopg2.Error:
                    conn.rollback()
                    raise
            """
        ),
        Valid(
            """
            from sqlalchemy.orm import Session, sessionmaker
            from app.models import Order, OrderLine

            SessionLocal = sessionmaker()

            def place(session: Session, cart):
                order = Order(customer_id=cart.customer_id)
                session.add(order)
                session.flush()
                session.add_all([OrderLine(order_id=order.id, sku=sku) for sku in cart.skus])
                session.commit()

            def cancel(order_id):
                with SessionLocal.begin() as session:
                    session.delete(session.get(Order, order_id))
                    session.add(OrderLine(order_id=order_id, sku="refund"))
            """
        ),
        Valid(
            """
            import asyncpg

            async def register(pool, email, plan):
                async with pool.acquire() as conn:
                    async with conn.transaction():
                        user_id = await conn.fetchval("INSERT INTO users (email) VALUES ($1) RETURNING id", email)
                        await conn.execute("INSERT INTO subscriptions (user_id, plan) VALUES ($1, $2)", user_id, plan)
                    await conn.execute("SELECT pg_notify('signup', $1)", email)
            """
        ),
        Valid(
            """
            import sqlite3

            def upsert_tag(conn: sqlite3.Connection, name, existing):
                if existing:
                    conn.execute("UPDATE tags SET uses = uses + 1 WHERE name = ?", (name,))
                    conn.commit()
                    return existing
                conn.execute("INSERT INTO tags (name, uses) VALUES (?, 1)", (name,))
                conn.commit()
            """
        ),
        Valid(
            """
            from django.core.cache import cache
            from blog.forms import ArticleForm

            def publish(request, image, buffer):
                article = ArticleForm(request.POST).save(commit=False)
                article.author = request.user
                article.save()
                image.save(buffer, format="PNG")
                cache.delete("front-page")
            """
        ),
        Valid(
            """
            import psycopg2

            def archive(dsn, order_id):
                conn = psycopg2.connect(dsn)
                conn.autocommit = True
                with conn:
                    with conn.cursor() as cur:
                        cur.execute("INSERT INTO archived_orders SELECT * FROM orders WHERE id = %s", (order_id,))
                        cur.execute("DELETE FROM orders WHERE id = %s", (order_id,))
            """
        ),
        Valid(
            """
            from django.db import transaction
            from shop.models import Stock, Reservation

            def _reserve(item, quantity):
                Stock.objects.filter(item=item).update(reserved=quantity)
                Reservation.objects.create(item=item, quantity=quantity)

            def checkout(cart):
                with transaction.atomic():
                    for line in cart.lines:
                        _reserve(line.item, line.quantity)
            """
        ),
        Valid(
            """
            from sqlalchemy import create_engine, insert, update
            from app.tables import accounts, ledger

            engine = create_engine("postgresql+psycopg://app@db/app")

            def credit(account_id, amount):
                with engine.begin() as conn:
                    conn.execute(update(accounts).where(accounts.c.id == account_id).values(balance=accounts.c.balance + amount))
                    conn.execute(insert(ledger).values(account_id=account_id, amount=amount))
            """
        ),
        Valid(
            """
            import sqlite3

            def rebuild(path, rows):
                conn = sqlite3.connect(path, isolation_level=None)
                conn.execute("BEGIN")
                conn.execute("DELETE FROM totals")
                conn.executemany("INSERT INTO totals (day, amount) VALUES (?, ?)", rows)
                conn.execute("COMMIT")
            """
        ),
        Valid(
            """
            from django.test import TestCase
            from shop.models import Order, Payment

            class PaymentTests(TestCase):
                def test_paid_order_has_payment(self):
                    order = Order.objects.create(total=10)
                    Payment.objects.create(order=order, amount=10)
                    order.status = "paid"
                    order.save()
            """,
            path="shop/tests/test_payments.py",
        ),
        Valid(
            """
            from django.db import models
            from django.utils import timezone
            from exports.models import ImportJob, Task

            def queue_import(project, files):
                job, created = ImportJob.objects.get_or_create(project=project, defaults={"status": "queued"})
                if not created:
                    job.status = "queued"
                job.files = [f.name for f in files]
                job.save(update_fields=["status", "files"])

            def refresh_counters(task):
                Task.objects.filter(id=task.id).update(total=task.annotations.count())
                Task.objects.filter(id=task.id).update(is_labeled=task.annotations.exists())

            class Export(models.Model):
                def run(self, build):
                    try:
                        self.file = build()
                        self.status = "completed"
                        self.save(update_fields=["file", "status"])
                    except Exception:
                        self.status = "failed"
                        self.save(update_fields=["status"])
                        raise
                    finally:
                        self.finished_at = timezone.now()
                        self.save(update_fields=["finished_at"])
            """
        ),
        Valid(
            """
            from django.db import models
            from exports.models import ConvertedFormat, ExportLink

            class Export(models.Model):
                file = models.FileField(upload_to="exports")

                def delete(self, *args, **kwargs):
                    if self.file:
                        self.file.delete()
                    super().delete(*args, **kwargs)

                def remove_files(self):
                    self.file.delete()
                    for converted in ConvertedFormat.objects.filter(export=self):
                        converted.file.delete()

                def unpublish(self, key):
                    client, s3 = self.storage.client_and_resource()
                    s3.Object(self.storage.bucket, key).delete()
                    ExportLink.objects.filter(export=self, key=key).delete()
            """
        ),
        Valid(
            """
            from app.extensions import db
            from app.models.core import Dashboard, Database, Log

            def factory_reset(user):
                db.session.query(Dashboard).delete()
                db.session.query(Database).delete()
                db.session.add(Log(action="factory reset", user_id=user.id))
                db.session.commit()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import transaction
            from shop.models import Order, Payment

            def pay(order_id, amount):
                order = Order.objects.select_for_update().get(pk=order_id)
                Payment.objects.create(order=order, amount=amount)
                order.status = "paid"
                order.save(update_fields=["status"])
            """,
            line=9,
        ),
        Invalid(
            """
            import psycopg2

            def transfer(conn, source, target, amount):
                with conn.cursor() as cur:
                    cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, source))
                    conn.commit()
                    cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, target))
                conn.commit()
            """,
            line=7,
        ),
        Invalid(
            """
            from sqlalchemy.orm import Session
            from app.models import Order, OrderLine

            def place(session: Session, cart):
                order = Order(customer_id=cart.customer_id)
                session.add(order)
                session.commit()
                session.add_all([OrderLine(order_id=order.id, sku=sku) for sku in cart.skus])
                session.commit()
            """,
            line=8,
        ),
        Invalid(
            """
            import asyncpg

            async def register(pool, email, plan):
                async with pool.acquire() as conn:
                    user_id = await conn.fetchval("INSERT INTO users (email) VALUES ($1) RETURNING id", email)
                    await conn.execute("INSERT INTO subscriptions (user_id, plan) VALUES ($1, $2)", user_id, plan)
            """,
            line=7,
        ),
        Invalid(
            """
            import sqlite3

            def archive(path, order_id):
                conn = sqlite3.connect(path, isolation_level=None)
                conn.execute("INSERT INTO archived_orders SELECT * FROM orders WHERE id = ?", (order_id,))
                conn.execute("DELETE FROM orders WHERE id = ?", (order_id,))
            """,
            line=7,
        ),
        Invalid(
            """
            import psycopg2

            def archive(dsn, order_id):
                conn = psycopg2.connect(dsn)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO archived_orders SELECT * FROM orders WHERE id = %s", (order_id,))
                    cur.execute("DELETE FROM orders WHERE id = %s", (order_id,))
            """,
            line=9,
        ),
        Invalid(
            """
            from sqlalchemy import create_engine, text

            engine = create_engine("mysql://app@db/app")

            def rename(old, new):
                engine.execute(text("UPDATE users SET name = :new WHERE name = :old"), new=new, old=old)
                engine.execute(text("INSERT INTO audit (event) VALUES ('rename')"))
            """,
            line=8,
        ),
        Invalid(
            """
            from django.shortcuts import redirect
            from django.db import transaction
            from shop.models import Order, Payment

            @transaction.non_atomic_requests
            def pay(request, order_id):
                order = Order.objects.get(pk=order_id, customer=request.user)
                Payment.objects.create(order=order, amount=order.total)
                order.status = "paid"
                order.save(update_fields=["status"])
                return redirect("receipt", order_id)
            """,
            line=11,
            path="shop/views.py",
            files=_django_project(atomic_requests=True),
        ),
        Invalid(
            """
            from shop.models import Order, Payment

            def pay(request, order_id):
                order = Order.objects.get(pk=order_id, customer=request.user)
                Payment.objects.create(order=order, amount=order.total)
                Order.objects.filter(pk=order_id).update(status="paid")
            """,
            line=7,
            path="shop/views.py",
            files=_django_project(atomic_requests=False),
        ),
        Invalid(
            """
            from django.db import connection

            def purge(user_id):
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM sessions WHERE user_id = %s", [user_id])
                    cursor.execute("UPDATE users SET active = false WHERE id = %s", [user_id])
            """,
            line=7,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        if not mentions_database(source):
            return False
        matches = _WRITE_CALL.finditer(source)
        return next(matches, None) is not None and next(matches, None) is not None

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.strings = StringEvaluator(self.facts)
        self.finder = WriteFinder(self.facts, self.strings)
        self.stack: list[_FunctionWork] = []
        self.finished: list[_FunctionWork] = []
        self.module_switches: set[str] = set()
        self.order = 0
        self.lambdas = 0
        self.exempt = transactional_by_convention(self.context.path)

    @cached_property
    def routes(self) -> RouteIndex:
        return RouteIndex.for_rule(self)

    @cached_property
    def atomic_requests(self) -> bool:
        return atomic_requests(self.context.path, self.context.read_repo_file)

    # -- collecting, in one pass -------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(_FunctionWork(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        work = self.stack.pop()
        if len(work.writes) >= 2:
            self.finished.append(work)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1  # deferred code, e.g. transaction.on_commit(lambda: ...)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambdas -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        self.order += 1
        self._note_switch(autocommit_switch(node))

    def visit_Call(self, node: cst.Call) -> None:
        if self.exempt or self.lambdas or not isinstance(node.func, cst.Attribute):
            return
        self.order += 1
        method = node.func.attr.value
        work = self.stack[-1] if self.stack else None
        if work is not None and method in WRITE_METHODS:
            write = self.finder.write(node)
            if write is not None:
                work.writes.append((self.order, write))
                return
        if work is not None and method in _EVENT_METHODS:
            event = transaction_call(node, self.facts, self.strings)
            if event is not None:
                work.events.append((self.order, event))
                return
        if method in _SWITCH_METHODS:
            self._note_switch(autocommit_switch(node))

    def _note_switch(self, connection: cst.BaseExpression | None) -> None:
        key = connection_key(connection)
        if key is None:
            return
        if self.stack:
            self.stack[-1].switches.append((self.order, key))
        else:
            self.module_switches.add(key)

    def leave_Module(self, original_node: cst.Module) -> None:
        for work in self.finished:
            self._check(work)

    # -- judging one function ----------------------------------------------------------------

    def _check(self, work: _FunctionWork) -> None:
        split = self._commit_between(work)
        if split is not None:
            first, commit, second = split
            flush = (
                " (`flush()` gives generated ids without committing)"
                if first.family is WriteFamily.SQLALCHEMY_SESSION
                else ""
            )
            self.report(
                commit.call,
                f"`{commit.api}` commits `{first.api}` (line {self.facts.line(first.call)}) before "
                f"`{second.api}` (line {self.facts.line(second.call)}) runs, so the two writes are not atomic: "
                f"if the later one fails, the earlier one stays; commit once after the last write{flush}",
            )
            return
        pair = self._autocommitted_pair(work)
        if pair is not None:
            first, second, reason = pair
            advice = _USE_INSTEAD.get(second.family, _USE_INSTEAD[WriteFamily.DBAPI]).format(key=second.connection_key)
            if second.family is WriteFamily.ASYNCPG and (second.connection_key or "").endswith("pool"):
                advice = f"`async with {second.connection_key}.acquire() as conn, conn.transaction():`"
            self.report(
                second.call,
                f"`{second.api}` and `{first.api}` (line {self.facts.line(first.call)}) commit separately — {reason} — "
                f"so if this write fails the earlier one stays; run both in {advice}",
            )

    def _commit_between(self, work: _FunctionWork) -> tuple[Write, TransactionCall, Write] | None:
        function = work.function
        for commit_order, event in work.events:
            key = event.connection_key
            if event.event is not TransactionEvent.COMMIT or key in (None, DJANGO):
                continue
            before = [w for order, w in work.writes if order < commit_order and w.connection_key == key]
            after = [w for order, w in work.writes if order > commit_order and w.connection_key == key]
            for first in reversed(before):
                if not self._runs_before(first.call, event.call, function):
                    continue
                for second in after:
                    if self._runs_before(event.call, second.call, function) and self._runs_before(
                        first.call, second.call, function
                    ):
                        return first, event, second
        return None

    def _autocommitted_pair(self, work: _FunctionWork) -> tuple[Write, Write, str] | None:
        function = work.function
        if any(transaction_block(d.decorator, self.facts) for d in function.decorators):
            return None
        begun = {
            event.connection_key
            for _, event in work.events
            if event.event is TransactionEvent.BEGIN and not self._in_with_item(event.call)
        }
        groups: dict[str, list[tuple[Write, str]]] = {}
        for order, write in work.writes:
            key = DJANGO if write.family is WriteFamily.DJANGO else write.connection_key
            if key is None or key in begun:
                continue
            reason = self._commits_alone(write, order, work)
            if reason is not None and not self._in_transaction_block(write.call, function):
                groups.setdefault(key, []).append((write, reason))
        for key, writes in groups.items():
            pair = self._first_sequential_pair(writes, function)
            if pair is None or (key == DJANGO and self._django_request_is_atomic(function)):
                continue
            if self._callers_all_transactional(function):
                return None
            return pair
        return None

    def _commits_alone(self, write: Write, order: int, work: _FunctionWork) -> str | None:
        if write.family in _WHY_ALONE:
            return _WHY_ALONE[write.family]
        if write.family is not WriteFamily.DBAPI or write.connection_key is None:
            return None
        key = write.connection_key
        switched = key in self.module_switches or any(k == key and o < order for o, k in work.switches)
        if switched or opens_in_autocommit(write.connection, self.facts):
            return f"`{key}` is in autocommit mode"
        return None

    def _first_sequential_pair(
        self, writes: list[tuple[Write, str]], function: cst.FunctionDef
    ) -> tuple[Write, Write, str] | None:
        rows = {id(write): written_row(write, self.facts) for write, _ in writes}
        for index, (second, reason) in enumerate(writes):
            for first, _ in writes[:index]:
                same_row = rows[id(first)] is not None and rows[id(first)] == rows[id(second)]
                if not same_row and self._runs_before(first.call, second.call, function):
                    return first, second, reason
        return None

    def _django_request_is_atomic(self, function: cst.FunctionDef) -> bool:
        return runs_in_django_request(function, self.routes, self.facts) and self.atomic_requests

    # -- where a call stands ------------------------------------------------------------------

    def _ancestors(self, node: cst.CSTNode, stop: cst.CSTNode) -> list[cst.CSTNode]:
        chain = [node]
        while chain[-1] is not stop:
            parent = self.facts.parent(chain[-1])
            if parent is None:
                break
            chain.append(parent)
        return chain

    def _in_transaction_block(self, node: cst.CSTNode, stop: cst.CSTNode) -> bool:
        chain = self._ancestors(node, stop)
        return any(
            isinstance(parent, cst.With)
            and child is parent.body
            and any(transaction_block(item.item, self.facts) for item in parent.items)
            for child, parent in pairwise(chain)
        )

    def _in_with_item(self, call: cst.Call) -> bool:
        parent = self.facts.parent(call)
        if isinstance(parent, cst.Await):
            parent = self.facts.parent(parent)
        return isinstance(parent, cst.WithItem)

    def _runs_before(self, first: cst.CSTNode, second: cst.CSTNode, function: cst.FunctionDef) -> bool:
        """`second` (later in the source) can run after `first` on one path through `function`:
        not in exclusive branches, and no `return`/`raise` after `first` stops the path."""
        first_chain = self._ancestors(first, function)
        second_chain = self._ancestors(second, function)
        second_ids = {id(node): index for index, node in enumerate(second_chain)}
        index = next((i for i, node in enumerate(first_chain) if id(node) in second_ids), None)
        if index is None:
            return False
        common = first_chain[index]
        first_child = first_chain[index - 1] if index else None
        second_child = second_chain[second_ids[id(common)] - 1] if second_ids[id(common)] else None
        if first_child is None or second_child is None:
            return True
        if _exclusive(common, first_child, second_child):
            return False
        if any(isinstance(node, _EXITS) for node in first_chain[:index]):
            return False
        for child, parent in pairwise(first_chain[: index + 1]):
            if isinstance(parent, _BLOCKS) and _exit_follows(parent, child, second_child if parent is common else None):
                return False
        return True

    def _callers_all_transactional(self, function: cst.FunctionDef) -> bool:
        """Every call of the function in this file sits in a transaction (a helper of an atomic
        block): uses of its name, or for a method, `self.name(...)`/`cls.name(...)` in its class."""
        owner = self.facts.parent(self.facts.parent(function) or function)
        if isinstance(owner, cst.ClassDef):
            calls = _SelfCalls(function.name.value)
            owner.visit(calls)
            uses: list[cst.CSTNode] = calls.found
        else:
            scope = self.facts.scope(function)
            if not isinstance(scope, Scope):
                return False
            uses = [
                access.node
                for assignment in scope.assignments[function.name.value]
                if getattr(assignment, "node", None) is function
                for access in assignment.references
            ]
        return bool(uses) and all(self._in_transaction(use) for use in uses)

    def _in_transaction(self, node: cst.CSTNode) -> bool:
        chain = self._ancestors(node, self.module)
        caller = next((n for n in chain if isinstance(n, cst.FunctionDef)), None)
        if caller is None:
            return False
        if self._in_transaction_block(node, caller):
            return True
        if any(transaction_block(d.decorator, self.facts) for d in caller.decorators):
            return True
        return self._django_request_is_atomic(caller)


class _SelfCalls(cst.CSTVisitor):
    """`self.name(...)` and `cls.name(...)` calls in a class body."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == self.name
            and isinstance(func.value, cst.Name)
            and func.value.value in ("self", "cls")
        ):
            self.found.append(node)


def _exclusive(common: cst.CSTNode, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """Two children of `common` that never both run: if/else, try body/handler, match cases."""
    if isinstance(common, (cst.If, cst.IfExp)):
        branches = (common.body, common.orelse)
        return first in branches and second in branches and first is not second
    if isinstance(common, (cst.Try, cst.TryStar)):
        parts = {id(common.body): "body", id(common.orelse): "else", id(common.finalbody): "finally"}
        kinds = {parts.get(id(first), "handler"), parts.get(id(second), "handler")}
        handler_involved = "handler" in kinds and first is not second
        return handler_involved and "finally" not in kinds
    if isinstance(common, cst.Match):
        return first is not second and first in common.cases and second in common.cases
    return False


def _exit_follows(block: cst.CSTNode, child: cst.CSTNode, stop: cst.CSTNode | None) -> bool:
    """A `return`/`raise` statement after `child` in `block` (before `stop`, when given)."""
    statements = list(block.body)
    start = next((i for i, statement in enumerate(statements) if statement is child), None)
    if start is None:
        return False
    for statement in statements[start + 1 :]:
        if statement is stop:
            return False
        if isinstance(statement, _EXITS):
            return True
        if isinstance(statement, cst.SimpleStatementLine) and any(
            isinstance(small, _EXITS) for small in statement.body
        ):
            return True
    return False
