"""What a string expression holds: known text, a value safe to interpolate, or text built from
parts nobody vouched for — and where that building happens.

`StringEvaluator.evaluate(expr)` follows the syntax, never runs it: literals, implicit
concatenation, f-strings, `%` formatting, `.format()`/`.format_map()` (`**locals()` reads the
local variables each field names), `+`, `.join()`, and names through their assignments
(`q = f"..."; q += ...`, module constants, loop items over literals — also unpacked, as in
`for col, kind in PAIRS` or `for k, v in MAPPING.items()`, and subscripted, as in `for row in
ROWS: row["table"]` — list `.append`s, `itertools.repeat("%s", n)`). A value is *safe* when its
text cannot carry SQL: numbers and `int()`/`float()` casts, numeric format specs (`{n:d}`,
`%d`), values picked from literal allow-lists (ternaries between literals, `{"a": "col_a"}[key]`,
`if col not in ALLOWED: raise`), calls to configured sanitizers and to identifier quoting
(`quote_ident`, and by name `quote`/`quote_table`/`quote_schema`/… methods such as SQLAlchemy's
`identifier_preparer.quote`, but not `urllib`'s or `shlex`'s), names that are constants by
convention (`TABLE`, `settings.DB_TABLE`, `Model._meta.db_table`), and deployment configuration
read from the environment (`os.environ[...]`, `os.getenv(...)`).

With `follow_calls=True`, a call to a function of the same file (`build_query(x)`,
`self._where(x)`) is followed into its `return` statements, its parameters holding the call's
arguments, at most MAX_CALL_DEPTH calls deep and MAX_FOLLOWED_CALLS times per module.

A *build* is reported where unsafe parts enter the text, so a finding points at the f-string
to change; builds seen through a variable or a followed call are marked, so the caller can say
where the text went.
"""

from __future__ import annotations

import enum
import re
import string
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Sequence, Union

import libcst as cst
from libcst.metadata import ComprehensionScope, Scope

from reviewer.analysis.bindings import (
    Binding,
    BindingKind,
    CalledFunction,
    binding_of,
    bindings_of,
    called_function,
    list_mutations,
    returned_values,
)
from reviewer.analysis.calls import literal_dict, positional_args
from reviewer.analysis.facts import ModuleFacts
from reviewer.analysis.guards import is_allow_listed
from reviewer.analysis.sqltext import MARKER

SAFE_CALLS = frozenset(
    {
        "builtins.int", "builtins.float", "builtins.bool", "builtins.len", "builtins.abs", "builtins.round",
        "math.ceil", "math.floor", "math.trunc", "decimal.Decimal", "uuid.UUID",
    }
)
# The larger or smaller of their arguments: safe when every argument is (`max(1, ceil(seconds))`).
PICKING_CALLS = frozenset({"builtins.max", "builtins.min"})
# Parameters annotated with these hold values whose text cannot carry SQL.
SAFE_TYPES = frozenset(
    {"builtins.int", "builtins.float", "builtins.bool", "decimal.Decimal", "uuid.UUID", "datetime.date", "datetime.datetime"}
)
# Built-in quoting helpers whose result is a safely quoted identifier.
KNOWN_SANITIZERS = frozenset({"psycopg2.extensions.quote_ident", "django.db.connection.ops.quote_name"})
# Identifier quoting by name, for helpers reached through objects the syntax cannot trace:
# SQLAlchemy's `dialect.identifier_preparer.quote()`, an engine's own `cls.quote_table()`.
IDENTIFIER_QUOTING = re.compile(r"^quote(?:_(?:ident|identifier|name|table|schema|column|table_name|column_name))?$")
# Modules whose `quote*` functions quote for something else than SQL (URLs, shells).
NOT_SQL_QUOTING = ("urllib.", "shlex.", "pipes.", "email.", "html.", "xml.")
TEXT_PRESERVING_METHODS = frozenset({"lower", "upper", "strip", "lstrip", "rstrip", "title", "casefold"})
# Deployment configuration: whoever sets it can already run SQL, so it is trusted like code.
ENVIRONMENT = frozenset({"os.environ"})
ENVIRONMENT_READS = frozenset({"os.getenv", "os.environ.get"})
# `.format(**locals())`: every field is the local variable of that name.
LOCAL_VARIABLES = frozenset({"builtins.locals", "builtins.vars"})
MAX_CALL_DEPTH = 2
MAX_FOLLOWED_CALLS = 200
COLLECTION_CALLS = frozenset(
    {"builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.sorted", "builtins.reversed"}
)
NUMERIC_FORMAT_SPEC = re.compile(r"^[^{}]*[bdoxXneEfFgG%]$")
PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?[hlL]?(?P<conversion>[diouxXeEfFgGcrsa%])"
)
NUMERIC_CONVERSIONS = frozenset("diouxXeEfFgG")
CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
MAX_DEPTH = 40

F_STRING = "an f-string"
PERCENT = "`%` formatting"
FORMAT = "`.format()`"
CONCATENATION = "`+` concatenation"
JOIN = "`.join()`"


