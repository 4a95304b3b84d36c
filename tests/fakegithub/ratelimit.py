"""Primary rate-limit bookkeeping: the x-ratelimit-* headers and GET /rate_limit."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Bucket:
    limit: int
    used: int = 0
    reset: int = 0

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def as_json(self) -> dict[str, int]:
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset, "used": self.used}


class RateLimits:
    """One bucket per resource (`core` for REST, `graphql`); each counted request spends one."""

    def __init__(self) -> None:
        reset = int(time.time()) + 3600
        self.buckets = {name: Bucket(5000, reset=reset) for name in ("core", "search", "graphql")}
        self._lock = threading.Lock()

    def spend(self, resource: str) -> None:
        with self._lock:
            self.buckets[resource].used += 1

    def headers(self, resource: str) -> dict[str, str]:
        bucket = self.buckets[resource]
        return {
            "x-ratelimit-limit": str(bucket.limit),
            "x-ratelimit-remaining": str(bucket.remaining),
            "x-ratelimit-reset": str(bucket.reset),
            "x-ratelimit-used": str(bucket.used),
            "x-ratelimit-resource": resource,
        }

    def overview(self) -> dict[str, Any]:
        resources = {name: bucket.as_json() for name, bucket in self.buckets.items()}
        return {"resources": resources, "rate": resources["core"]}
