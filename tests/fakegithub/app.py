"""The WSGI application: GitHub's HTTP behaviour around the state.

Every request is logged, authenticated (token → login + permission), possibly hit by a
fault rule, routed by the OpenAPI path templates, checked for write permission, validated
against the operation's requestBody schema, and answered with GitHub's standard headers.
REST lives under /api/v3 and GraphQL at /api/graphql, as on GitHub Enterprise Server,
which is where PyGithub sends them for base_url .../api/v3.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Iterable

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from fakegithub import graphql, openapi, rest
from fakegithub.errors import ApiError
from fakegithub.faults import AFTER, BEFORE, FaultRule, Faults
from fakegithub.ratelimit import RateLimits
from fakegithub.render import Urls
from fakegithub.state import State

API_ROOT = "/api/v3"
GRAPHQL_PATH = "/api/graphql"
DOCS = "https://docs.github.com/rest"
READ_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Token:
    login: str
    permission: str  # "write" or "read"


@dataclass
class LoggedRequest:
    method: str
    path: str  # below the API root; GraphQL is logged as /graphql
    query: dict[str, str]
    body: Any = None
    operation: str | None = None  # GitHub's operationId, "graphql", or a name from rest.EXTRA
    status: int | None = None  # None: the connection was dropped without an answer
    fault: str | None = None  # the fault kind that hit this request


def _route_map() -> Map:
    rules = []
    for op in openapi.operations():
        if op.operation_id in rest.SPEC_HANDLERS:
            path = _rule_path(op.path, op.integer_params)
            rules.append(Rule(path, endpoint=op.operation_id, methods=[op.method]))
    for method, template, name, _ in rest.EXTRA:
        rules.append(Rule(_rule_path(template, frozenset()), endpoint=name, methods=[method]))
    return Map(rules, strict_slashes=False, merge_slashes=False)


def _rule_path(template: str, integers: frozenset[str]) -> str:
    def convert(match: re.Match[str]) -> str:
        name, as_int = match.group(1), match.group(2)
        return f"<int:{name}>" if as_int or name in integers else f"<{name}>"

    return re.sub(r"\{(\w+)(:int)?\}", convert, template)


class GitHubApp:
    def __init__(self, state: State, faults: Faults) -> None:
        self.state = state
        self.faults = faults
        self.rate = RateLimits()
        self.tokens: dict[str, Token] = {}
        self.log: list[LoggedRequest] = []
        self._routes = _route_map().bind("127.0.0.1", "/")
        self._handlers = {**rest.SPEC_HANDLERS, **{name: handler for _, _, name, handler in rest.EXTRA}}
        self._request_ids = itertools.count(1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request_id = f"FAKE:{next(self._request_ids):06X}"
        reply, drop = self._answer(request, request_id)
        if drop:
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        headers = {
            "x-github-request-id": request_id,
            "x-github-media-type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28",
            **reply.headers,
        }
        if reply.body is None:
            return Response(status=reply.status, headers=headers)(environ, start_response)
        content_type = "application/json; charset=utf-8"
        response = Response(json.dumps(reply.body), reply.status, headers, content_type=content_type)
        return response(environ, start_response)

    def _answer(self, request: Request, request_id: str) -> tuple[rest.Reply, bool]:
        method = request.method.upper()
        is_graphql = request.path == GRAPHQL_PATH
        path = "/graphql" if is_graphql else request.path.removeprefix(API_ROOT)
        entry = LoggedRequest(method, path, dict(request.args))
        with self.state.lock:
            self.log.append(entry)
        try:
            reply, drop = self._process(request, entry, is_graphql, request_id)
        except Exception:
            entry.status = 500  # a bug in the fake itself: werkzeug answers 500 and logs the traceback
            raise
        entry.status = None if drop else reply.status
        return reply, drop

    def _process(
        self, request: Request, entry: LoggedRequest, is_graphql: bool, request_id: str
    ) -> tuple[rest.Reply, bool]:
        resource = "graphql" if is_graphql else "core"
        try:
            if not is_graphql and not request.path.startswith(API_ROOT + "/"):
                raise ApiError(404, "Not Found")
            params = self._route(entry, is_graphql)
            entry.body = _json_body(request)
            token = self._authenticate(request)
            if entry.operation != "rate-limit/get":
                self.rate.spend(resource)
            before = self.faults.take(BEFORE, entry.method, entry.path)
            if before is not None:
                entry.fault = before.kind
                return _fault_reply(before, request_id, self.rate.headers(resource)), False
            reply = self._dispatch(request, entry, token, params)
        except ApiError as error:
            reply = _error_reply(error)
        reply.headers = {**self.rate.headers(resource), **reply.headers}
        if reply.status < 400:
            after = self.faults.take(AFTER, entry.method, entry.path)
            if after is not None:
                entry.fault = after.kind
                if after.status is None:
                    return reply, True
                return _fault_reply(after, request_id, self.rate.headers(resource)), False
        return reply, False

    def _route(self, entry: LoggedRequest, is_graphql: bool) -> dict[str, Any] | None:
        """Name the operation in the log; None params means "no such route" (answered 404 later,
        after authentication, as GitHub does)."""
        if is_graphql:
            entry.operation = "graphql" if entry.method == "POST" else None
            return {} if entry.operation else None
        try:
            entry.operation, params = self._routes.match(entry.path, method=entry.method)
        except HTTPException:
            return None
        return params

    def _authenticate(self, request: Request) -> Token:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if not header:
            raise ApiError(401, "Requires authentication")
        token = self.tokens.get(secret.strip()) if scheme.lower() in ("token", "bearer") else None
        if token is None:
            raise ApiError(401, "Bad credentials")
        return token

    def _dispatch(
        self, request: Request, entry: LoggedRequest, token: Token, params: dict[str, Any] | None
    ) -> rest.Reply:
        if params is None or entry.operation is None:
            raise ApiError(404, "Not Found")
        with self.state.lock:
            viewer = self.state.user(token.login)
            can_write = token.permission == "write"
            if entry.operation == "graphql":
                return rest.Reply(200, graphql.execute(self.state, viewer, can_write, entry.body))
            if entry.method not in READ_METHODS and not can_write:
                raise ApiError(403, "Resource not accessible by integration")
            _validate_body(entry.operation, entry.body)
            web = request.host_url.rstrip("/")
            urls = Urls(web, web + API_ROOT)
            call = rest.Call(self.state, viewer, entry.path, params, entry.query, entry.body, urls, self.rate)
            return self._handlers[entry.operation](call)


def _json_body(request: Request) -> Any:
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None


def _validate_body(operation_id: str, body: Any) -> None:
    if operation_id not in rest.SPEC_HANDLERS:
        return
    op = openapi.operation(operation_id)
    if op.method in READ_METHODS or op.method == "DELETE":
        return
    problems = openapi.request_errors(operation_id, body if body is not None else {})
    if problems:
        raise ApiError(422, "Invalid request.\n\n" + "\n".join(problems))


def _error_reply(error: ApiError) -> rest.Reply:
    body: dict[str, Any] = {"message": error.message, "documentation_url": DOCS, "status": str(error.status)}
    if error.errors is not None:
        body["errors"] = error.errors
    return rest.Reply(error.status, body)


def _fault_reply(rule: FaultRule, request_id: str, rate_headers: dict[str, str]) -> rest.Reply:
    status = rule.status or 500
    headers = dict(rate_headers)
    if rule.kind == "secondary_rate_limit":
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {request_id}."
        )
        headers["retry-after"] = str(rule.retry_after)
    elif rule.kind == "primary_rate_limit":
        message = (
            "API rate limit exceeded for installation ID 1. If you reach out to GitHub Support for help, "
            f"please include the request ID {request_id}."
        )
        headers["x-ratelimit-remaining"] = "0"
        headers["x-ratelimit-reset"] = str(int(time.time()) + rule.reset_in)
    else:
        message = HTTPStatus(status).phrase
    return rest.Reply(status, {"message": message, "documentation_url": DOCS, "status": str(status)}, headers)
