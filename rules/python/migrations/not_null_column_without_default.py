"""MIG001: a NOT NULL column added to an existing table without a default."""

from __future__ import annotations

from reviewer.analysis.calls import is_none
from reviewer.analysis.dialect import MYSQL
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    FieldSpec,
    MigrationRule,
    column_spec,
    django_field,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

# Django fields that need no value for existing rows: no column, or one the database fills.
FILLED_BY_DATABASE = {"ManyToManyField", "GeneratedField", "AutoField", "BigAutoField", "SmallAutoField"}
# With blank=True and no default, Django fills existing rows with "" for these (empty_strings_allowed).
EMPTY_STRING_FIELDS = {
    "CharField", "TextField", "SlugField", "EmailField", "URLField", "FilePathField", "FileField",
    "ImageField", "BinaryField",
}
# SQLAlchemy constructs that make the database generate the column's values.
GENERATED_COLUMN_ITEMS = {"Identity", "Computed", "Sequence"}


class NotNullColumnWithoutDefault(MigrationRule):
    code = "MIG001"
    name = "not-null-column-without-default"
    severity = Severity.ERROR
    summary = "A NOT NULL column is added to an existing table without a default"
    what = """
        Flags a migration that adds a column which may not be NULL to a table that already
        exists, without giving the database a value for the rows already there: a Django
        `AddField` whose field has neither `null=True`, `default=` nor `db_default=` (and is not
        filled by Django itself: `auto_now`, `blank=True` on a text field, auto fields), or an
        Alembic `op.add_column(sa.Column(..., nullable=False))` without `server_default=`.
        Tables created by the same migration are empty and are not flagged; neither are
        projects whose configuration names MySQL, which fills existing rows with the type's
        implicit default (0, '') instead of failing.
    """
    why = """
        The database must put something in the new column for every existing row. Without a
        default it has nothing, so the migration fails with a NOT NULL violation as soon as the
        table has rows — typically in production, mid-deploy, after it passed on an empty test
        database. SQLAlchemy's `default=` is applied by Python on insert and does not help here.
    """
    references = (
        "https://docs.djangoproject.com/en/stable/ref/migration-operations/#addfield",
        "https://docs.djangoproject.com/en/stable/ref/models/fields/#db-default",
        "https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.add_column",
        "https://www.postgresql.org/docs/current/sql-altertable.html",
    )
    tags = ("migrations",)
    quiet_on_databases = frozenset({MYSQL})

    VALID = [
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField(model_name="order", name="note", field=models.TextField(null=True)),
                    migrations.AddField(model_name="order", name="paid", field=models.BooleanField(default=False)),
                    migrations.AddField(
                        model_name="order",
                        name="total",
                        field=models.IntegerField(default=0),
                        preserve_default=False,
                    ),
                    migrations.AddField(model_name="order", name="code", field=models.CharField(max_length=8, blank=True)),
                    migrations.AddField(model_name="order", name="created", field=models.DateTimeField(auto_now_add=True)),
                    migrations.AddField(model_name="order", name="tags", field=models.ManyToManyField(to="shop.tag")),
                    migrations.AddField(model_name="order", name="rank", field=models.IntegerField(db_default=1)),
                ]
            """,
            path="shop/migrations/0002_order_fields.py",
        ),
        Valid(
            """
            from django.db import migrations, models
            import django.db.models.deletion

            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel(name="Invoice", fields=[("id", models.BigAutoField(primary_key=True))]),
                    migrations.AddField(
                        model_name="invoice",
                        name="order",
                        field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.order"),
                    ),
                ]
            """,
            path="shop/migrations/0001_initial.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.SeparateDatabaseAndState(
                        state_operations=[
                            migrations.AddField(model_name="order", name="legacy", field=models.IntegerField()),
                        ],
                    ),
                ]
            """,
            path="shop/migrations/0003_state_only.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            def add(model):
                return migrations.AddField(model_name=model, name="n", field=models.IntegerField())

            operations = [migrations.AddField(model_name="order", name="n", field=models.IntegerField())]
            """,
            path="shop/migration_helpers.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("account", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
                op.add_column("account", sa.Column("nickname", sa.String(50)))
                op.add_column("account", sa.Column("seq", sa.Integer(), sa.Identity(), nullable=False))
            """,
            path="alembic/versions/1a2b_account_flags.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.create_table("audit", sa.Column("id", sa.Integer(), primary_key=True))
                op.add_column("audit", sa.Column("actor", sa.String(40), nullable=False))

            def downgrade():
                op.add_column("account", sa.Column("legacy", sa.Integer(), nullable=False))
            """,
            path="alembic/versions/2b3c_audit.py",
        ),
        Valid(
            """
            from alembic import op
            from sqlalchemy import Column, Integer

            def upgrade():
                with op.batch_alter_table("account") as batch_op:
                    batch_op.add_column(Column("score", Integer, nullable=False, server_default="0"))
            """,
            path="alembic/versions/3c4d_score.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("account", sa.Column("visits", sa.Integer(), nullable=False))
            """,
            path="db/versions/4d5e_visits.py",
            files={"db/alembic.ini": "[alembic]\nsqlalchemy.url = mysql+pymysql://app@db/app\n"},
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.AddField(
                        model_name="order",
                        name="quantity",
                        field=models.PositiveIntegerField(),
                    ),
                ]
            """,
            line=10,
            path="shop/migrations/0002_order_quantity.py",
        ),
        Invalid(
            """
            from django.db import migrations
            from django.db.models import CharField as Text

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField("order", "status", Text(max_length=10, null=False, default=None)),
                ]
            """,
            line=7,
            path="shop/migrations/0003_order_status.py",
        ),
        Invalid(
            """
            from django.db import migrations, models
            import django.db.models.deletion

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField(
                        model_name="order",
                        name="customer",
                        field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="shop.customer"),
                    ),
                ]
            """,
            line=10,
            path="shop/migrations/0004_order_customer.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("account", sa.Column("tier", sa.String(10), nullable=False, default="free"))
            """,
            line=6,
            path="alembic/versions/4d5e_tier.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                with op.batch_alter_table("account") as batch_op:
                    batch_op.add_column(
                        sa.Column("region", sa.String(2), nullable=False, server_default=None)
                    )
            """,
            line=8,
            path="migrations/versions/5e6f_region.py",
        ),
    ]

    def check_django(self, migration: DjangoMigration) -> None:
        for operation in migration.operations:
            if operation.name != "AddField" or migration.creates(operation.table):
                continue
            spec = django_field(operation.arg("field"), self.get_metadata)
            if spec is not None and not _django_fills_existing_rows(spec):
                column = operation.string("name") or "the new field"
                self.report(
                    spec.call,
                    f"AddField adds NOT NULL column `{column}` to the existing model `{operation.table}` without a "
                    "default, so the migration fails once the table has rows; give it a default (or db_default), "
                    "or add it with null=True, backfill, then make it NOT NULL",
                )

    def check_alembic(self, migration: AlembicMigration) -> None:
        for operation in migration.operations:
            if operation.name != "add_column" or migration.creates(operation.table):
                continue
            column = column_spec(operation.arg("column"), self.get_metadata)
            if column is None or column.flag("nullable") is not False or column.flag("primary_key"):
                continue
            server_default = column.keywords.get("server_default")
            if (server_default is not None and not is_none(server_default)) or column.items & GENERATED_COLUMN_ITEMS:
                continue
            hint = " (`default=` is applied by Python on insert, not to existing rows)" if "default" in column.keywords else ""
            self.report(
                column.call,
                f"add_column adds NOT NULL column `{column.name or '?'}` to the existing `{operation.table or '?'}` "
                f"table without server_default{hint}, so the migration fails once the table has rows; add a "
                "server_default, or add the column nullable, backfill, then set nullable=False",
            )


def _django_fills_existing_rows(spec: FieldSpec) -> bool:
    """Whether Django or the database has a value for the rows that exist when the field is added."""
    keywords = spec.keywords
    if "null" in keywords and spec.flag("null") is not False:
        return True  # null=True, or not a literal we can judge
    if any(key in keywords and not is_none(keywords[key]) for key in ("default", "db_default")):
        return True
    if spec.class_name in FILLED_BY_DATABASE or spec.flag("auto_now") or spec.flag("auto_now_add"):
        return True
    if spec.flag("primary_key"):
        return True
    return bool(spec.flag("blank")) and spec.class_name in EMPTY_STRING_FIELDS
