"""Reading migrations: operations per tool, the project's database, and a Django field's history."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ScopeProvider

from reviewer.analysis.dialect import MYSQL, POSTGRESQL, SQLITE, project_database
from reviewer.analysis.migration_history import FieldDefinition, ModelTable, previous_field, previous_model_table
from reviewer.analysis.migrations import AlembicMigration, DjangoMigration, read_migration, sql_index_leads
from reviewer.catalog import builtin_pack_dir, load_cst_rule_classes
from reviewer.engines.cst_engine import analyze_source
from reviewer.finding import Severity


class _MigrationReader(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.migration = None

    def visit_Module(self, node: cst.Module) -> bool:
        self.migration = read_migration(node, self.path, self.get_metadata)
        return False


def migration_of(source: str, path: str):
    reader = _MigrationReader(path)
    MetadataWrapper(cst.parse_module(textwrap.dedent(source))).visit(reader)
    return reader.migration


def reader_of(files: dict[str, str]):
    texts = {path: textwrap.dedent(text) for path, text in files.items()}
    return texts.get


# --- operations --------------------------------------------------------------------------------

DJANGO_MIGRATION = """
    from django.db import migrations as m, models

    class Migration(m.Migration):
        atomic = False
        operations = [
            m.CreateModel(name="Coupon", fields=[("id", models.AutoField(primary_key=True))]),
            m.SeparateDatabaseAndState(
                database_operations=[m.RunSQL("ALTER TABLE shop_order DROP COLUMN x", m.RunSQL.noop)],
                state_operations=[m.RemoveField("order", "x")],
            ),
            m.AddField(model_name="Order", name="note", field=models.TextField(null=True)),
        ]
"""


def test_django_operations_flatten_database_operations_and_skip_state_only_ones() -> None:
    migration = migration_of(DJANGO_MIGRATION, "shop/migrations/0002_x.py")
    assert isinstance(migration, DjangoMigration)
    assert [(op.name, op.table) for op in migration.operations] == [
        ("CreateModel", "coupon"),
        ("RunSQL", None),
        ("AddField", "order"),
    ]
    assert migration.atomic is False
    assert migration.created_models == frozenset({"coupon"})
    assert migration.operations[2].string("name") == "note"


def test_a_migration_class_outside_a_migrations_folder_is_not_a_migration() -> None:
    assert migration_of(DJANGO_MIGRATION, "shop/schema_steps.py") is None


def test_non_literal_atomic_is_unknown() -> None:
    source = DJANGO_MIGRATION.replace("atomic = False", "atomic = settings.ATOMIC")
    assert migration_of(source, "shop/migrations/0002_x.py").atomic is None


def test_alembic_operations_bind_batch_calls_and_autocommit_blocks() -> None:
    migration = migration_of(
        """
        from alembic import op as alembic_op
        import sqlalchemy as sa

        def upgrade_engine1():
            with alembic_op.batch_alter_table("account") as batch:
                batch.drop_column("nickname")
                batch.create_index("ix_account_email", ["email"])
            with alembic_op.get_context().autocommit_block():
                alembic_op.create_index("ix_a", "audit", ["at"], postgresql_concurrently=True)

        def downgrade():
            alembic_op.drop_table("audit")
        """,
        "anywhere/revision.py",
    )
    assert isinstance(migration, AlembicMigration)
    summary = [(op.name, op.table, sorted(op.args), op.autocommit) for op in migration.operations]
    assert summary == [
        ("drop_column", "account", ["column_name"], False),
        ("create_index", "account", ["columns", "index_name"], False),
        ("create_index", "audit", ["columns", "index_name", "postgresql_concurrently", "table_name"], True),
    ]
    assert migration.downgrade is not None and migration.downgrade.name.value == "downgrade"


def test_models_created_here_follow_renames_and_order() -> None:
    migration = migration_of(
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            initial = True
            operations = [
                migrations.DeleteModel("Purchase"),
                migrations.CreateModel(name="Purchase", fields=[("id", models.AutoField(primary_key=True))]),
                migrations.RenameModel("Purchase", "Order"),
                migrations.RemoveField("order", "legacy"),
            ]
        """,
        "shop/migrations/0001_initial.py",
    )
    assert migration.initial is True
    assert migration.created_models == frozenset({"purchase", "order"})
    assert [migration.created_before(op) for op in migration.operations] == [False, False, True, True]


