"""What kind of code a file holds, judged from its repository path alone.

Several rules treat tests and migrations differently from application code: a test's loop runs
over a handful of fixture rows, and a test or a migration runs inside a transaction its framework
opens. They share these two definitions so they agree on which files those are.
"""

from __future__ import annotations

from pathlib import PurePosixPath

TEST_FOLDERS = frozenset({"tests", "test", "testing"})
TEST_MODULES = frozenset({"tests.py", "conftest.py"})  # Django's per-app test module, pytest's fixtures
MIGRATION_FOLDERS = frozenset({"migrations", "alembic"})


def is_test_path(path: str) -> bool:
    """Test code: anything under `tests/`, `test/` or `testing/`, `test_*.py`, `*_test.py`,
    `tests.py`, `conftest.py`."""
    posix = PurePosixPath(path)
    name = posix.name
    return (
        bool(TEST_FOLDERS & set(posix.parts[:-1]))
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name in TEST_MODULES
    )


def is_migration_path(path: str) -> bool:
    """Schema and data migrations: Django's `migrations/`, Alembic's `alembic/` (its `versions/`
    folder included) and `migrations/versions/` of Flask-Migrate."""
    return bool(MIGRATION_FOLDERS & set(PurePosixPath(path).parts[:-1]))
