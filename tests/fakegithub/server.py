"""FakeGitHub: the fake API served on 127.0.0.1 in a thread, and the handles a test uses to set
it up (repos, PRs, tokens), read what was posted (state, request log) and inject faults."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Union

from github import Auth, Github
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from fakegithub.app import API_ROOT, GRAPHQL_PATH, GitHubApp, LoggedRequest, Token
from fakegithub.faults import FaultRule, Faults
from fakegithub.state import PullFile, PullRequest, State

Files = Union[Mapping[str, Union[str, None]], Iterable[PullFile]]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Tests read `FakeGitHub.requests` instead of an access log."""


class FakeGitHub:
    """A fake GitHub (REST under /api/v3, GraphQL at /api/graphql) for one test.

        fake.add_pull("acme/shop", 7, {"app/db.py": PATCH}, head_sha=HEAD)
        gh = fake.client()                      # or Github(base_url=fake.base_url, auth=...)
        ...run the code under test...
        fake.pull("acme/shop", 7).reviews      # what was posted (state.py objects)
        fake.requests_to("POST", r"/reviews$")  # what was sent (LoggedRequest)
        fake.lose_response("POST", r"/reviews$")  # the next such POST is applied, then dropped
    """

    BOT_LOGIN = "backend-reviewer[bot]"
    WRITE_TOKEN = "ghs_fake_write_token"
    READ_TOKEN = "ghs_fake_read_only_token"

    def __init__(self) -> None:
        self.state = State()
        self.faults = Faults()
        self.app = GitHubApp(self.state, self.faults)
        self.add_token(self.WRITE_TOKEN, self.BOT_LOGIN, "write")
        self.add_token(self.READ_TOKEN, self.BOT_LOGIN, "read")
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----- where it is -----------------------------------------------------------------------

    @property
    def web_url(self) -> str:
        assert self._server is not None, "FakeGitHub is not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def base_url(self) -> str:
        """PyGithub's `base_url` (GitHub Enterprise style); GraphQL is then at `graphql_url`."""
        return self.web_url + API_ROOT

    @property
    def graphql_url(self) -> str:
        return self.web_url + GRAPHQL_PATH

    def client(self, token: str | None = None, **options: Any) -> Github:
        """A PyGithub client for this server: no retries and no write pacing unless asked."""
        settings: dict[str, Any] = {
            "base_url": self.base_url,
            "auth": Auth.Token(token or self.WRITE_TOKEN),
            "retry": None,
            "seconds_between_requests": None,
            "seconds_between_writes": None,
            "timeout": 5,
        }
        settings.update(options)
        return Github(**settings)

    # ----- set-up ----------------------------------------------------------------------------

    def add_token(self, token: str, login: str, permission: str = "write") -> None:
        """`permission` is "write" or "read" (read: every write answers 403, like a fork PR's token)."""
        assert permission in ("write", "read"), permission
        self.app.tokens[token] = Token(login, permission)

    def add_pull(self, repo: str, number: int, files: Files, **details: Any) -> PullRequest:
        """Create repo `owner/name` (if new) and open PR `number` whose diff is `files`.

        `files`: {path: patch text or None (binary / too large: no patch)} or PullFile objects
        (status, renames). `details` (all optional): head_sha, base_sha, title, body, author,
        head_ref, base_ref, head_repo ("fork-owner/name" for a PR from a fork).
        """
        with self.state.lock:
            return self.state.add_pull(repo, number, _pull_files(files), **details)

    def push(self, repo: str, number: int, head_sha: str, files: Files) -> None:
        """A new commit on the PR: new head and diff; comments off the new diff become outdated."""
        with self.state.lock:
            self.state.push(self.pull(repo, number), head_sha, _pull_files(files))

    # ----- reading what happened --------------------------------------------------------------

    def pull(self, repo: str, number: int) -> PullRequest:
        owner, name = repo.split("/")
        return self.state.find_pull(owner, name, number)

    @property
    def requests(self) -> list[LoggedRequest]:
        return self.app.log

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        """Logged requests with this method ("*": any) whose path (below the API root) matches."""
        pattern = re.compile(path)
        return [r for r in self.requests if method in ("*", r.method) and pattern.search(r.path)]

    # ----- faults: method "*" matches any; path is a regex searched in the path below the API
    # root (e.g. /repos/acme/shop/pulls/7/reviews; GraphQL is /graphql); rules fire in order. -----

    def fail(self, method: str, path: str, *, status: int = 502, times: int = 1) -> FaultRule:
        """The next `times` matching requests answer `status` without being applied."""
        return self.faults.add("status", method, path, times, status=status)

    def secondary_rate_limit(
        self, method: str, path: str, *, status: int = 403, retry_after: int = 1, times: int = 1
    ) -> FaultRule:
        """403 (or 429) with `retry-after` and GitHub's secondary-rate-limit message."""
        return self.faults.add("secondary_rate_limit", method, path, times, status=status, retry_after=retry_after)

    def primary_rate_limit(
        self, method: str = "*", path: str = "", *, status: int = 403, reset_in: int = 1, times: int = 1
    ) -> FaultRule:
        """403 "API rate limit exceeded" with x-ratelimit-remaining 0 and reset `reset_in` s ahead."""
        return self.faults.add("primary_rate_limit", method, path, times, status=status, reset_in=reset_in)

    def lose_response(self, method: str, path: str, *, status: int | None = 500, times: int = 1) -> FaultRule:
        """The request is applied, then answered with `status` — or, with None, never answered
        (the connection is closed), like a response lost on the way back."""
        return self.faults.add("lose_response", method, path, times, status=status)


def _pull_files(files: Files) -> list[PullFile]:
    if isinstance(files, Mapping):
        return [PullFile(path, patch) for path, patch in files.items()]
    return list(files)
