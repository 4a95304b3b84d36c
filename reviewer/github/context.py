"""Which pull request to review and how to reach GitHub: flags first, then the Actions
environment (GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL, the token's variable)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from reviewer.errors import UsageError
from reviewer.github.client import DEFAULT_API_URL

_REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class PullRequestRef:
    repo: str  # owner/name
    number: int
    api_url: str
    token_env: str
    token: str = field(repr=False)

    @property
    def owner(self) -> str:
        return self.repo.split("/")[0]

    @property
    def name(self) -> str:
        return self.repo.split("/")[1]


def pull_request_ref(
    repo: str | None, number: int | None, token_env: str, api_url: str | None, environ: Mapping[str, str]
) -> PullRequestRef:
    event = _event(environ)
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else {}
    repo = repo or environ.get("GITHUB_REPOSITORY") or ""
    if not repo:
        raise UsageError("no repository: pass --repo owner/name (GITHUB_REPOSITORY is not set)")
    if not _REPO_NAME.fullmatch(repo):
        raise UsageError(f"--repo must be owner/name, not '{repo}'")
    if number is None:
        number = pull.get("number") if isinstance(pull.get("number"), int) else None
    if number is None:
        kind = environ.get("GITHUB_EVENT_NAME") or "no"
        raise UsageError(f"no pull request to review: pass --pr N (the {kind} event names none)")
    token = environ.get(token_env, "").strip()
    if not token:
        raise UsageError(f"no GitHub token: ${token_env} is empty or not set (see --token-env)")
    return PullRequestRef(
        repo=repo,
        number=number,
        api_url=(api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        token_env=token_env,
        token=token,
    )


def _event(environ: Mapping[str, str]) -> dict[str, Any]:
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the event payload at GITHUB_EVENT_PATH ({path}): {error}") from None
    return data if isinstance(data, dict) else {}
