"""SQL004 commit-without-rollback: a failure of the work before a commit is caught and swallowed.

How it decides (writes and transactions come from reviewer.analysis.writes):
- A `try` whose body commits (`conn.commit()`, `session.commit()`, `tr.commit()`,
  `transaction.commit()` on a database object) and whose `except` handler catches database
  errors (bare, `Exception`, `BaseException`, or a class of a database library; also a
  PEP 249 name such as `IntegrityError` read off a connection) and carries on: no `raise`, no
  rollback (`rollback()`, `set_rollback(True)`, any `*rollback*` helper), no `abort()`, and
  no `close()` of that connection or session in the handler or the `finally`.
- Not flagged: Flask-SQLAlchemy's `db.session` (a scoped session removed, so rolled back, when
  the app context ends) in a function that nothing in this file calls — a view, not a helper
  or hook whose caller carries on with the session — when the handler ends by returning an HTTP
  response (`jsonify(...)`, `make_response(...)`, `(body, 500)`) and does not touch the session.
- Not flagged: commits inside a with-block in the `try` that rolls back on the way out (a
  transaction block, `Session()`, `engine.connect()`, `closing(...)`); a connection or session
  opened in this function and closed later in it, or by an enclosing with-block that closes it
  (closing without commit rolls back); handlers for exceptions no database raises (ValueError,
  requests' errors, the project's own classes).
- Also flagged: a `try` inside a transaction block that commits when it ends
  (`transaction.atomic()`, `with conn:`, `session.begin()`, `conn.transaction()`) whose body
  writes — with the Django ORM once is enough, since Django then marks the block for
  rollback; with other libraries two writes, so a part can be done — and whose handler
  swallows the error.
- Error when the connection or session is a module-level object, shared by every call: what
  the failure left behind certainly reaches the next user. Otherwise a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from reviewer.analysis.calls import qualified_names
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.sql import library_for
from reviewer.analysis.strings import StringEvaluator
from reviewer.analysis.writes import (
    WRITE_METHODS,
    TransactionCall,
    Write,
    WriteFamily,
    WriteFinder,
    connection_key,
    is_database_object,
    is_module_level,
    is_sqlalchemy_session,
    last_identifier,
    mentions_database,
    transaction_block,
    transaction_call,
)
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity

_TRIGGER = re.compile(
    r"\.commit\s*\(|\batomic\b\s*[(\n]|transaction\s*\(|\.begin\s*\(|connect\s*\(|with\s+[\w.]*(?:conn|db)\w*\s*:"
)
_ANY_EXCEPTION = frozenset({"builtins.Exception", "builtins.BaseException"})
FLASK_SQLALCHEMY_SESSION = "db.session"
_FLASK_MODULES = frozenset({"flask", "flask_sqlalchemy"})
# Calls that build an HTTP response (Flask's own, and the error helpers projects name after the status).
_RESPONSE_MAKER = re.compile(
    r"^(?:make_(?:json_)?response|jsonify|render_template(?:_string)?|redirect|Response|"
    r"internal_server_error|bad_request|not_found|gone|forbidden|unauthori[sz]ed|precondition_required|"
    r"service_unavailable)$"
)
# Calls a handler may make without touching the session: text for the response, and logging.
_HARMLESS_CALLS = frozenset({"str", "repr", "format", "gettext", "_", "ngettext", "lazy_gettext", "flash"})
_LOGGING = re.compile(r"log", re.IGNORECASE)
_CODE = cst.Module([])  # renders a node's source text
# PEP 249's exception names, which drivers also expose on connections (`conn.IntegrityError`).
DBAPI_ERRORS = frozenset(
    {
        "Error",
        "DatabaseError",
        "IntegrityError",
        "OperationalError",
        "ProgrammingError",
        "DataError",
        "InterfaceError",
        "InternalError",
        "NotSupportedError",
    }
)
_RAISING_CALLS = frozenset({"flask.abort", "werkzeug.exceptions.abort", "sys.exit", "builtins.exit"})
_RELEASES = frozenset({"close", "remove", "release"})
_CLOSING = frozenset({"contextlib.closing", "contextlib.aclosing"})
# Context managers that hand out a connection or session and close or release it at the end.
_OPENER = re.compile(r"session|connect|acquire", re.IGNORECASE)


@dataclass
class _Candidate:
    """A `try` with handlers that swallow database errors, judged when its function ends."""

    node: cst.Try | cst.TryStar
    handlers: list[cst.ExceptHandler]
    commits: list[TransactionCall]
    writes: list[Write]


@dataclass
class _FunctionWork:
    function: cst.FunctionDef
    candidates: list[_Candidate] = field(default_factory=list)
    releases: set[str] = field(default_factory=set)  # keys of connections closed somewhere in it


class CommitWithoutRollback(CstRule):
    code = "SQL004"
    name = "commit-without-rollback"
    severity = Severity.WARNING
    summary = "A failure of the work before a commit is caught and swallowed without a rollback"
    what = """
        Flags an `except` handler that catches database errors (a bare `except:`, `Exception`,
        or a database library's exception class) around work that commits — `conn.commit()`,
        `session.commit()`, `tr.commit()` — and carries on without rolling back or re-raising:
        no `rollback()`, `transaction.set_rollback(True)`, `raise`, `raise … from e` or
        `abort()`, and no `close()` of the connection in the handler or the `finally` (closing
        without a commit rolls back). A connection or session this function opened and closes
        later, or that an enclosing with-block closes (`with Session() as session:`), is fine,
        and so are commits inside a with-block within the `try` that rolls back on the way out.
        Handlers for exceptions no database raises are not a concern, nor is Flask-SQLAlchemy's
        `db.session` in a function nothing in the file calls (a view) whose handler returns an
        HTTP response without touching the session: the app context's teardown removes the
        session and rolls it back. Also flags a handler that
        swallows a failed write inside a transaction block that commits at its end —
        `transaction.atomic()`, `with conn:`, `session.begin()`, `conn.transaction()`: once in
        Django (the ORM marks the block for rollback), with two writes elsewhere. An error when
        the connection or session is a module-level object shared by every call; otherwise a
        warning.
    """
    why = """
        When a statement fails midway, the statements before it are still part of the open
        transaction. Swallowing the error without `rollback()` leaves them there: with SQLite
        or MySQL the next `commit()` on that connection — often another request's — writes
        half of the work; PostgreSQL refuses every statement until a rollback; a SQLAlchemy
        session raises PendingRollbackError on every later use. Inside a transaction block that
        commits at its end the same happens, or, in Django, the whole block is silently rolled
        back while the code carries on as if it had succeeded. Roll back (or re-raise and let
        a transaction block roll back) so a failure undoes the whole unit of work.
    """
    references = (
        "https://peps.python.org/pep-0249/#rollback",
        "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#framing-out-a-begin-commit-rollback-block",
        "https://docs.sqlalchemy.org/en/20/errors.html#this-session-s-transaction-has-been-rolled-back-due-to-a-previous-exception-during-flush",
        "https://docs.djangoproject.com/en/stable/topics/db/transactions/#controlling-transactions-explicitly",
        "https://www.psycopg.org/docs/usage.html#transactions-control",
        "https://docs.python.org/3/library/sqlite3.html#sqlite3-controlling-transactions",
        "https://cwe.mitre.org/data/definitions/460.html",
    )
    cwe = (460,)
    tags = ("correctness",)
    confidence = "high"

    VALID = [
        Valid(
            """
            import sqlite3
            import logging

            conn = sqlite3.connect("app.db")
            log = logging.getLogger(__name__)

            def add_member(team_id, user_id):
                try:
                    conn.execute("INSERT INTO members (team_id, user_id) VALUES (?, ?)", (team_id, user_id))
                    conn.execute("UPDATE teams SET size = size + 1 WHERE id = ?", (team_id,))
                    conn.commit()
                except sqlite3.Error:
                    conn.rollback()
                    log.exception("could not add member")
            """
        ),
        Valid(
            """
            from fastapi import HTTPException
            from sqlalchemy.exc import IntegrityError
            from sqlalchemy.orm import Session

            def create_user(session: Session, user):
                try:
                    session.add(user)
                    session.commit()
                except IntegrityError as exc:
                    raise HTTPException(status_code=409, detail="email taken") from exc
            """
        ),
        Valid(
            """
            import logging
            from sqlalchemy.exc import SQLAlchemyError
            from app.db import SessionLocal

            def record(event):
                try:
                    with SessionLocal() as session:
                        session.add(event)
                        session.commit()
                except SQLAlchemyError:
                    logging.exception("event lost")
            """
        ),
        Valid(
            """
            import psycopg2

            def import_rows(conn, raw_rows):
                try:
                    rows = [(int(r["id"]), r["name"]) for r in raw_rows]
                    with conn.cursor() as cur:
                        cur.executemany("INSERT INTO items (id, name) VALUES (%s, %s)", rows)
                    conn.commit()
                except (KeyError, ValueError):
                    return "bad input"
            """
        ),
        Valid(
            """
            import logging
            import psycopg2

            def set_status(dsn, job_id, status):
                conn = psycopg2.connect(dsn)
                try:
                    with conn.cursor() as cur:
                        cur.execute("UPDATE jobs SET status = %s WHERE id = %s", (status, job_id))
                        cur.execute("INSERT INTO job_events (job_id, status) VALUES (%s, %s)", (job_id, status))
                    conn.commit()
                except psycopg2.Error:
                    logging.exception("status not saved")
                finally:
                    conn.close()
            """
        ),
        Valid(
            """
            from django.db import IntegrityError, transaction
            from school.models import Enrollment

            def enroll(student, course):
                with transaction.atomic():
                    try:
                        with transaction.atomic():
                            Enrollment.objects.create(student=student, course=course)
                    except IntegrityError:
                        pass
                    course.seats_left -= 1
                    course.save()
            """
        ),
        Valid(
            """
            from django.db import DatabaseError, transaction
            from shop.models import Order

            @transaction.atomic
            def close_order(order, log):
                try:
                    order.lines.all().delete()
                    order.delete()
                except DatabaseError:
                    transaction.set_rollback(True)
                    log.warning("order %s kept", order.pk)
            """
        ),
        Valid(
            """
            import sqlite3

            def add_tags(conn: sqlite3.Connection, tags):
                with conn:
                    for tag in tags:
                        try:
                            conn.execute("INSERT INTO tags (name) VALUES (?)", (tag,))
                        except sqlite3.IntegrityError:
                            pass
            """
        ),
        Valid(
            """
            import sqlite3

            def save_note(path, note):
                conn = sqlite3.connect(path)
                try:
                    conn.execute("INSERT INTO notes (body) VALUES (?)", (note,))
                    conn.execute("UPDATE stats SET notes = notes + 1")
                    conn.commit()
                except sqlite3.Error as exc:
                    print("not saved:", exc)
                conn.close()
            """
        ),
        Valid(
            """
            from flask import Blueprint, jsonify
            from flask_sqlalchemy import SQLAlchemy
            from myapp.models import Server

            db = SQLAlchemy()
            bp = Blueprint("servers", __name__)

            @bp.post("/servers/<int:sid>/password")
            def clear_password(sid):
                try:
                    Server.query.get(sid).password = None
                    db.session.commit()
                except Exception as error:
                    log.exception(error)
                    return jsonify(error=str(error)), 500
                return jsonify(ok=True)
            """
        ),
        Valid(
            """
            from flask import jsonify, request
            from flask_sqlalchemy import SQLAlchemy
            from myapp.models import Server
            from myapp.views import NodeView

            db = SQLAlchemy()

            class ServerNode(NodeView):
                def update(self, sid):
                    data = {"id": sid}
                    data.update(request.get_json())
                    try:
                        Server.query.get(sid).name = data["name"]
                        db.session.commit()
                    except Exception as error:
                        return jsonify(error=str(error)), 500
                    return jsonify(ok=True)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import sqlite3
            import logging

            conn = sqlite3.connect("app.db")
            log = logging.getLogger(__name__)

            def add_member(team_id, user_id):
                try:
                    conn.execute("INSERT INTO members (team_id, user_id) VALUES (?, ?)", (team_id, user_id))
                    conn.execute("UPDATE teams SET size = size + 1 WHERE id = ?", (team_id,))
                    conn.commit()
                except sqlite3.Error:
                    log.exception("could not add member")
            """,
            line=13,
        ),
        Invalid(
            """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()

            def rename(user, name):
                try:
                    user.name = name
                    db.session.commit()
                except Exception:
                    return False
                return True

            def rename_all(users, name):
                return [rename(user, name) for user in users]
            """,
            line=10,
        ),
        Invalid(
            """
            import psycopg2

            def set_status(conn, job_id, status):
                cur = conn.cursor()
                try:
                    cur.execute("UPDATE jobs SET status = %s WHERE id = %s", (status, job_id))
                    cur.execute("INSERT INTO job_events (job_id, status) VALUES (%s, %s)", (job_id, status))
                    conn.commit()
                except psycopg2.DatabaseError as exc:
                    print("status not saved", exc)
                finally:
                    cur.close()
            """,
            line=10,
        ),
        Invalid(
            """
            from django.db import IntegrityError, transaction
            from school.models import Enrollment

            def enroll(student, course):
                with transaction.atomic():
                    try:
                        Enrollment.objects.create(student=student, course=course)
                    except IntegrityError:
                        pass
                    course.seats_left -= 1
                    course.save()
            """,
            line=9,
        ),
        Invalid(
            """
            import sqlite3

            def move(conn: sqlite3.Connection, item_id, box):
                with conn:
                    try:
                        conn.execute("DELETE FROM placements WHERE item_id = ?", (item_id,))
                        conn.execute("INSERT INTO placements (item_id, box) VALUES (?, ?)", (item_id, box))
                    except:
                        pass
            """,
            line=9,
        ),
        Invalid(
            """
            import asyncpg
            import logging

            async def rebalance(conn, moves):
                tr = conn.transaction()
                await tr.start()
                try:
                    for source, target, amount in moves:
                        await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, source)
                        await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, target)
                    await tr.commit()
                except asyncpg.PostgresError:
                    logging.warning("rebalance failed")
            """,
            line=13,
        ),
        Invalid(
            """
            from sqlalchemy.exc import SQLAlchemyError
            from app.db import SessionLocal

            session = SessionLocal()

            def record(event, log):
                try:
                    session.add(event)
                    session.commit()
                except SQLAlchemyError:
                    log.error("event lost")
            """,
            line=11,
        ),
        Invalid(
            """
            from flask import jsonify
            from flask_sqlalchemy import SQLAlchemy
            from myapp.models import Server

            db = SQLAlchemy()

            def create(data):
                server = Server(**data)
                try:
                    db.session.add(server)
                    db.session.commit()
                except Exception as error:
                    db.session.delete(server)
                    return jsonify(error=str(error)), 500
            """,
            line=13,
        ),
        Invalid(
            """
            from flask import jsonify
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()

            class ServerNode:
                def _drop_shared(self, shared):
                    try:
                        db.session.delete(shared)
                        db.session.commit()
                    except Exception:
                        return False
                    return True

                def delete(self, shared):
                    self._drop_shared(shared)
                    db.session.commit()
                    return jsonify(ok=True)
            """,
            line=12,
        ),
        Invalid(
            """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()

            class ImpalaSpec:
                @classmethod
                def handle_cursor(cls, cursor, query):
                    try:
                        query.progress = cursor.progress()
                        db.session.commit()
                    except Exception:
                        return
            """,
            line=12,
        ),
        Invalid(
            """
            from flask import jsonify
            from flask_sqlalchemy import SQLAlchemy
            from sqlalchemy.exc import IntegrityError
            from myapp.models import User

            db = SQLAlchemy()

            def register(email):
                try:
                    db.session.add(User(email=email))
                    db.session.commit()
                except IntegrityError:
                    existing = User.query.filter_by(email=email).first()
                    return jsonify(id=existing.id), 0x199
                return jsonify(ok=True)
            """,
            line=13,
        ),
        Invalid(
            """
            from flask_sqlalchemy import SQLAlchemy
            from myapp.results import Result

            db = SQLAlchemy()

            def rename_account(account, name):
                try:
                    account.name = name
                    db.session.commit()
                except Exception as error:
                    return Result.error(str(error))
                return Result.ok()
            """,
            line=11,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        return "except" in source and _TRIGGER.search(source) is not None and mentions_database(source)

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.strings = StringEvaluator(self.facts)
        self.finder = WriteFinder(self.facts, self.strings)
        self.stack: list[_FunctionWork] = []
        self.lambdas = 0
        self.calls: _ModuleCalls | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(_FunctionWork(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        work = self.stack.pop()
        for candidate in work.candidates:
            self._judge(candidate, work)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.lambdas -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if (
            self.stack
            and not self.lambdas
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _RELEASES
        ):
            key = connection_key(node.func.value)
            if key is not None:
                self.stack[-1].releases.add(key)

    def visit_Try(self, node: cst.Try) -> None:
        self._consider(node)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._consider(node)

    # -- finding candidates -------------------------------------------------------------------

    def _consider(self, node: cst.Try | cst.TryStar) -> None:
        if not self.stack or self.lambdas:
            return
        handlers = [h for h in node.handlers if not _handles(h, self.facts)]
        if not handlers or not _may_write_or_commit(node.body):
            return
        handlers = [h for h in handlers if self._catches_database_errors(h)]
        if not handlers:
            return
        body = _TryBody(self)
        node.body.visit(body)
        if body.commits or body.writes:
            self.stack[-1].candidates.append(_Candidate(node, handlers, body.commits, body.writes))

    def _catches_database_errors(self, handler: cst.ExceptHandler) -> bool:
        if handler.type is None:
            return True
        caught = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
        return any(
            self._database_error(element.value if isinstance(element, cst.Element) else element) for element in caught
        )

    def _database_error(self, expression: cst.BaseExpression) -> bool:
        """`Exception`, a database library's class, or a PEP 249 name read off an object of this
        file (`conn.IntegrityError`) — not a class of the project's own or another library."""
        names = self.facts.qualified_names(expression)
        if names & _ANY_EXCEPTION or any(library_for(name) for name in names):
            return True
        if last_identifier(expression) not in DBAPI_ERRORS:
            return False
        if isinstance(expression, cst.Attribute):
            return all(any(name.startswith(f"{module}.") for module in self.facts.module_names) for name in names)
        return not names

    # -- judging ------------------------------------------------------------------------------

    def _judge(self, candidate: _Candidate, work: _FunctionWork) -> None:
        for commit in candidate.commits:
            key = commit.connection_key
            if self._released(candidate, key, work):
                continue
            handler = self._swallowing(candidate, key, work)
            if handler is not None:
                self.report(handler, self._commit_message(handler, commit), severity=self._severity(commit))
                return
        if candidate.commits:
            return
        block = self._enclosing_block(candidate.node, work.function)
        django = any(write.family is WriteFamily.DJANGO for write in candidate.writes)
        if block is None or not (django or len(candidate.writes) >= 2):
            return
        handler = self._swallowing(candidate, None, work)
        if handler is not None:
            self.report(handler, self._block_message(handler, block, django))

    def _swallowing(self, candidate: _Candidate, key: str | None, work: _FunctionWork) -> cst.ExceptHandler | None:
        for handler in candidate.handlers:
            if key is None or not (_closes(handler.body, key) or self._request_ends(handler, key, work)):
                return handler
        return None

    def _request_ends(self, handler: cst.ExceptHandler, key: str, work: _FunctionWork) -> bool:
        """Flask-SQLAlchemy's `db.session` lives as long as the request: when the app context
        ends, the session is removed and what failed is rolled back. A handler that ends by
        returning an HTTP response, doing nothing else than logging (no query, no other call that
        could use the session), from a function nothing in
        this file calls (a view, not a helper or hook whose caller carries on with the session)
        leaves nothing behind."""
        if key != FLASK_SQLALCHEMY_SESSION or not _returns_a_response(handler.body):
            return False
        if not _only_logs_and_responds(handler.body):
            return False
        if not any(name.split(".")[0] in _FLASK_MODULES for name in self.facts.visible_imports(handler)):
            return False
        return not self._called_in_module(work.function)

    def _called_in_module(self, function: cst.FunctionDef) -> bool:
        """Whether this file calls the function: `f()` for a function; `self.f()`, `cls.f()`,
        `super().f()` or `Class.f()` for a method (not `data.update()` for a method `update`)."""
        if self.calls is None:
            self.calls = _ModuleCalls()
            self.module.visit(self.calls)
        is_method = isinstance(self.facts.parent(self.facts.parent(function)), cst.ClassDef)
        return function.name.value in (self.calls.methods if is_method else self.calls.functions)

    def _released(self, candidate: _Candidate, key: str | None, work: _FunctionWork) -> bool:
        """Closing without a commit rolls back: in the `finally`, later in a function that opened
        the connection, or at the end of an enclosing with-block that closes it."""
        if key is None:
            return False
        finally_body = candidate.node.finalbody.body if candidate.node.finalbody else None
        if finally_body is not None and (_closes(finally_body, key) or _rolls_back(finally_body)):
            return True
        if key in work.releases and self._opened_here(key, work.function):
            return True
        return self._closed_by_enclosing_with(candidate.node, key, work.function)

    def _opened_here(self, key: str, function: cst.FunctionDef) -> bool:
        for statement in _statements(function.body):
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.Assign) and any(connection_key(t.target) == key for t in small.targets):
                    return True
        return False

    def _closed_by_enclosing_with(self, node: cst.CSTNode, key: str, function: cst.FunctionDef) -> bool:
        current = self.facts.parent(node)
        while current is not None and current is not function:
            if isinstance(current, cst.With):
                for item in current.items:
                    bound = item.asname.name if item.asname else None
                    closing = (
                        isinstance(item.item, cst.Call)
                        and qualified_names(self.get_metadata, item.item.func) & _CLOSING
                    )
                    if (connection_key(bound) == key or closing) and not transaction_block(item.item, self.facts):
                        return True
            current = self.facts.parent(current)
        return False

    def _enclosing_block(self, node: cst.CSTNode, function: cst.FunctionDef) -> tuple[str, int] | None:
        child, current = node, self.facts.parent(node)
        while current is not None and current is not function:
            if isinstance(current, cst.With) and child is current.body:
                for item in current.items:
                    block = transaction_block(item.item, self.facts)
                    if block is not None:
                        return block, self.facts.line(current)
            child, current = current, self.facts.parent(current)
        for decorator in function.decorators:
            block = transaction_block(decorator.decorator, self.facts)
            if block is not None:
                return f"@{block}", self.facts.line(decorator)
        return None

    def _severity(self, commit: TransactionCall) -> Severity:
        connection = commit.connection
        return (
            Severity.ERROR if connection is not None and is_module_level(connection, self.facts) else Severity.WARNING
        )

    # -- messages -----------------------------------------------------------------------------

    def _commit_message(self, handler: cst.ExceptHandler, commit: TransactionCall) -> str:
        caught = _caught_text(self.module, handler)
        line = self.facts.line(commit.call)
        key = commit.connection_key or "the connection"
        if commit.connection is not None and is_sqlalchemy_session(commit.connection, self.facts):
            consequence = "the session stays in its failed transaction and every later use raises PendingRollbackError"
        else:
            consequence = (
                f"what ran before the failure stays pending on `{key}` and its next commit writes it "
                "(PostgreSQL instead refuses every statement until a rollback)"
            )
        return (
            f"`{caught}` swallows a failure in the work `{commit.api}` (line {line}) would commit, without "
            f"`{key}.rollback()`: {consequence}; roll back or re-raise in the handler"
        )

    def _block_message(self, handler: cst.ExceptHandler, block: tuple[str, int], django: bool) -> str:
        caught = _caught_text(self.module, handler)
        name, line = block
        if django:
            return (
                f"`{caught}` catches a failed query inside `{name}` (line {line}) and carries on: Django has "
                "marked the block for rollback, so its later queries fail and its end silently rolls back "
                "every write in it; wrap the writes that may fail in their own `transaction.atomic()` inside the `try`"
            )
        return (
            f"`{caught}` swallows a failure partway through the writes inside `{name}` (line {line}), which "
            "still commits when it ends: the writes before the failure are committed without the rest "
            "(PostgreSQL instead rejects the rest of the transaction); roll back or re-raise in the handler"
        )