class Kind(enum.Enum):
    TEXT = "text"  # text known here, up to interpolated values that are safe
    SAFE = "safe"  # not known text, but safe to interpolate into SQL
    BUILT = "built"  # text built here from at least one part nobody vouched for
    UNKNOWN = "unknown"  # an opaque value: a parameter, an attribute, a call's result
    # (in a followed call, a parameter's UNKNOWN holds one Hole: the argument it stands for)


@dataclass(frozen=True, eq=False)
class Hole:
    """One interpolated value inside text."""

    expression: cst.BaseExpression
    safe: bool


Piece = Union[str, Hole]


@dataclass(frozen=True, eq=False)
class Build:
    """A place where unsafe parts enter string text (the expression a finding points at)."""

    node: cst.CSTNode
    techniques: tuple[str, ...]  # e.g. ("an f-string",), ("`%` formatting", "`+` concatenation")
    unsafe_parts: tuple[cst.BaseExpression, ...]
    through_variable: bool = False  # reached the evaluated expression through a name's assignment
    # The outermost followed call (in the evaluated expression's own code) the text came out of.
    via_call: cst.Call | None = None

    @property
    def anchored(self) -> bool:
        """Found through a variable or a call: it keeps its place instead of joining the
        expression around it (which only builds further on it)."""
        return self.through_variable or self.via_call is not None


@dataclass(frozen=True)
class StringValue:
    kind: Kind
    pieces: tuple[Piece, ...] = ()
    builds: tuple[Build, ...] = ()

    @property
    def is_text(self) -> bool:
        return self.kind in (Kind.TEXT, Kind.BUILT)

    @property
    def text(self) -> str:
        """The known text, with MARKER for each interpolated value."""
        return "".join(piece if isinstance(piece, str) else MARKER for piece in self.pieces)

    def holes_in_context(self) -> Iterator[tuple[Hole, str, str]]:
        """Each interpolated value with the text before and after it (MARKER for other values)."""
        texts = [piece if isinstance(piece, str) else MARKER for piece in self.pieces]
        for index, piece in enumerate(self.pieces):
            if isinstance(piece, Hole):
                yield piece, "".join(texts[:index]), "".join(texts[index + 1 :])


SAFE = StringValue(Kind.SAFE)
UNKNOWN = StringValue(Kind.UNKNOWN)


def text_value(text: str) -> StringValue:
    return StringValue(Kind.TEXT, (text,))


