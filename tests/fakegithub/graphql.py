"""GitHub's GraphQL API reduced to what a review bot needs: read a pull request's review
threads (paginated) and resolve or unresolve one.

A fixed type table, not a general engine: every selected field is checked against it first
(unknown fields fail the whole request, as on GitHub, before any mutation runs), then resolved.
Answers are always HTTP 200 with `data` and/or `errors`, like GitHub's.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Callable

from fakegithub.errors import ApiError
from fakegithub.gqlparse import Field, GraphQLSyntaxError, Variable, parse
from fakegithub.state import PullRequest, ReviewComment, ReviewThread, State, User

MAX_PAGE = 100


class GraphQLError(Exception):
    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Context:
    state: State
    viewer: User
    can_write: bool
    variables: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    start: int
    total: int


@dataclass(frozen=True)
class Edge:
    cursor: str
    node: Any


@dataclass(frozen=True)
class ThreadPayload:
    thread: ReviewThread
    client_mutation_id: str | None


Resolver = Callable[[Context, Any, dict[str, Any]], Any]


def execute(state: State, viewer: User, can_write: bool, payload: Any) -> dict[str, Any]:
    """Run one GraphQL request body; the result is the JSON GitHub would answer."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _failure("A query attribute must be specified and must be a string.")
    try:
        operations = parse(payload["query"])
    except GraphQLSyntaxError as error:
        return _failure(str(error))
    wanted = payload.get("operationName")
    chosen = [op for op in operations if wanted is None or op.name == wanted]
    if len(chosen) != 1:
        return _failure("An operation name is required when the document has several operations.")
    operation = chosen[0]
    root = "Mutation" if operation.kind == "mutation" else "Query"
    problems = _check(root, operation.selections)
    if problems:
        return {"errors": [{"message": problem} for problem in problems]}
    variables = {**operation.defaults, **(payload.get("variables") or {})}
    context = Context(state, viewer, can_write, variables)
    data = _select(context, root, None, operation.selections, [])
    return {"data": data, "errors": context.errors} if context.errors else {"data": data}


def _failure(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message}]}


def _check(type_name: str, selections: tuple[Field, ...]) -> list[str]:
    problems = []
    for selected in selections:
        if selected.name == "__typename":
            continue
        fields = TYPES[type_name]
        if selected.name not in fields:
            problems.append(f"Field '{selected.name}' doesn't exist on type '{type_name}'")
            continue
        child = fields[selected.name][0]
        if child is None and selected.selections:
            problems.append(f"Selections can't be made on scalars (field '{selected.name}' on '{type_name}')")
        elif child is not None and not selected.selections:
            problems.append(f"Field must have selections (field '{selected.name}' returns {child})")
        elif child is not None:
            problems.extend(_check(child, selected.selections))
    return problems


def _select(context: Context, type_name: str, obj: Any, selections: tuple[Field, ...], path: list[Any]) -> Any:
    result: dict[str, Any] = {}
    for selected in selections:
        if selected.name == "__typename":
            result[selected.key] = _typename(type_name, obj)
            continue
        child, resolver = TYPES[type_name][selected.name]
        try:
            value = resolver(context, obj, _bind(selected.arguments, context.variables))
        except GraphQLError as error:
            report: dict[str, Any] = {"message": str(error), "path": path + [selected.key]}
            if error.kind:
                report["type"] = error.kind
            context.errors.append(report)
            value = None
        result[selected.key] = _complete(context, child, value, selected.selections, path + [selected.key])
    return result


def _complete(
    context: Context, type_name: str | None, value: Any, selections: tuple[Field, ...], path: list[Any]
) -> Any:
    if value is None or type_name is None:
        return value
    if isinstance(value, list):
        return [_complete(context, type_name, item, selections, path + [i]) for i, item in enumerate(value)]
    return _select(context, type_name, value, selections, path)


def _bind(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, dict):
        return {key: _bind(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_bind(item, variables) for item in value]
    return value


def _typename(type_name: str, obj: Any) -> str:
    if type_name == "Actor":
        return "Bot" if obj.is_bot else "User"
    return type_name


# ----- connections ---------------------------------------------------------------------------


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _index_of(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor).decode().removeprefix("cursor:v2:"))
    except ValueError as error:
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from error