class _TryBody(cst.CSTVisitor):
    """The commits and writes a `try` body runs that a failure would leave behind: not those in
    nested functions, nor in with-blocks or inner `try`s that roll back on the way out."""

    def __init__(self, rule: CommitWithoutRollback) -> None:
        super().__init__()
        self.rule = rule
        self.commits: list[TransactionCall] = []
        self.writes: list[Write] = []
        self.protected: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_With(self, node: cst.With) -> bool:
        return not any(self._rolls_back_on_exit(item.item) for item in node.items)

    def visit_Try(self, node: cst.Try) -> bool:
        return not any(_rolls_back(handler.body) for handler in node.handlers)

    def visit_Call(self, node: cst.Call) -> None:
        rule = self.rule
        if not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        if method == "commit" and not node.args:
            commit = transaction_call(node, rule.facts, rule.strings)
            if commit is not None and (
                commit.connection_key == "django" or is_database_object(node.func.value, rule.facts)
            ):
                self.commits.append(commit)
        elif method in WRITE_METHODS:
            write = rule.finder.write(node)
            if write is not None:
                self.writes.append(write)

    def _rolls_back_on_exit(self, item: cst.BaseExpression) -> bool:
        """A transaction block, or a context that closes a connection or session it opened."""
        rule = self.rule
        if transaction_block(item, rule.facts):
            return True
        if not isinstance(item, cst.Call) or (
            isinstance(item.func, cst.Attribute) and item.func.attr.value == "cursor"
        ):
            return False
        if qualified_names(rule.get_metadata, item.func) & _CLOSING or _OPENER.search(last_identifier(item.func) or ""):
            return True
        return is_database_object(item, rule.facts)


