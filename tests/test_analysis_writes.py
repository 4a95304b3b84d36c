"""Database writes and transaction boundaries (reviewer.analysis.writes), tested on real libcst
trees: each test parses a small module, picks a node by its source text and asks one helper one
question. A few tests at the end run the rules that build on them, for what their examples
cannot show (severity, a finding that disappears with a settings file)."""

from __future__ import annotations

import textwrap
from pathlib import PurePosixPath

import libcst as cst
import pytest

from reviewer.analysis.dialect import django_settings_texts
from reviewer.analysis.routes import ROUTE_METADATA, RouteIndex
from reviewer.analysis.strings import StringEvaluator
from reviewer.analysis.writes import (
    TransactionEvent,
    WriteFamily,
    WriteFinder,
    atomic_requests,
    autocommit_switch,
    connection_key,
    connection_of,
    is_database_object,
    is_module_level,
    is_sqlalchemy_engine,
    is_sqlalchemy_session,
    mentions_database,
    opens_in_autocommit,
    runs_in_django_request,
    sql_write_verb,
    transaction_block,
    transaction_call,
    transactional_by_convention,
    written_row,
)
from reviewer.catalog import builtin_pack_dir, load_cst_rule_classes
from reviewer.engines.cst_engine import analyze_source
from reviewer.finding import Severity

from parsed_module import ParsedModule


class Parsed(ParsedModule):
    """A parsed module with its writes, and ways to find nodes by their source text."""

    def __init__(self, source: str, path: str = "app/services.py") -> None:
        super().__init__(source, path)
        self.finder = WriteFinder(self.facts)

    def call(self, text: str) -> cst.Call:
        """The call whose source starts with `text` (its callee and maybe its arguments)."""
        return next(n for n in self.nodes if isinstance(n, cst.Call) and self.code(n).startswith(text))

    def node(self, text: str, kind: type = cst.BaseExpression) -> cst.CSTNode:
        return next(n for n in self.nodes if isinstance(n, kind) and self.code(n) == text)

    def function(self, name: str) -> cst.FunctionDef:
        return next(n for n in self.nodes if isinstance(n, cst.FunctionDef) and n.name.value == name)

    def write(self, text: str):
        return self.finder.write(self.call(text))


# -- SQL writes --------------------------------------------------------------------------------


def test_dbapi_writes_know_their_verb_family_and_connection() -> None:
    parsed = Parsed(
        """
        from sqlite3 import connect as c
        import psycopg2

        def save(path, dsn, name):
            db = c(path)
            db.execute("INSERT INTO people (name) VALUES (?)", (name,))
            db.execute("SELECT * FROM people")
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("WITH gone AS (SELECT id FROM people) DELETE FROM people WHERE id IN (SELECT id FROM gone)")
            cur.executemany("UPDATE people SET name = %s WHERE id = %s", [(name, 1)])
        """
    )
    insert = parsed.write('db.execute("INSERT')
    assert (insert.family, insert.api, insert.connection_key) == (WriteFamily.DBAPI, "db.execute(INSERT …)", "db")
    assert parsed.write('db.execute("SELECT') is None
    cte = parsed.write('cur.execute("WITH')
    assert (cte.api, cte.connection_key) == ("cur.execute(DELETE …)", "conn")  # the cursor's connection
    assert parsed.write("cur.executemany").api == "cur.executemany(UPDATE …)"


def test_unknown_receivers_need_text_that_reads_as_a_write() -> None:
    parsed = Parsed(
        """
        def run(executor, store, job):
            executor.execute("insert the job into the queue")
            store.execute("INSERT INTO jobs (name) VALUES (%s)", (job,))
        """
    )
    assert parsed.write("executor.execute") is None
    write = parsed.write("store.execute")
    assert (write.family, write.connection_key) == (WriteFamily.DBAPI, "store")


def test_sql_write_verb_reads_the_statement_and_scripts() -> None:
    assert sql_write_verb("  -- audit\n/* x */ insert into t values (1)") == "INSERT"
    assert sql_write_verb("REPLACE INTO t VALUES (1)") == "REPLACE"
    assert sql_write_verb("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE") == "MERGE"
    assert sql_write_verb("WITH x AS (SELECT 1) SELECT * FROM x") is None
    assert sql_write_verb("WITH x AS (SELECT 1) UPDATE t SET a = 1") == "UPDATE"
    assert sql_write_verb("SELECT 1; DELETE FROM t") is None
    assert sql_write_verb("CREATE TABLE t (a int); DELETE FROM t", script=True) == "DELETE"


