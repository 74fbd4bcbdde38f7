"""DynamoDB's condition and update expressions, evaluated on items of plain Python values.

:class:`~lambda_dedup.store.memory.InMemoryStore` applies transaction entries with these,
as DynamoDB applies them. Items and values are what
:class:`boto3.dynamodb.types.TypeDeserializer` makes of DynamoDB's attribute values:
``str`` (S), ``Decimal`` (N), :class:`~boto3.dynamodb.types.Binary` (B), ``bool``,
``None`` (NULL), ``dict`` (M), ``list`` (L) and ``set`` (SS, NS, BS).

The whole grammar of both is supported, as the DynamoDB Developer Guide gives it:

* conditions: ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``, ``IN``,
  ``AND``, ``OR``, ``NOT``, parentheses, and the functions ``attribute_exists``,
  ``attribute_not_exists``, ``attribute_type``, ``begins_with``, ``contains`` and
  ``size``;
* updates: ``SET`` (with ``+``, ``-``, ``if_not_exists`` and ``list_append``),
  ``REMOVE``, ``ADD`` (numbers and sets) and ``DELETE`` (sets);
* document paths (``a.b[2].c``), ``#name`` and ``:value`` placeholders, and DynamoDB's
  reserved words, refused unless behind a placeholder.

What DynamoDB refuses before it evaluates anything (a syntax error, an undefined or unused
placeholder, a reserved word, overlapping paths, an operand of the wrong type) raises
:class:`ExpressionError`; what it finds wrong only with the item (adding to a string, a
nested path whose parent is missing) raises :class:`ItemError`. Comparisons follow
DynamoDB: values of different types are never equal, and ``<``, ``BETWEEN``... are false
for them; ``<>`` is true when the attribute is missing.

Examples:
    >>> from decimal import Decimal
    >>> condition = compile_condition(
    ...     "attribute_not_exists(#n) OR #n < :max", {"#n": "count"}, {":max": Decimal(3)}
    ... )
    >>> condition({"count": Decimal(2)}), condition({"count": Decimal(5)}), condition({})
    (True, False, True)
    >>> update = compile_update("SET visits = if_not_exists(visits, :zero) + :one", None,
    ...                         {":zero": Decimal(0), ":one": Decimal(1)})
    >>> update.apply({"id": "a"})
    {'id': 'a', 'visits': Decimal('1')}
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

from boto3.dynamodb.types import Binary

from lambda_dedup.store.reserved_words import RESERVED_WORDS

__all__ = [
    "MISSING",
    "Condition",
    "ExpressionError",
    "ItemError",
    "Path",
    "Update",
    "compile_condition",
    "compile_update",
    "type_of",
    "values_equal",
]

Path = tuple[str | int, ...]
"""A document path: attribute names and list indexes, ``("a", "b", 2)`` for ``a.b[2]``."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What a path that is not in the item evaluates to."""


class ExpressionError(ValueError):
    """DynamoDB refuses the request itself (``ValidationException``)."""


class ItemError(ValueError):
    """DynamoDB refuses the write for this item's content (in a transaction, the cancellation
    reason ``ValidationError``)."""


_EXACT = Context(prec=200)  # exact sums; storable.check_value refuses over 38 digits


def type_of(value: Any) -> str:
    """DynamoDB's type of a plain value: ``S``, ``N``, ``B``, ``BOOL``, ``NULL``, ``M``,
    ``L``, ``SS``, ``NS`` or ``BS``.

    Examples:
        >>> type_of({"a"}), type_of(Decimal(1)), type_of([1])
        ('SS', 'N', 'L')
    """
    if isinstance(value, bool):
        return "BOOL"
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "S"
    if isinstance(value, Decimal | int | float):
        return "N"
    if isinstance(value, Binary | bytes | bytearray):
        return "B"
    if isinstance(value, Mapping):
        return "M"
    if isinstance(value, list | tuple):
        return "L"
    if isinstance(value, set | frozenset) and value:
        return type_of(next(iter(value))) + "S"
    raise ItemError(f"{type(value).__name__} is not a DynamoDB value")


def _raw(value: Any) -> Any:
    """A value in a form Python compares as DynamoDB does (numbers, bytes)."""
    if isinstance(value, Binary):
        return value.__bytes__()
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