class StringEvaluator:
    def __init__(self, facts: ModuleFacts, sanitizers: Iterable[str] = (), *, follow_calls: bool = False) -> None:
        self.facts = facts
        self.sanitizers = KNOWN_SANITIZERS | frozenset(sanitizers)
        self.follow_calls = follow_calls
        self._resolving: set[int] = set()  # assignments being evaluated, against cycles in loops
        self._arguments: dict[int, StringValue] = {}  # id(Param) -> its argument, in followed calls
        self._call_stack: list[int] = []  # ids of the functions being followed
        self._returns: dict[int, tuple[cst.BaseExpression, ...]] = {}
        self._followed = 0

    def evaluate(self, expression: cst.BaseExpression) -> StringValue:
        return self._evaluate(expression, 0)

    def evaluate_through_call(self, expression: cst.BaseExpression, call: cst.Call, called: CalledFunction) -> StringValue:
        """What `expression`, written in `called`'s body, holds when `call` runs it: the
        function's parameters hold the call's arguments. UNKNOWN once the budget is spent."""
        if not self._may_follow(called):
            return UNKNOWN
        return self._in_call(call, called, lambda: self._evaluate(expression, 0), 0)

    def is_literal_collection(self, expression: cst.BaseExpression) -> bool:
        """A collection whose items are all known text or safe values (an allow-list)."""
        items = self._items(expression, 0)
        return items is not None and all(value.kind in (Kind.TEXT, Kind.SAFE) for _, value in items)

    # -- dispatch ---------------------------------------------------------------------------

    def _evaluate(self, node: cst.BaseExpression, depth: int) -> StringValue:
        if depth > MAX_DEPTH:
            return UNKNOWN
        depth += 1
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            return text_value(value.decode("latin-1") if isinstance(value, bytes) else value)
        if isinstance(node, cst.ConcatenatedString):
            sides = [node.left, node.right]
            return self._compose(node, None, [(side, self._evaluate(side, depth)) for side in sides])
        if isinstance(node, cst.FormattedString):
            return self._f_string(node, depth)
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
            return SAFE
        if isinstance(node, cst.Name):
            return self._name(node, depth)
        if isinstance(node, cst.Attribute):
            return SAFE if _is_conventional_constant(node) else UNKNOWN
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node, depth)
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        if isinstance(node, cst.Subscript):
            if self.facts.qualified_names(node.value) & ENVIRONMENT:
                return SAFE
            return self._alternatives(self._collection_values(node.value, depth))
        if isinstance(node, cst.IfExp):
            return self._alternatives([self._evaluate(node.body, depth), self._evaluate(node.orelse, depth)])
        if isinstance(node, cst.BooleanOperation):
            return self._alternatives([self._evaluate(node.left, depth), self._evaluate(node.right, depth)])
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
            return SAFE if self._evaluate(node.expression, depth).kind is Kind.SAFE else UNKNOWN
        return UNKNOWN

    # -- combining parts --------------------------------------------------------------------

    def _compose(
        self,
        node: cst.CSTNode,
        technique: str | None,
        parts: Sequence[tuple[cst.BaseExpression, StringValue]],
        pieces: Sequence[Piece] | None = None,
    ) -> StringValue:
        """Text made of `parts`. Opaque parts make a build at `node`, which also takes in the
        builds of its own sub-expressions, so a finding points at the outermost building
        expression; builds reached through variables stay where they are."""
        if pieces is None:
            pieces = [piece for expression, value in parts for piece in _pieces(expression, value)]
        pieces = tuple(_merge_text(pieces))
        opaque = [_stand_in(expression, value) for expression, value in parts if value.kind is Kind.UNKNOWN]
        introduced = list({id(expression): expression for expression in opaque}.values())
        inherited = [build for _, value in parts for build in value.builds]
        nested = [build for build in inherited if not build.anchored]
        if not introduced and (not nested or technique is None):
            return StringValue(Kind.BUILT if inherited else Kind.TEXT, pieces, tuple(inherited))
        elsewhere = [build for build in inherited if build.anchored]
        techniques = ((technique,) if technique else ()) + tuple(t for build in nested for t in build.techniques)
        unsafe = tuple(introduced) + tuple(part for build in nested for part in build.unsafe_parts)
        build = Build(node, tuple(dict.fromkeys(techniques)), unsafe)
        return StringValue(Kind.BUILT, pieces, (build, *elsewhere))

    def _alternatives(self, values: list[StringValue] | None) -> StringValue:
        """One of several values: known text only if every alternative is."""
        if not values:
            return UNKNOWN
        kinds = {value.kind for value in values}
        if Kind.BUILT in kinds:
            first = next(value for value in values if value.kind is Kind.BUILT)
            return StringValue(Kind.BUILT, first.pieces, tuple(b for value in values for b in value.builds))
        if Kind.UNKNOWN in kinds:
            return UNKNOWN
        if kinds == {Kind.TEXT}:
            return values[0]
        return SAFE

    # -- syntax -----------------------------------------------------------------------------

    def _f_string(self, node: cst.FormattedString, depth: int) -> StringValue:
        parts: list[tuple[cst.BaseExpression, StringValue]] = []
        pieces: list[Piece] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value.replace("{{", "{").replace("}}", "}"))
                continue
            if _has_numeric_spec(part):
                pieces.append(Hole(part.expression, safe=True))
                continue
            value = self._evaluate(part.expression, depth)
            if len(node.parts) == 1 and part.conversion is None and not part.format_spec:
                return value  # f"{x}" is x
            parts.append((part.expression, value))
            pieces.extend(_pieces(part.expression, value))
        return self._compose(node, F_STRING, parts, pieces)

    def _binary(self, node: cst.BinaryOperation, depth: int) -> StringValue:
        if isinstance(node.operator, cst.Modulo):
            return self._percent_format(node, depth)
        left = self._evaluate(node.left, depth)
        right = self._evaluate(node.right, depth)
        if isinstance(node.operator, cst.Add) and (left.is_text or right.is_text):
            return self._compose(node, CONCATENATION, [(node.left, left), (node.right, right)])
        if isinstance(node.operator, cst.Multiply) and left.kind is Kind.TEXT and right.kind is not Kind.BUILT:
            return left  # "?" * n
        if isinstance(node.operator, cst.Multiply) and right.kind is Kind.TEXT and left.kind is not Kind.BUILT:
            return right
        return SAFE if left.kind is Kind.SAFE and right.kind is Kind.SAFE else UNKNOWN

    def _percent_format(self, node: cst.BinaryOperation, depth: int) -> StringValue:
        template = self._evaluate(node.left, depth)
        if not template.is_text:
            right = self._evaluate(node.right, depth)
            return SAFE if template.kind is Kind.SAFE and right.kind is Kind.SAFE else UNKNOWN
        positional, by_key = _percent_arguments(node.right)
        parts: list[tuple[cst.BaseExpression, StringValue]] = [(node.left, template)]
        pieces: list[Piece] = []
        index = 0
        for piece in template.pieces:
            if isinstance(piece, Hole):
                pieces.append(piece)
                continue
            cursor = 0
            for match in PERCENT_SPEC.finditer(piece):
                pieces.append(piece[cursor : match.start()])
                cursor = match.end()
                if match["conversion"] == "%":
                    pieces.append("%")
                    continue
                if "*" in (match["width"] or "") + (match["precision"] or ""):
                    return self._compose(node, PERCENT, [*parts, (node.right, UNKNOWN)])
                if match["key"] is not None:
                    argument = by_key.get(match["key"], node.right) if by_key is not None else node.right
                else:
                    argument = positional[index] if positional is not None and index < len(positional) else node.right
                    index += 1
                if match["conversion"] in NUMERIC_CONVERSIONS:
                    pieces.append(Hole(argument, safe=True))
                    continue
                value = self._evaluate(argument, depth)
                parts.append((argument, value))
                pieces.extend(_pieces(argument, value))
            pieces.append(piece[cursor:])
        return self._compose(node, PERCENT, _unique_parts(parts), pieces)

    def _call(self, node: cst.Call, depth: int) -> StringValue:
        held = self._held_callees(node.func)
        if self._is_safe_callee(node.func) or (held and all(self._is_safe_callee(callee) for callee in held)):
            return SAFE
        names = self.facts.qualified_names(node.func)
        positional = positional_args(node)
        if "builtins.str" in names and len(node.args) == 1 and positional:
            return self._evaluate(positional[0], depth)
        if names & PICKING_CALLS and len(positional) == len(node.args) > 1:
            if all(self._evaluate(argument, depth + 1).kind is Kind.SAFE for argument in positional):
                return SAFE
        called = called_function(node, self.facts) if self.follow_calls else None
        if called is not None:
            return self._follow(node, called, depth)
        if not isinstance(node.func, cst.Attribute):
            return UNKNOWN
        method = node.func.attr.value
        if method == "get":  # {"new": "created_at"}.get(key, "id")
            values = self._collection_values(node.func.value, depth)
            default = self._evaluate(positional[1], depth) if len(positional) > 1 else SAFE
            return self._alternatives(None if values is None or not positional else [*values, default])
        receiver = self._evaluate(node.func.value, depth)
        if not receiver.is_text:
            return UNKNOWN
        if method == "format":
            return self._format(node, receiver, depth)
        if method == "format_map" and len(node.args) == 1 and positional:
            return self._format(node, receiver, depth, mapping=positional[0])
        if method == "join" and len(node.args) == 1 and positional:
            return self._join(node, receiver, positional[0], depth)
        return receiver if method in TEXT_PRESERVING_METHODS else UNKNOWN

    def _held_callees(self, func: cst.BaseExpression) -> list[cst.BaseExpression]:
        """What a local name being called may hold: one alias (`quote = connection.ops.quote_name`)
        or each item of a loop over a literal collection (`for key, quote in {"schema":
        p.quote_schema, "table": p.quote}.items()`); empty when the syntax does not tell."""
        if not isinstance(func, cst.Name):
            return []
        bindings = bindings_of(func, self.facts)
        return (self._held_expressions(bindings[0], 0) or []) if len(bindings) == 1 else []

    def _is_safe_callee(self, callee: cst.BaseExpression) -> bool:
        names = self.facts.qualified_names(callee)
        if names & SAFE_CALLS or names & self.sanitizers or names & ENVIRONMENT_READS:
            return True
        last = callee.attr if isinstance(callee, cst.Attribute) else callee
        quoting = isinstance(last, cst.Name) and IDENTIFIER_QUOTING.match(last.value) is not None
        return quoting and not any(name.startswith(NOT_SQL_QUOTING) for name in names)

    def _format(self, node: cst.Call, template: StringValue, depth: int, mapping: cst.BaseExpression | None = None) -> StringValue:
        """`.format(...)`, or `.format_map(mapping)` when `mapping` is given."""
        positional: list[cst.BaseExpression] = []
        by_key: dict[str, cst.BaseExpression] = {}
        unpacked = mapping  # *args/**kwargs, format_map's mapping: fills any field not named
        keywords = mapping  # **kwargs or format_map's mapping: where named fields come from
        for arg in node.args if mapping is None else ():
            if arg.star:
                unpacked = unpacked or arg.value
                keywords = keywords or (arg.value if arg.star == "**" else None)
            elif arg.keyword is None:
                positional.append(arg.value)
            else:
                by_key[arg.keyword.value] = arg.value
        if keywords is not None:
            by_key = {**self._literal_mapping(keywords), **by_key}
        local_scope = self._local_variables_scope(keywords)
        parts: list[tuple[cst.BaseExpression, StringValue]] = [(node.func.value, template)]
        unpacked_parts: list[tuple[cst.BaseExpression, StringValue]] = []  # one per field: values differ
        pieces: list[Piece] = []
        auto_index = 0
        for piece in template.pieces:
            if isinstance(piece, Hole):
                pieces.append(piece)
                continue
            try:
                fields = list(string.Formatter().parse(piece))
            except ValueError:
                return UNKNOWN  # `.format()` would raise on this template
            for literal, field, spec, _conversion in fields:
                pieces.append(literal)
                if field is None:
                    continue
                base = re.split(r"[.\[]", field, maxsplit=1)[0]
                if base == "":
                    base, auto_index = str(auto_index), auto_index + 1
                argument = positional[int(base)] if base.isdigit() and int(base) < len(positional) else by_key.get(base)
                if argument is None and unpacked is None:
                    return UNKNOWN
                if spec and NUMERIC_FORMAT_SPEC.match(spec):
                    pieces.append(Hole(argument if argument is not None else unpacked, safe=True))
                    continue
                if argument is None:
                    value = UNKNOWN
                    if local_scope is not None and unpacked is keywords and field == base and not base.isdigit():
                        value = self._local_variable(local_scope, base, depth)
                    unpacked_parts.append((unpacked, value))
                    pieces.extend(_pieces(unpacked, value))
                    continue
                value = self._evaluate(argument, depth)
                parts.append((argument, value))
                pieces.extend(_pieces(argument, value))
        return self._compose(node, FORMAT, [*_unique_parts(parts), *unpacked_parts], pieces)

    def _literal_mapping(self, mapping: cst.BaseExpression) -> dict[str, cst.BaseExpression]:
        """The entries of `**{"table": "users"}` (or of a name bound once to such a dict)."""
        if isinstance(mapping, cst.Name):
            bindings = bindings_of(mapping, self.facts)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.VALUE:
                return {}
            mapping = bindings[0].expression
        if not isinstance(mapping, cst.Dict) or not all(isinstance(e, cst.DictElement) for e in mapping.elements):
            return {}
        return literal_dict(mapping)

    def _local_variables_scope(self, mapping: cst.BaseExpression | None) -> Scope | None:
        """The scope whose variables `**locals()`/`**vars()` hands to `.format()`."""
        if not (isinstance(mapping, cst.Call) and not mapping.args and self.facts.qualified_names(mapping.func) & LOCAL_VARIABLES):
            return None
        scope = self.facts.scope(mapping)
        return None if isinstance(scope, ComprehensionScope) else scope

    def _local_variable(self, scope: Scope, name: str, depth: int) -> StringValue:
        bindings = [binding_of(assignment, self.facts) for assignment in self.facts.assignments_named(scope, name)]
        return self._bindings_value(bindings, depth)

    def _join(self, node: cst.Call, separator: StringValue, iterable: cst.BaseExpression, depth: int) -> StringValue:
        items = self._items(iterable, depth)
        if items is None:
            items = [(iterable, UNKNOWN)]
        pieces: list[Piece] = []
        for index, (expression, value) in enumerate(items):
            if index:
                pieces.extend(separator.pieces)
            pieces.extend(_pieces(expression, value))
        return self._compose(node, JOIN, [(node.func.value, separator), *_unique_parts(items)], pieces)

    # -- names ------------------------------------------------------------------------------

    def _name(self, node: cst.Name, depth: int) -> StringValue:
        if node.value in ("None", "True", "False"):
            return SAFE
        if is_allow_listed(node, self.facts, self.is_literal_collection):
            return SAFE
        return self._bindings_value(bindings_of(node, self.facts), depth)

    def _bindings_value(self, bindings: list[Binding], depth: int) -> StringValue:
        values: list[tuple[Binding, StringValue]] = []
        for binding in bindings:
            key = id(binding.assignment)
            if key in self._resolving:
                continue
            self._resolving.add(key)
            try:
                values.append((binding, self._binding_value(binding, depth)))
            finally:
                self._resolving.discard(key)
        return _merge_bindings(values)

    def _binding_value(self, binding: Binding, depth: int) -> StringValue:
        kind = binding.kind
        if kind is BindingKind.IMPORT:
            return SAFE if CONSTANT_NAME.match(binding.assignment.name.rsplit(".", 1)[-1]) else UNKNOWN
        if kind is BindingKind.PARAMETER:
            if binding.expression is not None and self._is_safe_type(binding.expression):
                return SAFE
            return self._arguments.get(id(binding.assignment.node), UNKNOWN)
        if kind is BindingKind.ITEM:
            return self._alternatives([value for _, value in self._items(binding.expression, depth) or []])
        if kind is BindingKind.UNPACKED_ITEM:
            return self._alternatives(self._component_values(binding.expression, binding.components, depth))
        if kind not in (BindingKind.VALUE, BindingKind.APPEND):
            return UNKNOWN
        value = self._evaluate(binding.expression, depth)
        if value.kind is Kind.BUILT and not binding.same_function:
            return UNKNOWN  # text assembled in another function or at import time: not ours to judge
        return _through_variable(value)

    def _is_safe_type(self, annotation: cst.BaseExpression) -> bool:
        """`int`, `int | None`, `Optional[int]` and the like, for each type in SAFE_TYPES."""
        if isinstance(annotation, cst.Name) and annotation.value == "None":
            return True
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            return self._is_safe_type(annotation.left) and self._is_safe_type(annotation.right)
        if isinstance(annotation, cst.Subscript) and self.facts.qualified_names(annotation.value) & {"typing.Optional"}:
            element = annotation.slice[0].slice if len(annotation.slice) == 1 else None
            return isinstance(element, cst.Index) and self._is_safe_type(element.value)
        return bool(self.facts.qualified_names(annotation) & SAFE_TYPES)

    # -- calls to functions of this file ----------------------------------------------------

    def _may_follow(self, called: CalledFunction) -> bool:
        return (
            len(self._call_stack) < MAX_CALL_DEPTH
            and id(called.definition) not in self._call_stack
            and self._followed < MAX_FOLLOWED_CALLS
        )

    def _follow(self, call: cst.Call, called: CalledFunction, depth: int) -> StringValue:
        """What the call returns: its `return` expressions, evaluated with its arguments."""
        definition = called.definition
        if not self._may_follow(called):
            return UNKNOWN
        if id(definition) not in self._returns:
            self._returns[id(definition)] = returned_values(definition)
        returns = self._returns[id(definition)]
        if not returns:
            return UNKNOWN
        value = self._in_call(call, called, lambda: self._alternatives([self._evaluate(r, depth) for r in returns]), depth)
        return replace(value, builds=tuple(replace(build, via_call=call) for build in value.builds))

    def _in_call(self, call: cst.Call, called: CalledFunction, evaluate: Callable[[], StringValue], depth: int) -> StringValue:
        self._followed += 1
        arguments = {
            id(param): UNKNOWN if argument is None else _argument_value(argument, self._evaluate(argument, depth))
            for param, argument in called.arguments(call).items()
        }
        outer = self._arguments
        self._arguments = {**outer, **arguments}
        self._call_stack.append(id(called.definition))
        try:
            return evaluate()
        finally:
            self._call_stack.pop()
            self._arguments = outer

    # -- collections ------------------------------------------------------------------------

    def _items(self, node: cst.BaseExpression, depth: int) -> list[tuple[cst.BaseExpression, StringValue]] | None:
        """The items iterating `node` yields, when the syntax tells them; None when it cannot."""
        if depth > MAX_DEPTH:
            return None
        depth += 1
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            items = []
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    inner = self._items(element.value, depth)
                    if inner is None:
                        return None
                    items.extend(inner)
                else:
                    items.append((element.value, self._evaluate(element.value, depth)))
            return items
        if isinstance(node, cst.Dict):
            keys = [element.key for element in node.elements if isinstance(element, cst.DictElement)]
            if len(keys) != len(node.elements):
                return None
            return [(key, self._evaluate(key, depth)) for key in keys]
        if isinstance(node, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return [(node.elt, self._evaluate(node.elt, depth))]
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
            sequence = node.left if isinstance(node.left, (cst.List, cst.Tuple)) else node.right
            return self._items(sequence, depth) if isinstance(sequence, (cst.List, cst.Tuple)) else self._text_items(node, depth)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left, right = self._items(node.left, depth), self._items(node.right, depth)
            return None if left is None or right is None else left + right
        if isinstance(node, cst.Call):
            return self._call_items(node, depth)
        if isinstance(node, cst.Name):
            return self._name_items(node, depth)
        return self._text_items(node, depth)

    def _text_items(self, node: cst.BaseExpression, depth: int) -> list[tuple[cst.BaseExpression, StringValue]] | None:
        value = self._evaluate(node, depth)
        return [(node, value)] if value.kind is Kind.TEXT else None  # characters of known text

    def _call_items(self, node: cst.Call, depth: int) -> list[tuple[cst.BaseExpression, StringValue]] | None:
        names = self.facts.qualified_names(node.func)
        if "builtins.range" in names:
            return [(node, SAFE)]
        if "itertools.repeat" in names and node.args and node.args[0].keyword is None and not node.args[0].star:
            return [(node.args[0].value, self._evaluate(node.args[0].value, depth))]
        if names & COLLECTION_CALLS and len(node.args) == 1 and not node.args[0].star:
            return self._items(node.args[0].value, depth)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "keys" and not node.args:
            return self._items(node.func.value, depth)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "values" and not node.args:
            values = self._collection_values(node.func.value, depth)
            return None if values is None else [(node, value) for value in values]
        return None

    def _name_items(self, node: cst.Name, depth: int) -> list[tuple[cst.BaseExpression, StringValue]] | None:
        items: list[tuple[cst.BaseExpression, StringValue]] = []
        bindings = bindings_of(node, self.facts)
        if not bindings:
            return None
        for binding in bindings:
            if binding.kind not in (BindingKind.VALUE, BindingKind.APPEND) or id(binding.assignment) in self._resolving:
                return None
            self._resolving.add(id(binding.assignment))
            try:
                bound = self._items(binding.expression, depth)
                if bound is None:
                    return None
                items.extend(bound)
                for method, call in list_mutations(binding.assignment, self.facts):
                    added = self._mutation_items(method, call, depth)
                    if added is None:
                        return None
                    items.extend(added)
            finally:
                self._resolving.discard(id(binding.assignment))
        return [(expression, _through_variable(value)) for expression, value in items]

    def _mutation_items(self, method: str, call: cst.Call, depth: int) -> list[tuple[cst.BaseExpression, StringValue]] | None:
        if any(arg.star or arg.keyword for arg in call.args):
            return None
        values = [arg.value for arg in call.args]
        if method == "append" and len(values) == 1:
            return [(values[0], self._evaluate(values[0], depth))]
        if method == "insert" and len(values) == 2:
            return [(values[1], self._evaluate(values[1], depth))]
        if method == "extend" and len(values) == 1:
            return self._items(values[0], depth)
        return None

    def _component_values(self, iterable: cst.BaseExpression, path: tuple[int, ...], depth: int) -> list[StringValue] | None:
        """The values a loop target at `path` takes: `for k, v in ITEMS.items()`, `for i, x in
        enumerate(xs)`, `for a, b in zip(xs, ys)`, `for col, kind in (("id", "int"), ...)`."""
        if depth > MAX_DEPTH or not path:
            return None
        index, rest = path[0], path[1:]
        if isinstance(iterable, cst.Name):
            bindings = bindings_of(iterable, self.facts)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.VALUE:
                return None
            return self._component_values(bindings[0].expression, path, depth + 1)
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)):
            values = []
            for element in iterable.elements:
                component = _component(element.value, path) if isinstance(element, cst.Element) else None
                if component is None:
                    return None
                values.append(self._evaluate(component, depth + 1))
            return values
        if not isinstance(iterable, cst.Call):
            return None
        names = self.facts.qualified_names(iterable.func)
        arguments = positional_args(iterable)
        if "builtins.enumerate" in names and arguments and not any(arg.star for arg in iterable.args):
            return ([SAFE] if not rest else None) if index == 0 else self._loop_values(arguments[0], rest, depth + 1)
        if "builtins.zip" in names and index < len(arguments) and not any(arg.star for arg in iterable.args):
            return self._loop_values(arguments[index], rest, depth + 1)
        method = iterable.func.attr.value if isinstance(iterable.func, cst.Attribute) else None
        if method == "items" and not iterable.args and not rest and index in (0, 1):
            mapping = iterable.func.value
            if index == 0:
                keys = self._items(mapping, depth + 1)
                return None if keys is None else [value for _, value in keys]
            return self._collection_values(mapping, depth + 1)
        return None

    def _loop_values(self, iterable: cst.BaseExpression, path: tuple[int, ...], depth: int) -> list[StringValue] | None:
        if path:
            return self._component_values(iterable, path, depth)
        items = self._items(iterable, depth)
        return None if items is None else [value for _, value in items]

    def _collection_values(self, node: cst.BaseExpression, depth: int) -> list[StringValue] | None:
        """The values subscripting a literal dict, list or tuple can give (`{"a": "x"}[key]`)."""
        if isinstance(node, cst.Dict):
            if not all(isinstance(element, cst.DictElement) for element in node.elements):
                return None
            return [self._evaluate(element.value, depth) for element in node.elements]
        if isinstance(node, (cst.List, cst.Tuple)):
            items = self._items(node, depth)
            return None if items is None else [value for _, value in items]
        if isinstance(node, cst.Name):
            bindings = bindings_of(node, self.facts)
            held = self._held_expressions(bindings[0], depth) if len(bindings) == 1 else None
            if not held:
                return None
            values: list[StringValue] = []
            for expression in held:  # `for row in ROWS: row["name"]` takes any row's values
                found = self._collection_values(expression, depth + 1)
                if found is None:
                    return None
                values.extend(found)
            return values
        return None

    def _held_expressions(self, binding: Binding, depth: int) -> list[cst.BaseExpression] | None:
        """The expressions a name may hold, when the syntax shows them all: an assignment's
        value, or each item (or item component) of a loop over a literal collection, also one
        kept in a constant (`for row in ROWS`, `for key, quote in QUOTERS.items()`)."""
        if depth > MAX_DEPTH:
            return None
        if binding.kind is BindingKind.VALUE:
            return [binding.expression]
        if binding.kind is BindingKind.ITEM:
            return self._literal_items(binding.expression, (), depth + 1)
        if binding.kind is BindingKind.UNPACKED_ITEM:
            return self._literal_items(binding.expression, binding.components, depth + 1)
        return None

    def _literal_items(
        self, iterable: cst.BaseExpression, path: tuple[int, ...], depth: int
    ) -> list[cst.BaseExpression] | None:
        """The items (or the components at `path` of the items) of a literal collection, or the
        keys/values of a literal dict's `.items()`."""
        if isinstance(iterable, cst.Name):
            bindings = bindings_of(iterable, self.facts)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.VALUE or depth > MAX_DEPTH:
                return None
            return self._literal_items(bindings[0].expression, path, depth + 1)
        if isinstance(iterable, (cst.List, cst.Tuple, cst.Set)):
            items = [_component(e.value, path) if isinstance(e, cst.Element) else None for e in iterable.elements]
            return None if any(item is None for item in items) else items
        is_items_call = (
            isinstance(iterable, cst.Call)
            and isinstance(iterable.func, cst.Attribute)
            and iterable.func.attr.value == "items"
            and not iterable.args
            and len(path) == 1
            and path[0] in (0, 1)
        )
        if not is_items_call:
            return None
        mapping = iterable.func.value
        if isinstance(mapping, cst.Name):
            bindings = bindings_of(mapping, self.facts)
            if len(bindings) != 1 or bindings[0].kind is not BindingKind.VALUE:
                return None
            mapping = bindings[0].expression
        if not isinstance(mapping, cst.Dict) or not all(isinstance(e, cst.DictElement) for e in mapping.elements):
            return None
        return [element.key if path[0] == 0 else element.value for element in mapping.elements]


