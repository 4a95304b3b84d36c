"""The shared request-handler model: which functions are routes, for which framework and methods."""

from __future__ import annotations

import textwrap
from functools import cached_property

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from reviewer.analysis.routes import ROUTE_METADATA, RouteIndex, RouteInfo
from reviewer.cst_rule import CstRule
from reviewer.engines.cst_engine import analyze_source


class _RouteCollector(cst.CSTVisitor):
    """Asks the index about every function, the way a rule's visit_FunctionDef would."""

    METADATA_DEPENDENCIES = ROUTE_METADATA

    def __init__(self, path: str, files: dict[str, str]) -> None:
        super().__init__()
        self.index = RouteIndex(self.get_metadata, path, lambda relative: files.get(relative))
        self.classes: list[str] = []
        self.routes: dict[str, RouteInfo | None] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = ".".join([*self.classes[-1:], node.name.value])
        self.routes[name] = self.index.route_info(node)


def routes(source: str, path: str = "app.py", files: dict[str, str] | None = None) -> dict[str, RouteInfo | None]:
    module = cst.parse_module(textwrap.dedent(source))
    collector = _RouteCollector(path, {k: textwrap.dedent(v) for k, v in (files or {}).items()})
    MetadataWrapper(module).visit(collector)
    return collector.routes


# --- Flask -------------------------------------------------------------------------------------


def test_flask_app_route_with_alias_and_methods() -> None:
    found = routes(
        """
        from flask import Flask as F
        app = F(__name__)

        @app.route("/items", methods=["get", "POST"])
        def items(): ...

        @app.route("/")
        def index(): ...

        @app.delete("/items/<int:id>")
        def delete_item(id): ...
        """
    )
    assert found == {
        "items": RouteInfo("flask", ("GET", "POST"), "/items", "function"),
        "index": RouteInfo("flask", ("GET",), "/", "function"),
        "delete_item": RouteInfo("flask", ("DELETE",), "/items/<int:id>", "function"),
    }


def test_flask_blueprint_via_module_import_and_keyword_rule() -> None:
    found = routes(
        """
        import flask
        bp: flask.Blueprint = flask.Blueprint("auth", __name__, url_prefix="/auth")

        @bp.route(rule="/login", methods=ALLOWED)
        def login(): ...
        """
    )
    assert found == {"login": RouteInfo("flask", (), "/login", "function")}


def test_flask_app_created_inside_a_factory() -> None:
    found = routes(
        """
        from flask import Flask

        def create_app():
            app = Flask(__name__)

            @app.post("/hooks")
            def hook(): ...

            return app
        """
    )
    assert found["create_app"] is None
    assert found["hook"] == RouteInfo("flask", ("POST",), "/hooks", "function")


def test_flask_add_url_rule_and_stacked_decorators() -> None:
    found = routes(
        """
        from flask import Flask
        app = Flask(__name__)

        def health(): ...
        app.add_url_rule("/health", "health", health, methods=["HEAD", "GET"])

        def other(): ...
        app.add_url_rule("/other", view_func=other)

        @app.get("/a")
        @app.post("/a")
        def both(): ...
        """
    )
    assert found["health"] == RouteInfo("flask", ("HEAD", "GET"), "/health", "function")
    assert found["other"] == RouteInfo("flask", ("GET",), "/other", "function")
    assert found["both"] == RouteInfo("flask", ("GET", "POST"), "/a", "function")


def test_flask_method_view_and_view() -> None:
    found = routes(
        """
        from flask.views import MethodView, View

        class Base(MethodView):
            pass

        class UserAPI(Base):
            def get(self, id): ...
            def post(self): ...
            def _load(self): ...

        class Export(View):
            methods = ["POST"]
            def dispatch_request(self): ...
        """
    )
    assert found["UserAPI.get"] == RouteInfo("flask", ("GET",), None, "method", "UserAPI")
    assert found["UserAPI.post"] == RouteInfo("flask", ("POST",), None, "method", "UserAPI")
    assert found["UserAPI._load"] is None
    assert found["Export.dispatch_request"] == RouteInfo("flask", ("POST",), None, "method", "Export")


