"""MIG004: a migration changes a column's type in place."""

from __future__ import annotations

from libcst.metadata import PositionProvider

from reviewer.analysis.calls import is_none, keyword_arg
from reviewer.analysis.migration_history import previous_field
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    MigrationRule,
    Operation,
    django_field,
    keeps_storage,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

# Django field class -> the PostgreSQL column type family it is stored as.
DJANGO_COLUMN_TYPES = {
    **dict.fromkeys(
        ("CharField", "SlugField", "EmailField", "URLField", "FilePathField", "FileField", "ImageField"), "varchar"
    ),
    "TextField": "text",
    **dict.fromkeys(("SmallIntegerField", "PositiveSmallIntegerField", "SmallAutoField"), "smallint"),
    **dict.fromkeys(("IntegerField", "PositiveIntegerField", "AutoField"), "integer"),
    **dict.fromkeys(("BigIntegerField", "PositiveBigIntegerField", "BigAutoField"), "bigint"),
    **dict.fromkeys(("BooleanField", "NullBooleanField"), "boolean"),
    "DateField": "date",
    "DateTimeField": "timestamp",
    "TimeField": "time",
    "DurationField": "interval",
    "DecimalField": "numeric",
    "FloatField": "double precision",
    "UUIDField": "uuid",
    "JSONField": "jsonb",
    "BinaryField": "bytea",
    **dict.fromkeys(("GenericIPAddressField", "IPAddressField"), "inet"),
}
# Changes PostgreSQL makes without rewriting or re-checking the table (binary-coercible).
SAFE_CHANGES = {("varchar", "text")}