def test_alembic_tables_from_constants_and_a_create_table_helper() -> None:
    migration = migration_of(
        """
        from alembic import op
        import sqlalchemy as sa
        from app.migrations.utils import create_table

        table_name = "report"
        other = "a"
        other = "b"

        def upgrade():
            op.drop_table(table_name)
            create_table(table_name, sa.Column("id", sa.Integer()))
            op.drop_column(other, "x")
            for table_name in ["x", "y"]:
                op.drop_table(table_name)

        def upgrade_audit():
            op.create_index("ix_report_at", table_name, ["at"])
        """,
        "alembic/versions/a1.py",
    )
    assert [(op.name, op.table, op.via_helper) for op in migration.operations] == [
        ("drop_table", None, False),  # `table_name` is rebound by the loop in this function
        ("create_table", None, True),
        ("drop_column", None, False),  # `other` is bound twice at module level
        ("drop_table", None, False),
        ("create_index", "report", False),
    ]


def test_create_table_helper_counts_as_created_before_later_operations() -> None:
    migration = migration_of(
        """
        from alembic import op
        from app.migrations.utils import create_table

        def upgrade():
            op.drop_table("observation")
            create_table("observation")
            op.create_index("ix_observation_at", "observation", ["at"])
        """,
        "alembic/versions/a2.py",
    )
    assert migration.created_tables == frozenset({"observation"})
    assert [migration.created_before(op) for op in migration.operations] == [False, False, True]


def test_op_lookalikes_are_not_alembic_operations() -> None:
    source = """
        import ops as op

        def upgrade():
            op.drop_column("account", "nickname")
    """
    assert migration_of(source, "alembic/versions/a1.py") is None


# --- which database ----------------------------------------------------------------------------

SETTINGS_PACKAGE = {
    "src/manage.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    """,
    "src/config/settings/production.py": """
        from .base import *  # noqa
        DEBUG = False
    """,
    "src/config/settings/base.py": """
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}}
    """,
}


@pytest.mark.parametrize(
    ("path", "source", "files", "expected"),
    [
        pytest.param("src/shop/migrations/0002.py", "", SETTINGS_PACKAGE, POSTGRESQL, id="settings-via-manage-py-star-import"),
        pytest.param(
            "app/migrations/0002.py",
            "from django.contrib.postgres.operations import AddIndexConcurrently",
            {},
            POSTGRESQL,
            id="postgres-only-import-in-the-file",
        ),
        pytest.param(
            "db/alembic/versions/a1.py",
            "",
            {"db/alembic.ini": "[alembic]\nsqlalchemy.url = mysql+pymysql://u@h/db\n"},
            MYSQL,
            id="alembic-ini-url",
        ),
        pytest.param(
            "app/migrations/0002.py",
            "",
            {"requirements.txt": "Django==5.0\npsycopg2-binary==2.9.9\n"},
            POSTGRESQL,
            id="driver-in-requirements",
        ),
        pytest.param(
            "app/migrations/0002.py",
            "",
            {
                "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")',
                "site/settings.py": 'ENGINE = "django.db.backends.sqlite3"',
                "requirements.txt": "psycopg2\n",
            },
            SQLITE,
            id="settings-beat-requirements",
        ),
        pytest.param(
            "app/migrations/0002.py",
            "",
            {
                "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")',
                "site/settings.py": 'A = "django.db.backends.sqlite3"\nB = "django.db.backends.postgresql"\n',
            },
            None,
            id="two-databases-named-is-unknown",
        ),
        pytest.param("app/migrations/0002.py", "", {}, None, id="nothing-known"),
    ],
)
def test_project_database(path: str, source: str, files: dict[str, str], expected: str | None) -> None:
    assert project_database(path, reader_of(files), file_source=source) == expected


# --- a Django field's history ------------------------------------------------------------------

INITIAL = """
    from django.db import migrations, models

    class Migration(migrations.Migration):
        operations = [
            migrations.CreateModel(name="Order", fields=[("amount", models.IntegerField(db_index=True))]),
        ]
"""
RENAME = """
    from django.db import migrations

    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial"), ("auth", "0001_initial")]
        operations = [migrations.RenameField("order", "amount", "total")]
"""
CURRENT = """
    from django.db import migrations, models

    class Migration(migrations.Migration):
        dependencies = [("shop", "0002_rename")]
        operations = [
            migrations.AlterField("order", "total", models.BigIntegerField()),
        ]
"""


