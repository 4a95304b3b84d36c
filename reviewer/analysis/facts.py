"""One parsed module's metadata, asked for node by node: what every analysis helper reads.

A rule passes itself (`ModuleFacts(rule, module_names_for_path(path))`), so lookups use the
metadata the engine resolved once for the batched traversal; tools and tests use
`ModuleFacts.from_wrapper`. Nothing here walks the whole module.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Iterable

import libcst as cst
from libcst.metadata import (
    Assignment,
    BaseAssignment,
    BuiltinScope,
    ComprehensionScope,
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from reviewer.analysis.calls import qualified_name_entries
from reviewer.analysis.parents import ParentProvider

# The metadata every helper in reviewer.analysis may ask for; a rule using them declares these.
PROVIDERS = (ScopeProvider, ParentProvider, PositionProvider)


def module_names_for_path(path: str) -> tuple[str, ...]:
    """Dotted names a file may be imported as: `src/app/db.py` → src.app.db, app.db, db.

    The repository layout (src/, lib/) is unknown, so every dotted suffix is a candidate.
    """
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    parts = [part for part in parts if part not in ("", ".")]
    return tuple(".".join(parts[index:]) for index in range(len(parts)))


class _ResolvedMetadata(cst.MetadataDependent):
    METADATA_DEPENDENCIES = PROVIDERS


class ModuleFacts:
    """Metadata lookups for one module; `module_names` are the dotted names the file may have."""

    def __init__(self, metadata: cst.MetadataDependent, module_names: Iterable[str] = ()) -> None:
        self._metadata = metadata
        self.module_names = tuple(module_names)
        self._imports_by_scope: dict[int, frozenset[str]] = {}

    @classmethod
    def from_wrapper(cls, wrapper: MetadataWrapper, module_names: Iterable[str] = ()) -> "ModuleFacts":
        """Facts for code that is not a visitor (tools, tests): resolves the metadata up front."""
        holder = _ResolvedMetadata()
        holder.metadata = wrapper.resolve_many(PROVIDERS)
        return cls(holder, module_names)

    def _get(self, provider: type, node: cst.CSTNode) -> Any:
        return self._metadata.get_metadata(provider, node, None)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._get(ParentProvider, node)

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self._get(ScopeProvider, node)

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | cst.Lambda | None:
        """The innermost function or lambda holding `node`; None at module or class level."""
        current = self.parent(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            current = self.parent(current)
        return current

    def line(self, node: cst.CSTNode) -> int:
        return self._get(PositionProvider, node).start.line

    def sort_key(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self._get(PositionProvider, node).start
        return (start.line, start.column)

    def qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        """What the expression names, as importable dotted names.

        Imported names resolve through aliases (`import pandas as pd` → pandas.read_sql); relative
        imports and names defined in this file are prefixed with this file's module names.
        """
        names: set[str] = set()
        for qualified in qualified_name_entries(self._metadata.get_metadata, node):
            if qualified.source is QualifiedNameSource.LOCAL:
                if "<locals>" not in qualified.name:
                    names.update(f"{module}.{qualified.name}" for module in self.module_names)
            elif qualified.name.startswith("."):
                names.update(self._absolute(qualified.name))
            else:
                names.add(qualified.name)
        return frozenset(names)

    def _absolute(self, relative: str) -> Iterable[str]:
        dots = len(relative) - len(relative.lstrip("."))
        for module in self.module_names:
            package = module.split(".")[: -dots or None]
            if package:
                yield ".".join([*package, relative[dots:]])

    def referents(self, name: cst.Name) -> list[BaseAssignment]:
        """The assignments this use of a name may read, in source order (libcst's scope analysis).

        Inside a comprehension, a name the comprehension binds always reads its own target:
        libcst gets this wrong for a later `for` clause's target read in that clause's
        condition or in a following clause (`[c for c in cs for x in xs if f(x)]` gives no
        referent, or an outer `x`), so there the comprehension's assignments are the answer.
        """
        scope = self.scope(name)
        access = next((a for a in scope.accesses[name] if a.node is name), None) if scope is not None else None
        if access is None:
            return []
        referents = access.referents
        if isinstance(scope, ComprehensionScope):
            referents = scope.assignments[name.value] or referents
        return sorted(referents, key=self._assignment_order)

    def assignments_named(self, scope: Scope, name: str) -> list[BaseAssignment]:
        """The assignments to `name` made in `scope` itself, in source order."""
        return sorted(scope.assignments[name], key=self._assignment_order)

    def _assignment_order(self, assignment: BaseAssignment) -> tuple[int, int]:
        return self.sort_key(assignment.node) if isinstance(assignment, Assignment) else (0, 0)

    def visible_imports(self, node: cst.CSTNode) -> frozenset[str]:
        """Dotted names imported in the node's scope or any enclosing one (`from a import b` → a.b)."""
        scope = self.scope(node)
        return self._imports_of_scope(scope) if scope is not None else frozenset()

    def _imports_of_scope(self, scope: Scope) -> frozenset[str]:
        key = id(scope)
        if key not in self._imports_by_scope:
            names: set[str] = set()
            for assignment in scope.assignments:
                if isinstance(assignment, ImportAssignment):
                    names.update(q.name for q in assignment.get_qualified_names_for(assignment.name))
            if not isinstance(scope.parent, BuiltinScope) and scope.parent is not scope:
                names |= self._imports_of_scope(scope.parent)
            self._imports_by_scope[key] = frozenset(names)
        return self._imports_by_scope[key]