def _page(connection: str, items: list[Any], args: dict[str, Any]) -> Page:
    if args.get("last") is not None or args.get("before") is not None:
        raise GraphQLError("The fake GitHub pages forwards only: use `first` and `after`.")
    first = args.get("first")
    if first is None:
        raise GraphQLError(
            f"You must provide a `first` or `last` value to properly paginate the `{connection}` connection."
        )
    if first > MAX_PAGE:
        raise GraphQLError(
            f"Requesting {first} records on the `{connection}` connection exceeds "
            f"the `first` limit of {MAX_PAGE} records."
        )
    start = _index_of(args["after"]) + 1 if args.get("after") else 0
    return Page(items[start : start + first], start, len(items))


def _connection(node_type: str) -> dict[str, tuple[str | None, Resolver]]:
    return {
        "nodes": (node_type, lambda c, page, a: page.items),
        "edges": (f"{node_type}Edge", lambda c, page, a: [
            Edge(_cursor(page.start + i), item) for i, item in enumerate(page.items)
        ]),
        "pageInfo": ("PageInfo", lambda c, page, a: page),
        "totalCount": (None, lambda c, page, a: page.total),
    }


def _edge(node_type: str) -> dict[str, tuple[str | None, Resolver]]:
    return {"cursor": (None, lambda c, edge, a: edge.cursor), "node": (node_type, lambda c, edge, a: edge.node)}


def _page_info() -> dict[str, tuple[str | None, Resolver]]:
    def end(page: Page) -> int:
        return page.start + len(page.items) - 1

    return {
        "hasNextPage": (None, lambda c, page, a: end(page) + 1 < page.total),
        "hasPreviousPage": (None, lambda c, page, a: page.start > 0),
        "startCursor": (None, lambda c, page, a: _cursor(page.start) if page.items else None),
        "endCursor": (None, lambda c, page, a: _cursor(end(page)) if page.items else None),
    }


# ----- resolvers -----------------------------------------------------------------------------


def _repository(context: Context, _: Any, args: dict[str, Any]) -> Any:
    try:
        return context.state.find_repo(args["owner"], args["name"])
    except ApiError:
        raise GraphQLError(
            f"Could not resolve to a Repository with the name '{args['owner']}/{args['name']}'.", "NOT_FOUND"
        ) from None


def _pull_request(context: Context, repo: Any, args: dict[str, Any]) -> PullRequest:
    try:
        return context.state.find_pull(repo.owner.login, repo.name, args["number"])
    except ApiError:
        message = f"Could not resolve to a PullRequest with the number of {args['number']}."
        raise GraphQLError(message, "NOT_FOUND") from None


def _visible_threads(pull: PullRequest) -> list[ReviewThread]:
    return [thread for thread in pull.threads if not thread.root.pending]


def _set_resolved(resolved: bool) -> Resolver:
    def resolver(context: Context, _: Any, args: dict[str, Any]) -> ThreadPayload:
        given = args.get("input") or {}
        thread_id = given.get("threadId")
        if thread_id is None:
            raise GraphQLError("Argument 'threadId' on InputObject is required. Expected type ID!")
        thread = context.state.find_thread(thread_id)
        if thread is None or thread.root.pending:
            raise GraphQLError(f"Could not resolve to a node with the global id of '{thread_id}'", "NOT_FOUND")
        if not context.can_write:
            raise GraphQLError("Resource not accessible by integration", "FORBIDDEN")
        thread.is_resolved = resolved
        thread.resolved_by = context.viewer if resolved else None
        return ThreadPayload(thread, given.get("clientMutationId"))

    return resolver


def _login(who: User) -> str:
    # GraphQL names a bot without the "[bot]" suffix that REST shows.
    return who.login.removesuffix("[bot]")


