"""Which files are tests and which are migrations, judged from the path alone."""

from __future__ import annotations

import pytest

from reviewer.analysis.paths import is_migration_path, is_test_path


@pytest.mark.parametrize(
    ("path", "test", "migration"),
    [
        ("tests/test_orders.py", True, False),
        ("shop/tests/factories.py", True, False),
        ("shop/test_views.py", True, False),
        ("shop/views_test.py", True, False),
        ("conftest.py", True, False),
        ("shop/migrations/0004_backfill.py", False, True),
        ("alembic/versions/3f2a_add_index.py", False, True),
        ("shop/testimonials.py", False, False),
        ("shop/views.py", False, False),
        ("shop/tests/test_orders.py", True, False),
        ("test_orders.py", True, False),
        ("shop/orders_test.py", True, False),
        ("shop/tests.py", True, False),
        ("shop/migrations/0002_backfill.py", False, True),
        ("alembic/versions/1234_add.py", False, True),
        ("shop/services.py", False, False),
        ("shop/contest.py", False, False),
        ("shop/migrations.py", False, False),
    ],
)
def test_test_and_migration_paths(path: str, test: bool, migration: bool) -> None:
    assert (is_test_path(path), is_migration_path(path)) == (test, migration)
