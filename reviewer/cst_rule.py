"""The base class for libcst rules: one class per file, its examples are its tests and docs.

A rule declares its identity and docs as class attributes, `VALID` and `INVALID` examples, and
`visit_*`/`leave_*` methods. All rules of a file run in one batched traversal, so a rule must not
call `node.visit()` itself for the whole module; it may walk small subtrees.

    class StringBuiltSql(CstRule):
        code = "SQL001"
        name = "string-built-sql"
        severity = Severity.ERROR
        summary = "SQL text built from strings reaches a query call"
        what = "..."; why = "..."
        VALID = [Valid("cur.execute('SELECT 1')")]
        INVALID = [Invalid("cur.execute(f'SELECT {x}')", line=1)]

        def visit_Call(self, node): ...
            self.report(node, "message", fix=...)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider
from libcst.metadata.base_provider import LazyValue

from reviewer.finding import Finding, Fix, Position, Severity, TextEdit
from reviewer.textutil import line_start_offsets


_MISSING: Any = object()


@dataclass(frozen=True)
class Valid:
    """Code the rule must not flag. `files` adds other repository files the rule may read."""

    code: str
    path: str = "example.py"
    options: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invalid:
    """Code the rule must flag on `line` (1-based); `fixed` is the source after its fix."""

    code: str
    line: int
    path: str = "example.py"
    fixed: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know about the file under review; nothing here executes that file."""

    path: str
    source: str
    options: Mapping[str, Any]
    read_repo_file: Callable[[str], str | None] = lambda _path: None


@dataclass(frozen=True)
class Replace:
    """One edit of a fix: replace `node` with `replacement` (a node or source text)."""

    node: cst.CSTNode
    replacement: cst.CSTNode | str


class CstRule(cst.BatchableCSTVisitor):
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    summary: ClassVar[str] = ""
    what: ClassVar[str] = ""
    why: ClassVar[str] = ""
    references: ClassVar[Sequence[str]] = ()
    cwe: ClassVar[Sequence[int]] = ()
    tags: ClassVar[Sequence[str]] = ()
    confidence: ClassVar[str] = "high"
    fixable: ClassVar[bool] = False
    # Option name -> default value; config `rules: {CODE: {option: value}}` overrides them.
    options: ClassVar[Mapping[str, Any]] = {}
    VALID: ClassVar[Sequence[Valid]] = ()
    INVALID: ClassVar[Sequence[Invalid]] = ()
    # Providers resolved before the traversal; leave empty to resolve lazily (see get_metadata).
    METADATA_DEPENDENCIES: ClassVar[Sequence[type]] = ()

    def __init__(self, context: RuleContext, wrapper: MetadataWrapper) -> None:
        super().__init__()
        self.context = context
        self.wrapper = wrapper
        self.module = wrapper.module
        self.findings: list[Finding] = []

    def get_metadata(self, key: type, node: cst.CSTNode, default: Any = _MISSING) -> Any:
        """Metadata for `node`, computed on first use and shared by all rules of the file.

        libcst resolves every declared provider for the whole module before the traversal, which
        costs several parses' worth of time per provider. Most files give a rule nothing to look
        at, so providers are resolved only when a rule first asks (positions, for instance, only
        once something is reported). Declaring METADATA_DEPENDENCIES still resolves eagerly.
        """
        if key not in self.metadata:
            self.metadata = {**self.metadata, key: self.wrapper.resolve(key)}
        mapping = self.metadata[key]
        value = mapping[node] if default is _MISSING else mapping.get(node, default)
        return value() if isinstance(value, LazyValue) else value

    def get_visitors(self) -> Mapping[str, Callable[..., Any]]:
        """libcst's version inspects every member of the instance, for every file; the names
        depend only on the class, so they are found once per class."""
        return {name: getattr(self, name) for name in _visitor_method_names(type(self))}

    @classmethod
    def should_run(cls, source: str) -> bool:
        """A cheap text pre-check; return False to skip a file no match can come from."""
        return True

    def option(self, name: str) -> Any:
        return self.context.options.get(name, type(self).options[name])

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        fix: Sequence[Replace] | None = None,
        fix_description: str = "",
        severity: Severity | None = None,
    ) -> None:
        start, end = self._span(node)
        finding_fix = None
        if fix:
            edits = []
            for edit in fix:
                edit_start, edit_end = self._span(edit.node)
                text = edit.replacement
                if isinstance(text, cst.CSTNode):
                    text = self.module.code_for_node(text)
                edits.append(TextEdit(edit_start, edit_end, text))
            finding_fix = Fix(fix_description or "Apply the suggested change", tuple(edits))
        self.findings.append(
            Finding(
                code=self.code,
                name=self.name,
                severity=severity or self.severity,
                message=message,
                path=self.context.path,
                start=start,
                end=end,
                engine="libcst",
                fix=finding_fix,
                cwe=tuple(self.cwe),
                tags=tuple(self.tags),
            )
        )

    def _span(self, node: cst.CSTNode) -> tuple[Position, Position]:
        code_range: CodeRange = self.get_metadata(PositionProvider, node)
        return (
            Position(code_range.start.line, code_range.start.column + 1),
            Position(code_range.end.line, code_range.end.column + 1),
        )


@functools.cache
def _visitor_method_names(rule_class: type) -> tuple[str, ...]:
    """The visit_*/leave_* methods a rule class defines, without libcst's empty stubs."""
    return tuple(
        name
        for name in dir(rule_class)
        if name.startswith(("visit_", "leave_"))
        and callable(getattr(rule_class, name))
        and not getattr(getattr(rule_class, name), "_is_no_op", False)
    )


def apply_fix(source: str, fix: Fix) -> str:
    """The source with a fix's edits applied (edits must not overlap)."""
    offsets = line_start_offsets(source)

    def offset(position: Position) -> int:
        return offsets[position.line - 1] + position.column - 1

    result = source
    for edit in sorted(fix.edits, key=lambda e: e.start, reverse=True):
        result = result[: offset(edit.start)] + edit.replacement + result[offset(edit.end) :]
    return result