def _comment_fields() -> dict[str, tuple[str | None, Resolver]]:
    def leaf(read: Callable[[ReviewComment], Any]) -> tuple[None, Resolver]:
        return None, lambda c, comment, a: read(comment)

    return {
        "id": leaf(lambda comment: comment.node_id),
        "databaseId": leaf(lambda comment: comment.id),
        "body": leaf(lambda comment: comment.body),
        "path": leaf(lambda comment: comment.path),
        "line": leaf(lambda comment: comment.line),
        "startLine": leaf(lambda comment: comment.start_line),
        "originalLine": leaf(lambda comment: comment.original_line),
        "outdated": leaf(lambda comment: comment.outdated),
        "diffHunk": leaf(lambda comment: comment.diff_hunk),
        "createdAt": leaf(lambda comment: comment.created_at),
        "author": ("Actor", lambda c, comment, a: comment.user),
    }


def _thread_fields() -> dict[str, tuple[str | None, Resolver]]:
    def leaf(read: Callable[[ReviewThread], Any]) -> tuple[None, Resolver]:
        return None, lambda c, thread, a: read(thread)

    return {
        "id": leaf(lambda thread: thread.id),
        "isResolved": leaf(lambda thread: thread.is_resolved),
        "isCollapsed": leaf(lambda thread: thread.is_resolved),
        "isOutdated": leaf(lambda thread: thread.root.outdated),
        "path": leaf(lambda thread: thread.root.path),
        "line": leaf(lambda thread: thread.root.line),
        "startLine": leaf(lambda thread: thread.root.start_line),
        "originalLine": leaf(lambda thread: thread.root.original_line),
        "diffSide": leaf(lambda thread: thread.root.side),
        "startDiffSide": leaf(lambda thread: thread.root.start_side),
        "subjectType": leaf(lambda thread: thread.root.subject_type.upper()),
        "viewerCanResolve": (None, lambda c, thread, a: c.can_write and not thread.is_resolved),
        "viewerCanUnresolve": (None, lambda c, thread, a: c.can_write and thread.is_resolved),
        "resolvedBy": ("Actor", lambda c, thread, a: thread.resolved_by),
        "comments": (
            "PullRequestReviewCommentConnection",
            lambda c, thread, a: _page("comments", thread.comments, a),
        ),
    }


TYPES: dict[str, dict[str, tuple[str | None, Resolver]]] = {
    "Query": {
        "repository": ("Repository", _repository),
        "viewer": ("Actor", lambda c, _, a: c.viewer),
    },
    "Mutation": {
        "resolveReviewThread": ("ResolveReviewThreadPayload", _set_resolved(True)),
        "unresolveReviewThread": ("ResolveReviewThreadPayload", _set_resolved(False)),
    },
    "ResolveReviewThreadPayload": {
        "thread": ("PullRequestReviewThread", lambda c, payload, a: payload.thread),
        "clientMutationId": (None, lambda c, payload, a: payload.client_mutation_id),
    },
    "Repository": {
        "id": (None, lambda c, repo, a: f"R_fake{repo.id}"),
        "name": (None, lambda c, repo, a: repo.name),
        "nameWithOwner": (None, lambda c, repo, a: repo.full_name),
        "pullRequest": ("PullRequest", _pull_request),
    },
    "PullRequest": {
        "id": (None, lambda c, pull, a: pull.node_id),
        "number": (None, lambda c, pull, a: pull.number),
        "headRefOid": (None, lambda c, pull, a: pull.head_sha),
        "baseRefOid": (None, lambda c, pull, a: pull.base_sha),
        "reviewThreads": (
            "PullRequestReviewThreadConnection",
            lambda c, pull, a: _page("reviewThreads", _visible_threads(pull), a),
        ),
    },
    "PullRequestReviewThreadConnection": _connection("PullRequestReviewThread"),
    "PullRequestReviewThreadEdge": _edge("PullRequestReviewThread"),
    "PullRequestReviewThread": _thread_fields(),
    "PullRequestReviewCommentConnection": _connection("PullRequestReviewComment"),
    "PullRequestReviewCommentEdge": _edge("PullRequestReviewComment"),
    "PullRequestReviewComment": _comment_fields(),
    "PageInfo": _page_info(),
    "Actor": {"login": (None, lambda c, who, a: _login(who))},
}