def _handles(handler: cst.ExceptHandler, facts: ModuleFacts) -> bool:
    """The handler re-raises, rolls back or aborts the request (checked by syntax)."""
    finder = _HandlerCheck(facts)
    handler.body.visit(finder)
    return finder.handles


class _HandlerCheck(cst.CSTVisitor):
    def __init__(self, facts: ModuleFacts) -> None:
        super().__init__()
        self.facts = facts
        self.handles = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Raise(self, node: cst.Raise) -> None:
        self.handles = True

    def visit_Call(self, node: cst.Call) -> None:
        name = last_identifier(node.func) or ""
        raising = name in ("abort", "exit") and bool(self.facts.qualified_names(node.func) & _RAISING_CALLS)
        if "rollback" in name.lower() or raising:
            self.handles = True


def _returns_a_response(body: cst.BaseSuite) -> bool:
    """The handler's last statement returns an HTTP response: `jsonify(...)`,
    `make_response(...)`, `internal_server_error(...)`, or a `(body, status)` tuple."""
    statements = _statements(body) or list(getattr(body, "body", ()))
    last = statements[-1] if statements else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1]
    if not isinstance(last, cst.Return) or last.value is None:
        return False
    value = last.value
    if isinstance(value, cst.Tuple) and len(value.elements) >= 2:
        status = value.elements[1].value
        return isinstance(status, cst.Integer) and 100 <= status.evaluated_value <= 599
    name = last_identifier(value.func) if isinstance(value, cst.Call) else None
    return name is not None and _RESPONSE_MAKER.search(name) is not None