def test_sqlalchemy_statements_text_and_core_constructs() -> None:
    parsed = Parsed(
        """
        from sqlalchemy import create_engine, delete, insert, select, text
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.orm import Session

        engine = create_engine("postgresql://db/app")

        def work(session: Session, users, accounts, user_id):
            session.execute(text("UPDATE users SET seen = now() WHERE id = :id"), {"id": user_id})
            session.execute(select(users).where(users.c.id == user_id))
            stmt = delete(users).where(users.c.id == user_id)
            session.execute(stmt)
            session.execute(pg_insert(users).values(id=user_id).on_conflict_do_nothing())
            with engine.connect() as conn:
                conn.execute(accounts.update().values(active=False))
            engine.execute(insert(accounts).values(id=user_id))
        """
    )
    assert parsed.write('session.execute(text("UPDATE').api == "session.execute(UPDATE …)"
    assert parsed.write("session.execute(select") is None
    assert parsed.write("session.execute(stmt)").api == "session.execute(DELETE …)"
    assert parsed.write("session.execute(pg_insert").family is WriteFamily.SQLALCHEMY_SESSION
    update = parsed.write("conn.execute(accounts.update()")
    assert (update.api, update.family) == ("conn.execute(UPDATE …)", WriteFamily.SQLALCHEMY_CONNECTION)
    assert parsed.write("engine.execute").family is WriteFamily.SQLALCHEMY_ENGINE


def test_asyncpg_and_django_cursor_families() -> None:
    asyncpg = Parsed(
        """
        import asyncpg

        async def signup(pool, email):
            async with pool.acquire() as conn:
                await conn.fetchval("INSERT INTO users (email) VALUES ($1) RETURNING id", email)
        """
    )
    django = Parsed(
        """
        from django.db import connection

        def purge(user_id):
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM sessions WHERE user_id = %s", [user_id])
        """
    )
    assert asyncpg.write("conn.fetchval").family is WriteFamily.ASYNCPG
    assert django.write("cursor.execute").family is WriteFamily.DJANGO


# -- ORM writes --------------------------------------------------------------------------------


def test_django_model_and_manager_writes() -> None:
    parsed = Parsed(
        """
        import boto3
        from shop.models import Order, User
        from shop.forms import OrderForm

        def place(request, order, image, buffer, upload):
            draft = OrderForm(request.POST).save(commit=False)
            draft.save()
            order.delete()
            order.invoice.delete(save=False)
            image.save(buffer, format="PNG")
            pending = Order.objects.filter(status="new")
            pending.update(status="seen")
            Order.objects.bulk_create([order])
            Order._default_manager.get_or_create(ref=order.ref)
            User.objects.create_user(email=request.POST["email"])
            boto3.resource("s3").Object("bucket", upload).delete()
        """
    )
    assert parsed.write("OrderForm(request.POST).save") is None
    assert parsed.write("draft.save").api == "draft.save()"
    assert parsed.write("order.delete").family is WriteFamily.DJANGO
    assert parsed.write("order.invoice.delete") is None
    assert parsed.write("image.save") is None
    assert parsed.write("pending.update").api == "pending.update()"
    assert parsed.write("Order.objects.bulk_create").connection_key is None
    assert parsed.write("Order._default_manager.get_or_create") is not None
    assert parsed.write("User.objects.create_user").api == "User.objects.create_user()"
    assert parsed.write('boto3.resource("s3")') is None


def test_file_fields_library_objects_and_sqlalchemy_queries_are_not_django_writes() -> None:
    parsed = Parsed(
        """
        from app.extensions import db
        from shop import models
        from shop.models import Export, Order

        def clean(export, storage, key, pk):
            export.file.delete()
            export.report_image.delete()
            export.owner.delete()
            client, s3 = storage.client_and_resource()
            s3.Object(storage.bucket, key).delete()
            models.Order(pk=pk).delete()
            db.session.query(Order).filter(Order.id == pk).delete()
            Order.objects.filter(pk=pk).delete()
        """
    )
    assert parsed.write("export.file.delete") is None
    assert parsed.write("export.report_image.delete") is None
    assert parsed.write("export.owner.delete").family is WriteFamily.DJANGO  # a related object: a row
    assert parsed.write("s3.Object(storage.bucket, key).delete") is None
    assert parsed.write("models.Order(pk=pk).delete").family is WriteFamily.DJANGO
    assert parsed.write("db.session.query(Order)") is None  # SQLAlchemy, and `db` is not known here
    assert parsed.write("Order.objects.filter(pk=pk).delete").api == "Order.objects.filter(…).delete()"


