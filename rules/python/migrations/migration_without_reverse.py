"""MIG005: a migration that cannot be rolled back."""

from __future__ import annotations

import libcst as cst

from reviewer.analysis.calls import is_none
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    MigrationRule,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

# Django operation -> the argument that undoes it, and what to pass when there is nothing to undo.
REVERSE_ARGUMENTS = {
    "RunPython": ("reverse_code", "migrations.RunPython.noop"),
    "RunSQL": ("reverse_sql", "migrations.RunSQL.noop"),
}


class MigrationWithoutReverse(MigrationRule):
    code = "MIG005"
    name = "migration-without-reverse"
    severity = Severity.WARNING
    summary = "A migration has no way back: no reverse code, or an empty downgrade"
    what = """
        Flags Django `RunPython` without `reverse_code` and `RunSQL` without `reverse_sql` (or with
        them set to None), and Alembic revisions whose `downgrade()` does nothing (`pass`, `...`
        or only a docstring) while `upgrade()` runs operations. A downgrade that raises on
        purpose, or Django's `RunPython.noop`/`RunSQL.noop` for steps with nothing to undo, say
        the choice out loud and are not flagged.
    """
    why = """
        Rolling back a bad release usually means migrating back too. Django refuses to reverse
        past an irreversible operation, and an empty Alembic downgrade reports success while
        leaving the schema as the new code wants it — the old code then runs against a schema
        it does not know. Write the reverse while the change is fresh, or declare that there is
        nothing to undo.
    """
    references = (
        "https://docs.djangoproject.com/en/stable/ref/migration-operations/#runpython",
        "https://docs.djangoproject.com/en/stable/ref/migration-operations/#runsql",
        "https://alembic.sqlalchemy.org/en/latest/tutorial.html#downgrading",
    )
    tags = ("migrations",)

    VALID = [
        Valid(
            """
            from django.db import migrations

            def forwards(apps, schema_editor):
                ...

            def backwards(apps, schema_editor):
                ...

            class Migration(migrations.Migration):
                operations = [
                    migrations.RunPython(forwards, backwards),
                    migrations.RunPython(forwards, reverse_code=migrations.RunPython.noop),
                    migrations.RunSQL("UPDATE shop_order SET total = 0", "SELECT 1"),
                    migrations.RunSQL(sql="CREATE EXTENSION IF NOT EXISTS citext", reverse_sql=migrations.RunSQL.noop),
                ]
            """,
            path="shop/migrations/0012_backfill.py",
        ),
        Valid(
            """
            from django.db import migrations

            def forwards(apps, schema_editor):
                ...

            steps = [migrations.RunPython(forwards)]
            """,
            path="shop/data_steps.py",
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                op.drop_column("account", "nickname")

            def downgrade():
                raise NotImplementedError("nickname values cannot be restored")
            """,
            path="alembic/versions/p6_drop_nickname.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("account", sa.Column("nickname", sa.String(40)))

            def downgrade():
                op.drop_column("account", "nickname")
            """,
            path="alembic/versions/q7_nickname.py",
        ),
        Valid(
            """
            \"\"\"merge heads

            Revision ID: r8
            \"\"\"
            from alembic import op

            revision = "r8"
            down_revision = ("p6", "q7")

            def upgrade():
                pass

            def downgrade():
                pass
            """,
            path="alembic/versions/r8_merge.py",
        ),
        Valid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                operations = [
                    migrations.SeparateDatabaseAndState(
                        state_operations=[migrations.RunSQL("SELECT 1")],
                    ),
                ]
            """,
            path="shop/migrations/0013_state.py",
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import migrations

            def fill_totals(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                Order.objects.filter(total=None).update(total=0)

            class Migration(migrations.Migration):
                operations = [
                    migrations.RunPython(fill_totals),
                ]
            """,
            line=10,
            path="shop/migrations/0014_fill_totals.py",
        ),
        Invalid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                operations = [
                    migrations.RunSQL(
                        sql="ALTER TABLE shop_order ADD CONSTRAINT positive_total CHECK (total >= 0)",
                        reverse_sql=None,
                    ),
                ]
            """,
            line=6,
            path="shop/migrations/0015_positive_total.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("account", sa.Column("nickname", sa.String(40)))

            def downgrade():
                pass
            """,
            line=8,
            path="alembic/versions/s9_nickname.py",
        ),
        Invalid(
            """
            from alembic import op

            def upgrade():
                op.execute("UPDATE account SET tier = 'free' WHERE tier IS NULL")

            def downgrade():
                \"\"\"Nothing to do.\"\"\"
            """,
            line=7,
            path="alembic/versions/t0_tier.py",
        ),
    ]

    def check_alembic(self, migration: AlembicMigration) -> None:
        if migration.downgrade is not None and _does_nothing(migration.downgrade):
            self.report(
                migration.downgrade.name,
                "downgrade() does nothing while upgrade() changes the database, so a rollback reports success and "
                "leaves the upgraded schema or data behind; undo the upgrade, or raise to say it cannot be undone",
            )

    def check_django(self, migration: DjangoMigration) -> None:
        for operation in migration.operations:
            if operation.name not in REVERSE_ARGUMENTS:
                continue
            argument, noop = REVERSE_ARGUMENTS[operation.name]
            reverse = operation.arg(argument)
            if reverse is None or is_none(reverse):
                self.report(
                    operation.call,
                    f"{operation.name} has no {argument}, so this migration cannot be unapplied; pass the code that "
                    f"undoes it, or {argument}={noop} if there is nothing to undo",
                )


def _does_nothing(function: cst.FunctionDef) -> bool:
    """A body of only `pass`, `...` and string literals (docstrings)."""
    body = function.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else (body,)
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        for small in statement.body:
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)):
                continue
            return False
    return True
