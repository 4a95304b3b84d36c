"""SQL006 unbounded-read-in-handler: a request handler returns every row a query matches.

How it decides (queries from reviewer.analysis.queries, handlers from reviewer.analysis.routes):
- The function is a request handler (Flask, FastAPI, Starlette, Django views, DRF views,
  viewsets, `@api_view`, `@action`).
- A `return` of that function carries a query result with many rows: `fetchall()`, `.all()`,
  asyncpg `fetch()`, pandas `read_sql()`, `get_list_or_404()`, a Django queryset (serialized or
  rendered, it is evaluated in full) — directly, inside a dict/list/tuple, through local
  variables, through a comprehension over it (`[dict(r) for r in rows]`), or through known
  response and serialization calls (`jsonify`, `JsonResponse`, DRF `Response`, FastAPI
  `JSONResponse`/`jsonable_encoder`, `render`, `render_template`, `json.dumps`, a serializer or
  schema called with `many=True` and its `.data`, a DataFrame's `to_dict()`/`to_json()`).
- The query is a read whose statement does not bound its rows: no `LIMIT`/`FETCH FIRST`/`TOP`,
  no slice (`qs[:50]`), `.limit()`, `.paginate()` or `fetchmany()`, not a primary-key lookup
  (`pk=`, `id = %s`, `Model.id == x`), not an aggregate (`COUNT(*)`, `.count()`), not a single
  row (`.first()`, `.get()`, `.one()`, `fetchone()`).
- Not flagged: DRF views that declare a `pagination_class`, reads whose rows are not returned
  (summed, counted, checked), SQL whose text is not known here, Django related managers (only
  the model knows what they are), and functions that are not handlers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property

import libcst as cst

from reviewer.analysis.bindings import BindingKind, reaching_bindings
from reviewer.analysis.calls import keyword_arg, literal_bool, positional_args
from reviewer.analysis.facts import ModuleFacts, module_names_for_path
from reviewer.analysis.queries import (
    Cardinality,
    Operation,
    Query,
    QueryReader,
    QueryResult,
    might_query,
)
from reviewer.analysis.routes import RouteIndex, RouteInfo
from reviewer.cst_rule import CstRule, Invalid, Valid
from reviewer.finding import Severity

_HANDLER_HINT = re.compile(r"@|View|HTTPEndpoint|\brequest\b|add_url_rule|add_api_route|Route\(|\bpath\(")
_RESPONSE_CALLS = frozenset(
    {
        "flask.jsonify",
        "flask.json.jsonify",
        "flask.make_response",
        "flask.render_template",
        "flask.templating.render_template",
        "django.http.JsonResponse",
        "django.http.response.JsonResponse",
        "django.shortcuts.render",
        "django.template.response.TemplateResponse",
        "django.core.serializers.serialize",
        "rest_framework.response.Response",
        "starlette.responses.JSONResponse",
        "fastapi.responses.JSONResponse",
        "fastapi.responses.ORJSONResponse",
        "fastapi.responses.UJSONResponse",
        "fastapi.encoders.jsonable_encoder",
        "json.dumps",
        "orjson.dumps",
    }
)
_EXPORTING_METHODS = frozenset({"to_dict", "to_json", "to_records"})
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_MAX_DEPTH = 12


class UnboundedReadInHandler(CstRule):
    code = "SQL006"
    name = "unbounded-read-in-handler"
    severity = Severity.NOTE
    summary = "A request handler returns every row a query matches, with no LIMIT or pagination"
    what = """
        Flags a query result returned by a request handler (Flask, FastAPI, Starlette, Django,
        DRF) when the query reads every matching row: `cur.fetchall()` or asyncpg `fetch()` of a
        `SELECT` without `LIMIT`/`FETCH FIRST`/`TOP`, SQLAlchemy `.all()` without `.limit()`,
        a Django queryset without a slice, pandas `read_sql()`. The rows may be returned
        directly, in a dict or list, through a local variable, a comprehension, a serializer
        with `many=True`, `jsonify()`, `JsonResponse()`, DRF `Response()` or a template.
        Single rows, aggregates, primary-key lookups, sliced or limited queries and DRF views
        with a `pagination_class` are not flagged.
    """
    why = """
        A table grows; a handler that returns all of it gets slower with every row, until one
        request reads a million rows into memory, serializes them and sends megabytes to a
        client that shows twenty. Any caller can trigger that work over and over, which makes
        the endpoint an easy way to exhaust the database, the worker's memory and the network
        (allocation without limits, CWE-770). Paginating — a capped `LIMIT` with `OFFSET`, or
        keyset pagination (`WHERE id > :last ORDER BY id LIMIT :n`), DRF pagination classes, a
        FastAPI `limit` query parameter with a maximum — keeps every response the same small
        size whatever the table holds.
    """
    references = (
        "https://cwe.mitre.org/data/definitions/770.html",
        "https://www.postgresql.org/docs/current/queries-limit.html",
        "https://use-the-index-luke.com/no-offset",
        "https://www.django-rest-framework.org/api-guide/pagination/",
        "https://docs.djangoproject.com/en/stable/topics/db/queries/#limiting-querysets",
        "https://docs.djangoproject.com/en/stable/topics/pagination/",
        "https://docs.sqlalchemy.org/en/20/core/selectable.html#sqlalchemy.sql.expression.Select.limit",
        "https://fastapi.tiangolo.com/tutorial/query-params-str-validations/",
    )
    cwe = (770,)
    tags = ("performance", "availability")
    confidence = "medium"

    VALID = [
        Valid(
            """
            import sqlite3
            from flask import Flask, jsonify, request

            app = Flask(__name__)

            @app.route("/users")
            def users():
                limit = min(int(request.args.get("limit", 50)), 100)
                db = sqlite3.connect("app.db")
                rows = db.execute("SELECT id, name FROM users ORDER BY id LIMIT ?", (limit,)).fetchall()
                return jsonify([dict(zip(("id", "name"), row)) for row in rows])
            """
        ),
        Valid(
            """
            from django.shortcuts import get_object_or_404, render
            from django.http import JsonResponse
            from .models import Order

            def order_detail(request, pk):
                order = get_object_or_404(Order, pk=pk)
                lines = Order.objects.filter(pk=pk).values("id", "total")
                return JsonResponse({"order": order.id, "lines": list(lines), "latest": Order.objects.order_by("-id").first().id})

            def recent_orders(request):
                return render(request, "orders/recent.html", {"orders": Order.objects.order_by("-created")[:50]})
            """,
            path="shop/views.py",
        ),
        Valid(
            """
            from rest_framework.views import APIView
            from rest_framework.response import Response
            from rest_framework.pagination import PageNumberPagination
            from .models import Order
            from .serializers import OrderSerializer

            class OrderList(APIView):
                pagination_class = PageNumberPagination

                def get(self, request):
                    orders = Order.objects.filter(owner=request.user)
                    return Response(OrderSerializer(orders, many=True).data)
            """
        ),
        Valid(
            """
            from fastapi import APIRouter, Depends, Query
            from sqlalchemy import func, select
            from sqlalchemy.orm import Session
            from .db import get_session
            from .models import Item

            router = APIRouter()

            @router.get("/items")
            def items(limit: int = Query(50, le=100), offset: int = 0, session: Session = Depends(get_session)):
                total = session.scalar(select(func.count()).select_from(Item))
                rows = session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)).all()
                return {"total": total, "items": rows, "count": session.query(Item).count()}

            @router.get("/items/{item_id}")
            def item(item_id: int, session: Session = Depends(get_session)):
                return session.execute(select(Item).where(Item.id == item_id)).scalars().all()
            """
        ),
        Valid(
            """
            import psycopg2
            from flask import Blueprint

            bp = Blueprint("reports", __name__)

            @bp.get("/reports/revenue")
            def revenue():
                conn = psycopg2.connect("dbname=shop")
                with conn.cursor() as cur:
                    cur.execute("SELECT amount FROM payments WHERE status = 'paid'")
                    amounts = cur.fetchall()
                    cur.execute("SELECT count(*), sum(amount) FROM refunds")
                    refunds = cur.fetchone()
                total = sum(amount for (amount,) in amounts)
                return {"revenue": total, "refunds": refunds[0]}
            """
        ),
        Valid(
            """
            from .models import Order

            def export_orders(customer):
                return list(Order.objects.filter(customer=customer))

            def all_orders(request):
                return Order.objects.all()
            """,
            path="shop/services.py",
        ),
        Valid(
            """
            from django.core.paginator import Paginator
            from django.shortcuts import render
            from .models import Article

            def articles(request):
                page = Paginator(Article.objects.order_by("-published"), 25).get_page(request.GET.get("page"))
                return render(request, "articles.html", {"page": page})
            """,
            path="blog/views.py",
        ),
        Valid(
            """
            import asyncpg
            from fastapi import FastAPI

            app = FastAPI()

            @app.get("/events/{event_id}")
            async def event(event_id: int):
                conn = await asyncpg.connect()
                return await conn.fetch("SELECT id, kind FROM events WHERE id = $1", event_id)

            @app.get("/me/teams")
            async def teams(request):
                return [team.name for team in request.user.teams.all()]
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import sqlite3
            from flask import Flask, jsonify

            app = Flask(__name__)

            @app.route("/users")
            def users():
                db = sqlite3.connect("app.db")
                rows = db.execute("SELECT id, name FROM users ORDER BY id").fetchall()
                return jsonify([dict(zip(("id", "name"), row)) for row in rows])
            """,
            line=10,
        ),
        Invalid(
            """
            from django.http import JsonResponse
            from .models import Order

            def order_list(request):
                orders = Order.objects.filter(owner=request.user).values("id", "total")
                return JsonResponse({"orders": list(orders)})
            """,
            path="shop/views.py",
            line=6,
        ),
        Invalid(
            """
            from rest_framework.views import APIView
            from rest_framework.response import Response
            from .models import Order
            from .serializers import OrderSerializer

            class OrderList(APIView):
                def get(self, request):
                    serializer = OrderSerializer(Order.objects.all(), many=True)
                    return Response(serializer.data)
            """,
            line=9,
        ),
        Invalid(
            """
            from fastapi import APIRouter, Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from .db import get_session
            from .models import Item

            router = APIRouter()

            @router.get("/items")
            async def items(session: AsyncSession = Depends(get_session)):
                result = await session.execute(select(Item).where(Item.archived.is_(False)))
                return result.scalars().all()
            """,
            line=12,
        ),
        Invalid(
            """
            from fastapi import FastAPI, Depends
            from sqlalchemy.orm import Session
            from .db import get_db
            from .models import User

            app = FastAPI()

            @app.get("/users")
            def list_users(db: Session = Depends(get_db)):
                return db.query(User).filter(User.active.is_(True)).order_by(User.name).all()
            """,
            line=11,
        ),
        Invalid(
            """
            import asyncpg
            from starlette.applications import Starlette
            from starlette.responses import JSONResponse
            from starlette.routing import Route

            async def audit_log(request):
                conn = await asyncpg.connect()
                rows = await conn.fetch("SELECT actor, action, at FROM audit_log WHERE tenant = $1", request.path_params["tenant"])
                return JSONResponse({"entries": [dict(row) for row in rows]})

            app = Starlette(routes=[Route("/audit/{tenant}", audit_log)])
            """,
            line=9,
        ),
    ]

    @classmethod
    def should_run(cls, source: str) -> bool:
        return _HANDLER_HINT.search(source) is not None and might_query(source)

    def visit_Module(self, node: cst.Module) -> None:
        self.facts = ModuleFacts(self, module_names_for_path(self.context.path))
        self.queries = QueryReader(self.facts)
        self.functions: list[cst.FunctionDef] = []
        self.route_of: dict[int, RouteInfo | None] = {}
        self.reported: set[int] = set()

    @cached_property
    def routes(self) -> RouteIndex:
        return RouteIndex.for_rule(self)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Return(self, node: cst.Return) -> None:
        if not self.functions or node.value is None or isinstance(node.value, (cst.BaseNumber, cst.BaseString)):
            return
        function = self.functions[-1]
        route = self._route(function)
        if route is None or self._paginated_view(function):
            return
        for result in self._payload(node.value, 0):
            query = result.query
            if _unbounded(result) and id(query.statement) not in self.reported:
                self.reported.add(id(query.statement))
                self.report(query.statement, self._message(query, route, node))

    def _route(self, function: cst.FunctionDef) -> RouteInfo | None:
        key = id(function)
        if key not in self.route_of:
            self.route_of[key] = self.routes.route_info(function)
        return self.route_of[key]

    def _paginated_view(self, function: cst.FunctionDef) -> bool:
        """A class-based view that declares a `pagination_class` (other than None)."""
        block = self.facts.parent(function)
        view = self.facts.parent(block) if isinstance(block, cst.IndentedBlock) else None
        if not isinstance(view, cst.ClassDef):
            return False
        for statement in view.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "pagination_class" for t in small.targets
                ):
                    return not (isinstance(small.value, cst.Name) and small.value.value == "None")
        return False

    def _payload(self, node: cst.BaseExpression, depth: int) -> Iterator[QueryResult]:
        """The query results that reach the client when `node` is returned."""
        if depth > _MAX_DEPTH:
            return
        depth += 1
        result = self.queries.result_of(node)
        if result is not None:
            yield result
        elif isinstance(node, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
            for element in node.elements:
                yield from self._payload(element.value, depth)
        elif isinstance(node, _COMPREHENSIONS):
            yield from self._payload(node.for_in.iter, depth)  # one item out per row in
        elif isinstance(node, cst.Await):
            yield from self._payload(node.expression, depth)
        elif isinstance(node, cst.Name):
            for binding in reaching_bindings(node, self.facts):
                if binding.kind is BindingKind.VALUE and binding.same_function and binding.expression is not None:
                    yield from self._payload(binding.expression, depth)
        elif isinstance(node, cst.Attribute) and node.attr.value == "data":
            yield from self._payload(node.value, depth)  # a serializer's output
        elif isinstance(node, cst.Call):
            yield from self._call_payload(node, depth)

    def _call_payload(self, call: cst.Call, depth: int) -> Iterator[QueryResult]:
        arguments = positional_args(call)
        if literal_bool(keyword_arg(call, "many")) and arguments:
            yield from self._payload(arguments[0], depth)  # Serializer(rows, many=True), schema.dump(rows, many=True)
        elif self.facts.qualified_names(call.func) & _RESPONSE_CALLS:
            for arg in call.args:
                yield from self._payload(arg.value, depth)
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value in _EXPORTING_METHODS:
            yield from self._payload(call.func.value, depth)

    def _message(self, query: Query, route: RouteInfo, returned: cst.Return) -> str:
        line = self.facts.line(returned)
        where = f" (returned on line {line})" if line != self.facts.line(query.statement) else ""
        return f"`{query.api}` sends every matching row to the client{where}; {_advice(query, route)}"


def _unbounded(result: QueryResult) -> bool:
    query = result.query
    return (
        result.cardinality is Cardinality.MANY
        and query.certain
        and query.operation is Operation.READ
        and not query.bounded
    )


def _advice(query: Query, route: RouteInfo) -> str:
    fastapi = " (e.g. `limit: int = Query(50, le=100)`)" if route.framework == "fastapi" else ""
    if query.family == "django":
        if route.framework == "drf":
            return (
                "set a DRF `pagination_class` and return `self.get_paginated_response(...)`, "
                "or slice the queryset to a capped page size"
            )
        return (
            "slice the queryset to a capped page (`qs[offset:offset + limit]`) or use `django.core.paginator.Paginator`"
        )
    if query.family == "sqlalchemy":
        return (
            f"add `.limit()`/`.offset()` from a capped page-size parameter{fastapi}, or paginate by key "
            "(`.where(Model.id > last_id).order_by(Model.id).limit(n)`)"
        )
    return (
        f"add `LIMIT`/`OFFSET` bound to a capped page size{fastapi}, or paginate by key "
        "(`WHERE id > … ORDER BY id LIMIT …`)"
    )
