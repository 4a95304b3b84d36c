"""Which functions are HTTP request handlers: one shared model for every endpoint rule.

Rules about endpoints (authentication on every route, validated input, status codes, unbounded
reads) all start with "is this function a request handler?". `RouteIndex.route_info(node)`
answers it for a libcst `FunctionDef`, from what the file shows (nothing is imported or run):

- Flask: `@app.route/.get/.post/.put/.patch/.delete` where `app` is assigned `Flask(...)` or
  `Blueprint(...)`; `MethodView` methods; `View.dispatch_request`; `app.add_url_rule(view_func=f)`.
- FastAPI: `@app.get/.post/.../.api_route/.websocket` on `FastAPI()` or `APIRouter()`;
  `app.add_api_route(path, f)`.
- Starlette: `Route(path, f)`, `WebSocketRoute`, `@app.route` on `Starlette()`, `HTTPEndpoint`
  methods.
- Django: class-based views (`View`, `TemplateView`, `ListView`, ...) get/post/... methods;
  functions decorated with `require_http_methods`/`require_GET`/...; functions passed to
  `path()`/`re_path()` in the same file; and, by convention, a public module-level function whose
  first parameter is `request` in a `views.py` module or a `views/` package. Views referenced only
  from another file's `urls.py` outside that convention are not seen.
- DRF: `APIView`/`GenericAPIView` verb methods, concrete generic views' verbs and actions,
  viewset actions (list/create/retrieve/update/partial_update/destroy), `@action` methods and
  `@api_view` functions.

The receiver of a route decorator must be known to be an app or router: assigned from the
framework's constructor in this file (qualified names, so `from flask import Flask as F` works),
or — when a repository reader is given — imported from a module that assigns it so at its top
level (one hop: `from . import bp` with `bp = Blueprint(...)` in the package's `__init__.py`).
Any other object with a `.route` or `.get` attribute is not a router.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable, Iterable

import libcst as cst
from libcst.metadata import (
    Assignment,
    ImportAssignment,
    ScopeProvider,
)

from reviewer.analysis.calls import (
    GetMetadata,
    bind_arguments,
    keyword_arg,
    literal_string,
    literal_strings,
    positional_args,
    qualified_names,
)
from reviewer.analysis.parents import ParentProvider

# The metadata a RouteIndex reads (resolved on first use by CstRule.get_metadata).
ROUTE_METADATA = (ScopeProvider, ParentProvider)

RepoFileReader = Callable[[str], "str | None"]


@dataclass(frozen=True)
class RouteInfo:
    """A request handler. `methods` are upper-case; () means any method or not known statically.

    `path` is the URL pattern as written at the registration in this file (a blueprint's or
    router's prefix is not added), None when it is not a literal here. `kind` is "function" or
    "method" (a method of a class-based view, named in `view_class`).
    """

    framework: str
    methods: tuple[str, ...]
    path: str | None
    kind: str
    view_class: str | None = None


# Constructor -> framework of the objects whose decorators register routes.
ROUTER_CONSTRUCTORS = {
    "flask.Flask": "flask",
    "flask.app.Flask": "flask",
    "flask.Blueprint": "flask",
    "flask.blueprints.Blueprint": "flask",
    "fastapi.FastAPI": "fastapi",
    "fastapi.applications.FastAPI": "fastapi",
    "fastapi.APIRouter": "fastapi",
    "fastapi.routing.APIRouter": "fastapi",
    "starlette.applications.Starlette": "starlette",
    "starlette.routing.Router": "starlette",
}

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")

# framework -> decorator attribute -> default methods (a `methods=` literal overrides them).
ROUTE_DECORATORS: dict[str, dict[str, tuple[str, ...]]] = {
    "flask": {"route": ("GET",), **{verb: (verb.upper(),) for verb in HTTP_VERBS[:5]}},
    "fastapi": {
        "route": ("GET",),
        "api_route": ("GET",),
        "websocket": ("WEBSOCKET",),
        **{verb: (verb.upper(),) for verb in HTTP_VERBS},
    },
    "starlette": {"route": ("GET",), "websocket_route": ("WEBSOCKET",)},
}

# framework -> registering method on an app/router -> (parameters, parameter holding the handler).
REGISTER_METHODS: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "flask": {"add_url_rule": (("rule", "endpoint", "view_func"), "view_func")},
    "fastapi": {
        "add_api_route": (("path", "endpoint"), "endpoint"),
        "add_api_websocket_route": (("path", "endpoint"), "endpoint"),
    },
    "starlette": {"add_route": (("path", "route"), "route"), "add_websocket_route": (("path", "route"), "route")},
}

# Route objects and URL-conf entries that name their handler: qualified name -> (framework, params).
ROUTE_CONSTRUCTORS = {
    "starlette.routing.Route": ("starlette", ("path", "endpoint")),
    "starlette.routing.WebSocketRoute": ("starlette", ("path", "endpoint")),
    "django.urls.path": ("django", ("route", "view")),
    "django.urls.re_path": ("django", ("route", "view")),
}
# Registering methods and route constructors (by qualified name) whose handler serves a websocket.
_WEBSOCKET_REGISTRATIONS = {"add_api_websocket_route", "add_websocket_route", "starlette.routing.WebSocketRoute"}

DJANGO_METHOD_DECORATORS = {
    "django.views.decorators.http.require_GET": ("GET",),
    "django.views.decorators.http.require_POST": ("POST",),
    "django.views.decorators.http.require_safe": ("GET", "HEAD"),
}
DJANGO_METHODS_DECORATOR = "django.views.decorators.http.require_http_methods"
DRF_API_VIEW = "rest_framework.decorators.api_view"
# Flask-AppBuilder (Superset, Airflow 2) routes methods of its views with `@expose(url, methods)`.
FAB_EXPOSE = frozenset(
    {"flask_appbuilder.expose", "flask_appbuilder.api.expose", "flask_appbuilder.baseviews.expose"}
)
DRF_ACTION = "rest_framework.decorators.action"

DRF_ACTIONS = {
    "list": "GET",
    "retrieve": "GET",
    "create": "POST",
    "update": "PUT",
    "partial_update": "PATCH",
    "destroy": "DELETE",
}

# Class-based views: which method names handle requests, per family of base class.
VERB_METHODS = {verb: verb.upper() for verb in HTTP_VERBS}
VERBS_AND_ACTIONS = {**VERB_METHODS, **DRF_ACTIONS}


@dataclass(frozen=True)
class _ViewFamily:
    framework: str
    handlers: dict[str, str]  # method name -> HTTP method ("" = from the class's `methods`)


_DJANGO_VIEWS = _ViewFamily("django", VERB_METHODS)
_DRF_VIEWS = _ViewFamily("drf", VERB_METHODS)
_DRF_GENERIC_VIEWS = _ViewFamily("drf", VERBS_AND_ACTIONS)
_DRF_VIEWSETS = _ViewFamily("drf", DRF_ACTIONS)
_FLASK_METHOD_VIEWS = _ViewFamily("flask", VERB_METHODS)
_FLASK_VIEWS = _ViewFamily("flask", {"dispatch_request": ""})
_STARLETTE_ENDPOINTS = _ViewFamily("starlette", VERB_METHODS)

_DJANGO_VIEW_CLASSES = (
    "View TemplateView RedirectView ListView DetailView CreateView UpdateView DeleteView FormView "
    "ArchiveIndexView YearArchiveView MonthArchiveView WeekArchiveView DayArchiveView TodayArchiveView "
    "DateDetailView BaseListView BaseDetailView BaseCreateView BaseUpdateView BaseDeleteView BaseFormView "
    "ProcessFormView"
).split()
_DRF_GENERIC_CLASSES = (
    "CreateAPIView ListAPIView RetrieveAPIView DestroyAPIView UpdateAPIView ListCreateAPIView "
    "RetrieveUpdateAPIView RetrieveDestroyAPIView RetrieveUpdateDestroyAPIView"
).split()
_DRF_VIEWSET_CLASSES = "ViewSet GenericViewSet ModelViewSet ReadOnlyModelViewSet".split()


def _view_base_families() -> dict[str, _ViewFamily]:
    families = {
        "rest_framework.views.APIView": _DRF_VIEWS,
        "rest_framework.generics.GenericAPIView": _DRF_VIEWS,
        "flask.views.MethodView": _FLASK_METHOD_VIEWS,
        "flask.views.View": _FLASK_VIEWS,
        "starlette.endpoints.HTTPEndpoint": _STARLETTE_ENDPOINTS,
    }
    families.update({f"rest_framework.generics.{name}": _DRF_GENERIC_VIEWS for name in _DRF_GENERIC_CLASSES})
    families.update({f"rest_framework.viewsets.{name}": _DRF_VIEWSETS for name in _DRF_VIEWSET_CLASSES})
    for module in ("django.views", "django.views.generic"):
        families.update({f"{module}.{name}": _DJANGO_VIEWS for name in _DJANGO_VIEW_CLASSES})
    for module in ("base", "list", "detail", "edit", "dates"):
        families.update({f"django.views.generic.{module}.{name}": _DJANGO_VIEWS for name in _DJANGO_VIEW_CLASSES})
    return families


VIEW_BASE_FAMILIES = _view_base_families()
_MAX_BASE_DEPTH = 8


class RouteIndex:
    """Answers `route_info(function_def)` for one file, caching what several functions share.

    Build one per rule instance; metadata (ROUTE_METADATA) is only read when a function is
    asked about:

        @cached_property
        def routes(self) -> RouteIndex:
            return RouteIndex.for_rule(self)

        def visit_FunctionDef(self, node):
            route = self.routes.route_info(node)
    """

    def __init__(self, get_metadata: GetMetadata, path: str, read_repo_file: RepoFileReader | None = None) -> None:
        self._get_metadata = get_metadata
        self._path = PurePosixPath(path)
        self._read_repo_file = read_repo_file
        self._receivers: dict[tuple[object, str], str | None] = {}
        self._view_families: dict[cst.ClassDef, _ViewFamily | None] = {}
        self._imported_routers: dict[tuple[str, str], str | None] = {}

    @classmethod
    def for_rule(cls, rule) -> "RouteIndex":
        """An index reading `rule`'s metadata, path and repository reader (a CstRule)."""
        return cls(rule.get_metadata, rule.context.path, rule.context.read_repo_file)

    def route_info(self, node: cst.FunctionDef) -> RouteInfo | None:
        owner = self._owner(node)
        if isinstance(owner, cst.ClassDef):
            return self._exposed_method(node, owner) or self._view_method(node, owner)
        return (
            self._decorated_route(node)
            or self._registered_route(node)
            or self._django_conventional_view(node, owner)
        )

    def view_class_framework(self, class_def: cst.ClassDef) -> str | None:
        """The framework whose class-based view `class_def` is ("django", "drf", "flask",
        "starlette"): it derives from one of the framework's view classes, directly or through
        classes defined in this file; None for any other class."""
        family = self._view_family(class_def, depth=0)
        return family.framework if family is not None else None

    def _owner(self, node: cst.FunctionDef) -> cst.CSTNode | None:
        """The module, class or statement whose body holds `node`."""
        parent = self._get_metadata(ParentProvider, node, None)
        if isinstance(parent, cst.IndentedBlock):
            return self._get_metadata(ParentProvider, parent, None)
        return parent

    # --- functions registered by a decorator -------------------------------------------------

    def _decorated_route(self, node: cst.FunctionDef) -> RouteInfo | None:
        found: list[RouteInfo] = []
        for decorator in node.decorators:
            route = self._route_from_decorator(decorator.decorator)
            if route is not None:
                found.append(route)
        return _merge(found)

    def _route_from_decorator(self, expression: cst.BaseExpression) -> RouteInfo | None:
        names = qualified_names(self._get_metadata, expression.func if isinstance(expression, cst.Call) else expression)
        for name, methods in DJANGO_METHOD_DECORATORS.items():
            if name in names:
                return RouteInfo("django", methods, None, "function")
        if not isinstance(expression, cst.Call):
            return None
        call = expression
        if DJANGO_METHODS_DECORATOR in names:
            return RouteInfo("django", _upper(literal_strings(_first(call, "request_method_list"))), None, "function")
        if DRF_API_VIEW in names:
            methods_arg = _first(call, "http_method_names")
            methods = _upper(literal_strings(methods_arg)) if methods_arg is not None else ("GET",)
            return RouteInfo("drf", methods, None, "function")
        if not isinstance(call.func, cst.Attribute):
            return None
        framework = self._router_framework(call.func.value)
        defaults = ROUTE_DECORATORS.get(framework or "", {}).get(call.func.attr.value)
        if defaults is None:
            return None
        methods_arg = keyword_arg(call, "methods")
        methods = _upper(literal_strings(methods_arg)) if methods_arg is not None else defaults
        return RouteInfo(framework, methods, literal_string(_first(call, "rule", "path")), "function")

    # --- functions registered by passing them to a router -------------------------------------

    def _registered_route(self, node: cst.FunctionDef) -> RouteInfo | None:
        scope = self._get_metadata(ScopeProvider, node, None)
        if scope is None:
            return None
        for assignment in scope.assignments[node.name.value]:
            if assignment.node is not node:
                continue
            for access in assignment.references:
                route = self._registration_using(access.node)
                if route is not None:
                    return route
        return None

    def _registration_using(self, name: cst.CSTNode) -> RouteInfo | None:
        arg = self._get_metadata(ParentProvider, name, None)
        call = self._get_metadata(ParentProvider, arg, None) if isinstance(arg, cst.Arg) else None
        if not isinstance(call, cst.Call):
            return None
        for constructor, (framework, params) in ROUTE_CONSTRUCTORS.items():
            if constructor in qualified_names(self._get_metadata, call.func):
                return _registration(framework, call, params, params[1], name, constructor)
        if isinstance(call.func, cst.Attribute):
            framework = self._router_framework(call.func.value)
            method = call.func.attr.value
            registration = REGISTER_METHODS.get(framework or "", {}).get(method)
            if registration is not None:
                return _registration(framework, call, *registration, name, method)
        return None

    # --- Django's function-view convention ---------------------------------------------------

    def _django_conventional_view(self, node: cst.FunctionDef, owner: cst.CSTNode | None) -> RouteInfo | None:
        if not isinstance(owner, cst.Module) or node.name.value.startswith("_"):
            return None
        if "views" not in self._path.parts[:-1] and self._path.name != "views.py":
            return None
        params = node.params.posonly_params or node.params.params
        if params and params[0].name.value == "request":
            return RouteInfo("django", (), None, "function")
        return None

    # --- class-based views -------------------------------------------------------------------

    def _exposed_method(self, node: cst.FunctionDef, owner: cst.ClassDef) -> RouteInfo | None:
        """A Flask-AppBuilder view method: `@expose("/path", methods=[...])` registers it."""
        for decorator in node.decorators:
            call = decorator.decorator
            if isinstance(call, cst.Call) and FAB_EXPOSE & qualified_names(self._get_metadata, call.func):
                methods_arg = keyword_arg(call, "methods")
                methods = _upper(literal_strings(methods_arg)) if methods_arg is not None else ("GET",)
                return RouteInfo("flask-appbuilder", methods, literal_string(_first(call, "url")), "method", owner.name.value)
        return None

    def _view_method(self, node: cst.FunctionDef, owner: cst.ClassDef) -> RouteInfo | None:
        family = self._view_family(owner, depth=0)
        if family is None:
            return None
        if family.framework == "drf":
            for decorator in node.decorators:
                if isinstance(decorator.decorator, cst.Call) and DRF_ACTION in qualified_names(
                    self._get_metadata, decorator.decorator.func
                ):
                    return _drf_action(decorator.decorator, owner)
        method = family.handlers.get(node.name.value)
        if method is None:
            return None
        methods = (method,) if method else _upper(literal_strings(_class_attribute(owner, "methods")))
        return RouteInfo(family.framework, methods, None, "method", owner.name.value)

    def _view_family(self, class_def: cst.ClassDef, depth: int) -> _ViewFamily | None:
        if class_def in self._view_families:
            return self._view_families[class_def]
        self._view_families[class_def] = None  # guards against cycles while resolving
        family = None
        if depth <= _MAX_BASE_DEPTH:
            for base in class_def.bases:
                if base.keyword is None:
                    family = self._family_of_base(base.value, depth)
                    if family is not None:
                        break
        self._view_families[class_def] = family
        return family

    def _family_of_base(self, base: cst.BaseExpression, depth: int) -> _ViewFamily | None:
        for name in qualified_names(self._get_metadata, base):
            if name in VIEW_BASE_FAMILIES:
                return VIEW_BASE_FAMILIES[name]
        if isinstance(base, cst.Name):
            for assignment in self._visible_assignments(base):
                if isinstance(assignment.node, cst.ClassDef):
                    family = self._view_family(assignment.node, depth + 1)
                    if family is not None:
                        return family
        return None

    # --- knowing that an object is an app or a router ----------------------------------------

    def _router_framework(self, receiver: cst.BaseExpression) -> str | None:
        """The framework of the app/router `receiver` names, if every assignment to it says so."""
        if not isinstance(receiver, cst.Name):
            return None
        scope = self._get_metadata(ScopeProvider, receiver, None)
        key = (scope, receiver.value)
        if key not in self._receivers:
            frameworks = {self._assigned_framework(a) for a in self._visible_assignments(receiver)}
            self._receivers[key] = frameworks.pop() if len(frameworks) == 1 else None
        return self._receivers[key]

    def _visible_assignments(self, name: cst.Name) -> Iterable[Assignment]:
        scope = self._get_metadata(ScopeProvider, name, None)
        if scope is None:
            return ()
        return [a for a in scope[name.value] if isinstance(a, Assignment)]

    def _assigned_framework(self, assignment: Assignment) -> str | None:
        if isinstance(assignment, ImportAssignment):
            return self._imported_router(assignment)
        target = assignment.node
        holder = self._get_metadata(ParentProvider, target, None)
        if isinstance(holder, cst.AssignTarget):
            holder = self._get_metadata(ParentProvider, holder, None)
        if isinstance(holder, (cst.Assign, cst.AnnAssign)) and isinstance(holder.value, cst.Call):
            return constructed_router(holder.value, self._get_metadata)
        return None

    def _imported_router(self, assignment: ImportAssignment) -> str | None:
        if self._read_repo_file is None or not isinstance(assignment.node, cst.ImportFrom):
            return None
        imported = _imported_name(assignment.node, assignment.name)
        if imported is None:
            return None
        key = (self._module_key(assignment.node), imported)
        if key not in self._imported_routers:
            self._imported_routers[key] = self._router_in_module(assignment.node, imported)
        return self._imported_routers[key]

    def _module_key(self, import_from: cst.ImportFrom) -> str:
        module = cst.Module([]).code_for_node(import_from.module) if import_from.module else ""
        return "." * len(import_from.relative) + module

    def _router_in_module(self, import_from: cst.ImportFrom, name: str) -> str | None:
        for candidate in _module_files(self._path, import_from):
            text = self._read_repo_file(candidate)
            if text is not None:
                return _top_level_router(text, name)
        return None


def constructed_router(call: cst.Call, get_metadata: GetMetadata) -> str | None:
    """The framework whose app or router `call` constructs (`Flask(__name__)` -> "flask")."""
    for name in qualified_names(get_metadata, call.func):
        if name in ROUTER_CONSTRUCTORS:
            return ROUTER_CONSTRUCTORS[name]
    return None


class _TopLevelRouterFinder(cst.CSTVisitor):
    """Finds what the module-level assignments to one name construct, in another file."""

    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.frameworks: list[str | None] = []

    def visit_Module(self, node: cst.Module) -> bool:
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                targets = _assigned_names(small)
                if self.name in targets:
                    value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
                    call_framework = constructed_router(value, self.get_metadata) if isinstance(value, cst.Call) else None
                    self.frameworks.append(call_framework)
        return False


def _top_level_router(source: str, name: str) -> str | None:
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return None
    finder = _TopLevelRouterFinder(name)
    cst.MetadataWrapper(module, unsafe_skip_copy=True).visit(finder)
    frameworks = set(finder.frameworks)
    return frameworks.pop() if len(frameworks) == 1 else None


def _assigned_names(statement: cst.BaseSmallStatement) -> set[str]:
    if isinstance(statement, cst.Assign):
        return {t.target.value for t in statement.targets if isinstance(t.target, cst.Name)}
    if isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
        return {statement.target.value}
    return set()


def _imported_name(import_from: cst.ImportFrom, local_name: str) -> str | None:
    if isinstance(import_from.names, cst.ImportStar):
        return None
    for alias in import_from.names:
        if (alias.evaluated_alias or alias.evaluated_name) == local_name:
            return alias.evaluated_name
    return None


def _module_files(current: PurePosixPath, import_from: cst.ImportFrom) -> list[str]:
    """Repository paths the imported module may live at: relative imports resolve exactly,
    absolute ones are tried under each folder above the importing file, nearest first."""
    module = cst.Module([]).code_for_node(import_from.module) if import_from.module else ""
    parts = [part for part in module.split(".") if part]
    parents = list(current.parents)
    if import_from.relative:
        level = len(import_from.relative)
        roots = parents[level - 1 : level]
    else:
        roots = parents
    candidates = []
    for root in roots:
        target = root.joinpath(*parts)
        if parts:
            candidates.append(str(target.with_suffix(".py")))
        candidates.append(str(target / "__init__.py"))
    return candidates


def _registration(
    framework: str,
    call: cst.Call,
    params: tuple[str, ...],
    handler_param: str,
    handler: cst.CSTNode,
    registrar: str,
) -> RouteInfo | None:
    bound = bind_arguments(call, params)
    if bound.get(handler_param) is not handler:
        return None
    if registrar in _WEBSOCKET_REGISTRATIONS:
        methods: tuple[str, ...] = ("WEBSOCKET",)
    elif framework == "django":
        methods = ()
    else:
        methods_arg = keyword_arg(call, "methods")
        methods = _upper(literal_strings(methods_arg)) if methods_arg is not None else ("GET",)
    return RouteInfo(framework, methods, literal_string(bound.get(params[0])), "function")


def _drf_action(call: cst.Call, owner: cst.ClassDef) -> RouteInfo:
    methods_arg = keyword_arg(call, "methods")
    methods = _upper(literal_strings(methods_arg)) if methods_arg is not None else ("GET",)
    return RouteInfo("drf", methods, literal_string(keyword_arg(call, "url_path")), "method", owner.name.value)


def _class_attribute(class_def: cst.ClassDef, name: str) -> cst.BaseExpression | None:
    body = class_def.body.body if isinstance(class_def.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if name in _assigned_names(small):
                    return small.value
    return None


def _first(call: cst.Call, *names: str) -> cst.BaseExpression | None:
    """The first positional argument, or the first of the keyword `names` that is given."""
    positionals = positional_args(call)
    if positionals:
        return positionals[0]
    for name in names:
        value = keyword_arg(call, name)
        if value is not None:
            return value
    return None


def _upper(methods: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(method.upper() for method in methods) if methods else ()


def _merge(routes: list[RouteInfo]) -> RouteInfo | None:
    """Several route decorators on one function: one route with every method they accept."""
    if not routes:
        return None
    first = routes[0]
    if any(not route.methods for route in routes):
        methods: tuple[str, ...] = ()
    else:
        methods = tuple(dict.fromkeys(m for route in routes for m in route.methods))
    return RouteInfo(first.framework, methods, first.path, first.kind, first.view_class)
