"""MIG003: a migration drops or renames a column or table the running code still uses."""

from __future__ import annotations

from libcst.metadata import PositionProvider

from reviewer.analysis.migration_history import ModelTable, previous_field, previous_model_table
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    MigrationRule,
    Operation,
    column_spec,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

DJANGO_CHANGES = ("RemoveField", "DeleteModel", "RenameModel", "AlterModelTable", "RenameField")
EXPAND_CONTRACT = (
    "deploy code that no longer uses it first, and drop or rename in a later release (expand/contract)"
)


class ColumnOrTableDroppedOrRenamed(MigrationRule):
    code = "MIG003"
    name = "column-or-table-dropped-or-renamed"
    severity = Severity.WARNING
    summary = "A migration drops or renames a column or table that the deployed code still uses"
    what = """
        Flags schema operations that remove or rename something the currently running version of
        the application reads or writes: Django `RemoveField`, `DeleteModel`, `RenameField`
        (unless the field keeps its column through `db_column`, as read from earlier
        migrations), `RenameModel` (unless the model keeps its table through `db_table` and has
        no many-to-many join table named after it), `AlterModelTable` — except on proxy and
        `managed = False` models, whose tables migrations do not touch; Alembic
        `op.drop_column`, `op.drop_table`, `op.rename_table` and
        `op.alter_column(new_column_name=...)`, also in batch mode. Operations in
        `SeparateDatabaseAndState.state_operations` change only Django's model state and are not
        flagged; neither are changes to a table or column the same migration created before (a
        squashed migration replaying history, a scratch column), which no running release can be
        using. The same change repeated (a retry in an `except` branch) is reported once.
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
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                initial = True
                replaces = [("shop", "0001_initial"), ("shop", "0002_cleanup")]
                operations = [
                    migrations.CreateModel(name="Purchase", fields=[("id", models.AutoField(primary_key=True))]),
                    migrations.AddField("purchase", "legacy", models.TextField(null=True)),
                    migrations.RenameModel("Purchase", "Order"),
                    migrations.RemoveField("order", "legacy"),
                    migrations.DeleteModel("Order"),
                ]
            """,
            path="shop/migrations/0001_squashed_0002_cleanup.py",
        ),
        Valid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [migrations.RenameModel(old_name="Purchase", new_name="Order")]
            """,
            path="shop/migrations/0002_rename_purchase.py",
            files={
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(
                                name="Purchase",
                                fields=[("id", models.AutoField(primary_key=True))],
                                options={"db_table": "purchase"},
                            ),
                        ]
                """,
            },
        ),
        Valid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("shop", "0003_order_views")]
                operations = [
                    migrations.DeleteModel(name="PaidOrder"),
                    migrations.RemoveField(model_name="ledgerview", name="total"),
                ]
            """,
            path="shop/migrations/0004_drop_views.py",
            files={
                "shop/migrations/0003_order_views.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(
                                name="PaidOrder", fields=[], options={"proxy": True}, bases=("shop.order",)
                            ),
                            migrations.CreateModel(
                                name="LedgerView",
                                fields=[("id", models.IntegerField(primary_key=True)), ("total", models.IntegerField())],
                                options={"managed": False, "db_table": "ledger_view"},
                            ),
                        ]
                """,
            },
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa
            from shop.migration_helpers import create_table

            staging = "report_staging"

            def upgrade():
                create_table(staging, sa.Column("id", sa.Integer(), primary_key=True))
                op.add_column("account", sa.Column("scratch_id", sa.Integer()))
                op.execute("INSERT INTO report_staging SELECT id FROM account")
                op.execute("UPDATE account SET scratch_id = id")
                op.drop_table(staging)
                op.drop_column("account", "scratch_id")
            """,
            path="alembic/versions/k1_report.py",
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
                dependencies = [("shop", "0001_initial")]
                operations = [migrations.RenameModel(old_name="Purchase", new_name="Order")]
            """,
            line=6,
            path="shop/migrations/0002_rename_purchase.py",
            files={
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(
                                name="Purchase",
                                fields=[
                                    ("id", models.AutoField(primary_key=True)),
                                    ("tags", models.ManyToManyField(to="shop.tag")),
                                ],
                                options={"db_table": "purchase"},
                            ),
                        ]
                """,
            },
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
            import sqlalchemy as sa

            def upgrade():
                try:
                    with op.batch_alter_table("account") as batch_op:
                        batch_op.alter_column("nick", new_column_name="nickname")
                except sa.exc.OperationalError:
                    op.alter_column("account", "nick", new_column_name="nickname")
            """,
            line=8,
            path="alembic/versions/i9_rename_nick.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.drop_table("observation")
                op.create_table("observation", sa.Column("id", sa.Integer(), primary_key=True))
            """,
            line=6,
            path="alembic/versions/i10_recreate_observation.py",
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
        reported: set[str] = set()
        for operation in migration.operations:
            if not migration.created_before(operation):
                self._report_change(operation, self._django_change(operation), reported)

    def check_alembic(self, migration: AlembicMigration) -> None:
        reported: set[str] = set()
        added: set[tuple[str | None, str]] = set()
        for operation in migration.operations:
            if operation.name == "add_column":
                column = column_spec(operation.arg("column"), self.get_metadata)
                if column is not None and column.name:
                    added.add((operation.table, column.name))
            elif not migration.created_before(operation) and (operation.table, operation.string("column_name")) not in added:
                self._report_change(operation, _alembic_change(operation), reported)

    def _report_change(self, operation: Operation, description: str | None, reported: set[str]) -> None:
        """Report once per change: the same change on the same known table again is a retry."""
        if not description or description in reported:
            return
        if operation.table is not None:
            reported.add(description)
        self.report(operation.call, f"{description} while the running release still uses it; {EXPAND_CONTRACT}")

    def _django_change(self, operation: Operation) -> str | None:
        model = operation.string("model_name") or operation.string("name") or operation.string("old_name") or "?"
        if operation.name not in DJANGO_CHANGES:
            return None
        table = self._model_table(operation)
        if table is not None and not table.managed:
            return None
        if operation.name == "RemoveField":
            return f"RemoveField drops column `{operation.string('name')}` of `{model}`"
        if operation.name == "DeleteModel":
            return f"DeleteModel drops the table of `{model}`"
        if operation.name == "RenameModel" and not _keeps_table(table):
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

    def _model_table(self, operation: Operation) -> ModelTable | None:
        line = self.get_metadata(PositionProvider, operation.call).start.line
        return previous_model_table(
            self.context.read_repo_file, self.context.path, self.context.source, operation.table or "", line
        )


def _keeps_table(table: ModelTable | None) -> bool:
    """A model with its own `db_table` keeps its table when renamed (unless a join table is named after it)."""
    return table is not None and table.db_table is not None and not table.many_to_many


def _alembic_change(operation: Operation) -> str | None:
    table = operation.table or "?"
    if operation.name == "drop_column":
        return f"drop_column drops column `{operation.string('column_name')}` of `{table}`"
    if operation.name == "drop_table":
        return f"drop_table drops table `{table}`"
    if operation.name == "rename_table":
        return f"rename_table renames table `{table}` to `{operation.string('new_table_name')}`"
    if operation.name == "alter_column" and operation.arg("new_column_name") is not None:
        return f"alter_column renames column `{operation.string('column_name')}` of `{table}` to `{operation.string('new_column_name')}`"
    return None