def test_flask_blueprint_imported_from_package_init() -> None:
    files = {
        "app/main/__init__.py": """
            from flask import Blueprint
            main = Blueprint("main", __name__)
            from . import views
        """,
        "app/__init__.py": """
            from flask import Flask
            app = Flask(__name__)
            cache = make_cache(app)
        """,
    }
    source = """
        from . import main
        from app import app, cache

        @main.route("/")
        def index(): ...

        @app.route("/about")
        def about(): ...

        @cache.get("/x")
        def cached(): ...
    """
    found = routes(source, path="app/main/views.py", files=files)
    assert found == {
        "index": RouteInfo("flask", ("GET",), "/", "function"),
        "about": RouteInfo("flask", ("GET",), "/about", "function"),
        "cached": None,
    }


def test_flask_appbuilder_exposed_methods() -> None:
    found = routes(
        """
        from flask_appbuilder import BaseView, expose
        from flask_appbuilder.api import expose as api_expose
        from mylib import expose as other_expose

        class TagView(BaseView):
            @expose("/tags/", methods=("GET", "post"))
            def tags(self): ...

            @api_expose("/<pk>")
            def get(self, pk): ...

            @other_expose("/nope")
            def lookalike(self): ...

            def helper(self): ...
        """
    )
    assert found["TagView.tags"] == RouteInfo("flask-appbuilder", ("GET", "POST"), "/tags/", "method", "TagView")
    assert found["TagView.get"] == RouteInfo("flask-appbuilder", ("GET",), "/<pk>", "method", "TagView")
    assert found["TagView.lookalike"] is None and found["TagView.helper"] is None


def test_imported_receiver_without_repository_access_is_unknown() -> None:
    found = routes(
        """
        from app import app

        @app.route("/")
        def index(): ...
        """,
        path="app/views_flask.py",
    )
    assert found == {"index": None}


# --- FastAPI and Starlette ---------------------------------------------------------------------


def test_fastapi_app_and_router() -> None:
    found = routes(
        """
        from fastapi import APIRouter, FastAPI

        app = FastAPI()
        router = APIRouter(prefix="/users")

        @app.get("/items/{item_id}")
        async def read_item(item_id: int): ...

        @router.post(path="/")
        async def create_user(): ...

        @router.api_route("/any", methods=["GET", "PUT"])
        def any_route(): ...

        @app.websocket("/ws")
        async def socket(ws): ...

        async def added(): ...
        router.add_api_route("/added", added, methods=["PATCH"])
        """
    )
    assert found == {
        "read_item": RouteInfo("fastapi", ("GET",), "/items/{item_id}", "function"),
        "create_user": RouteInfo("fastapi", ("POST",), "/", "function"),
        "any_route": RouteInfo("fastapi", ("GET", "PUT"), "/any", "function"),
        "socket": RouteInfo("fastapi", ("WEBSOCKET",), "/ws", "function"),
        "added": RouteInfo("fastapi", ("PATCH",), "/added", "function"),
    }


def test_starlette_routes_and_endpoints() -> None:
    found = routes(
        """
        from starlette.applications import Starlette
        from starlette.endpoints import HTTPEndpoint
        from starlette.routing import Route, WebSocketRoute

        async def homepage(request): ...
        async def feed(websocket): ...
        async def unused(request): ...

        class Users(HTTPEndpoint):
            async def get(self, request): ...

        app = Starlette(routes=[
            Route("/", homepage, methods=["GET", "POST"]),
            WebSocketRoute("/feed", feed),
            Route("/users", Users),
        ])
        """
    )
    assert found == {
        "homepage": RouteInfo("starlette", ("GET", "POST"), "/", "function"),
        "feed": RouteInfo("starlette", ("WEBSOCKET",), "/feed", "function"),
        "unused": None,
        "Users.get": RouteInfo("starlette", ("GET",), None, "method", "Users"),
    }


