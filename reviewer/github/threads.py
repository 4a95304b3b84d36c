"""Review threads over GraphQL — the REST API has no way to resolve one.

PyGithub has no thread API, but its requester sends GraphQL. Threads are keyed by the REST id
of their first comment, which is how the bot knows its own comments. A thread resolved by the
author of its first comment was resolved by the bot (GraphQL names both the same way, without
REST's "[bot]" suffix); one resolved by a person is that person's call.
"""

from __future__ import annotations

from dataclasses import dataclass

from github.Requester import Requester

_THREADS = """
query ReviewThreads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved resolvedBy { login }
          comments(first: 1) { nodes { databaseId author { login } } }
        }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class Thread:
    id: str
    resolved: bool
    resolved_by_bot: bool


def threads_by_first_comment(requester: Requester, owner: str, name: str, number: int) -> dict[int, Thread]:
    threads: dict[int, Thread] = {}
    after = None
    while True:
        variables = {"owner": owner, "name": name, "number": number, "after": after}
        _, data = requester.graphql_query(_THREADS, variables)
        page = data["data"]["repository"]["pullRequest"]["reviewThreads"]
        for node in page["nodes"]:
            first = node["comments"]["nodes"]
            if first and first[0].get("databaseId") is not None:
                threads[first[0]["databaseId"]] = Thread(node["id"], bool(node["isResolved"]), _same_login(
                    node.get("resolvedBy"), first[0].get("author")
                ))
        if not page["pageInfo"]["hasNextPage"]:
            return threads
        after = page["pageInfo"]["endCursor"]


def _same_login(left: dict | None, right: dict | None) -> bool:
    return bool(left and right and left.get("login") and left.get("login") == right.get("login"))


def set_resolved(requester: Requester, thread_id: str, resolved: bool) -> None:
    mutation = "resolveReviewThread" if resolved else "unresolveReviewThread"
    requester.graphql_named_mutation(mutation, {"threadId": thread_id}, "thread { id isResolved }")
