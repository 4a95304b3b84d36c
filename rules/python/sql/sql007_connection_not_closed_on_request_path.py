"""SQL007 connection-not-closed-on-request-path: a request handler opens a database connection,
cursor or session and does not close it on every path.

How it decides:
- Request handlers come from the shared route model (reviewer.analysis.routes: Flask, FastAPI,
  Starlette, Django, DRF). Only the handler's own body is read.
- Opened: `sqlite3/psycopg2/psycopg/pymysql/MySQLdb/mysql.connector/aiosqlite/asyncpg
  .connect(...)` by qualified name; `Session(...)`/`AsyncSession(...)` and calls of a
  `sessionmaker(...)` bound in the file (or named `SessionLocal`); `engine.connect()`/
  `engine.raw_connection()` on a `create_engine(...)` engine; asyncpg `pool.acquire()`; a
  DB-API `conn.cursor()` on a connection the handler did not open itself (closing a connection
  closes its cursors, so those are judged through the connection); a call of an undecorated
  function of this file whose every `return` gives one of these, freshly opened
  (`get_db_connection()` returning `sqlite3.connect(...)`; not a cached or `g`-stored one).
- Closed: a with-block whose context manager closes it, `contextlib.closing(...)`,
  `ExitStack.enter_context(...)`, a `close()`/`release()` in a `finally` or in a callback,
  handing it on (returned, yielded, stored on an object, passed to another call). A cursor
  closed anywhere counts: it holds memory, not a server slot.
- psycopg2's and sqlite3's `with connect(...) as conn` only end the transaction; the
  connection stays open, so that is flagged (psycopg 3, PyMySQL, MySQLdb and aiosqlite close).
- Not flagged: Django's `connection.cursor()` (Django owns and closes the connection; the
  cursor goes with the request), module-level engines and pools, helpers that are not handlers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from reviewer.analysis.bindings import BindingKind, bindings_of, called_function, returned_values
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.routes import RouteIndex
from reviewer.analysis.sql import imported_libraries, library_for, receiver_origins
from reviewer.analysis.writes import MAX_HOPS, call_text, connection_of, is_sqlalchemy_engine
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity

_TRIGGER = re.compile(
    r"connect\s*\(|\.cursor\s*\(|\.acquire\s*\(|Session\w*\s*\(|raw_connection|\b(?:connect|Session)\s+as\s"
)
# Request handlers need one of these frameworks (Django's conventional views import it too).
_FRAMEWORK = re.compile(r"\b(?:flask|fastapi|starlette|django|rest_framework)\b")
# Callee names worth resolving: connect functions, cursors, pools, engines, session classes.
_OPENER_NAME = re.compile(r"^(?:connect|cursor|acquire|raw_connection)$|session", re.IGNORECASE)
# Names of this file's functions worth reading for a fresh connection (`get_db_connection()`).
_HELPER_NAME = re.compile(r"conn|db|database|session", re.IGNORECASE)

# Connect functions -> whether `with connect(...) as conn` closes the connection at the end.
CONNECT_FUNCTIONS = {
    "sqlite3.connect": False,
    "sqlite3.dbapi2.connect": False,
    "psycopg2.connect": False,
    "psycopg.connect": True,
    "psycopg.Connection.connect": True,
    "psycopg.AsyncConnection.connect": True,
    "pymysql.connect": True,
    "MySQLdb.connect": True,
    "mysql.connector.connect": True,
    "aiosqlite.connect": True,
    "asyncpg.connect": True,
}
SESSION_CLASSES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.Session",
    }
)
SESSION_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)
HANDING_ON = frozenset({"contextlib.closing", "contextlib.aclosing"})
HANDING_ON_METHODS = frozenset(
    {"enter_context", "enter_async_context", "push", "push_async_callback", "callback", "call_on_close", "add_task"}
)
CLOSERS = frozenset({"close", "aclose", "release", "dispose"})


@dataclass(frozen=True, eq=False)
class _Opened:
    call: cst.Call
    what: str  # "connection", "cursor", "session"
    library: str  # for messages: "psycopg2", "SQLAlchemy", …
    with_closes: bool  # `with <it>:` closes it
    inner: cst.Call | None = None  # for a call of a function of this file: the connect call inside it


@dataclass(frozen=True)
class _Fate:
    """What the handler does with a name holding an opened object."""

    managed: bool
    close: cst.Call | None = None  # a close that runs only when nothing before it failed


class ConnectionNotClosedOnRequestPath(CstRule):
    code = "SQL007"
    name = "connection-not-closed-on-request-path"
    severity = Severity.WARNING
    summary = "A request handler opens a database connection, cursor or session and does not close it on every path"
    what = """
        Flags, inside a request handler (Flask, FastAPI, Starlette, Django and DRF views), a
        database connection, session or cursor that is opened without being closed on every
        path: `sqlite3/psycopg2/psycopg/pymysql/MySQLdb/aiosqlite/asyncpg.connect(...)`,
        SQLAlchemy `Session(...)`, `SessionLocal()`, `engine.connect()`, asyncpg
        `pool.acquire()`, a DB-API `conn.cursor()` on a connection opened elsewhere, and a
        call of a function of this file that opens one of these and returns it
        (`get_db_connection()`; not when it is cached or keeps it on `g`).
        Closed means a with-block whose context manager closes it, `contextlib.closing(...)`,
        or a `close()` (`release()`) in a `finally`; a `close()` at the end of the happy path
        is flagged, because an exception skips it. Returning, yielding, storing or passing the
        object on hands it over and is not flagged. psycopg2's and sqlite3's
        `with connect(...) as conn` are flagged: their context manager commits or rolls back
        but leaves the connection open (psycopg 3's, PyMySQL's and aiosqlite's close it).
        Django's `connection.cursor()` is not flagged — Django owns that connection — nor are
        module-level engines and pools, nor functions that do not handle requests.
    """
    why = """
        A handler runs once per request. A connection it leaves open holds a database server
        slot (a PostgreSQL backend process, a MySQL thread) or a pool checkout until the
        garbage collector happens to finalize the object — later under load, never on a
        reference cycle or a traceback kept by an error reporter. Under traffic the server
        hits max_connections or the pool runs dry, and every request fails. Closing in a
        `with` block or a `finally` releases it on the error path too.
    """
    references = (
        "https://docs.python.org/3/library/sqlite3.html#sqlite3-connection-context-manager",
        "https://www.psycopg.org/docs/usage.html#with-statement",
        "https://www.psycopg.org/psycopg3/docs/basic/usage.html#connection-context",
        "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session",
        "https://fastapi.tiangolo.com/tutorial/sql-databases/",
        "https://magicstack.github.io/asyncpg/current/api/index.html#connection-pools",
        "https://docs.python.org/3/library/contextlib.html#contextlib.closing",
        "https://cwe.mitre.org/data/definitions/772.html",
    )
    cwe = (404, 772)
    tags = ("reliability",)
    confidence = "high"

    VALID = [
        Valid(
            """
            from contextlib import closing

            import psycopg2
            from flask import Flask, jsonify

            app = Flask(__name__)
            DSN = "dbname=shop"

            @app.get("/orders/<int:order_id>")
            def order(order_id):
                with closing(psycopg2.connect(DSN)) as conn, conn.cursor() as cur:
                    cur.execute("SELECT id, total FROM orders WHERE id = %s", (order_id,))
                    row = cur.fetchone()
                return jsonify(id=row[0], total=row[1])
            """
        ),
        Valid(
            """
            import psycopg
            from fastapi import FastAPI

            app = FastAPI()

            @app.get("/notes")
            def notes():
                with psycopg.connect("dbname=notes") as conn:
                    return conn.execute("SELECT id, body FROM notes").fetchall()
            """
        ),
        Valid(
            """
            import pymysql
            from django.http import JsonResponse
            from django.views.decorators.http import require_GET

            @require_GET
            def stock(request, sku):
                db = pymysql.connect(host="warehouse", database="stock")
                try:
                    cur = db.cursor()
                    cur.execute("SELECT quantity FROM stock WHERE sku = %s", (sku,))
                    quantity = cur.fetchone()[0]
                finally:
                    db.close()
                return JsonResponse({"sku": sku, "quantity": quantity})
            """
        ),
        Valid(
            """
            from fastapi import Depends, FastAPI
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, sessionmaker
            from app.models import User

            engine = create_engine("postgresql+psycopg://app@db/app")
            SessionLocal = sessionmaker(bind=engine)
            app = FastAPI()

            def get_db():
                db = SessionLocal()
                try:
                    yield db
                finally:
                    db.close()

            @app.get("/users/{user_id}")
            def read_user(user_id: int, db: Session = Depends(get_db)):
                return db.get(User, user_id)

            @app.get("/users")
            def list_users():
                with Session(engine) as session, engine.connect() as conn:
                    conn.exec_driver_sql("SET LOCAL statement_timeout = 1000")
                    return session.query(User).all()
            """
        ),
        Valid(
            """
            from django.db import connection
            from django.http import JsonResponse

            def report(request):
                cursor = connection.cursor()
                cursor.execute("SELECT status, count(*) FROM orders GROUP BY status")
                return JsonResponse(dict(cursor.fetchall()))
            """,
            path="shop/views.py",
        ),
        Valid(
            """
            import sqlite3
            from flask import Flask, g

            app = Flask(__name__)

            def get_db():
                if "db" not in g:
                    g.db = sqlite3.connect("app.db")
                return g.db

            @app.teardown_appcontext
            def close_db(exception):
                db = g.pop("db", None)
                if db is not None:
                    db.close()

            @app.route("/posts")
            def posts():
                return {"posts": get_db().execute("SELECT title FROM posts").fetchall()}
            """
        ),
        Valid(
            """
            import asyncpg
            from fastapi import FastAPI
            from fastapi.responses import StreamingResponse

            app = FastAPI()
            pool = None

            async def rows(conn):
                try:
                    async for record in conn.cursor("SELECT * FROM events"):
                        yield f"{record['id']}\\n"
                finally:
                    await pool.release(conn)

            @app.get("/events")
            async def events():
                conn = await pool.acquire()
                return StreamingResponse(rows(conn))

            @app.get("/health")
            async def health():
                async with pool.acquire() as conn:
                    return {"ok": await conn.fetchval("SELECT 1")}
            """
        ),
        Valid(
            """
            import sqlite3

            def export(path):
                conn = sqlite3.connect(path)
                return conn.execute("SELECT * FROM notes").fetchall()
            """
        ),
        Valid(
            """
            import functools
            import sqlite3
            from contextlib import closing
            from flask import Flask, jsonify

            app = Flask(__name__)

            def get_db_connection():
                conn = sqlite3.connect("app.db")
                conn.row_factory = sqlite3.Row
                return conn

            @functools.lru_cache(maxsize=None)
            def shared_db():
                return sqlite3.connect("app.db", check_same_thread=False)

            @app.route("/api/objects")
            def objects():
                with closing(get_db_connection()) as conn:
                    rows = conn.execute("SELECT id, name FROM objects").fetchall()
                return jsonify([dict(row) for row in rows])

            @app.route("/api/count")
            def count():
                return {"count": shared_db().execute("SELECT count(*) FROM objects").fetchone()[0]}

            @app.route("/api/names")
            def names():
                conn = get_db_connection()
                try:
                    return jsonify([row["name"] for row in conn.execute("SELECT name FROM objects")])
                finally:
                    conn.close()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import psycopg2
            from flask import Flask, jsonify

            app = Flask(__name__)
            DSN = "dbname=shop"

            @app.get("/orders/<int:order_id>")
            def order(order_id):
                conn = psycopg2.connect(DSN)
                with conn.cursor() as cur:
                    cur.execute("SELECT id, total FROM orders WHERE id = %s", (order_id,))
                    row = cur.fetchone()
                return jsonify(id=row[0], total=row[1])
            """,
            line=10,
        ),
        Invalid(
            """
            import sqlite3
            from fastapi import FastAPI

            app = FastAPI()

            @app.get("/notes")
            def notes():
                with sqlite3.connect("notes.db") as conn:
                    return conn.execute("SELECT id, body FROM notes").fetchall()
            """,
            line=9,
        ),
        Invalid(
            """
            import MySQLdb
            from django.http import JsonResponse
            from django.views.decorators.http import require_GET

            @require_GET
            def stock(request, sku):
                db = MySQLdb.connect(host="warehouse", db="stock")
                cur = db.cursor()
                cur.execute("SELECT quantity FROM stock WHERE sku = %s", (sku,))
                quantity = cur.fetchone()[0]
                db.close()
                return JsonResponse({"sku": sku, "quantity": quantity})
            """,
            line=8,
        ),
        Invalid(
            """
            from fastapi import APIRouter
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker
            from app.models import User

            engine = create_engine("postgresql+psycopg://app@db/app")
            SessionLocal = sessionmaker(bind=engine)
            router = APIRouter()

            @router.get("/users/{user_id}")
            def read_user(user_id: int):
                db = SessionLocal()
                return db.get(User, user_id)
            """,
            line=13,
        ),
        Invalid(
            """
            import asyncpg
            from fastapi import FastAPI

            app = FastAPI()

            @app.get("/health/db")
            async def db_health():
                conn = await asyncpg.connect("postgresql://app@db/app")
                await conn.fetchval("SELECT 1")
                return {"ok": True}
            """,
            line=9,
        ),
        Invalid(
            """
            import sqlite3
            from flask import Blueprint

            bp = Blueprint("stats", __name__)

            @bp.route("/stats")
            def stats():
                total = sqlite3.connect("app.db").execute("SELECT count(*) FROM posts").fetchone()[0]
                return {"posts": total}
            """,
            line=9,
        ),
        Invalid(
            """
            from rest_framework.decorators import api_view
            from rest_framework.response import Response
            from sqlalchemy import create_engine, text

            engine = create_engine("postgresql+psycopg://app@db/app")

            @api_view(["GET"])
            def totals(request):
                conn = engine.connect()
                rows = conn.execute(text("SELECT region, sum(amount) FROM sales GROUP BY region")).all()
                return Response(dict(rows))
            """,
            line=10,
        ),
        Invalid(
            """
            import sqlite3
            from starlette.applications import Starlette
            from starlette.responses import JSONResponse
            from starlette.routing import Route

            conn = sqlite3.connect("app.db", check_same_thread=False)

            async def users(request):
                cur = conn.cursor()
                cur.execute("SELECT id, name FROM users")
                return JSONResponse(cur.fetchall())

            app = Starlette(routes=[Route("/users", users)])
            """,
            line=10,
        ),
        Invalid(
            """
            import sqlite3
            from flask import Flask, jsonify

            app = Flask(__name__)

            def get_db_connection():
                conn = sqlite3.connect("app.db")
                conn.row_factory = sqlite3.Row
                return conn

            @app.route("/api/objects")
            def objects():
                conn = get_db_connection()
                rows = conn.execute("SELECT id, name FROM objects").fetchall()
                conn.close()
                return jsonify([dict(row) for row in rows])
            """,
            line=14,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        return _TRIGGER.search(source) is not None and _FRAMEWORK.search(source) is not None

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.stack: list[list[cst.Call]] = []
        self.aliases: set[str] = set()  # `from sqlite3 import connect as open_db`

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        alias = node.asname.name if node.asname is not None else None
        if isinstance(alias, cst.Name) and _OPENER_NAME.search(node.evaluated_name.rsplit(".", 1)[-1]):
            self.aliases.add(alias.value)

    @cached_property
    def routes(self) -> RouteIndex:
        return RouteIndex.for_rule(self)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append([])

    def visit_Call(self, node: cst.Call) -> None:
        if not self.stack:
            return
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if (
            _OPENER_NAME.search(name)
            or name in self.aliases
            or (isinstance(func, cst.Name) and _HELPER_NAME.search(name))
        ):
            self.stack[-1].append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        calls = self.stack.pop()
        opened = [found for call in calls if (found := self._opened(call)) is not None]
        if not opened or self.routes.route_info(original_node) is None:
            return
        local = {id(o.call) for o in opened if o.what == "connection"}
        for item in opened:
            if item.what == "cursor" and self._on_local_connection(item.call, local):
                continue
            self._judge(item, original_node)

    # -- what a call opens --------------------------------------------------------------------

    def _opened(self, call: cst.Call) -> _Opened | None:
        return self._opened_directly(call) or self._opened_by_helper(call)

    def _opened_by_helper(self, call: cst.Call) -> _Opened | None:
        """`get_db_connection()`: an undecorated function of this file whose every `return` gives
        a connection or session it has just opened (a cached or `g`-stored one is not fresh)."""
        function = called_function(call, self.facts)
        if function is None or function.receiver_bound or function.definition.decorators:
            return None
        fresh = [self._fresh(value, 0) for value in returned_values(function.definition)]
        if not fresh or None in fresh:
            return None
        kinds = {(item.what, item.library) for item in fresh}
        if len(kinds) != 1:
            return None
        what, library = kinds.pop()
        return _Opened(call, what, library, all(item.with_closes for item in fresh), fresh[0].call)

    def _fresh(self, value: cst.BaseExpression, hops: int) -> _Opened | None:
        """A returned connect call, or a local name every assignment binds to one."""
        value = value.expression if isinstance(value, cst.Await) else value
        if isinstance(value, cst.Name):
            bindings = bindings_of(value, self.facts)
            if (
                hops > MAX_HOPS
                or not bindings
                or any(b.kind is not BindingKind.VALUE or not b.same_function for b in bindings)
            ):
                return None
            opened = [self._fresh(binding.expression, hops + 1) for binding in bindings]
            return opened[0] if opened and None not in opened and len({o.library for o in opened}) == 1 else None
        if not isinstance(value, cst.Call):
            return None
        opened = self._opened_directly(value)
        return opened if opened is not None and opened.what != "cursor" else None

    def _opened_directly(self, call: cst.Call) -> _Opened | None:
        names = self.facts.qualified_names(call.func)
        for name in names:
            if name in CONNECT_FUNCTIONS:
                return _Opened(call, "connection", name.split(".")[0], CONNECT_FUNCTIONS[name])
        if names & SESSION_CLASSES or self._session_factory(call.func):
            return _Opened(call, "session", "SQLAlchemy", True)
        if not isinstance(call.func, cst.Attribute):
            return None
        method, receiver = call.func.attr.value, call.func.value
        if method in ("connect", "raw_connection") and is_sqlalchemy_engine(receiver, self.facts):
            return _Opened(call, "connection", "SQLAlchemy", True)
        libraries = {library_for(name) for name in receiver_origins(receiver, self.facts)}
        names_of = {library.name for library in libraries if library is not None}
        if method == "cursor" and any(library.family == "dbapi" for library in libraries if library is not None):
            return _Opened(call, "cursor", "/".join(sorted(names_of)), "sqlite3" not in names_of)
        if method == "acquire" and not call.args and self._asyncpg_pool(receiver, names_of):
            return _Opened(call, "connection", "asyncpg", True)
        return None

    def _session_factory(self, func: cst.BaseExpression) -> bool:
        """`SessionLocal()`: a name bound to `sessionmaker(...)` here, or imported under the
        conventional name `SessionLocal` (never a scoped_session, whose registry closes it)."""
        if not isinstance(func, cst.Name):
            return False
        for binding in bindings_of(func, self.facts):
            if binding.kind is BindingKind.IMPORT:
                return func.value == "SessionLocal"
            value = binding.expression
            if binding.kind is BindingKind.VALUE and isinstance(value, cst.Call):
                return bool(self.facts.qualified_names(value.func) & SESSION_FACTORIES)
        return False

    def _asyncpg_pool(self, receiver: cst.BaseExpression, traced: set[str]) -> bool:
        if traced:
            return traced == {"asyncpg"}
        return [library.name for library in imported_libraries(receiver, self.facts)] == ["asyncpg"]

    def _on_local_connection(self, cursor_call: cst.Call, local_connections: set[int]) -> bool:
        """The cursor's connection was opened in this handler (judged through the connection)."""
        connection = connection_of(cursor_call.func.value, self.facts)
        if isinstance(connection, cst.Call):
            return id(connection) in local_connections
        if not isinstance(connection, cst.Name):
            return False
        for binding in bindings_of(connection, self.facts):
            value = binding.expression.expression if isinstance(binding.expression, cst.Await) else binding.expression
            if (
                binding.same_function
                and binding.kind in (BindingKind.VALUE, BindingKind.CONTEXT)
                and id(value) in local_connections
            ):
                return True
        return False

    # -- what the handler does with it --------------------------------------------------------

    def _judge(self, opened: _Opened, handler: cst.FunctionDef) -> None:
        node: cst.CSTNode = opened.call
        parent = self.facts.parent(node)
        if isinstance(parent, cst.Await):
            node, parent = parent, self.facts.parent(parent)
        api = _shape(opened.call)
        where = f"request handler `{handler.name.value}`"
        origin = (
            f", a new {opened.library} {opened.what} opened on line {self.facts.line(opened.inner)}"
            if opened.inner is not None
            else ""
        )
        if isinstance(parent, cst.WithItem):
            if opened.with_closes:
                return
            bound = parent.asname.name if parent.asname else None
            if isinstance(bound, cst.Name) and self._fate(bound.value, handler, opened).managed:
                return
            self.report(
                opened.call,
                f"`with {api}`{origin} in {where} ends the transaction but does not close the connection — "
                f"{opened.library}'s connection context manager only commits or rolls back; "
                f"use `with contextlib.closing({api}) as conn:` so each request gives its connection back",
            )
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            name = {"connection": "conn", "cursor": "cur", "session": "session"}[opened.what]
            advice = _advice(opened, api, name, awaited=node is not opened.call)
            self.report(
                opened.call, f"`{api}`{origin} in {where} opens a {opened.what} that nothing can close; {advice}"
            )
            return
        target = _assigned_name(parent, node)
        if target is None:
            return  # returned, stored on an object or passed on: someone else owns it now
        fate = self._fate(target, handler, opened)
        if fate.managed or (fate.close is not None and opened.what == "cursor"):
            return
        advice = _advice(opened, api, target, awaited=node is not opened.call)
        if fate.close is not None:
            message = (
                f"`{target}` ({api}{origin}) is closed on line {self.facts.line(fate.close)} only when nothing before it "
                f"fails: an exception in {where} leaves the {opened.what} open; {advice}"
            )
        else:
            message = (
                f"`{target} = {api}`{origin} in {where} is never closed: every request leaves a {opened.what} open "
                f"until the garbage collector gets to it; {advice}"
            )
        self.report(opened.call, message)

    def _fate(self, name: str, handler: cst.FunctionDef, opened: _Opened) -> _Fate:
        uses = _NameUses(name, self)
        handler.body.visit(uses)
        managed = uses.handed_on or uses.closed_safely or (uses.in_with and opened.with_closes)
        return _Fate(managed, uses.plain_close)


def _assigned_name(parent: cst.CSTNode | None, value: cst.CSTNode) -> str | None:
    if isinstance(parent, cst.Assign) and parent.value is value and len(parent.targets) == 1:
        target = parent.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(parent, cst.AnnAssign) and parent.value is value and isinstance(parent.target, cst.Name):
        return parent.target.value
    return None


def _advice(opened: _Opened, api: str, name: str, *, awaited: bool) -> str:
    if api.startswith("asyncpg.connect("):
        return f"close it with `await {name}.close()` in a `finally`, or take it from a pool with `async with pool.acquire() as {name}:`"
    if not opened.with_closes:
        return f"open it with `with contextlib.closing({api}) as {name}:` or close it in a `finally`"
    if api.endswith(".acquire()"):
        return f"use `async with {api} as {name}:` or release it in a `finally`"
    return f"open it with `{'async with' if awaited else 'with'} {api} as {name}:` or close it in a `finally`"


def _shape(call: cst.Call) -> str:
    """`psycopg2.connect(…)`, `SessionLocal()`: the call's name, and whether it takes arguments."""
    text = call_text(call)
    return f"{text[:-1]}…)" if call.args and text.endswith("()") else text


class _NameUses(cst.CSTVisitor):
    """How a handler's body treats one name: closes it (in a `finally`, a callback, or plainly),
    uses it as a context manager, or hands it on."""

    def __init__(self, name: str, rule: ConnectionNotClosedOnRequestPath) -> None:
        super().__init__()
        self.name = name
        self.rule = rule
        self.finally_depth = 0
        self.nested_depth = 0
        self.closed_safely = False
        self.plain_close: cst.Call | None = None
        self.in_with = False
        self.handed_on = False

    def _is_name(self, node: cst.CSTNode | None) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_Finally(self, node: cst.Finally) -> None:
        self.finally_depth += 1

    def leave_Finally(self, original_node: cst.Finally) -> None:
        self.finally_depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested_depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.nested_depth -= 1

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if self._is_name(node.item):
            self.in_with = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        arguments = [arg.value for arg in node.args]
        closes = (
            isinstance(func, cst.Attribute)
            and func.attr.value in CLOSERS
            and (
                self._is_name(func.value) or (func.attr.value == "release" and any(self._is_name(a) for a in arguments))
            )
        )
        if closes:
            if self.finally_depth or self.nested_depth:
                self.closed_safely = True
            elif self.plain_close is None:
                self.plain_close = node
            return
        hands_on = self.rule.facts.qualified_names(func) & HANDING_ON or (
            isinstance(func, cst.Attribute) and func.attr.value in HANDING_ON_METHODS
        )
        if hands_on and any(self._is_name(a) or self._is_close_method(a) for a in arguments):
            self.handed_on = True  # closing(conn), stack.enter_context(conn), stack.callback(conn.close)

    def _is_close_method(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value in CLOSERS and self._is_name(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and self._gives_away(node.value):
            self.handed_on = True

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression) and self._gives_away(node.value):
            self.handed_on = True

    def visit_Assign(self, node: cst.Assign) -> None:
        stored = any(isinstance(target.target, (cst.Attribute, cst.Subscript)) for target in node.targets)
        if stored and self._gives_away(node.value):
            self.handed_on = True

    def _gives_away(self, value: cst.BaseExpression) -> bool:
        """The value is the name, or holds it: in a tuple or list, or as an argument of a call
        (`StreamingResponse(rows(conn))`) — not as the receiver of a method (`db.get(...)`)."""
        if self._is_name(value) or self._is_close_method(value):
            return True
        if isinstance(value, (cst.Tuple, cst.List)):
            return any(self._gives_away(element.value) for element in value.elements)
        if isinstance(value, cst.Call):
            return any(self._gives_away(arg.value) for arg in value.args)
        if isinstance(value, cst.Await):
            return self._gives_away(value.expression)
        return False