class ColumnTypeChanged(MigrationRule):
    code = "MIG004"
    name = "column-type-changed"
    severity = Severity.WARNING
    summary = "A migration changes the type of an existing column in place"
    what = """
        Flags in-place column type changes: Alembic `op.alter_column(..., type_=...)` (certain —
        except widening a string, e.g. `existing_type=sa.String(50)` to `sa.String(100)` or
        `sa.Text()`, and string length changes whose lengths are not literals), and Django
        `AlterField` whose field class maps to a different column type than the field's previous
        definition. Django's AlterField shows only the new field, so the previous one is read
        from the migrations this one depends on; when it cannot be found, or either class is not
        one of Django's own, nothing is said. Changes in size within one type (max_length,
        decimal places) are not judged.
    """
    why = """
        Changing a column's type makes PostgreSQL take an exclusive lock — no reads, no writes —
        and, for most changes, rewrite the whole table and its indexes while holding it. On a
        big table that is an outage, and the running release may also send values the new type
        rejects. MySQL copies the whole table for most type changes (TEXT to MEDIUMTEXT
        included), blocking writes until the copy is done. Add a new column, backfill it in
        batches, switch the code over, then drop the old one — or keep to the changes PostgreSQL
        can make without a rewrite (varchar to text, a longer varchar).
    """
    references = (
        "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES",
        "https://docs.djangoproject.com/en/stable/ref/migration-operations/#alterfield",
        "https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.alter_column",
    )
    tags = ("migrations",)

    VALID = [
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.alter_column("account", "bio", existing_type=sa.String(200), type_=sa.Text())
                op.alter_column("account", "name", existing_type=sa.String(length=50), type_=sa.String(length=120))
                op.alter_column("account", "nickname", nullable=True)
                op.alter_column("account", "age", existing_type=sa.Integer(), type_=sa.Integer(), nullable=False)
            """,
            path="alembic/versions/k1_widen.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                current = inspect_length("account", "username")
                with op.batch_alter_table("account") as batch_op:
                    batch_op.alter_column(
                        "username",
                        existing_type=sa.String(current) if current else sa.String(64),
                        type_=sa.String(128),
                    )
            """,
            path="alembic/versions/k2_longer_username.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.create_table("draft", sa.Column("id", sa.Integer(), primary_key=True))

            def downgrade():
                op.alter_column("account", "balance", type_=sa.Integer())
            """,
            path="alembic/versions/l2_draft.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.AlterField("order", "number", models.CharField(max_length=64)),
                    migrations.AlterField("order", "note", models.TextField(blank=True)),
                ]
            """,
            path="shop/migrations/0002_alter_order.py",
            files={
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(
                                name="Order",
                                fields=[
                                    ("number", models.CharField(max_length=20)),
                                    ("note", models.CharField(max_length=200)),
                                ],
                            ),
                        ]
                """,
            },
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [migrations.AlterField("order", "total", models.BigIntegerField())]
            """,
            path="shop/migrations/0002_bigger_total.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0002_rename")]
                operations = [migrations.AlterField("order", "total", models.IntegerField(default=0))]
            """,
            path="shop/migrations/0003_total_default.py",
            files={
                "shop/migrations/0002_rename.py": """
                    from django.db import migrations

                    class Migration(migrations.Migration):
                        dependencies = [("shop", "0001_initial")]
                        operations = [migrations.RenameField("order", "amount", "total")]
                """,
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(name="Order", fields=[("amount", models.PositiveIntegerField())]),
                        ]
                """,
            },
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel(name="Coupon", fields=[("code", models.CharField(max_length=8))]),
                    migrations.AlterField("coupon", "code", models.IntegerField()),
                ]
            """,
            path="shop/migrations/0001_initial.py",
        ),
    ]
    INVALID = [
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.alter_column(
                    "account",
                    "balance",
                    existing_type=sa.Integer(),
                    type_=sa.Numeric(12, 2),
                )
            """,
            line=6,
            path="alembic/versions/m3_balance.py",
        ),
        Invalid(
            """
            from alembic import op
            from sqlalchemy import String

            def upgrade():
                op.alter_column("account", "code", existing_type=String(20), type_=String(10))
            """,
            line=6,
            path="alembic/versions/n4_code.py",
        ),
        Invalid(
            """
            from alembic import op
            from sqlalchemy.dialects import postgresql

            def upgrade():
                with op.batch_alter_table("event") as batch_op:
                    batch_op.alter_column("payload", type_=postgresql.JSONB())
            """,
            line=7,
            path="alembic/versions/o5_payload.py",
        ),
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
                operations = [
                    migrations.AlterField(
                        model_name="order",
                        name="total",
                        field=models.DecimalField(max_digits=12, decimal_places=2),
                    ),
                ]
            """,
            line=7,
            path="shop/migrations/0002_decimal_total.py",
            files={
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(name="Order", fields=[("total", models.IntegerField())]),
                        ]
                """,
            },
        ),
    ]

    def check_django(self, migration: DjangoMigration) -> None:
        for operation in migration.operations:
            if operation.name == "AlterField" and not migration.creates(operation.table):
                self._check_alter_field(operation)

    def check_alembic(self, migration: AlembicMigration) -> None:
        for operation in migration.operations:
            if operation.name == "alter_column" and not migration.creates(operation.table):
                self._check_alter_column(operation)

    def _check_alter_field(self, operation: Operation) -> None:
        new = django_field(operation.arg("field"), self.get_metadata)
        new_type = DJANGO_COLUMN_TYPES.get(new.class_name) if new else None
        if new_type is None:
            return
        column = operation.string("name") or ""
        line = self.get_metadata(PositionProvider, operation.call).start.line
        old = previous_field(
            self.context.read_repo_file, self.context.path, self.context.source, operation.table or "", column, line
        )
        old_type = DJANGO_COLUMN_TYPES.get(old.class_name) if old else None
        if old_type is None or old_type == new_type or (old_type, new_type) in SAFE_CHANGES:
            return
        self.report(
            operation.call,
            f"AlterField changes column `{operation.table}.{column}` from {old_type} ({old.class_name}) to {new_type} "
            f"({new.class_name}), which locks the table and rewrites it while the running release still uses it; "
            "add a new column, backfill it, switch the code, then drop the old one",
        )

    def _check_alter_column(self, operation: Operation) -> None:
        new_type = keyword_arg(operation.call, "type_")
        if new_type is None or is_none(new_type) or keeps_storage(keyword_arg(operation.call, "existing_type"), new_type, self.get_metadata):
            return
        self.report(
            operation.call,
            f"alter_column changes the type of `{operation.table or '?'}.{operation.string('column_name') or '?'}` to "
            f"{self.module.code_for_node(new_type)}, which locks the table and usually rewrites it while the running "
            "release still uses it; add a new column, backfill it, switch the code, then drop the old one",
        )