def test_written_row_names_the_row_a_django_write_changes() -> None:
    parsed = Parsed(
        """
        from django.db import models
        from shop.models import Job, Order, Task
        from shop.forms import UserForm

        class Report(models.Model):
            def run(self, request, task, orders):
                job, created = Job.objects.get_or_create(name="sync")
                job.save()
                user = UserForm(request.POST).save()
                user.save(update_fields=["username"])
                super().save()
                self.save()
                self.owner.save()
                Task.objects.filter(id=task.id).update(total=1)
                Order.objects.create(total=1)
                Order.objects.bulk_create(orders)
                Order.objects.update(seen=True)
        """
    )

    def row(text: str) -> str | None:
        return written_row(parsed.write(text), parsed.facts)

    assert row("Job.objects.get_or_create") == "job" == row("job.save")
    assert row("UserForm(request.POST).save") == "user" == row("user.save")
    assert row("super().save") == "self" == row("self.save")
    assert row("self.owner.save") == "self.owner"
    assert row("Task.objects.filter(id=task.id).update") == "Task.objects.filter(id=task.id)"
    assert row("Order.objects.create") is None  # a new row nobody keeps
    assert row("Order.objects.bulk_create") is None
    assert row("Order.objects.update") is None


def test_save_outside_a_django_module_is_not_a_write() -> None:
    parsed = Parsed(
        """
        from mongoengine import connect
        from app.models import Report
        from sqlalchemy.orm import Session

        def store(report, other):
            report.save()
            Report.objects.create(name="x")
        """
    )
    assert parsed.write("report.save") is None
    assert parsed.write("Report.objects.create") is None


def test_sqlalchemy_session_writes_and_lookalikes() -> None:
    parsed = Parsed(
        """
        import requests
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy.orm import sessionmaker

        db = SQLAlchemy()
        SessionLocal = sessionmaker()

        def sync(user, seen, url, User):
            session = SessionLocal()
            session.add(user)
            session.merge(user)
            db.session.delete(user)
            session.query(User).filter(User.id == 1).update({"name": "x"})
            seen.add(user)
            http = requests.Session()
            http.delete(url)
        """
    )
    add = parsed.write("session.add")
    assert (add.family, add.api, add.connection_key) == (WriteFamily.SQLALCHEMY_SESSION, "session.add()", "session")
    assert parsed.write("session.merge") is not None
    assert parsed.write("db.session.delete").connection_key == "db.session"
    assert parsed.write("session.query(User)").connection_key == "session"
    assert parsed.write("seen.add") is None
    assert parsed.write("http.delete") is None


def test_what_objects_are() -> None:
    parsed = Parsed(
        """
        import requests
        import sqlite3
        from sqlalchemy import create_engine
        from sqlalchemy.engine import Engine
        from sqlalchemy.ext.asyncio import AsyncSession

        engine = create_engine("sqlite://")
        shared = sqlite3.connect("app.db")

        async def work(session: AsyncSession, other: Engine, conn, lock, db_session):
            local = sqlite3.connect("x")
            tr = conn.transaction()
            client = requests.Session()
            session, other, engine, conn, lock, tr, client, local, shared, db_session
        """
    )

    def name(text: str) -> cst.Name:
        return [n for n in parsed.nodes if isinstance(n, cst.Name) and n.value == text][-1]

    facts = parsed.facts
    assert is_sqlalchemy_session(name("session"), facts) and not is_sqlalchemy_session(name("client"), facts)
    assert is_sqlalchemy_session(name("db_session"), facts)  # named like one where SQLAlchemy is imported
    assert is_sqlalchemy_engine(name("engine"), facts) and is_sqlalchemy_engine(name("other"), facts)
    assert not is_sqlalchemy_engine(name("session"), facts)
    assert is_database_object(name("conn"), facts) and is_database_object(name("tr"), facts)
    assert not is_database_object(name("lock"), facts) and not is_database_object(name("client"), facts)
    assert is_module_level(name("shared"), facts) and not is_module_level(name("local"), facts)


