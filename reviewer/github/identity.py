"""Which comments are the bot's own, so markers are trusted only where the bot wrote them.

A pull request's author can write review comments too, and could copy a marker to silence a
finding. A user token can read its own login (GET /user); an installation token (the Actions
GITHUB_TOKEN, a GitHub App) cannot — GitHub answers 403 — and then the bot's comments are the
ones written by an app account (type "Bot"), which a pull request's author cannot write as.
"""

from __future__ import annotations

from typing import Callable

from github import GithubException
from github.NamedUser import NamedUser
from github.Requester import Requester

AuthorCheck = Callable[["NamedUser | None"], bool]


def own_author_check(requester: Requester) -> AuthorCheck:
    try:
        _, data = requester.requestJsonAndCheck("GET", "/user")
    except GithubException as error:
        if error.status != 403:
            raise
        return lambda user: user is not None and user.type == "Bot"
    login = data["login"]
    return lambda user: user is not None and user.login == login