def _component(expression: cst.BaseExpression, path: tuple[int, ...]) -> cst.BaseExpression | None:
    """The part at `path` of a literal tuple/list: `("id", "int")` at (1,) is `"int"`."""
    for index in path:
        if not isinstance(expression, (cst.Tuple, cst.List)) or index >= len(expression.elements):
            return None
        element = expression.elements[index]
        if any(isinstance(e, cst.StarredElement) for e in expression.elements):
            return None
        expression = element.value
    return expression


def _merge_bindings(values: list[tuple[Binding, StringValue]]) -> StringValue:
    """A name read after several assignments may hold any of them; `+=` adds to the text.

    An opaque value added to known text (`q = "SELECT ..."; q += where`) is a build; added to an
    opaque start (`def page(q): q += " LIMIT 10"`) it tells nothing.
    """
    if not values:
        return UNKNOWN
    if len(values) == 1 and values[0][0].kind is not BindingKind.APPEND:
        return values[0][1]
    starts = [value for binding, value in values if binding.kind is not BindingKind.APPEND]
    text_start = next((value for value in starts if value.kind is Kind.BUILT), None) or next(
        (value for value in starts if value.is_text), None
    )
    additions = [
        _opaque_addition(binding) if text_start and value.kind is Kind.UNKNOWN and binding.same_function else value
        for binding, value in values
        if binding.kind is BindingKind.APPEND
    ]
    kinds = {value.kind for value in (*starts, *additions)}
    pieces = (*(text_start.pieces if text_start else ()), *(p for value in additions for p in value.pieces))
    if Kind.BUILT in kinds:
        builds = tuple(build for value in (*starts, *additions) for build in value.builds)
        return StringValue(Kind.BUILT, pieces, builds)
    if Kind.UNKNOWN in kinds:
        return UNKNOWN
    if kinds == {Kind.SAFE}:
        return SAFE
    return StringValue(Kind.TEXT, tuple(_merge_text(pieces)))