def test_previous_field_follows_dependencies_and_renames() -> None:
    files = {"shop/migrations/0001_initial.py": INITIAL, "shop/migrations/0002_rename.py": RENAME}
    found = previous_field(reader_of(files), "shop/migrations/0003_total.py", textwrap.dedent(CURRENT), "Order", "total", 7)
    assert found == FieldDefinition("IntegerField", (("db_index", True),), frozenset({"db_index"}))


def test_previous_field_sees_earlier_operations_of_the_same_file() -> None:
    source = CURRENT.replace(
        "operations = [",
        'operations = [\n            migrations.AddField("order", "total", models.FloatField(null=True)),',
    )
    found = previous_field(reader_of({}), "shop/migrations/0003_total.py", textwrap.dedent(source), "order", "total", 8)
    assert found is not None and found.class_name == "FloatField" and found.option("null") is True


def test_previous_field_with_list_options_such_as_choices() -> None:
    source = CURRENT.replace(
        "operations = [",
        "operations = [\n            migrations.AddField(\"order\", \"total\", "
        "models.CharField(max_length=2, choices=[(\"a\", \"A\")])),",
    )
    found = previous_field(reader_of({}), "shop/migrations/0003_total.py", textwrap.dedent(source), "order", "total", 8)
    assert found is not None and found.class_name == "CharField"
    assert found.option("choices") == [("a", "A")]


def test_previous_field_is_unknown_when_a_dependency_is_missing() -> None:
    files = {"shop/migrations/0002_rename.py": RENAME}
    assert previous_field(reader_of(files), "shop/migrations/0003_total.py", textwrap.dedent(CURRENT), "order", "total", 7) is None


def test_previous_field_is_unknown_when_merged_branches_disagree() -> None:
    branch_a = """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [migrations.AlterField("order", "amount", models.CharField(max_length=9))]
    """
    branch_b = """
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = []
    """
    merge = """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0002_a"), ("shop", "0002_b")]
            operations = [migrations.AlterField("order", "amount", models.TextField())]
    """
    files = {
        "shop/migrations/0001_initial.py": INITIAL,
        "shop/migrations/0002_a.py": branch_a,
        "shop/migrations/0002_b.py": branch_b,
    }
    assert previous_field(reader_of(files), "shop/migrations/0003_merge.py", textwrap.dedent(merge), "order", "amount", 6) is None


def _model_history(operations: str) -> str:
    return f"""
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                {operations}
            ]
    """


RENAME_PURCHASE = """
    from django.db import migrations

    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.RenameModel("Purchase", "Order")]
"""


@pytest.mark.parametrize(
    ("created", "later", "expected"),
    [
        pytest.param(
            'migrations.CreateModel(name="Purchase", fields=[], options={"db_table": "purchase"}),',
            "",
            ModelTable("purchase", many_to_many=False),
            id="own-db-table",
        ),
        pytest.param(
            'migrations.CreateModel(name="Purchase", fields=[("id", models.AutoField(primary_key=True))]),',
            'migrations.AddField("purchase", "tags", models.ManyToManyField(to="shop.tag")),',
            ModelTable(None, many_to_many=True),
            id="many-to-many-added-later",
        ),
        pytest.param(
            'migrations.CreateModel(name="Purchase", fields=[], options={"proxy": True}),',
            "",
            ModelTable(None, many_to_many=False, managed=False),
            id="proxy",
        ),
        pytest.param(
            'migrations.CreateModel(name="Purchase", fields=[], options={"db_table": TABLE}),',
            "",
            None,
            id="db-table-not-a-literal",
        ),
        pytest.param(
            'migrations.CreateModel(name="Purchase", fields=[], options={"managed": False}),',
            'migrations.AlterModelOptions(name="purchase", options={"managed": True}),',
            None,
            id="managed-changed-later",
        ),
    ],
)
def test_previous_model_table(created: str, later: str, expected: ModelTable | None) -> None:
    files = {"shop/migrations/0001_initial.py": _model_history(created + "\n                " + later)}
    found = previous_model_table(reader_of(files), "shop/migrations/0002_rename.py", textwrap.dedent(RENAME_PURCHASE), "Purchase", 6)
    assert found == expected


# --- severities the examples cannot show -------------------------------------------------------


def _rule(file_name: str):
    return load_cst_rule_classes(builtin_pack_dir() / "python" / "migrations" / file_name)[0]


