"""Allow-list checks that make a name safe where it is used.

    if column not in ALLOWED_COLUMNS:       assert order in ("asc", "desc")     if kind in KINDS:
        raise ValueError(column)            ... use(order)                          use(kind)
    use(column)

A check counts when it runs before the use on every path (an earlier statement of an enclosing
block, or the `if` whose body holds the use), tests the same variable — libcst's scope analysis
must give the check and the use the same assignments, so a re-assignment in between voids it —
and compares against a literal collection (the caller decides what is literal).
"""

from __future__ import annotations

from typing import Callable, Sequence

import libcst as cst

from reviewer.analysis.facts import ModuleFacts

IsLiteralCollection = Callable[[cst.BaseExpression], bool]
EXITS = (cst.Raise, cst.Return, cst.Continue, cst.Break)


def is_allow_listed(name: cst.Name, facts: ModuleFacts, is_literal_collection: IsLiteralCollection) -> bool:
    variable = set(facts.referents(name))
    if not variable:
        return False
    checker = _Checker(name.value, variable, facts, is_literal_collection)
    child: cst.CSTNode = name
    node = facts.parent(name)
    while node is not None:
        if isinstance(node, cst.If) and child is node.body and checker.holds(_membership(node.test, name.value, negated=False)):
            return True
        if isinstance(node, (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite, cst.SimpleStatementLine)):
            earlier = _statements_before(node.body, child)
            if any(checker.guards(statement) for statement in reversed(earlier)):
                return True
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        child, node = node, facts.parent(node)
    return False


class _Checker:
    def __init__(self, identifier: str, variable: set, facts: ModuleFacts, is_literal_collection: IsLiteralCollection) -> None:
        self.identifier = identifier
        self.variable = variable
        self.facts = facts
        self.is_literal_collection = is_literal_collection

    def guards(self, statement: cst.CSTNode) -> bool:
        """`if x not in ALLOWED: raise` (or `return`, or `x = "default"`), `assert x in ALLOWED`."""
        if isinstance(statement, cst.SimpleStatementLine):
            return any(self.guards(small) for small in statement.body)
        if isinstance(statement, cst.Assert):
            return self.holds(_membership(statement.test, self.identifier, negated=False))
        if not isinstance(statement, cst.If) or statement.orelse is not None:
            return False
        comparison = _membership(statement.test, self.identifier, negated=True)
        if _always_exits(statement.body):
            return self.holds(comparison)
        resets = _literal_resets(statement.body, self.identifier, self.facts)
        return bool(resets) and self.holds(comparison, resets)

    def holds(self, comparison: cst.Comparison | None, resets: frozenset = frozenset()) -> bool:
        """The check tests this very variable (same assignments reach it) against a literal list."""
        if comparison is None:
            return False
        checked = set(self.facts.referents(comparison.left)) | resets
        return checked == self.variable and self.is_literal_collection(comparison.comparisons[0].comparator)


def _membership(test: cst.BaseExpression, identifier: str, *, negated: bool) -> cst.Comparison | None:
    """The `x in C` comparison that `test` being true relies on (negated: `x not in C`)."""
    if isinstance(test, cst.BooleanOperation):
        # `a or b` true → one of them; only `not in` checks survive that: `if x not in C or ...: raise`.
        if isinstance(test.operator, cst.Or if negated else cst.And):
            return _membership(test.left, identifier, negated=negated) or _membership(test.right, identifier, negated=negated)
        return None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _membership(test.expression, identifier, negated=not negated)
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    operator = cst.NotIn if negated else cst.In
    if isinstance(test.left, cst.Name) and test.left.value == identifier and isinstance(test.comparisons[0].operator, operator):
        return test
    return None


def _statements_before(body: Sequence[cst.CSTNode], child: cst.CSTNode) -> list[cst.CSTNode]:
    for index, statement in enumerate(body):
        if statement is child:
            return list(body[:index])
    return []


def _always_exits(body: cst.BaseSuite) -> bool:
    statements = body.body
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return isinstance(last.body[-1], EXITS)
    return isinstance(last, EXITS)


def _literal_resets(body: cst.BaseSuite, identifier: str, facts: ModuleFacts) -> frozenset:
    """The assignments `identifier = "literal"` in an `if` body (`column = "id"`)."""
    resets = set()
    for statement in body.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else (statement,):
            if (
                isinstance(small, cst.Assign)
                and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString, cst.Integer))
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value == identifier
            ):
                target = small.targets[0].target
                scope = facts.scope(target)
                resets.update(a for a in (scope.assignments[target] if scope else ()) if getattr(a, "node", None) is target)
    return frozenset(resets)
