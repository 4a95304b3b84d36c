"""The one exception the fake raises for a request GitHub would refuse."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal GitHub would answer with `status` and this JSON body (`errors` when GitHub adds them)."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def not_found() -> ApiError:
    return ApiError(404, "Not Found")
