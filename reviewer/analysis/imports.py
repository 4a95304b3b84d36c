"""Qualified names from a module's top-level imports alone, without libcst's scope analysis.

Scope analysis costs a few tens of milliseconds even for a 20-line file, which dominates rules
over declarative files such as migrations, where every name that matters (`migrations`,
`models`, `op`, `sa`) is imported at the top. `TopLevelImports` answers the one question such
rules ask of a scope, `get_qualified_names_for(node)`, from the import statements.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import QualifiedName, QualifiedNameSource


def dotted_name(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name or an Attribute chain of Names; None for anything else."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


class TopLevelImports:
    """Local name → imported dotted name, for the imports at the top level of one module."""

    def __init__(self, module: cst.Module) -> None:
        self.names: dict[str, str] = {}
        for statement in module.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._add(small)

    def _add(self, statement: cst.Import | cst.ImportFrom) -> None:
        if isinstance(statement, cst.Import):
            for alias in statement.names:
                full = dotted_name(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.names[alias.asname.name.value] = full
                elif full:
                    head = full.split(".")[0]
                    self.names[head] = head
            return
        if statement.relative or statement.module is None or isinstance(statement.names, cst.ImportStar):
            return
        package = dotted_name(statement.module)
        for alias in statement.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else None
            if name is None:
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self.names[local] = f"{package}.{name}"

    def get_qualified_names_for(self, node: cst.CSTNode) -> set[QualifiedName]:
        dotted = dotted_name(node)
        if dotted is None:
            return set()
        head, _, rest = dotted.partition(".")
        target = self.names.get(head)
        if target is None:
            return set()
        return {QualifiedName(f"{target}.{rest}" if rest else target, QualifiedNameSource.IMPORT)}
