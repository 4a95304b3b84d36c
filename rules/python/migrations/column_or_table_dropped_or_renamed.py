"""MIG003: a migration drops or renames a column or table the running code still uses."""

from __future__ import annotations

from libcst.metadata import PositionProvider

from reviewer.analysis.migration_history import previous_field
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    MigrationRule,
    Operation,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

EXPAND_CONTRACT = (
    "deploy code that no longer uses it first, and drop or rename in a later release (expand/contract)"
)


class ColumnOrTableDroppedOrRenamed(MigrationRule):
    code = "MIG003"
    name = "column-or-table-dropped-or-renamed"
    severity = Severity.WARNING
    summary = "A migration drops or renames a column or table that the deployed code still uses"
    what = """
        Flags schema operations that remove or rename something the currently running version
        of the application reads or writes: Django `RemoveField`, `DeleteModel`, `RenameField`
        (unless the field keeps its column through `db_column`, as read from earlier migrations),
        `RenameModel`, `AlterModelTable`; Alembic `op.drop_column`, `op.drop_table`,
        `op.rename_table` and `op.alter_column(new_column_name=...)`, also in batch mode.
        Operations in `SeparateDatabaseAndState.state_operations` change only Django's model
        state and are not flagged; neither is a table created and dropped by the same upgrade.
    """
    why = """
        Migrations run while the previous release is still serving requests (and a rollback
        brings it back). Its queries still name the old column or table, so from the moment the
        migration commits they fail with "column does not exist" until every old process is
        gone. Removing in two releases — first stop using it (in Django, remove it from the model
        with SeparateDatabaseAndState), then drop it — keeps both versions working.
    """
    references = (
        "https://docs.djangoproject.com/en/stable/ref/migration-operations/#removefield",
        "https://docs.djangoproject.com/en/stable/ref/migration-operations/#separatedatabaseandstate",
        "https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.drop_column",
        "https://www.postgresql.org/docs/current/sql-altertable.html",
    )
    tags = ("migrations",)

    VALID = [
        Valid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                operations = [
                    migrations.SeparateDatabaseAndState(
                        state_operations=[migrations.RemoveField(model_name="order", name="legacy_code")],
                    ),
                ]
            """,
            path="shop/migrations/0009_forget_legacy_code.py",
        ),
        Valid(
            """
            from django.db import migrations

            operations = [migrations.RemoveField(model_name="order", name="legacy_code")]
            """,
            path="shop/cleanup.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField("order", "note", models.TextField(null=True)),
                    migrations.AlterField("order", "number", models.CharField(max_length=40)),
                ]
            """,
            path="shop/migrations/0010_order_note.py",
        ),
        Valid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [migrations.RenameField("order", "num", "number")]
            """,
            path="shop/migrations/0002_rename_num.py",
            files={
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(
                                name="Order",
                                fields=[("num", models.CharField(max_length=20, db_column="number"))],
                            ),
                        ]
                """,
            },
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.create_table("tmp_import", sa.Column("id", sa.Integer()))
                op.execute("INSERT INTO account SELECT * FROM tmp_import")
                op.drop_table("tmp_import")

            def downgrade():
                op.drop_column("account", "nickname")
            """,
            path="alembic/versions/f6_import.py",
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                op.alter_column("account", "nickname", nullable=True)

            def drop_column(table, column):
                return (table, column)
            """,
            path="alembic/versions/g7_nickname.py",
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("shop", "0008_order_token")]
                operations = [
                    migrations.RemoveField(
                        model_name="order",
                        name="legacy_code",
                    ),
                ]
            """,
            line=7,
            path="shop/migrations/0009_remove_order_legacy_code.py",
        ),
        Invalid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                operations = [migrations.RenameModel(old_name="Purchase", new_name="Order")]
            """,
            line=5,
            path="shop/migrations/0010_rename_purchase.py",
        ),
        Invalid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                operations = [
                    migrations.SeparateDatabaseAndState(
                        database_operations=[migrations.DeleteModel("Coupon")],
                    ),
                ]
            """,
            line=7,
            path="shop/migrations/0011_delete_coupon.py",
        ),
        Invalid(
            """
            from alembic import op

            def upgrade():
                op.drop_column("account", "nickname")
            """,
            line=5,
            path="alembic/versions/h8_drop_nickname.py",
        ),
        Invalid(
            """
            from alembic import op

            def upgrade():
                with op.batch_alter_table("account") as batch_op:
                    batch_op.alter_column("nick", new_column_name="nickname")
            """,
            line=6,
            path="alembic/versions/i9_rename_nick.py",
        ),
        Invalid(
            """
            import alembic.op

            def upgrade():
                alembic.op.rename_table("users", "accounts")
            """,
            line=5,
            path="db/versions/j0_accounts.py",
        ),
    ]

    def check_django(self, migration: DjangoMigration) -> None:
        for operation in migration.operations:
            self._report_change(operation, self._django_change(operation))

    def check_alembic(self, migration: AlembicMigration) -> None:
        for operation in migration.operations:
            self._report_change(operation, _alembic_change(operation, migration))

    def _report_change(self, operation: Operation, description: str | None) -> None:
        if description:
            self.report(operation.call, f"{description} while the running release still uses it; {EXPAND_CONTRACT}")

    def _django_change(self, operation: Operation) -> str | None:
        model = operation.string("model_name") or operation.string("name") or operation.string("old_name") or "?"
        if operation.name == "RemoveField":
            return f"RemoveField drops column `{operation.string('name')}` of `{model}`"
        if operation.name == "DeleteModel":
            return f"DeleteModel drops the table of `{model}`"
        if operation.name == "RenameModel":
            return f"RenameModel renames the table of `{model}` to `{operation.string('new_name')}`"
        if operation.name == "AlterModelTable":
            return f"AlterModelTable renames the table of `{model}` to `{operation.string('table')}`"
        if operation.name == "RenameField" and not self._keeps_column(operation):
            return f"RenameField renames column `{operation.string('old_name')}` of `{model}` to `{operation.string('new_name')}`"
        return None

    def _keeps_column(self, operation: Operation) -> bool:
        """A field with its own `db_column` keeps its column when the field is renamed."""
        line = self.get_metadata(PositionProvider, operation.call).start.line
        old = previous_field(
            self.context.read_repo_file,
            self.context.path,
            self.context.source,
            operation.table or "",
            operation.string("old_name") or "",
            line,
        )
        return old is not None and bool(old.option("db_column"))


def _alembic_change(operation: Operation, migration: AlembicMigration) -> str | None:
    table = operation.table or "?"
    if operation.name == "drop_column":
        return f"drop_column drops column `{operation.string('column_name')}` of `{table}`"
    if operation.name == "drop_table" and not migration.creates(operation.table):
        return f"drop_table drops table `{table}`"
    if operation.name == "rename_table":
        return f"rename_table renames table `{table}` to `{operation.string('new_table_name')}`"
    if operation.name == "alter_column" and operation.arg("new_column_name") is not None:
        return f"alter_column renames column `{operation.string('column_name')}` of `{table}` to `{operation.string('new_column_name')}`"
    return None