def _only_logs_and_responds(body: cst.BaseSuite) -> bool:
    """Every call in the handler builds the response, its text, or a log line; no `X.query`."""
    finder = _OtherWork()
    body.visit(finder)
    return not finder.found


class _OtherWork(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "query":  # Flask-SQLAlchemy's `Model.query` runs through the session
            self.found = True

    def visit_Call(self, node: cst.Call) -> None:
        name = last_identifier(node.func) or ""
        if name in _HARMLESS_CALLS or _RESPONSE_MAKER.match(name):
            return
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
        if _LOGGING.search(name) or (receiver is not None and _LOGGING.search(_CODE.code_for_node(receiver))):
            return
        self.found = True


class _ModuleCalls(cst.CSTVisitor):
    """Names called as functions (`f()`) and as methods of the class or its instance."""

    def __init__(self) -> None:
        super().__init__()
        self.functions: set[str] = set()
        self.methods: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            self.functions.add(func.value)
        elif isinstance(func, cst.Attribute) and _names_own_class(func.value):
            self.methods.add(func.attr.value)


def _names_own_class(receiver: cst.BaseExpression) -> bool:
    """`self`, `cls`, `super()`, or a class by its CapWords name."""
    if isinstance(receiver, cst.Call):
        return isinstance(receiver.func, cst.Name) and receiver.func.value == "super"
    return isinstance(receiver, cst.Name) and (receiver.value in ("self", "cls") or receiver.value[:1].isupper())


def _may_write_or_commit(body: cst.BaseSuite) -> bool:
    """A cheap look, by method name only, before any name is resolved."""
    finder = _NamedCalls(lambda name, _call: name == "commit" or name in WRITE_METHODS)
    body.visit(finder)
    return finder.found


def _rolls_back(body: cst.BaseSuite | cst.CSTNode) -> bool:
    finder = _NamedCalls(lambda name, _call: "rollback" in name.lower())
    body.visit(finder)
    return finder.found


def _closes(body: cst.CSTNode, key: str) -> bool:
    finder = _NamedCalls(lambda name, call: name in _RELEASES and connection_key(call.func.value) == key)
    body.visit(finder)
    return finder.found


class _NamedCalls(cst.CSTVisitor):
    def __init__(self, accept) -> None:
        super().__init__()
        self.accept = accept
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and self.accept(node.func.attr.value, node):
            self.found = True


def _statements(body: cst.BaseSuite) -> list[cst.CSTNode]:
    return list(body.body) if isinstance(body, cst.IndentedBlock) else []


def _caught_text(module: cst.Module, handler: cst.ExceptHandler) -> str:
    return f"except {module.code_for_node(handler.type)}" if handler.type is not None else "except:"