def _opaque_addition(binding: Binding) -> StringValue:
    expression = binding.expression
    build = Build(expression, (CONCATENATION,), (expression,), through_variable=True)
    return StringValue(Kind.BUILT, (Hole(expression, safe=False),), (build,))


def _pieces(expression: cst.BaseExpression, value: StringValue) -> tuple[Piece, ...]:
    if value.is_text or value.pieces:
        return value.pieces  # known text, or the expression an opaque argument stands for
    return (Hole(expression, safe=value.kind is Kind.SAFE),)


def _stand_in(expression: cst.BaseExpression, value: StringValue) -> cst.BaseExpression:
    """The expression an opaque value is known by: its own, or the argument it stands for."""
    if value.pieces and isinstance(value.pieces[0], Hole):
        return value.pieces[0].expression
    return expression


def _merge_text(pieces: Iterable[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        elif piece != "":
            merged.append(piece)
    return merged


def _unique_parts(parts: Iterable[tuple[cst.BaseExpression, StringValue]]) -> list[tuple[cst.BaseExpression, StringValue]]:
    seen: dict[int, tuple[cst.BaseExpression, StringValue]] = {}
    for expression, value in parts:
        seen.setdefault(id(expression), (expression, value))
    return list(seen.values())


def _argument_value(argument: cst.BaseExpression, value: StringValue) -> StringValue:
    """A parameter's value in a followed call. An opaque argument keeps standing for itself, so
    a build inside the function names the caller's expression (`x` in `build_query(x)`)."""
    if value.kind is Kind.UNKNOWN and not value.pieces:
        return StringValue(Kind.UNKNOWN, (Hole(argument, safe=False),))
    return _through_variable(value)


def _through_variable(value: StringValue) -> StringValue:
    return replace(value, builds=tuple(replace(b, through_variable=True) for b in value.builds))


def _percent_arguments(
    right: cst.BaseExpression,
) -> tuple[list[cst.BaseExpression] | None, dict[str, cst.BaseExpression] | None]:
    """The values a `%` format takes: a tuple's items, a literal dict's entries, or one value."""
    if isinstance(right, cst.Tuple):
        if any(isinstance(element, cst.StarredElement) for element in right.elements):
            return None, None
        return [element.value for element in right.elements], None
    if isinstance(right, cst.Dict):
        by_key = {}
        for element in right.elements:
            if not (isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString)):
                return None, None
            by_key[str(element.key.evaluated_value)] = element.value
        return None, by_key
    return [right], None


def _has_numeric_spec(part: cst.FormattedStringExpression) -> bool:
    spec = part.format_spec
    if not spec or not all(isinstance(piece, cst.FormattedStringText) for piece in spec):
        return False
    return part.conversion is None and bool(NUMERIC_FORMAT_SPEC.match("".join(piece.value for piece in spec)))


def _is_conventional_constant(node: cst.Attribute) -> bool:
    """`settings.DB_TABLE`, `self.TABLE`, `Status.ACTIVE.value`, `Model._meta.db_table`,
    `Model.__tablename__`: names that hold code's own constants by convention."""
    names = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Attribute):
        names.append(current.attr.value)
        current = current.value
    enum_member = len(names) > 1 and names[0] in ("value", "name") and CONSTANT_NAME.match(names[1])
    return bool(CONSTANT_NAME.match(names[0]) or enum_member) or "_meta" in names or names[0] == "__tablename__"