# --- Django and DRF ----------------------------------------------------------------------------


def test_django_function_views_by_convention_in_views_module() -> None:
    source = """
        from django.shortcuts import render

        def article_list(request):
            return render(request, "list.html")

        async def article_detail(request, pk): ...

        def _helper(request): ...

        def build_context(user): ...

        class Helper:
            def get(self, request): ...
    """
    assert routes(source, path="blog/views.py") == {
        "article_list": RouteInfo("django", (), None, "function"),
        "article_detail": RouteInfo("django", (), None, "function"),
        "_helper": None,
        "build_context": None,
        "Helper.get": None,
    }
    assert routes(source, path="blog/views/articles.py")["article_list"] == RouteInfo("django", (), None, "function")
    assert routes(source, path="blog/services.py")["article_list"] is None


def test_django_views_marked_by_decorators_or_url_patterns_anywhere() -> None:
    found = routes(
        """
        from django.urls import path
        from django.views.decorators.http import require_GET, require_http_methods

        @require_GET
        def ping(request): ...

        @require_http_methods(["GET", "POST"])
        def form(request): ...

        def status(request): ...

        urlpatterns = [path("status/", status)]
        """,
        path="blog/api.py",
    )
    assert found == {
        "ping": RouteInfo("django", ("GET",), None, "function"),
        "form": RouteInfo("django", ("GET", "POST"), None, "function"),
        "status": RouteInfo("django", (), "status/", "function"),
    }


def test_django_class_based_views() -> None:
    found = routes(
        """
        from django.contrib.auth.mixins import LoginRequiredMixin
        from django.views import View
        from django.views.generic import ListView as LV

        class Home(View):
            def get(self, request): ...
            def get_context(self): ...

        class Articles(LoginRequiredMixin, LV):
            def post(self, request): ...
            def get_queryset(self): ...
        """,
        path="blog/pages.py",
    )
    assert found == {
        "Home.get": RouteInfo("django", ("GET",), None, "method", "Home"),
        "Home.get_context": None,
        "Articles.post": RouteInfo("django", ("POST",), None, "method", "Articles"),
        "Articles.get_queryset": None,
    }


class _ClassCollector(cst.CSTVisitor):
    """Asks the index which framework's view each class of a module is."""

    METADATA_DEPENDENCIES = ROUTE_METADATA

    def __init__(self, path: str) -> None:
        super().__init__()
        self.index = RouteIndex(self.get_metadata, path)
        self.frameworks: dict[str, str | None] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.frameworks[node.name.value] = self.index.view_class_framework(node)


def test_view_class_framework_follows_bases_defined_in_the_file() -> None:
    module = cst.parse_module(
        textwrap.dedent(
            """
            from django.views.generic import CreateView
            from flask.views import MethodView
            from rest_framework import generics
            from shop.mixins import AuditMixin

            class ImportAPI(generics.CreateAPIView): ...
            class BulkImportAPI(AuditMixin, ImportAPI): ...
            class OrderCreate(CreateView): ...
            class Items(MethodView): ...
            class Helper(AuditMixin): ...
            class Plain: ...
            """
        )
    )
    collector = _ClassCollector("shop/api.py")
    MetadataWrapper(module).visit(collector)
    assert collector.frameworks == {
        "ImportAPI": "drf",
        "BulkImportAPI": "drf",
        "OrderCreate": "django",
        "Items": "flask",
        "Helper": None,
        "Plain": None,
    }