def test_connection_of_follows_cursors_to_their_connection() -> None:
    parsed = Parsed(
        """
        import psycopg2

        def work(dsn):
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            with conn.cursor() as named:
                named.connection.commit()
            cur.execute("SELECT 1")
        """
    )
    facts = parsed.facts
    assert connection_key(connection_of(parsed.call("cur.execute").func.value, facts)) == "conn"
    assert connection_key(connection_of(parsed.node("named.connection", cst.Attribute), facts)) == "conn"
    assert connection_key(parsed.call("psycopg2.connect")) is None


# -- transactions ------------------------------------------------------------------------------


def test_transaction_blocks_from_with_items_and_decorators() -> None:
    parsed = Parsed(
        """
        import sqlite3
        import threading
        import psycopg2
        import pymysql
        from django.db.transaction import atomic as atom, non_atomic_requests

        lock = threading.Lock()

        def work(path, session, engine, conn: sqlite3.Connection, db, SessionLocal, dsn):
            with atom(using="default"): ...
            with session.begin(): ...
            with engine.begin() as connection: ...
            with SessionLocal.begin() as s: ...
            with session.begin_nested(): ...
            with conn: ...
            with lock: ...
            with conn.cursor() as cur: ...
            with psycopg2.connect(dsn) as pg: ...
            with pymysql.connect(host="h") as my: ...
        """
    )

    def block(text: str):
        item = next(n for n in parsed.nodes if isinstance(n, cst.WithItem) and parsed.code(n.item) == text)
        return transaction_block(item.item, parsed.facts)

    assert block('atom(using="default")') == "atom()"
    assert block("session.begin()") == "session.begin()"
    assert block("engine.begin()") == "engine.begin()"
    assert block("SessionLocal.begin()") == "SessionLocal.begin()"
    assert block("session.begin_nested()") == "session.begin_nested()"
    assert block("conn") == "with conn"
    assert block("lock") is None
    assert block("conn.cursor()") is None
    assert block("psycopg2.connect(dsn)") == "with psycopg2.connect()"
    assert block('pymysql.connect(host="h")') is None  # PyMySQL's with closes; it does not commit

    decorators = Parsed(
        """
        from django.db import transaction

        @transaction.atomic
        def a(): ...

        @transaction.non_atomic_requests
        def b(): ...

        @transactional
        def c(): ...
        """
    )
    found = [
        transaction_block(d.decorator, decorators.facts) for name in "abc" for d in decorators.function(name).decorators
    ]
    assert found == ["transaction.atomic", None, "transactional"]


def test_transaction_calls_commit_rollback_and_begin() -> None:
    parsed = Parsed(
        """
        import sqlite3
        from django.db import transaction

        def work(conn, cur, repo, thread, trans_source):
            cur.connection.commit()
            conn.rollback()
            transaction.commit()
            transaction.set_rollback(True)
            transaction.set_autocommit(False)
            trans = trans_source.begin()
            conn.execute("BEGIN")
            conn.execute("START TRANSACTION;")
            conn.execute("COMMIT")
            conn.execute("START the engine")
            repo.index.commit("message")
            thread.start()
        """
    )
    facts, strings = parsed.facts, StringEvaluator(parsed.facts)

    def event(text: str):
        found = transaction_call(parsed.call(text), facts, strings)
        return None if found is None else (found.event, found.connection_key, found.api)

    assert event("cur.connection.commit") == (TransactionEvent.COMMIT, "cur", "cur.connection.commit()")
    assert event("conn.rollback") == (TransactionEvent.ROLLBACK, "conn", "conn.rollback()")
    assert event("transaction.commit") == (TransactionEvent.COMMIT, "django", "transaction.commit()")
    assert event("transaction.set_rollback")[:2] == (TransactionEvent.ROLLBACK, "django")
    assert event("transaction.set_autocommit")[:2] == (TransactionEvent.BEGIN, "django")
    assert event("trans_source.begin")[:2] == (TransactionEvent.BEGIN, "trans_source")
    assert event('conn.execute("BEGIN")')[:2] == (TransactionEvent.BEGIN, "conn")
    assert event('conn.execute("START TRANSACTION;")')[:2] == (TransactionEvent.BEGIN, "conn")
    assert event('conn.execute("COMMIT")')[:2] == (TransactionEvent.COMMIT, "conn")
    assert event('conn.execute("START the engine")') is None
    assert event("repo.index.commit") is None
    assert event("thread.start") is None


