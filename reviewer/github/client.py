"""PyGithub, configured for a bot that must never post twice.

PyGithub's defaults retry POST on 5xx (a review whose answer was lost is posted again), pause a
second between writes and wait long on rate limits. Here:
- reads (GET) are retried on 5xx and dropped connections, a few times with back-off;
- writes (POST, PATCH) are never retried on 5xx or a dropped connection: the request may have
  been applied, so the poster looks for its marker before trying again;
- a rate limit (403/429 with Retry-After, or x-ratelimit-remaining 0 and x-ratelimit-reset)
  was not applied, so any method waits as GitHub asks and retries — within a budget of
  waiting shared by the whole run; past it, the run stops with a clear message;
- any other 403 (a read-only token) comes back at once.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import requests
from github import Auth, BadCredentialsException, Github, GithubException, RateLimitExceededException
from github import UnknownObjectException
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from reviewer import __version__
from reviewer.errors import EXIT_ENGINE, ReviewerError, UsageError

DEFAULT_API_URL = "https://api.github.com"
# Seconds a whole run may spend waiting on rate limits.
RATE_LIMIT_WAIT_BUDGET = 300.0
# GitHub's advice when a rate limit names no time: wait at least a minute.
UNTIMED_RATE_LIMIT_WAIT = 60.0
READ_METHODS = frozenset({"GET", "HEAD"})
REQUEST_TIMEOUT = 30


class GitHubUnavailable(ReviewerError):
    """GitHub failed or kept refusing (5xx, rate limit past the budget, no connection): exit 3."""

    exit_code = EXIT_ENGINE


class WaitBudget:
    """Seconds left for rate-limit waits, shared by every retry of every request of a run."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self._lock = threading.Lock()

    def take(self, seconds: float) -> bool:
        with self._lock:
            if seconds > self.left:
                return False
            self.left -= seconds
            return True


class ReviewRetry(Retry):
    """urllib3's Retry with the rules in this module's docstring."""

    def __init__(self, *, budget: WaitBudget, rate_limit_wait: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("allowed_methods", READ_METHODS)
        kwargs.setdefault("raise_on_status", False)
        super().__init__(**kwargs)
        self.budget = budget
        self.rate_limit_wait = rate_limit_wait

    def new(self, **kwargs: Any) -> ReviewRetry:
        kwargs.setdefault("rate_limit_wait", None)
        return super().new(budget=self.budget, **kwargs)  # type: ignore[return-value]

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in (403, 429):
            return True  # increment() reads the headers and decides
        return status_code >= 500 and self._is_method_retryable(method)

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None, error: Any = None,
                  _pool: Any = None, _stacktrace: Any = None) -> Retry:
        if response is not None and response.status in (403, 429):
            wait = rate_limit_wait(response.status, response.headers)
            if wait is None or not self.budget.take(wait):
                raise MaxRetryError(_pool, url or "", None)  # answered as is: not retryable here
            retry = super().increment(method, url, response, error, _pool, _stacktrace)
            retry.rate_limit_wait = wait  # type: ignore[attr-defined]
            return retry
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        if self.rate_limit_wait is not None:
            time.sleep(self.rate_limit_wait)
        else:
            self._sleep_backoff()


def rate_limit_wait(status: int, headers: Any, now: float | None = None) -> float | None:
    """Seconds GitHub asks to wait, or None when this answer is not a rate limit."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None and retry_after.strip().isdigit():
        return max(float(retry_after), 1.0)
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset is not None and reset.isdigit():
        return max(float(reset) - (now if now is not None else time.time()), 0.0) + 1.0
    return UNTIMED_RATE_LIMIT_WAIT if status == 429 else None


def make_client(token: str, api_url: str) -> Github:
    retry = ReviewRetry(
        budget=WaitBudget(RATE_LIMIT_WAIT_BUDGET),
        total=10, connect=3, read=3, status=6, other=0, redirect=2, backoff_factor=0.5,
    )
    return Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token),
        retry=retry,
        timeout=REQUEST_TIMEOUT,
        per_page=100,
        seconds_between_requests=None,
        seconds_between_writes=None,
        user_agent=f"backend-reviewer/{__version__}",
        lazy=True,
    )


def is_ambiguous(error: Exception) -> bool:
    """A write that may or may not have been applied: a 5xx, or no answer at all."""
    if isinstance(error, GithubException):
        return error.status >= 500
    return isinstance(error, requests.exceptions.RequestException)


def is_forbidden(error: Exception) -> bool:
    """A write the token may not make (a fork pull request's read-only token)."""
    return (
        isinstance(error, GithubException)
        and not isinstance(error, RateLimitExceededException)
        and error.status == 403
    )


@contextmanager
def api_errors(doing: str, token_env: str, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """GitHub's failures as one line naming what was being done; a secret never appears."""
    try:
        yield
    except BadCredentialsException:
        raise UsageError(f"{doing}: GitHub rejected the token (401 Bad credentials); check ${token_env}") from None
    except UnknownObjectException:
        raise UsageError(
            f"{doing}: GitHub answered 404 Not Found; check the repository and pull request number, "
            f"and that the token in ${token_env} can read them"
        ) from None
    except RateLimitExceededException:
        raise GitHubUnavailable(f"{doing}: GitHub's API rate limit is exhausted for longer than this run may wait") from None
    except GithubException as error:
        message = _redact(_github_message(error), secrets)
        if error.status >= 500:
            raise GitHubUnavailable(f"{doing}: GitHub answered {error.status} {message}") from None
        raise UsageError(f"{doing}: GitHub answered {error.status} {message}") from None
    except requests.exceptions.RequestException as error:
        raise GitHubUnavailable(f"{doing}: no answer from GitHub ({type(error).__name__})") from None


def _github_message(error: GithubException) -> str:
    data = error.data if isinstance(error.data, dict) else {}
    message = str(data.get("message") or error.message or "").strip()
    details = data.get("errors")
    if isinstance(details, list) and details:
        first = details[0]
        message += f" ({first.get('message', first) if isinstance(first, dict) else first})"
    return " ".join(message.split())[:500]


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
