"""Failures a test asks for: "the next N requests matching METHOD PATH-regex go wrong like this".

Kinds, as GitHub shows them to a client:
- `status`: a plain 5xx (or any status) answer; the request is not applied.
- `secondary_rate_limit`: 403 or 429 with `retry-after` and GitHub's "secondary rate limit" message.
- `primary_rate_limit`: 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` a moment ahead.
- `lose_response`: the request IS applied, then the answer is a 5xx or the connection is dropped,
  so a client that retries writes posts twice.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

BEFORE = "before"  # answered instead of the request
AFTER = "after"  # answered after the request was applied


@dataclass
class FaultRule:
    kind: str
    method: str  # upper case, or "*" for any
    path: re.Pattern[str]  # searched in the path below the API root, e.g. /repos/o/r/pulls/7/reviews
    times: int
    status: int | None = None  # None with lose_response: drop the connection
    retry_after: int | None = None
    reset_in: int = 1

    @property
    def phase(self) -> str:
        return AFTER if self.kind == "lose_response" else BEFORE

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and self.path.search(path) is not None


class Faults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        method: str,
        path: str,
        times: int,
        status: int | None,
        retry_after: int | None = None,
        reset_in: int = 1,
    ) -> FaultRule:
        rule = FaultRule(kind, method.upper(), re.compile(path), times, status, retry_after, reset_in)
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, phase: str, method: str, path: str) -> FaultRule | None:
        """The first armed rule of this phase that matches; using it spends one of its `times`."""
        with self._lock:
            for rule in self._rules:
                if rule.phase == phase and rule.matches(method, path):
                    rule.times -= 1
                    return rule
        return None

    def pending(self) -> list[FaultRule]:
        """Rules not yet used up (a test can assert its fault really fired)."""
        with self._lock:
            return [rule for rule in self._rules if rule.times > 0]
