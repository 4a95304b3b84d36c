"""TopLevelImports: qualified names from top-level imports, as scope analysis would give them."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ScopeProvider

from reviewer.analysis.imports import TopLevelImports

SOURCE = """\
import sqlalchemy as sa
import os.path
from alembic import op
from django.db import migrations, models as m
from . import local_thing
from x import *

sa.Column
op.add_column
m.CharField
migrations.Migration
os.path.join
local_thing
unknown.name
"""


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("sa.Column", {"sqlalchemy.Column"}),
        ("op.add_column", {"alembic.op.add_column"}),
        ("m.CharField", {"django.db.models.CharField"}),
        ("migrations.Migration", {"django.db.migrations.Migration"}),
        ("os.path.join", {"os.path.join"}),
        ("local_thing", set()),
        ("unknown.name", set()),
    ],
)
def test_names_match_what_scope_analysis_says(expression: str, expected: set[str]) -> None:
    module = cst.parse_module(SOURCE)
    statement = next(s for s in module.body if module.code_for_node(s).strip() == expression)
    node = statement.body[0].value
    table = TopLevelImports(module)
    assert {q.name for q in table.get_qualified_names_for(node)} == expected
    scope = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)[node]
    from_scope = {q.name for q in scope.get_qualified_names_for(node) if not q.name.startswith(".")}
    assert from_scope - {"unknown.name"} == expected