ADD_INDEX = """
    from django.db import migrations, models

    class Migration(migrations.Migration):
        operations = [migrations.AddIndex("order", models.Index(fields=["created"], name="order_created"))]
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"requirements.txt": "psycopg[binary]>=3\n"}, [(5, Severity.WARNING)], id="postgresql"),
        pytest.param({}, [(5, Severity.NOTE)], id="unknown-database"),
        pytest.param({"requirements.txt": "mysqlclient\n"}, [], id="mysql"),
    ],
)
def test_index_without_concurrently_severity_follows_the_database(files: dict[str, str], expected: list) -> None:
    findings = analyze_source(
        [_rule("index_created_without_concurrently.py")],
        "shop/migrations/0005_order_created.py",
        textwrap.dedent(ADD_INDEX),
        {},
        reader_of(files),
    )
    assert [(f.start.line, f.severity) for f in findings] == expected
    if expected and expected[0][1] is Severity.NOTE:
        assert findings[0].message.endswith("(if this project runs on PostgreSQL)")


def test_concurrent_index_in_atomic_migration_is_an_error() -> None:
    source = """
        from django.contrib.postgres.operations import AddIndexConcurrently
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [AddIndexConcurrently("order", models.Index(fields=["created"], name="order_created"))]
    """
    findings = analyze_source(
        [_rule("index_created_without_concurrently.py")], "shop/migrations/0005_x.py", textwrap.dedent(source)
    )
    assert [(f.code, f.start.line, f.severity) for f in findings] == [("MIG002", 6, Severity.ERROR)]
    assert "set `atomic = False`" in findings[0].message


def test_every_migration_rule_is_quiet_on_an_ordinary_module() -> None:
    pack = builtin_pack_dir() / "python" / "migrations"
    rules = [rule for path in sorted(pack.glob("*.py")) for rule in load_cst_rule_classes(path)]
    assert sorted(rule.code for rule in rules) == ["MIG001", "MIG002", "MIG003", "MIG004", "MIG005", "MIG006"]
    source = "from django.db import migrations\n\ndef helper(op):\n    return migrations.RemoveField('a', 'b')\n"
    assert analyze_source(rules, "shop/utils.py", source) == []


@pytest.mark.parametrize(
    ("upgrade_body", "expected"),
    [
        pytest.param('op.execute("UPDATE account SET tier = \'free\'")', Severity.NOTE, id="data-only"),
        pytest.param('op.execute(sa.text("ALTER TABLE account DROP COLUMN tier"))', Severity.WARNING, id="ddl-text"),
        pytest.param('op.drop_column("account", "tier")', Severity.WARNING, id="schema-operation"),
    ],
)
def test_empty_downgrade_is_a_note_when_the_upgrade_only_changes_data(upgrade_body: str, expected: Severity) -> None:
    source = f"from alembic import op\nimport sqlalchemy as sa\n\ndef upgrade():\n    {upgrade_body}\n\ndef downgrade():\n    pass\n"
    findings = analyze_source([_rule("migration_without_reverse.py")], "alembic/versions/a1.py", source)
    assert [(f.code, f.start.line, f.severity) for f in findings] == [("MIG005", 7, expected)]
    assert ("changes data" in findings[0].message) is (expected is Severity.NOTE)


@pytest.mark.parametrize(
    ("sql", "leads"),
    [
        ("CREATE INDEX IF NOT EXISTS ix_s_user ON sharedserver (user_id)", [("sharedserver", "user_id")]),
        ('CREATE UNIQUE INDEX CONCURRENTLY "ix" ON public."order" USING btree ("user_id", at)', [("order", "user_id")]),
        ("create index on only events(kind); CREATE INDEX e_at ON events (at DESC)", [("events", "kind"), ("events", "at")]),
        ("CREATE TABLE audit (id int, server_id int REFERENCES server (id))", []),
        ("DROP INDEX ix_s_user", []),
        ('CREATE INDEX IX_AUDIT ON Audit (Server_Id); CREATE INDEX ix ON "Audit" ("Server_Id")',
         [("audit", "server_id"), ("Audit", "Server_Id")]),
        ("-- CREATE INDEX ix ON audit (server_id)\nSELECT 'CREATE INDEX ix ON audit (server_id)'", []),
    ],
)
def test_sql_index_leads_reads_the_table_and_first_column_of_create_index(sql: str, leads: list) -> None:
    assert sql_index_leads(sql) == leads
