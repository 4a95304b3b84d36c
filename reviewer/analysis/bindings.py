"""What an assignment binds a name to, read from the syntax alone (nothing is executed).

libcst's scope analysis says which assignments a use of a name may read; this module says what
each of them put there: a value (`q = ...`), an addition (`q += ...`), one item of an iterable
(`for q in ...`), a context manager's result (`with ... as q`), an import, a parameter (with
its annotation), or something opaque (a `def`, an `except` target, an unpacking we cannot pair).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import Assignment, BaseAssignment, ComprehensionScope, ImportAssignment, Scope

from reviewer.analysis.facts import ModuleFacts

LIST_MUTATORS = ("append", "extend", "insert")


class BindingKind(enum.Enum):
    VALUE = "value"
    APPEND = "append"
    ITEM = "item"
    CONTEXT = "context"
    IMPORT = "import"
    PARAMETER = "parameter"
    OPAQUE = "opaque"


@dataclass(frozen=True, eq=False)
class Binding:
    kind: BindingKind
    assignment: BaseAssignment
    # VALUE/APPEND: the value; ITEM: the iterable; CONTEXT: the context manager expression;
    # PARAMETER: the annotation, if any.
    expression: cst.BaseExpression | None = None
    # Whether the assignment is in the same function as the use (comprehensions count as inside).
    same_function: bool = True


def bindings_of(name: cst.Name, facts: ModuleFacts) -> list[Binding]:
    """The bindings this use of `name` may read, in source order."""
    use_function = _function_scope(facts.scope(name))
    return [
        binding_of(assignment, facts, same_function=_function_scope(assignment.scope) is use_function)
        for assignment in facts.referents(name)
    ]


def binding_of(assignment: BaseAssignment, facts: ModuleFacts, *, same_function: bool = True) -> Binding:
    def make(kind: BindingKind, expression: cst.BaseExpression | None = None) -> Binding:
        return Binding(kind, assignment, expression, same_function)

    if isinstance(assignment, ImportAssignment):
        return make(BindingKind.IMPORT)
    if isinstance(assignment, Assignment) and isinstance(assignment.node, cst.Param):
        annotation = assignment.node.annotation
        return make(BindingKind.PARAMETER, annotation.annotation if annotation else None)
    if not isinstance(assignment, Assignment) or not isinstance(assignment.node, cst.Name):
        return make(BindingKind.OPAQUE)
    target = assignment.node
    parent = facts.parent(target)
    if isinstance(parent, cst.AssignTarget):
        statement = facts.parent(parent)
        if isinstance(statement, cst.Assign):
            return make(BindingKind.VALUE, statement.value)
    if isinstance(parent, cst.AnnAssign) and parent.value is not None:
        return make(BindingKind.VALUE, parent.value)
    if isinstance(parent, cst.NamedExpr):
        return make(BindingKind.VALUE, parent.value)
    if isinstance(parent, cst.AugAssign) and isinstance(parent.operator, cst.AddAssign):
        return make(BindingKind.APPEND, parent.value)
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.target is target:
        return make(BindingKind.ITEM, parent.iter)
    if isinstance(parent, cst.AsName):
        item = facts.parent(parent)
        if isinstance(item, cst.WithItem):
            return make(BindingKind.CONTEXT, item.item)
    if isinstance(parent, cst.Element):
        paired = _paired_unpacking(parent, facts)
        if paired is not None:
            return make(BindingKind.VALUE, paired)
    return make(BindingKind.OPAQUE)


def _paired_unpacking(element: cst.Element, facts: ModuleFacts) -> cst.BaseExpression | None:
    """`a, b = x, y` binds a to x: the value at the same index of a same-length literal."""
    targets = facts.parent(element)
    assign_target = facts.parent(targets) if targets is not None else None
    statement = facts.parent(assign_target) if assign_target is not None else None
    if not (isinstance(targets, (cst.Tuple, cst.List)) and isinstance(statement, cst.Assign)):
        return None
    values = statement.value
    if not isinstance(values, (cst.Tuple, cst.List)) or len(values.elements) != len(targets.elements):
        return None
    if any(isinstance(e, cst.StarredElement) for e in (*targets.elements, *values.elements)):
        return None
    index = next(i for i, candidate in enumerate(targets.elements) if candidate is element)
    return values.elements[index].value


def list_mutations(assignment: BaseAssignment, facts: ModuleFacts) -> list[tuple[str, cst.Call]]:
    """Calls like `name.append(x)` made on the value this assignment bound, anywhere in scope."""
    mutations = []
    for access in assignment.references:
        attribute = facts.parent(access.node)
        call = facts.parent(attribute) if attribute is not None else None
        if (
            isinstance(attribute, cst.Attribute)
            and attribute.value is access.node
            and attribute.attr.value in LIST_MUTATORS
            and isinstance(call, cst.Call)
            and call.func is attribute
        ):
            mutations.append((attribute.attr.value, call))
    return mutations


def _function_scope(scope: Scope | None) -> Scope | None:
    while isinstance(scope, ComprehensionScope):
        scope = scope.parent
    return scope