def test_autocommit_switches_and_connections_opened_in_autocommit() -> None:
    parsed = Parsed(
        """
        import sqlite3
        import psycopg
        from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT

        def work(a, b, c, d, e, f, path, dsn):
            a.autocommit = True
            b.isolation_level = None
            c.set_session(autocommit=True)
            d.autocommit(True)
            e.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
            f.autocommit = False
            lite = sqlite3.connect(path, isolation_level=None)
            pg = psycopg.connect(dsn, autocommit=True)
            plain = sqlite3.connect(path)
            lite, pg, plain
        """
    )
    switched = [
        parsed.code(target)
        for node in parsed.nodes
        if isinstance(node, (cst.Assign, cst.Call)) and (target := autocommit_switch(node)) is not None
    ]
    assert switched == ["a", "b", "c", "d", "e"]
    names = {n.value: n for n in parsed.nodes if isinstance(n, cst.Name)}  # the last use of each name
    assert opens_in_autocommit(names["lite"], parsed.facts) and opens_in_autocommit(names["pg"], parsed.facts)
    assert not opens_in_autocommit(names["plain"], parsed.facts)


# -- Django requests and settings --------------------------------------------------------------


MANAGE = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"manage.py": MANAGE, "proj/settings.py": 'DATABASES = {"default": {"ATOMIC_REQUESTS": True}}'}, True),
        ({"manage.py": MANAGE, "proj/settings.py": 'DATABASES = {"default": {"ATOMIC_REQUESTS": False}}'}, False),
        (
            {"manage.py": MANAGE, "proj/settings.py": 'DATABASES["default"]["ATOMIC_REQUESTS"] = env.bool("ATOMIC")'},
            True,
        ),
        (
            {
                "manage.py": MANAGE,
                "proj/settings/__init__.py": "from .base import *",
                "proj/settings/base.py": "DATABASES = {'default': dict(ATOMIC_REQUESTS=True)}",
            },
            True,
        ),
        ({"manage.py": MANAGE, "proj/settings.py": "DATABASES = {}"}, False),
        ({"proj/settings.py": 'DATABASES = {"default": {"ATOMIC_REQUESTS": True}}'}, False),  # no manage.py names it
    ],
)
def test_atomic_requests_is_read_from_the_settings_manage_py_names(files: dict[str, str], expected: bool) -> None:
    assert atomic_requests("shop/views.py", files.get) is expected


def test_the_nearest_manage_py_decides_and_settings_texts_are_shared_with_dialect() -> None:
    files = {
        "manage.py": MANAGE,
        "proj/settings.py": 'DATABASES = {"default": {"ATOMIC_REQUESTS": True}}',
        "services/billing/manage.py": MANAGE.replace("proj.settings", "billing.settings"),
        "services/billing/billing/settings.py": "DATABASES = {'default': {}}",
    }
    assert atomic_requests("services/billing/invoices/views.py", files.get) is False
    assert atomic_requests("shop/views.py", files.get) is True
    assert django_settings_texts(PurePosixPath("services/billing"), files.get) == ["DATABASES = {'default': {}}"]
    assert django_settings_texts(PurePosixPath("shop"), files.get) == []


def test_code_that_runs_inside_a_django_request() -> None:
    parsed = Parsed(
        """
        from django.db import transaction
        from django.views.generic import CreateView
        from rest_framework import serializers
        from flask import Flask

        app = Flask(__name__)

        def checkout(request):
            ...

        @transaction.non_atomic_requests
        def export(request):
            ...

        def _helper(request):
            ...

        class OrderCreate(CreateView):
            def form_valid(self, form):
                ...

        class OrderSerializer(serializers.ModelSerializer):
            def create(self, validated_data):
                ...

        class BulkOrderCreate(OrderCreate):
            def form_invalid(self, form):
                ...

        @app.post("/orders")
        def flask_orders():
            ...
        """,
        path="shop/views.py",
    )

    resolved = parsed.wrapper.resolve_many(ROUTE_METADATA)
    routes = RouteIndex(lambda provider, node, default=None: resolved[provider].get(node, default), "shop/views.py")
    in_request = {
        name: runs_in_django_request(parsed.function(name), routes, parsed.facts)
        for name in ("checkout", "export", "_helper", "form_valid", "create", "form_invalid", "flask_orders")
    }
    assert in_request == {
        "checkout": True,
        "export": False,
        "_helper": False,
        "form_valid": True,
        "create": True,
        "form_invalid": True,
        "flask_orders": False,
    }


