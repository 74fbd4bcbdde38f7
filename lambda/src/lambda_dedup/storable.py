"""What DynamoDB can store, checked before the first write.

DynamoDB refuses some values with a ``ValidationException`` that no retry can fix. Left to
DynamoDB, such input would be a service error, retried to exhaustion or answered with a
503. :func:`check_item` finds it first and raises
:class:`~lambda_dedup.exceptions.UnstorableValueError`, an
:class:`~lambda_dedup.exceptions.InvalidEventError` that names the field, so the handler
rejects the input (``rejected record``, ``rejected event``, HTTP 400) before anything is
written. The effect builders (:mod:`lambda_dedup.effects`) and the stores call it on every
item and value they write. Call it yourself on anything you write to DynamoDB another way.

DynamoDB's rules, from its documentation ("Constraints", "Data types"):

* **Numbers:** finite, at most 38 significant digits, and magnitude within
  1E-130..9.99E+125 (zero is allowed). JSON's ``NaN``, ``Infinity`` and ``1e400`` are
  refused, and so are ``1e-200`` and 39 significant digits.
* **Strings:** UTF-8. A lone surrogate (JSON ``"\\ud800"``) has no UTF-8 form.
* **Nesting:** up to 32 levels. The top-level attribute is level 1, so a value inside 31
  nested maps or lists is the deepest one stored. A handler that stores a document
  *inside* an attribute adds levels, and this check counts them, because it runs on the
  item as written.
* **Size:** at most 400 KB (409,600 bytes) per item, as DynamoDB measures it. That is
  attribute names plus values. A string counts its UTF-8 bytes. A binary value counts its
  raw bytes, not its base64. A number counts 1 byte per two significant digits, plus 1.
  A map or list counts 3 bytes, plus 1 byte per element. A boolean or null counts 1 byte.
* **Names:** an attribute name is 1 to 65,535 bytes of UTF-8.
* **Sets:** never empty.

Examples:
    >>> from lambda_dedup.storable import check_item
    >>> check_item({"user_id": "ada", "score": 1.5})
    17
    >>> try:
    ...     check_item({"score": float("nan")})
    ... except ValueError as error:
    ...     print(error)
    'score' is NaN; DynamoDB stores finite numbers only
    >>> try:
    ...     check_item({"profile": {"tags": ["\\ud800"]}})
    ... except ValueError as error:
    ...     print(error.field)
    profile.tags[0]
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from boto3.dynamodb.types import Binary

from lambda_dedup.exceptions import UnstorableValueError

__all__ = [
    "MAX_ITEM_BYTES",
    "MAX_LEVELS",
    "MAX_NAME_BYTES",
    "MAX_NUMBER_DIGITS",
    "check_item",
    "check_value",
]

MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit, in bytes as DynamoDB measures them."""

MAX_LEVELS = 32
"""DynamoDB's nesting limit. The top-level attribute is level 1."""

MAX_NUMBER_DIGITS = 38
"""DynamoDB's precision limit for a number, in significant digits."""

MAX_NAME_BYTES = 65_535
"""The longest attribute name, in UTF-8 bytes (DynamoDB: "less than 64 KB")."""

_SMALLEST = Decimal("1E-130")
_TOO_LARGE = Decimal("1E126")


