"""The pytest fixture: `from fakegithub.fixtures import fake_github` in a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakegithub.server import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub server for one test, stopped afterwards."""
    with FakeGitHub() as fake:
        yield fake
