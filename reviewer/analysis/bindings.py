"""What an assignment binds a name to, read from the syntax alone (nothing is executed).

libcst's scope analysis says which assignments a use of a name may read; this module says what
each of them put there: a value (`q = ...`), an addition (`q += ...`), one item of an iterable
(`for q in ...`), one component of each item (`for k, v in d.items()`), a context manager's
result (`with ... as q`), an import, a parameter (with its annotation), or something opaque (a
`def`, an `except` target, an unpacking we cannot pair). `reaching_bindings` narrows them to
the ones that can reach a use in straight-line code (`q = a; q = b; use(q)` reads only b).

It also says which function of this file a call runs (`helper(x)`, `self.method(x)`), which
argument each of its parameters gets, and what it returns — enough to follow a value one or two
calls deep without leaving the file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import Assignment, BaseAssignment, ComprehensionScope, ImportAssignment, Scope

from reviewer.analysis.calls import bind_arguments
from reviewer.analysis.facts import ModuleFacts

LIST_MUTATORS = ("append", "extend", "insert")
# Decorators that leave what a function returns as it is.
TRANSPARENT_DECORATORS = frozenset({"functools.cache", "functools.lru_cache"})
STATIC_METHOD = "builtins.staticmethod"
CLASS_METHOD = "builtins.classmethod"
MAX_RETURNS = 8


class BindingKind(enum.Enum):
    VALUE = "value"
    APPEND = "append"
    ITEM = "item"
    UNPACKED_ITEM = "unpacked_item"
    CONTEXT = "context"
    IMPORT = "import"
    PARAMETER = "parameter"
    OPAQUE = "opaque"


@dataclass(frozen=True, eq=False)
class Binding:
    kind: BindingKind
    assignment: BaseAssignment
    # VALUE/APPEND: the value; ITEM/UNPACKED_ITEM: the iterable; CONTEXT: the context manager
    # expression; PARAMETER: the annotation, if any.
    expression: cst.BaseExpression | None = None
    # Whether the assignment is in the same function as the use (comprehensions count as inside).
    same_function: bool = True
    # UNPACKED_ITEM: where in each item the name sits: `for i, (k, v) in ...` binds v at (1, 1).
    components: tuple[int, ...] = ()


def bindings_of(name: cst.Name, facts: ModuleFacts) -> list[Binding]:
    """The bindings this use of `name` may read, in source order."""
    use_function = _function_scope(facts.scope(name))
    return [
        binding_of(assignment, facts, same_function=_function_scope(assignment.scope) is use_function)
        for assignment in facts.referents(name)
    ]


def binding_of(assignment: BaseAssignment, facts: ModuleFacts, *, same_function: bool = True) -> Binding:
    def make(kind: BindingKind, expression: cst.BaseExpression | None = None, components: tuple[int, ...] = ()) -> Binding:
        return Binding(kind, assignment, expression, same_function, components)

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
        unpacked = _unpacked_loop_target(parent, facts)
        if unpacked is not None:
            return make(BindingKind.UNPACKED_ITEM, *unpacked)
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


def _unpacked_loop_target(element: cst.Element, facts: ModuleFacts) -> tuple[cst.BaseExpression, tuple[int, ...]] | None:
    """`for k, v in pairs` binds v to component 1 of each item: (the iterable, the component path)."""
    path: list[int] = []
    node: cst.CSTNode | None = element
    while isinstance(node, cst.Element):
        container = facts.parent(node)
        if not isinstance(container, (cst.Tuple, cst.List)) or any(isinstance(e, cst.StarredElement) for e in container.elements):
            return None
        path.append(next(i for i, candidate in enumerate(container.elements) if candidate is node))
        holder = facts.parent(container)
        if isinstance(holder, (cst.For, cst.CompFor)) and holder.target is container:
            return holder.iter, tuple(reversed(path))
        node = holder
    return None


def reaching_bindings(name: cst.Name, facts: ModuleFacts) -> list[Binding]:
    """The bindings whose value `name` can hold where it is read.

    libcst's scope analysis gives every assignment of the name in its scope; in straight-line
    code only the last one before the use counts, plus later conditional ones (`qs = ...;
    if q: qs = qs.filter(...)`). The assignment being computed (`qs = qs.filter()`) does not
    reach its own value. Assignments in other scopes (module constants) all count; a loop's
    later assignments reaching an earlier use on the next iteration are not modelled.
    """
    use = facts.sort_key(name)
    ancestors = _ancestor_ids(name, facts)
    local: list[Binding] = []
    outer: list[Binding] = []
    for binding in bindings_of(name, facts):
        if not binding.same_function:
            outer.append(binding)
            continue
        positional = binding.kind in (BindingKind.VALUE, BindingKind.APPEND, BindingKind.CONTEXT, BindingKind.OPAQUE)
        if positional and binding.expression is not None and id(binding.expression) in ancestors:
            continue
        if positional and facts.sort_key(getattr(binding.assignment, "node", name)) > use:
            continue
        local.append(binding)
    for index in range(len(local) - 1, -1, -1):
        if _dominates(local[index], ancestors, facts):
            return local[index:]
    return local + outer


def _dominates(binding: Binding, use_ancestors: set[int], facts: ModuleFacts) -> bool:
    """Whether the binding runs on every path to the use: its statement sits in a block that
    encloses the use (a parameter, or a comprehension's own target, always does)."""
    if binding.kind is BindingKind.PARAMETER:
        return True
    node: cst.CSTNode | None = binding.assignment.node
    while node is not None:
        parent = facts.parent(node)
        if isinstance(parent, cst.CompFor):
            return True
        if isinstance(parent, (cst.IndentedBlock, cst.Module)):
            return id(parent) in use_ancestors
        node = parent
    return False


def _ancestor_ids(node: cst.CSTNode, facts: ModuleFacts) -> set[int]:
    ancestors = set()
    current = facts.parent(node)
    while current is not None:
        ancestors.add(id(current))
        current = facts.parent(current)
    return ancestors


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


@dataclass(frozen=True, eq=False)
class CalledFunction:
    """A function of this file that a call runs; `receiver_bound`: the call fills its first
    parameter itself (`self.method(x)` binds `self`)."""

    definition: cst.FunctionDef
    receiver_bound: bool = False

    @property
    def name(self) -> str:
        return self.definition.name.value

    def arguments(self, call: cst.Call) -> dict[cst.Param, cst.BaseExpression | None]:
        """What each parameter gets from `call`: its argument, else its default, else None
        (`*args`/`**kwargs`, or arguments a `*`/`**` splat hides)."""
        params = self.definition.params
        positional = [*params.posonly_params, *params.params][1 if self.receiver_bound else 0 :]
        bound = bind_arguments(call, [param.name.value for param in positional])
        named = [*positional, *params.kwonly_params]
        return {param: bound.get(param.name.value, param.default) for param in named}


def called_function(call: cst.Call, facts: ModuleFacts) -> CalledFunction | None:
    """The function defined in this file that `call` runs: `helper(x)` runs `def helper`;
    `self.method(x)`/`cls.method(x)` inside a method runs `method` of that same class (a subclass
    override is not considered). Decorated functions count only when the decorator leaves the
    return value alone (`functools.lru_cache`, `staticmethod`, `classmethod`)."""
    func = call.func
    if isinstance(func, cst.Name):
        definition = _only_referent(func, facts)
        if not isinstance(definition, cst.FunctionDef) or _decorators(definition, facts) - TRANSPARENT_DECORATORS:
            return None
        return CalledFunction(definition)
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        return _own_method(func.value, func.attr.value, facts)
    return None


def _own_method(receiver: cst.Name, name: str, facts: ModuleFacts) -> CalledFunction | None:
    param = _only_referent(receiver, facts)
    if not isinstance(param, cst.Param):
        return None
    caller = _owner(_owner(param, facts), facts)  # Param -> Parameters -> FunctionDef
    body = _owner(caller, facts) if isinstance(caller, cst.FunctionDef) else None
    owner_class = _owner(body, facts) if body is not None else None
    if not isinstance(owner_class, cst.ClassDef) or not _first_parameter_is(caller, param):
        return None
    methods = [
        statement
        for statement in owner_class.body.body
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name
    ]
    if len(methods) != 1:
        return None
    definition = methods[0]
    decorators = _decorators(definition, facts)
    if decorators - TRANSPARENT_DECORATORS - {STATIC_METHOD, CLASS_METHOD}:
        return None
    if CLASS_METHOD in _decorators(caller, facts) and not decorators & {STATIC_METHOD, CLASS_METHOD}:
        return None  # `cls.method(x)` on an instance method would pass x as `self`
    return CalledFunction(definition, receiver_bound=STATIC_METHOD not in decorators)


def _only_referent(name: cst.Name, facts: ModuleFacts) -> cst.CSTNode | None:
    """The node that binds `name` when exactly one assignment can reach this use."""
    referents = facts.referents(name)
    return getattr(referents[0], "node", None) if len(referents) == 1 else None


def _owner(node: cst.CSTNode | None, facts: ModuleFacts) -> cst.CSTNode | None:
    return facts.parent(node) if node is not None else None


def _first_parameter_is(function: cst.FunctionDef, param: cst.Param) -> bool:
    positional = [*function.params.posonly_params, *function.params.params]
    return bool(positional) and positional[0] is param


def _decorators(definition: cst.FunctionDef, facts: ModuleFacts) -> set[str]:
    """What decorates a function, by qualified name (`@lru_cache(...)` counts as lru_cache); an
    async function counts as decorated by something unknown, as its call returns a coroutine."""
    names: set[str] = {"<async>"} if definition.asynchronous is not None else set()
    for decorator in definition.decorators:
        expression = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        names |= facts.qualified_names(expression) or {"<unknown>"}
    return names


def returned_values(function: cst.FunctionDef) -> tuple[cst.BaseExpression, ...]:
    """The expressions a function's `return` statements give back (its own, not those of nested
    functions); empty for generators and for functions with more than MAX_RETURNS of them."""
    collector = _ReturnCollector()
    function.body.visit(collector)
    if collector.generator or len(collector.values) > MAX_RETURNS:
        return ()
    return tuple(collector.values)


class _ReturnCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[cst.BaseExpression] = []
        self.generator = False

    def visit_Return(self, node: cst.Return) -> bool:
        if node.value is not None:
            self.values.append(node.value)
        return False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.generator = True
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False