def test_mentions_database_is_a_cheap_text_prefilter() -> None:
    assert mentions_database("from django.db import transaction")
    assert mentions_database("cur.executemany(q, rows)")
    assert mentions_database("db.session.commit()")
    assert not mentions_database("seen.add(x)\nconfig.update(y)\nrepo.index.commit('msg')")


@pytest.mark.parametrize(
    ("path", "test", "migration"),
    [
        ("shop/tests/test_orders.py", True, False),
        ("test_orders.py", True, False),
        ("shop/orders_test.py", True, False),
        ("shop/tests.py", True, False),
        ("conftest.py", True, False),
        ("shop/migrations/0002_backfill.py", False, True),
        ("alembic/versions/1234_add.py", False, True),
        ("shop/services.py", False, False),
        ("shop/contest.py", False, False),
        ("shop/migrations.py", False, False),
    ],
)
def test_tests_and_migrations_run_in_a_transaction_by_convention(path: str, test: bool, migration: bool) -> None:
    assert transactional_by_convention(path) is (test or migration)


# -- the rules built on these helpers ----------------------------------------------------------


def _rule(code: str):
    rules = [rule for path in sorted(builtin_pack_dir().rglob("sql00*.py")) for rule in load_cst_rule_classes(path)]
    return next(rule for rule in rules if rule.code == code)


def _review(code: str, example, files: dict[str, str] | None = None):
    rule = _rule(code)
    files = example.files if files is None else files
    return analyze_source([rule], example.path, textwrap.dedent(example.code), {}, lambda relative: files.get(relative))


def test_sql003_view_is_flagged_without_atomic_requests_and_fine_with_it() -> None:
    view = _rule("SQL003").VALID[1]  # a Django view, with ATOMIC_REQUESTS in its settings
    assert _review("SQL003", view) == []
    findings = _review("SQL003", view, files={})
    assert [(f.code, f.start.line) for f in findings] == [("SQL003", 11)]
    assert "Django runs every query in autocommit mode" in findings[0].message


def test_sql003_helper_is_fine_only_because_its_caller_is_atomic() -> None:
    helper = _rule("SQL003").VALID[8]
    alone = helper.code.split("def checkout")[0]
    findings = analyze_source([_rule("SQL003")], "shop/stock.py", textwrap.dedent(alone), {})
    assert [(f.start.line, f.message.split(" and ")[0]) for f in findings] == [(7, "`Reservation.objects.create()`")]


def test_sql004_is_an_error_on_a_shared_connection_and_a_warning_on_a_parameter() -> None:
    rule = _rule("SQL004")
    shared, parameter = rule.INVALID[0], rule.INVALID[2]
    assert [(f.start.line, f.severity) for f in _review("SQL004", shared)] == [(13, Severity.ERROR)]
    assert [(f.start.line, f.severity) for f in _review("SQL004", parameter)] == [(10, Severity.WARNING)]


def test_sql007_reports_the_connection_not_also_its_cursor() -> None:
    findings = _review("SQL007", _rule("SQL007").INVALID[2])  # MySQLdb connection and its cursor
    assert [(f.start.line, f.message.split(" ")[0]) for f in findings] == [(8, "`db`")]
    assert "closed on line 12 only when nothing before it fails" in findings[0].message


def test_sql007_follows_a_helper_of_the_file_to_the_connection_it_opens() -> None:
    findings = _review("SQL007", _rule("SQL007").INVALID[-1])  # conn = get_db_connection(); conn.close()
    assert [(f.start.line, f.message.split(" is closed")[0]) for f in findings] == [
        (14, "`conn` (get_db_connection(), a new sqlite3 connection opened on line 8)")
    ]
