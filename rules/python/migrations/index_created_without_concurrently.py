"""MIG002: an index built on an existing PostgreSQL table without CONCURRENTLY."""

from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import PositionProvider

from reviewer.analysis.calls import (
    keyword_arg,
    literal_bool,
    literal_string,
    literal_strings,
)
from reviewer.analysis.dialect import POSTGRESQL
from reviewer.analysis.migration_history import FieldDefinition, previous_field
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    MigrationRule,
    Operation,
    alembic_sql_text,
    django_field,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

CREATE_INDEX = re.compile(r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)
CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\b", re.IGNORECASE)
CONCURRENT_OPERATIONS = ("AddIndexConcurrently", "RemoveIndexConcurrently")
INDEXED_BY_DEFAULT = ("ForeignKey", "OneToOneField", "SlugField")

_POSTGRES_SETTINGS = {
    "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n',
    "site/settings.py": 'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}}\n',
}
_SQLITE_SETTINGS = {
    "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")\n',
    "site/settings.py": 'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}\n',
}


class IndexCreatedWithoutConcurrently(MigrationRule):
    code = "MIG002"
    name = "index-created-without-concurrently"
    severity = Severity.WARNING
    summary = "An index is built on an existing PostgreSQL table without CONCURRENTLY"
    what = """
        Flags migrations that build an index on a table that already exists with a plain
        CREATE INDEX: Django `AddIndex`, `AddField`/`AlterField` that newly set `db_index=True`
        or `unique=True` (for AlterField, the earlier definition is read from the migrations it
        depends on; when it cannot be found, nothing is said), `RunSQL("CREATE INDEX ...")`;
        Alembic `op.create_index` without `postgresql_concurrently=True` and
        `op.execute("CREATE INDEX ...")`. It also flags concurrent index operations that cannot
        work: `AddIndexConcurrently` in an atomic Django migration (an error: Django refuses to
        run it), and Alembic's `postgresql_concurrently=True` outside
        `with op.get_context().autocommit_block():`.
        The finding is a warning when the project is known to use PostgreSQL (settings module
        via manage.py, alembic.ini, PostgreSQL-only imports, a PostgreSQL driver in the
        requirements), a note when the database is unknown, and absent when the project's
        configuration names another database (a migration's own `sqlalchemy.dialects.mysql`
        import is not enough: autogenerate writes it when run against MySQL).
        Tables created by the same migration are empty and are not flagged.
    """
    why = """
        PostgreSQL's plain CREATE INDEX takes a lock that blocks every INSERT, UPDATE and DELETE
        on the table until the whole index is built — minutes on a large table, an outage for
        the endpoints that write to it. CREATE INDEX CONCURRENTLY builds it without blocking
        writes, but cannot run inside a transaction block, so the migration must not wrap it in
        one (`atomic = False` in Django, an autocommit block in Alembic).
    """
    references = (
        "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
        "https://docs.djangoproject.com/en/stable/ref/contrib/postgres/operations/#concurrent-index-operations",
        "https://docs.djangoproject.com/en/stable/howto/writing-migrations/#non-atomic-migrations",
        "https://alembic.sqlalchemy.org/en/latest/api/runtime.html#alembic.runtime.migration.MigrationContext.autocommit_block",
    )
    tags = ("migrations", "postgresql")

    VALID = [
        Valid(
            """
            from django.contrib.postgres.operations import AddIndexConcurrently
            from django.db import migrations, models

            class Migration(migrations.Migration):
                atomic = False
                operations = [
                    AddIndexConcurrently("order", models.Index(fields=["created"], name="order_created_idx")),
                ]
            """,
            path="shop/migrations/0005_order_created_idx.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel(name="Refund", fields=[("id", models.BigAutoField(primary_key=True))]),
                    migrations.AddIndex("refund", models.Index(fields=["id"], name="refund_id_idx")),
                    migrations.AddField("refund", "code", models.CharField(max_length=9, unique=True)),
                ]
            """,
            path="shop/migrations/0006_refund.py",
            files=_POSTGRES_SETTINGS,
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [migrations.AddIndex("order", models.Index(fields=["created"], name="order_created_idx"))]
            """,
            path="shop/migrations/0005_order_created_idx.py",
            files=_SQLITE_SETTINGS,
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.AlterField("order", "number", models.CharField(max_length=40, db_index=True)),
                ]
            """,
            path="shop/migrations/0002_longer_number.py",
            files={
                **_POSTGRES_SETTINGS,
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(
                                name="Order",
                                fields=[("number", models.CharField(max_length=20, db_index=True))],
                            ),
                        ]
                """,
            },
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                with op.get_context().autocommit_block():
                    op.create_index("ix_user_email", "user", ["email"], postgresql_concurrently=True)
            """,
            path="alembic/versions/a1_user_email.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.create_table("payment", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("ref", sa.Text()))
                op.create_index("ix_payment_ref", "payment", ["ref"])
                op.execute("CREATE TABLE ledger (id int); CREATE INDEX ledger_id ON ledger (id)")

            def downgrade():
                op.create_index("ix_user_email", "user", ["email"])
            """,
            path="alembic/versions/b2_payment.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa
            from app.migrations.shared.utils import create_table

            def upgrade():
                create_table("key_value", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("uuid", sa.String(36)))
                op.create_index(op.f("ix_key_value_uuid"), "key_value", ["uuid"], unique=True)
            """,
            path="app/migrations/versions/b3_key_value.py",
            files=_POSTGRES_SETTINGS,
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                op.create_index("ix_user_email", "user", ["email"])
            """,
            path="db/versions/b4_user_email.py",
            files={"db/alembic.ini": "[alembic]\nsqlalchemy.url = mysql+pymysql://app@db/app\n"},
        ),
        Valid(
            """
            from django.db import migrations

            class Migration(migrations.Migration):
                atomic = False
                operations = [
                    migrations.RunSQL(
                        "CREATE INDEX CONCURRENTLY order_total_idx ON shop_order (total)",
                        reverse_sql="DROP INDEX CONCURRENTLY order_total_idx",
                    ),
                ]
            """,
            path="shop/migrations/0007_order_total_idx.py",
            files=_POSTGRES_SETTINGS,
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa
            from myapp.models import SqlWebhook

            def upgrade():
                op.create_table(SqlWebhook.__tablename__, sa.Column("id", sa.Integer(), primary_key=True))
                op.create_index("idx_webhooks_status", SqlWebhook.__tablename__, ["status"])
            """,
            path="alembic/versions/e5_webhooks.py",
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddIndex(
                        model_name="order",
                        index=models.Index(fields=["created"], name="order_created_idx"),
                    ),
                ]
            """,
            line=6,
            path="shop/migrations/0005_order_created_idx.py",
            files=_POSTGRES_SETTINGS,
        ),
        Invalid(
            """
            from django.contrib.postgres.operations import AddIndexConcurrently
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    AddIndexConcurrently("order", models.Index(fields=["created"], name="order_created_idx")),
                ]
            """,
            line=7,
            path="shop/migrations/0005_order_created_idx.py",
        ),
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.AlterField("order", "number", models.CharField(max_length=20, db_index=True)),
                ]
            """,
            line=7,
            path="shop/migrations/0002_index_number.py",
            files={
                "shop/migrations/0001_initial.py": """
                    from django.db import migrations, models

                    class Migration(migrations.Migration):
                        operations = [
                            migrations.CreateModel(name="Order", fields=[("number", models.CharField(max_length=20))]),
                        ]
                """,
            },
        ),
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField("order", "token", models.CharField(max_length=32, null=True, unique=True)),
                ]
            """,
            line=6,
            path="shop/migrations/0008_order_token.py",
        ),
        Invalid(
            """
            from alembic import op

            def upgrade():
                op.create_index("ix_user_email", "user", ["email"], unique=True)
            """,
            line=5,
            path="alembic/versions/c3_user_email.py",
        ),
        Invalid(
            """
            from alembic import op
            from sqlalchemy.dialects import postgresql

            def upgrade():
                op.create_index("ix_event_payload", "event", ["payload"], postgresql_concurrently=True)
            """,
            line=6,
            path="alembic/versions/d4_event_payload.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.execute(sa.text("create unique index ix_user_name on \\"user\\" (lower(name))"))
            """,
            line=6,
            path="alembic/versions/e5_user_name.py",
            files={"alembic.ini": "[alembic]\nsqlalchemy.url = postgresql+psycopg://app@db/app\n"},
        ),
        Invalid(
            """
            from alembic import op
            from myapp.models import SqlWebhook

            def upgrade():
                op.create_index("idx_webhooks_url", SqlWebhook.__tablename__, ["url"])
            """,
            line=6,
            path="alembic/versions/f6_webhook_url.py",
        ),
    ]

    def check_django(self, migration: DjangoMigration) -> None:
        for operation in migration.operations:
            model = operation.table
            if operation.name in CONCURRENT_OPERATIONS:
                if migration.atomic:
                    self.report(
                        operation.call,
                        f"{operation.name} cannot run inside a transaction, but this migration is atomic, so Django "
                        "refuses to run it; set `atomic = False` on the Migration class",
                        severity=Severity.ERROR,
                    )
            elif operation.name == "RunSQL":
                self._check_sql(operation, _run_sql_texts(operation.arg("sql")), "RunSQL")
            elif migration.creates(model):
                continue
            elif operation.name == "AddIndex":
                self._report_for_postgresql(
                    operation.call,
                    f"AddIndex builds an index on the existing `{model}` table with a plain CREATE INDEX, which blocks "
                    "writes until it is built; use AddIndexConcurrently (django.contrib.postgres.operations) in a "
                    "migration with `atomic = False`",
                )
            elif operation.name in ("AddField", "AlterField"):
                self._check_django_field(operation)

    def _check_django_field(self, operation: Operation) -> None:
        spec = django_field(operation.arg("field"), self.get_metadata)
        if spec is None or not (spec.flag("db_index") or spec.flag("unique")):
            return
        column = operation.string("name")
        if operation.name == "AlterField":
            line = self.get_metadata(PositionProvider, operation.call).start.line
            old = previous_field(self.context.read_repo_file, self.context.path, self.context.source, operation.table or "", column or "", line)
            if old is None or not _adds_index(old, bool(spec.flag("db_index")), bool(spec.flag("unique"))):
                return
        self._report_for_postgresql(
            operation.call,
            f"{operation.name} makes `{operation.table}.{column}` {'unique' if spec.flag('unique') else 'indexed'}, which "
            "builds the index with a plain CREATE INDEX that blocks writes to the existing table; leave the field "
            "unindexed here and add the index with AddIndexConcurrently in a migration with `atomic = False`",
        )

    def check_alembic(self, migration: AlembicMigration) -> None:
        for operation in migration.operations:
            if operation.name == "execute":
                self._check_sql(operation, [alembic_sql_text(operation, self.get_metadata)], "op.execute")
            elif operation.name != "create_index":
                continue
            elif literal_bool(keyword_arg(operation.call, "postgresql_concurrently")):
                if not operation.autocommit:
                    self._report_for_postgresql(
                        operation.call,
                        "create_index with postgresql_concurrently=True runs inside the migration's transaction, where "
                        "PostgreSQL refuses CREATE INDEX CONCURRENTLY; wrap it in "
                        "`with op.get_context().autocommit_block():`",
                    )
            elif not migration.creates(operation.table):
                self._report_for_postgresql(
                    operation.call,
                    f"create_index builds an index on the existing `{operation.table or '?'}` table with a plain CREATE "
                    "INDEX, which blocks writes until it is built; pass postgresql_concurrently=True and run it inside "
                    "`with op.get_context().autocommit_block():`",
                )

    def _check_sql(self, operation: Operation, texts: list[str | None], where: str) -> None:
        for text in texts:
            if text and CREATE_INDEX.search(text) and not CREATE_TABLE.search(text):
                self._report_for_postgresql(
                    operation.call,
                    f"{where} runs CREATE INDEX without CONCURRENTLY, which blocks writes to the table until the index "
                    "is built; use CREATE INDEX CONCURRENTLY outside a transaction",
                )
                return

    def _report_for_postgresql(self, node: cst.CSTNode, message: str) -> None:
        """Warn when the project or this file says PostgreSQL, stay quiet when the project's
        configuration names another database, note otherwise."""
        if POSTGRESQL in (self.configured_database, self.database):
            self.report(node, message)
        elif self.configured_database is None:
            self.report(node, f"{message} (if this project runs on PostgreSQL)", severity=Severity.NOTE)


def _adds_index(old: FieldDefinition, wants_index: bool, wants_unique: bool) -> bool:
    """Whether changing `old` to a field with db_index/unique set builds a new index."""
    if not old.class_name or any(key in old.keywords and old.option(key) is None for key in ("db_index", "unique", "primary_key")):
        return False  # not one of Django's fields, or options that are not literals: unknown
    if old.option("primary_key") or old.option("unique") or old.class_name == "OneToOneField":
        return False
    if wants_unique:
        return True
    indexed = old.option("db_index") or (old.class_name in INDEXED_BY_DEFAULT and old.option("db_index", True))
    return wants_index and not indexed


def _run_sql_texts(node: cst.BaseExpression | None) -> list[str | None]:
    strings = literal_strings(node)
    return list(strings) if strings is not None else [literal_string(node)]
