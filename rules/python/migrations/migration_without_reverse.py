"""MIG005: a migration that cannot be rolled back."""

from __future__ import annotations

import re

import libcst as cst

from reviewer.analysis.calls import is_none, literal_bool, positional_args
from reviewer.analysis.migrations import (
    AlembicMigration,
    DjangoMigration,
    MigrationRule,
    Operation,
    alembic_sql_text,
    keeps_storage,
)
from reviewer.cst_rule import Invalid, Valid
from reviewer.finding import Severity

DDL = re.compile(r"^\s*(?:ALTER|CREATE|DROP|RENAME|TRUNCATE)\b", re.IGNORECASE)
# alter_column arguments that describe the column or widen it; anything else (a rename, a new
# default, NOT NULL) is a change the previous release may trip over.
_WIDENING_KEYWORDS = frozenset(
    {"type_", "nullable", "existing_type", "existing_nullable", "existing_server_default", "existing_comment",
     "existing_autoincrement", "schema", "table_name", "column_name"}
)

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
        Flags Django `RunPython` without `reverse_code` and `RunSQL` without `reverse_sql` (or
        with them set to None), and Alembic revisions whose `downgrade()` does nothing (`pass`
        or `...`) while `upgrade()` runs operations — a warning when the upgrade changes the
        schema, a note when it only changes data (`op.execute` of anything but literal DDL),
        which the previous release can often read. Not flagged either: an upgrade that only
        widens columns or lets them be NULL (`alter_column(..., type_=sa.String(8000))` from
        `String(500)`, `nullable=True`), which the previous release works with as it is and
        which narrowing back could only lose data from. A downgrade that raises on purpose or
        explains in a docstring or comment why it does nothing, and Django's
        `RunPython.noop`/`RunSQL.noop` for steps with nothing to undo, say the choice out loud
        and are not flagged. Neither are arguments passed through `*args`/`**kwargs` (the
        reverse may be among them), nor an app's initial migration (`initial = True`): it is
        unapplied only to remove the app, and its tables go with it.
    """
    why = """
        Rolling back a bad release usually means migrating back too. Django refuses to reverse
        past an irreversible operation, and an empty Alembic downgrade reports success while
        leaving the schema as the new code wants it — the old code then runs against a schema
        (or data written in a format) it does not know. Write the reverse while the change is
        fresh, or declare that there is nothing to undo.
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
        Valid(
            """
            from django.db import migrations
            from shop.sql_steps import sql_migration

            def create_admin(apps, schema_editor):
                ...

            class Migration(migrations.Migration):
                initial = True
                operations = [
                    migrations.RunPython(*sql_migration("CREATE INDEX CONCURRENTLY ...", "DROP INDEX ...")),
                    migrations.RunPython(create_admin),
                ]
            """,
            path="shop/migrations/0001_squashed_0009_admin.py",
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                op.execute("ALTER TABLE report MODIFY body MEDIUMTEXT")

            def downgrade():
                # Keep MEDIUMTEXT: shrinking back could truncate what was written since.
                pass
            """,
            path="alembic/versions/u1_mediumtext.py",
        ),
        Valid(
            """
            from alembic import op

            def upgrade():
                op.execute("UPDATE account SET tier = 'free' WHERE tier IS NULL")

            def downgrade():
                \"\"\"Nothing to undo: the old release treats 'free' and NULL alike.\"\"\"
            """,
            path="alembic/versions/t0_tier.py",
        ),
        Valid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.alter_column("params", "value", existing_type=sa.String(500), type_=sa.String(8000))
                op.alter_column("tags", "value", existing_type=sa.String(250), type_=sa.Text(), nullable=True)

            def downgrade():
                pass
            """,
            path="alembic/versions/m1_widen_values.py",
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
                op.drop_index("ix_account_email", table_name="account")

            def downgrade(): pass
            """,
            line=7,
            path="alembic/versions/s10_drop_email_index.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                # ### commands auto generated by Alembic - please adjust! ###
                op.add_column("account", sa.Column("tier", sa.String(10)))
                # ### end Alembic commands ###

            def downgrade():
                # ### commands auto generated by Alembic - please adjust! ###
                ...
                # ### end Alembic commands ###
            """,
            line=10,
            path="alembic/versions/t0_tier.py",
        ),
        Invalid(
            """
            from alembic import op
            import sqlalchemy as sa

            def upgrade():
                op.alter_column("params", "value", existing_type=sa.String(500), type_=sa.String(8000))
                op.alter_column("params", "key", existing_type=sa.String(250), type_=sa.String(100))

            def downgrade():
                pass
            """,
            line=9,
            path="alembic/versions/m2_resize_params.py",
        ),
    ]

    def check_alembic(self, migration: AlembicMigration) -> None:
        if migration.downgrade is None or not _does_nothing_unexplained(migration.downgrade):
            return
        if migration.operations and all(self._previous_release_fits(op) for op in migration.operations):
            return  # a wider or nullable column: the previous release works with it as it is
        if any(self._changes_schema(operation) for operation in migration.operations):
            self.report(
                migration.downgrade.name,
                "downgrade() does nothing while upgrade() changes the schema, so a rollback reports success and "
                "leaves the upgraded schema behind; undo the upgrade, or raise to say it cannot be undone",
            )
        else:
            self.report(
                migration.downgrade.name,
                "downgrade() does nothing while upgrade() changes data, so a rollback keeps the changed data; undo "
                "the change if the previous release cannot read it, or say in a comment why it can",
                severity=Severity.NOTE,
            )

    def _previous_release_fits(self, operation: Operation) -> bool:
        """An `alter_column` that only widens the column's type (varchar(n) -> varchar(m > n) or
        text) or lets it be NULL: narrowing it back could only lose data, and the previous
        release reads and writes the column as it is."""
        if operation.name != "alter_column" or operation.has_splat:
            return False
        keywords = {arg.keyword.value: arg.value for arg in operation.call.args if arg.keyword is not None}
        if set(keywords) - _WIDENING_KEYWORDS or len(positional_args(operation.call)) > 2:
            return False
        if "nullable" in keywords and literal_bool(keywords["nullable"]) is not True:
            return False
        new_type = keywords.get("type_")
        if new_type is not None and not keeps_storage(keywords.get("existing_type"), new_type, self.get_metadata):
            return False
        return new_type is not None or "nullable" in keywords

    def _changes_schema(self, operation: Operation) -> bool:
        """Any Alembic operation but op.execute changes the schema; op.execute does when its literal SQL is DDL."""
        if operation.name != "execute":
            return True
        return bool(DDL.match(alembic_sql_text(operation, self.get_metadata) or ""))

    def check_django(self, migration: DjangoMigration) -> None:
        if migration.initial:
            return
        for operation in migration.operations:
            if operation.name not in REVERSE_ARGUMENTS or operation.has_splat:
                continue
            argument, noop = REVERSE_ARGUMENTS[operation.name]
            reverse = operation.arg(argument)
            if reverse is None or is_none(reverse):
                self.report(
                    operation.call,
                    f"{operation.name} has no {argument}, so this migration cannot be unapplied; pass the code that "
                    f"undoes it, or {argument}={noop} if there is nothing to undo",
                )


def _does_nothing_unexplained(function: cst.FunctionDef) -> bool:
    """A body of only `pass` and `...`, with no docstring or comment saying why.

    Alembic's autogenerate markers (`# ### commands auto generated ...`) explain nothing.
    """
    body = function.body
    if isinstance(body, cst.SimpleStatementSuite):  # def downgrade(): pass
        lines, comments = [body], [body.trailing_whitespace.comment]
    else:
        lines = list(body.body)
        comments = [line.comment for line in (body.header, *body.footer)]
        for statement in lines:
            if not isinstance(statement, cst.SimpleStatementLine):
                return False
            comments += [line.comment for line in statement.leading_lines]
            comments.append(statement.trailing_whitespace.comment)
    if any(_explains(comment) for comment in comments if comment is not None):
        return False
    return all(_is_placeholder(small) for line in lines for small in line.body)


def _is_placeholder(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Pass) or (isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis))


# Comments that are tool markers, not a person's explanation.
TOOL_MARKERS = ("###", "noqa", "type:", "pragma", "pylint:")


def _explains(comment: cst.Comment) -> bool:
    text = comment.value.lstrip("#").strip()
    return bool(text) and not text.lower().startswith(TOOL_MARKERS)
