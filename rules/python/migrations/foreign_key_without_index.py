"""MIG006: a foreign key column with no index leading with it."""

from __future__ import annotations

import libcst as cst

from reviewer.analysis.calls import (
    keyword_arg,
    literal_dict,
    literal_string,
    literal_strings,
    positional_args,
    qualified_names,
)
from reviewer.analysis.dialect import MYSQL
from reviewer.analysis.migrations import (
    AlembicMigration,
    ColumnSpec,
    DjangoMigration,
    MigrationRule,
    alembic_sql_text,
    column_spec,
    created_model_fields,
    django_field,
    sql_index_leads,
    table_columns,
    table_constructs,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

WHY_INDEX = (
    "PostgreSQL does not index referencing columns, so joins on it and every delete or key update of a "
    "referenced row scan the whole table"
)


class ForeignKeyWithoutIndex(MigrationRule):
    code = "MIG006"
    name = "foreign-key-without-index"
    severity = Severity.WARNING
    summary = "A foreign key column is added without an index that leads with it"
    what = """
        Flags foreign key columns that get no index: a Django `ForeignKey(..., db_index=False)`
        added by `AddField` or `CreateModel`, and an Alembic column with `sa.ForeignKey(...)` (or a
        `ForeignKeyConstraint`) added by `op.add_column`/`op.create_table` — in both cases unless the
        same migration creates an index, unique constraint or primary key whose first column is
        that one (raw `op.execute("CREATE INDEX ... ON table (column, ...)")` counts). Alembic `op.create_foreign_key` on columns this migration did not add is a note:
        an earlier migration may have indexed them. Skipped when the project's configuration names
        MySQL, whose InnoDB engine indexes foreign keys itself.
    """
    why = """
        A foreign key is checked from both sides: inserts look up the referenced row (by its
        primary key, always indexed), and deleting or re-keying a referenced row looks for rows
        pointing at it — by the referencing column, which PostgreSQL does not index on its own.
        Without an index, each such delete scans the child table under lock, and the joins the
        relation exists for scan it too. Django indexes ForeignKey columns by default; turning
        that off needs another index leading with the column.
    """
    references = (
        "https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK",
        "https://docs.djangoproject.com/en/stable/ref/models/fields/#django.db.models.ForeignKey",
        "https://alembic.sqlalchemy.org/en/latest/ops.html#alembic.operations.Operations.create_foreign_key",
    )
    tags = ("migrations", "performance")
    quiet_on_databases = frozenset({MYSQL})  # InnoDB indexes foreign keys itself

    VALID = [
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField(
                        "book", "author", models.ForeignKey(on_delete=models.CASCADE, to="library.author")
                    ),
                    migrations.AddField(
                        "book",
                        "editor",
                        models.OneToOneField(on_delete=models.CASCADE, to="library.editor", db_index=False),
                    ),
                ]
            """,
            path="library/migrations/0002_book_author.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField(
                        "loan",
                        "book",
                        models.ForeignKey(on_delete=models.CASCADE, to="library.book", db_index=False),
                    ),
                    migrations.AddIndex("loan", models.Index(fields=["book", "-due"], name="loan_book_due")),
                ]
            """,
            path="library/migrations/0003_loan_book.py",
        ),
        Valid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel(
                        name="Membership",
                        fields=[
                            ("id", models.BigAutoField(primary_key=True)),
                            ("member", models.ForeignKey(on_delete=models.CASCADE, to="library.member", db_index=False)),
                            ("club", models.ForeignKey(on_delete=models.CASCADE, to="library.club", db_index=False)),
                        ],
                        options={"unique_together": {("member", "club")}, "indexes": [models.Index(fields=["club"], name="m_club")]},
                    ),
                ]
            """,
            path="library/migrations/0004_membership.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("book", sa.Column("author_id", sa.Integer(), sa.ForeignKey("author.id"), index=True))
                op.create_table(
                    "loan",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("book_id", sa.Integer(), sa.ForeignKey("book.id")),
                    sa.Column("member_id", sa.Integer(), sa.ForeignKey("member.id")),
                    sa.UniqueConstraint("member_id", "book_id"),
                )
                op.create_index("ix_loan_book_id", "loan", ["book_id"])
            """,
            path="alembic/versions/u1_loans.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("book", sa.Column("author_id", sa.Integer(), sa.ForeignKey("author.id")))
            """,
            path="alembic/versions/v2_author.py",
            files={"alembic.ini": "[alembic]\nsqlalchemy.url = mysql+pymysql://app@db/library\n"},
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("book", sa.Column("shelf_id", sa.Integer()))
                op.create_index("ix_book_shelf_id", "book", ["shelf_id"])
                op.create_foreign_key("fk_book_shelf", "book", "shelf", ["shelf_id"], ["id"])

            def downgrade():
                op.create_foreign_key("fk_book_author", "book", "author", ["author_id"], ["id"])
            """,
            path="alembic/versions/w3_shelf.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("sharedserver", sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id")))
                op.add_column("audit", sa.Column("server_id", sa.Integer(), sa.ForeignKey("server.id")))
                op.execute("CREATE INDEX IF NOT EXISTS ix_sharedserver_user_id ON sharedserver (user_id)")
                op.execute(sa.text('CREATE INDEX ix_audit_server ON public."audit" USING btree ("server_id", at)'))
            """,
            path="alembic/versions/x4_shared_user.py",
        ),
    ]
    INVALID = [
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField(
                        model_name="loan",
                        name="member",
                        field=models.ForeignKey(on_delete=models.PROTECT, to="library.member", db_index=False),
                    ),
                ]
            """,
            line=9,
            path="library/migrations/0005_loan_member.py",
        ),
        Invalid(
            """
            from django.db import migrations, models

            class Migration(migrations.Migration):
                operations = [
                    migrations.CreateModel(
                        name="Review",
                        fields=[
                            ("id", models.BigAutoField(primary_key=True)),
                            ("book", models.ForeignKey(on_delete=models.CASCADE, to="library.book", db_index=False)),
                        ],
                        options={"indexes": [models.Index(fields=["id", "book"], name="review_id_book")]},
                    ),
                ]
            """,
            line=10,
            path="library/migrations/0006_review.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("book", sa.Column("author_id", sa.Integer(), sa.ForeignKey("author.id"), nullable=True))
            """,
            line=6,
            path="alembic/versions/x4_author.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.create_table(
                    "loan",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("book_id", sa.Integer()),
                    sa.ForeignKeyConstraint(["book_id"], ["book.id"]),
                )
            """,
            line=10,
            path="alembic/versions/y5_loan.py",
        ),
        Invalid(
            """
            from alembic import op

            def upgrade():
                op.create_foreign_key("fk_book_author", "book", "author", ["author_id"], ["id"])
            """,
            line=5,
            path="alembic/versions/z6_fk.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa
            from sqlalchemy.dialects import mysql

            def upgrade():
                op.add_column("book", sa.Column("shelf_id", mysql.INTEGER(), sa.ForeignKey("shelf.id")))
            """,
            line=7,
            path="alembic/versions/z7_shelf.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.add_column("audit", sa.Column("server_id", sa.Integer(), sa.ForeignKey("server.id")))
                op.execute("CREATE INDEX ix_audit_at_server ON audit (at, server_id)")
            """,
            line=6,
            path="alembic/versions/x5_audit_server.py",
        ),
    ]

    # --- Django ----------------------------------------------------------------------------------

    def check_django(self, migration: DjangoMigration) -> None:
        covered = self._django_leading_fields(migration)
        for operation in migration.operations:
            if operation.name == "AddField":
                fields = [(operation.string("name"), operation.arg("field"))]
            elif operation.name == "CreateModel":
                fields = created_model_fields(operation)
            else:
                continue
            for name, value in fields:
                spec = django_field(value, self.get_metadata)
                if spec is None or spec.class_name != "ForeignKey" or spec.flag("db_index") is not False:
                    continue
                if spec.flag("unique") or spec.flag("primary_key") or (operation.table, name) in covered:
                    continue
                self.report(
                    spec.call,
                    f"ForeignKey `{operation.table}.{name}` is added with db_index=False and no index in this migration "
                    f"leads with it; {WHY_INDEX}; remove db_index=False or add an index whose first field is `{name}`",
                )

    def _django_leading_fields(self, migration: DjangoMigration) -> set[tuple[str | None, str]]:
        """(model, field) pairs that lead an index or unique constraint created by this migration."""
        covered: set[tuple[str | None, str]] = set()
        for operation in migration.operations:
            model = operation.table
            if operation.name in ("AddIndex", "AddIndexConcurrently"):
                covered.update((model, f) for f in self._leading_index_fields([operation.arg("index")]))
            elif operation.name == "AddConstraint":
                covered.update((model, f) for f in self._leading_index_fields([operation.arg("constraint")]))
            elif operation.name in ("AlterUniqueTogether", "AlterIndexTogether"):
                together = operation.arg("unique_together") or operation.arg("index_together")
                covered.update((model, f) for f in _leading_together_fields(together))
            elif operation.name == "CreateModel":
                options = literal_dict(operation.arg("options"))
                for key in ("indexes", "constraints"):
                    listing = options.get(key)
                    elements = listing.elements if isinstance(listing, (cst.List, cst.Tuple)) else ()
                    covered.update((model, f) for f in self._leading_index_fields([e.value for e in elements]))
                for key in ("unique_together", "index_together"):
                    covered.update((model, f) for f in _leading_together_fields(options.get(key)))
        return covered

    def _leading_index_fields(self, calls: list[cst.BaseExpression | None]) -> list[str]:
        """First fields of `models.Index(fields=[...])` / `models.UniqueConstraint(fields=[...])`."""
        leading = []
        for call in calls:
            if not isinstance(call, cst.Call):
                continue
            kinds = {name.rsplit(".", 1)[-1] for name in qualified_names(self.get_metadata, call.func)}
            fields = literal_strings(keyword_arg(call, "fields"))
            if fields and any(kind.endswith("Index") or kind == "UniqueConstraint" for kind in kinds):
                leading.append(fields[0].lstrip("-"))
        return leading

    # --- Alembic ---------------------------------------------------------------------------------

    def check_alembic(self, migration: AlembicMigration) -> None:
        covered, added = self._alembic_leading_columns(migration)
        for operation in migration.operations:
            if operation.name == "add_column":
                column = column_spec(operation.arg("column"), self.get_metadata)
                if column is not None:
                    self._check_fk_column(operation.table, column, covered)
            elif operation.name == "create_table":
                for column in table_columns(operation, self.get_metadata):
                    self._check_fk_column(operation.table, column, covered)
                for kind, construct in table_constructs(operation, self.get_metadata):
                    local = _first_literal(positional_args(construct)[:1] or [keyword_arg(construct, "columns")])
                    if kind == "ForeignKeyConstraint" and local and (operation.table, local) not in covered:
                        self._report_alembic(construct, operation.table, local)
            elif operation.name == "create_foreign_key":
                local = _first_literal([operation.arg("local_cols")])
                if local and (operation.table, local) not in covered:
                    known_new = (operation.table, local) in added
                    self._report_alembic(operation.call, operation.table, local, certain=known_new)

    def _check_fk_column(self, table: str | None, column: ColumnSpec, covered: set) -> None:
        if "ForeignKey" not in column.items or not column.name:
            return
        if column.flag("index") or column.flag("unique") or (table, column.name) in covered:
            return
        self._report_alembic(column.call, table, column.name)

    def _report_alembic(self, node: cst.CSTNode, table: str | None, column: str, certain: bool = True) -> None:
        where = f"`{table or '?'}.{column}`"
        if certain:
            self.report(
                node,
                f"foreign key column {where} gets no index leading with it in this migration; {WHY_INDEX}; "
                f"add index=True to the column or op.create_index(..., [\"{column}\"])",
            )
        else:
            self.report(
                node,
                f"create_foreign_key on {where}: no index leading with it is created here; {WHY_INDEX}; "
                "make sure an earlier migration indexed it",
                severity=Severity.NOTE,
            )

    def _alembic_leading_columns(self, migration: AlembicMigration) -> tuple[set, set]:
        """(table, column) pairs leading an index/unique/primary key, and those added by this migration."""
        covered: set[tuple[str | None, str]] = set()
        added: set[tuple[str | None, str]] = set()
        for operation in migration.operations:
            table = operation.table
            if operation.name in ("create_index", "create_unique_constraint", "create_primary_key"):
                first = _first_literal([operation.arg("columns")])
                if first:
                    covered.add((table, first))
            elif operation.name == "execute":
                covered.update(sql_index_leads(alembic_sql_text(operation, self.get_metadata) or ""))
            elif operation.name == "add_column":
                column = column_spec(operation.arg("column"), self.get_metadata)
                if column and column.name:
                    added.add((table, column.name))
                    if column.flag("index") or column.flag("unique") or column.flag("primary_key"):
                        covered.add((table, column.name))
            elif operation.name == "create_table":
                columns = table_columns(operation, self.get_metadata)
                added.update((table, c.name) for c in columns if c.name)
                covered.update((table, c.name) for c in columns if c.name and (c.flag("index") or c.flag("unique")))
                primary = [c.name for c in columns if c.name and c.flag("primary_key")]
                if primary:
                    covered.add((table, primary[0]))
                for kind, construct in table_constructs(operation, self.get_metadata):
                    arguments = positional_args(construct)
                    if kind == "Index":
                        arguments = arguments[1:]
                    elif kind not in ("UniqueConstraint", "PrimaryKeyConstraint"):
                        continue
                    first = literal_string(arguments[0]) if arguments else None
                    if first:
                        covered.add((table, first))
        return covered, added


def _leading_together_fields(node: cst.BaseExpression | None) -> list[str]:
    """First fields of `unique_together`/`index_together`: {("a", "b"), ...} or ("a", "b")."""
    flat = literal_strings(node)
    if flat:
        return [flat[0]]
    leading = []
    if isinstance(node, (cst.Set, cst.List, cst.Tuple)):
        for element in node.elements:
            group = literal_strings(element.value)
            if group:
                leading.append(group[0])
    return leading


def _first_literal(nodes: list[cst.BaseExpression | None]) -> str | None:
    """The first string of a literal column list (or a single literal column name)."""
    for node in nodes:
        strings = literal_strings(node)
        if strings:
            return strings[0]
        single = literal_string(node)
        if single:
            return single
    return None