def _text_size(text: str, field: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise UnstorableValueError(
            f"{what} {field!r} holds a lone surrogate ({error.object[error.start]!r}), which"
            " has no UTF-8 form; DynamoDB stores UTF-8 strings only",
            field,
        ) from error


def _number_size(value: int | float | Decimal, field: str) -> int:
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - every int, float and Decimal converts
        raise UnstorableValueError(f"{field!r} is not a number", field) from error
    if not number.is_finite():
        raise UnstorableValueError(
            f"{field!r} is {number}; DynamoDB stores finite numbers only", field
        )
    if number.is_zero():
        return 1
    # Significant digits without normalize(), which would round them to the context's 28.
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > MAX_NUMBER_DIGITS:
        raise UnstorableValueError(
            f"{field!r} has {len(digits)} significant digits; DynamoDB stores at most"
            f" {MAX_NUMBER_DIGITS}",
            field,
        )
    if not _SMALLEST <= abs(number) < _TOO_LARGE:
        raise UnstorableValueError(
            f"{field!r} is {number}; DynamoDB stores magnitudes within 1E-130..9.99E+125",
            field,
        )
    return (len(digits) + 1) // 2 + 1


def _size(value: Any, field: str, level: int) -> int:
    if level > MAX_LEVELS:
        raise UnstorableValueError(
            f"{field!r} is nested {level} levels deep; DynamoDB stores at most {MAX_LEVELS}",
            field,
        )
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float | Decimal):
        return _number_size(value, field)
    if isinstance(value, str):
        return _text_size(value, field, "the string")
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, Binary):
        return len(value.__bytes__())
    if isinstance(value, Mapping):
        size = 3
        for name, child in value.items():
            if not isinstance(name, str):
                raise UnstorableValueError(f"{field!r} has a key that is not a string", field)
            path = f"{field}.{name}"
            size += 1 + _text_size(name, path, "the name of") + _size(child, path, level + 1)
        return size
    if isinstance(value, list | tuple):
        return 3 + sum(
            1 + _size(child, f"{field}[{index}]", level + 1) for index, child in enumerate(value)
        )
    if isinstance(value, set | frozenset):
        if not value:
            raise UnstorableValueError(f"{field!r} is an empty set; DynamoDB refuses one", field)
        return sum(_size(member, field, level) for member in value)
    raise UnstorableValueError(
        f"{field!r} is a {type(value).__name__}, which DynamoDB cannot store", field
    )


def check_value(value: Any, field: str, *, level: int = 1) -> int:
    """Check one attribute value and return its size in bytes, as DynamoDB measures it.

    ``field`` names the value in the error. ``level`` is the value's nesting level: 1 for
    a top-level attribute, more for a value written into a nested path.

    Raises:
        UnstorableValueError: DynamoDB would refuse the value. The error names the field.

    Examples:
        >>> from lambda_dedup.storable import check_value
        >>> check_value([1, 2, 3], "scores")
        12
        >>> try:
        ...     check_value(int("9" * 39), "total")
        ... except ValueError as error:
        ...     print(error)
        'total' has 39 significant digits; DynamoDB stores at most 38
    """
    return _size(value, field, level)


def check_item(
    item: Mapping[str, Any], *, what: str = "the item", size_field: str | None = None
) -> int:
    """Check an item of plain Python values and return its size in bytes, as DynamoDB
    measures it.

    ``what`` names the item, and ``size_field`` the field to blame, in the error about
    its size. Floats are checked as :mod:`lambda_dedup.effects` stores them
    (``Decimal(repr(value))``).

    Raises:
        UnstorableValueError: DynamoDB would refuse the item. The error names the field.

    Examples:
        >>> from lambda_dedup.storable import check_item
        >>> check_item({"id": "order-1", "lines": [{"sku": "A", "qty": 2}]})
        32
        >>> try:
        ...     check_item({"blob": b"x" * 409_600})  # 4 bytes of name, 409,600 of value
        ... except ValueError as error:
        ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
        the item would be 409604 bytes as DynamoDB measures it;
        DynamoDB stores at most 409600 bytes per item
    """
    size = 0
    for name, value in item.items():
        if not isinstance(name, str) or not name:
            raise UnstorableValueError(
                f"{what} has an attribute name that is not a non-empty string: {name!r}",
                str(name),
            )
        name_size = _text_size(name, name, "the attribute name")
        if name_size > MAX_NAME_BYTES:
            raise UnstorableValueError(
                f"the attribute name {name[:40]!r}... is {name_size} bytes; at most"
                f" {MAX_NAME_BYTES}",
                name,
            )
        size += name_size + _size(value, name, 1)
    if size > MAX_ITEM_BYTES:
        raise UnstorableValueError(
            f"{what} would be {size} bytes as DynamoDB measures it; DynamoDB stores at most"
            f" {MAX_ITEM_BYTES} bytes per item",
            size_field,
        )
    return size