def values_equal(left: Any, right: Any) -> bool:
    """DynamoDB's equality: same type and same value (numbers numerically, sets unordered).

    Examples:
        >>> values_equal(Decimal("1.0"), Decimal(1)), values_equal("1", Decimal(1))
        (True, False)
    """
    if left is MISSING or right is MISSING:
        return False
    kind = type_of(left)
    if kind != type_of(right):
        return False
    if kind == "M":
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    if kind == "L":
        return len(left) == len(right) and all(map(values_equal, left, right))
    if kind in ("SS", "NS", "BS"):
        return {_raw(v) for v in left} == {_raw(v) for v in right}
    return bool(_raw(left) == _raw(right))


def _ordered(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both values as comparable Python values, or ``None`` when DynamoDB would not order
    them (a missing value, different types, or a type other than S, N or B)."""
    if left is MISSING or right is MISSING:
        return None
    kind = type_of(left)
    if kind != type_of(right) or kind not in ("S", "N", "B"):
        return None
    return _raw(left), _raw(right)


# -- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<index>\[\s*[0-9]+\s*\])|(?P<op><>|<=|>=|=|<|>|\(|\)|,|\.|\+|-))"
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
_CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
_TYPES = frozenset({"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})


@dataclass(frozen=True)
class _Token:
    kind: str  # name, value, ident, index, op, end
    text: str


def _tokens(text: str, what: str) -> list[_Token]:
    tokens, position = [], 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            bad = stripped[position:].strip()[:1]
            raise ExpressionError(f'Invalid {what}: Syntax error; token: "{bad}", near: ...')
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    tokens.append(_Token("end", "<EOF>"))
    return tokens


# -- operands -----------------------------------------------------------------------------

Item = Mapping[str, Any]


@dataclass(frozen=True)
class _Operand:
    evaluate: Callable[[Item], Any]
    static_type: str | None = None  # the type of a :value, known before evaluation
    path: Path | None = None


def _get(item: Item, path: Path) -> Any:
    current: Any = item
    for element in path:
        if isinstance(element, str):
            if not isinstance(current, Mapping) or element not in current:
                return MISSING
            current = current[element]
        else:
            if not isinstance(current, list) or element >= len(current):
                return MISSING
            current = current[element]
    return current


class _Parser:
    def __init__(
        self,
        text: str,
        names: Mapping[str, str] | None,
        values: Mapping[str, Any] | None,
        what: str,
        used_names: set[str],
        used_values: set[str],
    ) -> None:
        self.what = what
        self.tokens = _tokens(text, what)
        self.position = 0
        self.names = names or {}
        self.values = values or {}
        self.used_names = used_names
        self.used_values = used_values
        if not text.strip():
            raise ExpressionError(f"Invalid {what}: The expression can not be empty;")

    # - helpers
    @property
    def token(self) -> _Token:
        return self.tokens[self.position]

    def peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.position + offset, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.token
        self.position += 1
        return token

    def is_keyword(self, word: str) -> bool:
        return self.token.kind == "ident" and self.token.text.upper() == word

    def is_op(self, op: str) -> bool:
        return self.token.kind == "op" and self.token.text == op

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            self.syntax_error()
        self.advance()

    def syntax_error(self) -> None:
        raise ExpressionError(
            f'Invalid {self.what}: Syntax error; token: "{self.token.text}", near: ...'
        )

    def end(self) -> None:
        if self.token.kind != "end":
            self.syntax_error()

    # - paths and operands
    def path(self) -> Path:
        elements: list[str | int] = [self.name()]
        while True:
            if self.is_op(".") and self.peek().kind in ("ident", "name"):
                self.advance()
                elements.append(self.name())
            elif self.token.kind == "index":
                elements.append(int(self.advance().text.strip("[] ")))
            else:
                return tuple(elements)

    def name(self) -> str:
        token = self.token
        if token.kind == "name":
            self.advance()
            if token.text not in self.names:
                raise ExpressionError(
                    f"Invalid {self.what}: An expression attribute name used in the document"
                    f" path is not defined; attribute name: {token.text}"
                )
            self.used_names.add(token.text)
            return self.names[token.text]
        if token.kind == "ident":
            if token.text.upper() in RESERVED_WORDS:
                raise ExpressionError(
                    f"Invalid {self.what}: Attribute name is a reserved keyword; reserved"
                    f" keyword: {token.text}"
                )
            self.advance()
            return token.text
        self.syntax_error()
        raise AssertionError("unreachable")  # pragma: no cover

    def value(self) -> _Operand:
        token = self.advance()
        if token.text not in self.values:
            raise ExpressionError(
                f"Invalid {self.what}: An expression attribute value used in expression is"
                f" not defined; attribute value: {token.text}"
            )
        self.used_values.add(token.text)
        constant = self.values[token.text]
        return _Operand(lambda item: constant, static_type=type_of(constant))

    def path_operand(self) -> _Operand:
        path = self.path()
        return _Operand(lambda item: _get(item, path), path=path)

    def function_name(self) -> str:
        token = self.token
        return token.text if token.kind == "ident" and self.peek().text == "(" else ""

    def unknown_function(self, name: str) -> None:
        raise ExpressionError(f"Invalid {self.what}: Invalid function name; function: {name}")

    def operand_type_error(self, operator: str, kind: str) -> None:
        raise ExpressionError(
            f"Invalid {self.what}: Incorrect operand type for operator or function;"
            f" operator or function: {operator}, operand type: {kind}"
        )

    # - conditions
    def condition(self) -> Callable[[Item], bool]:
        left = self.conjunction()
        while self.is_keyword("OR"):
            self.advance()
            right = self.conjunction()
            left = (lambda a, b: lambda item: a(item) or b(item))(left, right)
        return left

    def conjunction(self) -> Callable[[Item], bool]:
        left = self.negation()
        while self.is_keyword("AND"):
            self.advance()
            right = self.negation()
            left = (lambda a, b: lambda item: a(item) and b(item))(left, right)
        return left

    def negation(self) -> Callable[[Item], bool]:
        if self.is_keyword("NOT"):
            self.advance()
            inner = self.negation()
            return lambda item: not inner(item)
        if self.is_op("("):
            self.advance()
            inner = self.condition()
            self.expect_op(")")
            return inner
        name = self.function_name()
        if name and name != "size":
            return self.condition_function(name)
        return self.comparison()

    def condition_operand(self) -> _Operand:
        name = self.function_name()
        if name == "size":
            self.advance()
            self.expect_op("(")
            path = self.path()
            self.expect_op(")")
            return _Operand(lambda item: _size(_get(item, path)), static_type="N")
        if name:
            self.unknown_function(name)
        if self.token.kind == "value":
            return self.value()
        if self.token.kind in ("ident", "name"):
            return self.path_operand()
        self.syntax_error()
        raise AssertionError("unreachable")  # pragma: no cover

    def ordered_operand(self, operator: str) -> _Operand:
        operand = self.condition_operand()
        if operand.static_type is not None and operand.static_type not in ("S", "N", "B"):
            self.operand_type_error(operator, operand.static_type)
        return operand

    def comparison(self) -> Callable[[Item], bool]:
        start = self.position
        left = self.condition_operand()
        if self.is_keyword("BETWEEN"):
            self.position = start
            left = self.ordered_operand("BETWEEN")
            self.advance()
            low = self.ordered_operand("BETWEEN")
            if not self.is_keyword("AND"):
                self.syntax_error()
            self.advance()
            high = self.ordered_operand("BETWEEN")

            def between(item: Item) -> bool:
                value = left.evaluate(item)
                a, b = _ordered(value, low.evaluate(item)), _ordered(value, high.evaluate(item))
                return a is not None and b is not None and a[1] <= a[0] <= b[1]

            return between
        if self.is_keyword("IN"):
            self.advance()
            self.expect_op("(")
            choices = [self.condition_operand()]
            while self.is_op(","):
                self.advance()
                choices.append(self.condition_operand())
            self.expect_op(")")
            return lambda item: any(
                values_equal(left.evaluate(item), c.evaluate(item)) for c in choices
            )
        if self.token.kind != "op" or self.token.text not in ("=", "<>", "<", "<=", ">", ">="):
            self.syntax_error()
        operator = self.advance().text
        if operator in ("=", "<>"):
            right = self.condition_operand()
            if operator == "=":
                return lambda item: values_equal(left.evaluate(item), right.evaluate(item))
            return lambda item: not values_equal(left.evaluate(item), right.evaluate(item))
        if left.static_type is not None and left.static_type not in ("S", "N", "B"):
            self.operand_type_error(operator, left.static_type)
        right = self.ordered_operand(operator)
        compare: Callable[[Any, Any], bool] = {
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }[operator]

        def ordered(item: Item) -> bool:
            pair = _ordered(left.evaluate(item), right.evaluate(item))
            return pair is not None and compare(*pair)

        return ordered

    def condition_function(self, name: str) -> Callable[[Item], bool]:
        if name not in _CONDITION_FUNCTIONS:
            self.unknown_function(name)
        self.advance()
        self.expect_op("(")
        if self.token.kind not in ("ident", "name"):
            raise ExpressionError(
                f"Invalid {self.what}: Operator or function requires a document path;"
                f" operator or function: {name}"
            )
        path = self.path()
        argument: _Operand | None = None
        if name in ("attribute_type", "begins_with", "contains"):
            self.expect_op(",")
            argument = self.condition_operand()
        self.expect_op(")")
        if name == "attribute_exists":
            return lambda item: _get(item, path) is not MISSING
        if name == "attribute_not_exists":
            return lambda item: _get(item, path) is MISSING
        assert argument is not None
        operand = argument
        if name == "attribute_type":
            if operand.static_type != "S" or operand.evaluate({}) not in _TYPES:
                raise ExpressionError(
                    f"Invalid {self.what}: Invalid attribute type name found; type:"
                    f" {operand.evaluate({})}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                )
            wanted = operand.evaluate({})
            return lambda item: _type_or_none(_get(item, path)) == wanted
        if name == "begins_with":
            if operand.static_type is not None and operand.static_type not in ("S", "B"):
                self.operand_type_error("begins_with", operand.static_type)

            def begins_with(item: Item) -> bool:
                pair = _ordered(_get(item, path), operand.evaluate(item))
                return (
                    pair is not None
                    and type_of(pair[0]) != "N"
                    and pair[0][: len(pair[1])] == pair[1]
                )

            return begins_with

        def contains(item: Item) -> bool:
            container, wanted = _get(item, path), operand.evaluate(item)
            if container is MISSING or wanted is MISSING:
                return False
            kind = type_of(container)
            if kind in ("S", "B"):
                pair = _ordered(container, wanted)
                return pair is not None and pair[1] in pair[0]
            if kind in ("SS", "NS", "BS"):
                return type_of(wanted) + "S" == kind and _raw(wanted) in {
                    _raw(v) for v in container
                }
            if kind == "L":
                return any(values_equal(member, wanted) for member in container)
            return False

        return contains

    # - updates
    def update(self) -> Update:
        update = Update(self.what)
        seen: set[str] = set()
        while self.token.kind != "end":
            if self.token.kind != "ident" or self.token.text.upper() not in (
                "SET",
                "REMOVE",
                "ADD",
                "DELETE",
            ):
                self.syntax_error()
            clause = self.advance().text.upper()
            if clause in seen:
                raise ExpressionError(
                    f'Invalid {self.what}: The "{clause}" section can only be used once in an'
                    " update expression;"
                )
            seen.add(clause)
            while True:
                self.update_action(clause, update)
                if not self.is_op(","):
                    break
                self.advance()
        update.check_overlaps()
        return update

    def update_action(self, clause: str, update: Update) -> None:
        path = self.path()
        if clause == "REMOVE":
            update.removes.append(path)
            return
        if clause == "SET":
            self.expect_op("=")
            update.sets.append((path, self.set_value()))
            return
        if self.token.kind != "value":
            self.syntax_error()
        operand = self.value()
        kind = operand.static_type or ""
        allowed = ("N", "SS", "NS", "BS") if clause == "ADD" else ("SS", "NS", "BS")
        if kind not in allowed:
            raise ExpressionError(
                f"Invalid {self.what}: Incorrect operand type for operator or function;"
                f" operator: {clause}, operand type: {_LONG_TYPES.get(kind, kind)}"
            )
        target = update.adds if clause == "ADD" else update.deletes
        target.append((path, operand.evaluate({})))

    def set_value(self) -> _Operand:
        left = self.set_operand()
        if self.is_op("+") or self.is_op("-"):
            operator = self.advance().text
            right = self.set_operand()
            for side in (left, right):
                if side.static_type is not None and side.static_type != "N":
                    self.operand_type_error(operator, side.static_type)

            def arithmetic(item: Item) -> Any:
                a, b = left.evaluate(item), right.evaluate(item)
                if type_of(a) != "N" or type_of(b) != "N":
                    raise ItemError(
                        "An operand in the update expression has an incorrect data type"
                    )
                a, b = _raw(a), _raw(b)
                return _EXACT.add(a, b) if operator == "+" else _EXACT.subtract(a, b)

            return _Operand(_defined(arithmetic))
        return _Operand(_defined(left.evaluate))

    def set_operand(self) -> _Operand:
        name = self.function_name()
        if name == "if_not_exists":
            self.advance()
            self.expect_op("(")
            path = self.path()
            self.expect_op(",")
            default = self.set_operand()
            self.expect_op(")")

            def if_not_exists(item: Item) -> Any:
                found = _get(item, path)
                return default.evaluate(item) if found is MISSING else found

            return _Operand(if_not_exists)
        if name == "list_append":
            self.advance()
            self.expect_op("(")
            first = self.set_operand()
            self.expect_op(",")
            second = self.set_operand()
            self.expect_op(")")
            for side in (first, second):
                if side.static_type is not None and side.static_type != "L":
                    self.operand_type_error("list_append", side.static_type)

            def list_append(item: Item) -> Any:
                a, b = first.evaluate(item), second.evaluate(item)
                if a is MISSING or b is MISSING:
                    raise ItemError(
                        "The provided expression refers to an attribute that does not exist in"
                        " the item"
                    )
                if type_of(a) != "L" or type_of(b) != "L":
                    raise ItemError(
                        "An operand in the update expression has an incorrect data type"
                    )
                return [*a, *b]

            return _Operand(list_append)
        if name:
            self.unknown_function(name)
        if self.token.kind == "value":
            return self.value()
        if self.token.kind in ("ident", "name"):
            return self.path_operand()
        self.syntax_error()
        raise AssertionError("unreachable")  # pragma: no cover


_LONG_TYPES = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "M": "MAP"}
_LONG_TYPES.update({"L": "LIST", "NULL": "NULL", "SS": "SET", "NS": "SET", "BS": "SET"})


def _defined(evaluate: Callable[[Item], Any]) -> Callable[[Item], Any]:
    def value(item: Item) -> Any:
        result = evaluate(item)
        if result is MISSING:
            raise ItemError(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return result

    return value


def _type_or_none(value: Any) -> str | None:
    return None if value is MISSING else type_of(value)


def _size(value: Any) -> Any:
    if value is MISSING:
        return MISSING
    kind = type_of(value)
    if kind == "S":
        return Decimal(len(value))
    if kind == "B":
        return Decimal(len(_raw(value)))
    if kind in ("M", "L", "SS", "NS", "BS"):
        return Decimal(len(value))
    return MISSING


@dataclass
class Update:
    """A compiled update expression; :meth:`apply` returns the updated item."""

    what: str
    sets: list[tuple[Path, _Operand]] = field(default_factory=list)
    removes: list[Path] = field(default_factory=list)
    adds: list[tuple[Path, Any]] = field(default_factory=list)
    deletes: list[tuple[Path, Any]] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        """Every path the update writes, in order."""
        return [
            *(p for p, _ in self.sets),
            *self.removes,
            *(p for p, _ in self.adds),
            *(p for p, _ in self.deletes),
        ]

    def check_overlaps(self) -> None:
        paths = self.paths
        for index, one in enumerate(paths):
            for two in paths[index + 1 :]:
                shorter = min(len(one), len(two))
                if one[:shorter] == two[:shorter]:
                    raise ExpressionError(
                        f"Invalid {self.what}: Two document paths overlap with each other; must"
                        " remove or rewrite one of these paths; path one:"
                        f" [{', '.join(map(str, one))}], path two: [{', '.join(map(str, two))}]"
                    )

    def apply(self, item: Item) -> dict[str, Any]:
        """The item after the update; ``item`` itself is left as it was.

        Raises:
            ItemError: DynamoDB refuses the update for this item.
        """
        new = copy.deepcopy(dict(item))
        # Every operand is evaluated against the item as it was before the update.
        assignments = [(path, operand.evaluate(item)) for path, operand in self.sets]
        for path, value in assignments:
            _put(new, path, copy.deepcopy(value))
        # Indexes removed from one list refer to its elements before the removal.
        for path in sorted(
            self.removes,
            key=lambda p: [(0, e) if isinstance(e, int) else (1, e) for e in p],
            reverse=True,
        ):
            _remove(new, path)
        for path, value in self.adds:
            current = _get(new, path)
            if current is MISSING:
                _put(new, path, copy.deepcopy(value))
            elif type_of(current) != type_of(value):
                raise ItemError("An operand in the update expression has an incorrect data type")
            elif type_of(value) == "N":
                _put(new, path, _EXACT.add(_raw(current), _raw(value)))
            else:
                _put(new, path, set(current) | set(value))
        for path, value in self.deletes:
            current = _get(new, path)
            if current is MISSING:
                continue
            if type_of(current) != type_of(value):
                raise ItemError("An operand in the update expression has an incorrect data type")
            remaining = {v for v in current if _raw(v) not in {_raw(d) for d in value}}
            if remaining:
                _put(new, path, remaining)
            else:
                _remove(new, path)
        return new


_INVALID_PATH = "The document path provided in the update expression is invalid for update"


def _put(item: dict[str, Any], path: Path, value: Any) -> None:
    parent: Any = item if len(path) == 1 else _get(item, path[:-1])
    last = path[-1]
    if isinstance(last, str):
        if not isinstance(parent, dict):
            raise ItemError(_INVALID_PATH)
        parent[last] = value
    else:
        if not isinstance(parent, list):
            raise ItemError(_INVALID_PATH)
        if last < len(parent):
            parent[last] = value
        else:
            parent.append(value)


def _remove(item: dict[str, Any], path: Path) -> None:
    parent: Any = item if len(path) == 1 else _get(item, path[:-1])
    last = path[-1]
    if parent is MISSING:
        raise ItemError(_INVALID_PATH)
    if isinstance(last, str) and isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(last, int) and isinstance(parent, list):
        if last < len(parent):
            del parent[last]
    else:
        raise ItemError(_INVALID_PATH)


Condition = Callable[[Item], bool]
"""A compiled condition: whether it holds for an item (``{}`` for no item)."""


def _parser(
    text: str,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    kind: str,
    used_names: set[str] | None,
    used_values: set[str] | None,
) -> _Parser:
    """A parser of one expression; it records the placeholders it uses in the given sets."""
    return _Parser(
        text,
        names,
        values,
        kind,
        used_names if used_names is not None else set(),
        used_values if used_values is not None else set(),
    )


def compile_condition(
    text: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    used_names: set[str] | None = None,
    used_values: set[str] | None = None,
) -> Condition:
    """Compile a ``ConditionExpression``; ``values`` are plain Python values.

    The placeholders it uses are added to ``used_names`` and ``used_values``.

    Raises:
        ExpressionError: DynamoDB would refuse the expression.

    Examples:
        >>> holds = compile_condition("begins_with(sk, :p) AND NOT qty IN (:a, :b)",
        ...                           values={":p": "order#", ":a": Decimal(1), ":b": Decimal(2)})
        >>> holds({"sk": "order#7", "qty": Decimal(3)}), holds({"sk": "order#7", "qty": Decimal(2)})
        (True, False)
    """
    parser = _parser(text, names, values, "ConditionExpression", used_names, used_values)
    condition = parser.condition()
    parser.end()
    return condition


def compile_update(
    text: str,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    *,
    used_names: set[str] | None = None,
    used_values: set[str] | None = None,
) -> Update:
    """Compile an ``UpdateExpression``; ``values`` are plain Python values.

    Raises:
        ExpressionError: DynamoDB would refuse the expression.

    Examples:
        >>> update = compile_update("ADD tags :t REMOVE stale SET n = n - :one",
        ...                         values={":t": {"new"}, ":one": Decimal(1)})
        >>> update.apply({"n": Decimal(3), "stale": True})
        {'n': Decimal('2'), 'tags': {'new'}}
    """
    parser = _parser(text, names, values, "UpdateExpression", used_names, used_values)
    update = parser.update()
    parser.end()
    return update


def check_unused(
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    used_names: Iterable[str],
    used_values: Iterable[str],
) -> None:
    """Refuse placeholders that no expression uses, as DynamoDB does.

    Raises:
        ExpressionError: a placeholder is unused, or a map of placeholders is empty.
    """
    for label, given, used in (
        ("ExpressionAttributeNames", names, set(used_names)),
        ("ExpressionAttributeValues", values, set(used_values)),
    ):
        if given is None:
            continue
        if not given:
            raise ExpressionError(f"{label} must not be empty")
        unused = sorted(set(given) - used)
        if unused:
            raise ExpressionError(
                f"Value provided in {label} unused in expressions: keys: {{{', '.join(unused)}}}"
            )