def test_drf_views_viewsets_actions_and_api_view() -> None:
    found = routes(
        """
        from rest_framework import generics, viewsets
        from rest_framework.decorators import action, api_view
        from rest_framework.views import APIView

        class Ping(APIView):
            def get(self, request): ...
            def list(self, request): ...

        class Books(generics.ListCreateAPIView):
            def list(self, request): ...

        class Authors(viewsets.ModelViewSet):
            def partial_update(self, request, pk=None): ...
            def get(self, request): ...
            def get_queryset(self): ...

            @action(detail=True, methods=["post"], url_path="set-password")
            def set_password(self, request, pk=None): ...

        @api_view(["GET", "POST"])
        def hello(request): ...

        @api_view()
        def default_get(request): ...
        """,
        path="api/endpoints.py",
    )
    assert found == {
        "Ping.get": RouteInfo("drf", ("GET",), None, "method", "Ping"),
        "Ping.list": None,
        "Books.list": RouteInfo("drf", ("GET",), None, "method", "Books"),
        "Authors.partial_update": RouteInfo("drf", ("PATCH",), None, "method", "Authors"),
        "Authors.get": None,
        "Authors.get_queryset": None,
        "Authors.set_password": RouteInfo("drf", ("POST",), "set-password", "method", "Authors"),
        "hello": RouteInfo("drf", ("GET", "POST"), None, "function"),
        "default_get": RouteInfo("drf", ("GET",), None, "function"),
    }


# --- lookalikes that are not request handlers --------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            """
            from cachetools import Cache
            cache = Cache()

            @cache.get("key")
            def cached(): ...
            """,
            id="cache-get-decorator",
        ),
        pytest.param(
            """
            class Router:
                def route(self, path): ...
            router = Router()

            @router.route("/")
            def page(): ...
            """,
            id="route-method-on-unrelated-object",
        ),
        pytest.param(
            """
            @app.route("/")
            def index(): ...
            """,
            id="receiver-never-assigned",
        ),
        pytest.param(
            """
            from flask import Flask
            app = Flask(__name__)
            app = wrap(app)

            @app.route("/")
            def index(): ...
            """,
            id="receiver-reassigned-to-unknown",
        ),
        pytest.param(
            """
            from flask import Flask
            app = Flask(__name__)

            @app.errorhandler(404)
            def not_found(error): ...

            @app.before_request
            def load_user(): ...

            @app.get
            def bare(): ...
            """,
            id="app-hooks-and-bare-attribute",
        ),
        pytest.param(
            """
            from flask import Flask

            def register(app):
                @app.route("/")
                def index(): ...

            class Flask2(Flask):
                pass
            """,
            id="receiver-is-a-parameter",
        ),
        pytest.param(
            """
            import requests
            session = requests.Session()

            @session.get("/x")
            def fetch(): ...
            """,
            id="http-client-get",
        ),
        pytest.param(
            """
            class Repository:
                def get(self, request):
                    ...
                def post(self, request):
                    ...
            """,
            id="get-method-in-non-view-class",
        ),
        pytest.param(
            """
            from starlette.routing import Route

            async def homepage(request): ...
            Route("/", endpoint=other)
            print(homepage)
            """,
            id="function-used-but-not-as-an-endpoint",
        ),
    ],
)
def test_lookalikes_are_not_routes(source: str) -> None:
    found = routes(source, path="service/handlers.py")
    assert found and all(route is None for route in found.values()), found


# --- inside a rule, in the engine's batched traversal ------------------------------------------


class _EveryRoute(CstRule):
    """A throw-away rule that reports each request handler, the way endpoint rules will ask."""

    code = "TST001"
    name = "every-route"
    METADATA_DEPENDENCIES = (PositionProvider, *ROUTE_METADATA)

    @cached_property
    def routes(self) -> RouteIndex:
        return RouteIndex.for_rule(self)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        route = self.routes.route_info(node)
        if route is not None:
            self.report(node.name, f"{route.framework} {','.join(route.methods)} {route.path}")


def test_route_index_inside_a_rule_uses_the_repository_reader() -> None:
    source = textwrap.dedent(
        """
        from . import api

        @api.get("/users/{user_id}")
        async def read_user(user_id: int): ...

        def helper(): ...
        """
    )
    files = {"svc/__init__.py": "from fastapi import APIRouter\napi = APIRouter()\n"}
    findings = analyze_source([_EveryRoute], "svc/users.py", source, {}, files.get)
    assert [(f.start.line, f.message) for f in findings] == [(5, "fastapi GET /users/{user_id}")]
