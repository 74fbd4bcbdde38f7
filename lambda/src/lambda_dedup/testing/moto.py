"""moto's DynamoDB, made to behave as DynamoDB does where tests depend on it.

moto is an excellent stand-in for DynamoDB in unit tests, except in a few places that
matter to deduplication. :func:`behave_like_dynamodb` fixes them in this process (moto
in-process, as ``mock_aws`` runs it, or a moto server started from it), and the
``aws``/``dynamodb`` fixtures of :mod:`lambda_dedup.testing.plugin` apply it:

* DynamoDB guarantees that a conditional write is atomic, and moto does not (two threads
  can both pass ``attribute_not_exists``): :func:`make_dynamodb_atomic`.
* DynamoDB cancels a transaction that meets another one in progress on the same item
  (``TransactionConflict``); moto never does: :func:`make_concurrent_transactions_conflict`.
* DynamoDB refuses an item nested deeper than 32 levels, a number of more than 38
  significant digits or outside 1E-130..9.99E+125, and an item over 400 KB measured its
  way; moto stores them: :func:`enforce_dynamodb_item_limits`.
* A cancelled transaction leaves no record in a table's stream; moto's rollback left one
  for open shard iterators: :func:`keep_stream_shards_on_rollback`.

Each function is idempotent and imports moto only when called, so importing this module
costs nothing where moto is not installed.

Examples:
    >>> from lambda_dedup.testing.moto import behave_like_dynamodb
    >>> behave_like_dynamodb()  # then: with moto.mock_aws(): ...
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

__all__ = [
    "MAX_ITEM_BYTES",
    "MAX_NESTING",
    "MAX_NUMBER_DIGITS",
    "behave_like_dynamodb",
    "check_item",
    "enforce_dynamodb_item_limits",
    "keep_stream_shards_on_rollback",
    "make_concurrent_transactions_conflict",
    "make_dynamodb_atomic",
]

_atomic_lock = threading.RLock()
_in_flight: dict[tuple[str, str], int] = {}
"""Items of the transactions in progress (waiting for or holding ``_atomic_lock``)."""
_in_flight_lock = threading.Lock()


def make_dynamodb_atomic() -> None:
    """Serialise moto's DynamoDB requests, as DynamoDB serialises conditional writes.

    moto evaluates a condition and then writes, without a lock, so concurrent requests
    race: with 8 threads, two ``attribute_not_exists`` puts can both succeed. One lock
    around each request restores DynamoDB's per-request atomicity (for single-item writes
    and for transactions). Idempotent.
    """
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_atomic", False):
        return

    @functools.wraps(original)
    def call_action(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _atomic_lock:
            return original(self, *args, **kwargs)

    call_action._atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def _transaction_items(handler: Any, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (table, key) of every item that a ``TransactWriteItems`` touches, in order."""
    items = []
    for entry in body.get("TransactItems") or []:
        for operation in entry.values():
            table = str(operation.get("TableName"))
            key = operation.get("Key")
            if key is None and isinstance(operation.get("Item"), dict):
                try:
                    schema = handler.dynamodb_backend.get_table(table)
                    names = [n for n in (schema.hash_key_attr, schema.range_key_attr) if n]
                    key = {name: operation["Item"].get(name) for name in names}
                except Exception:  # an unknown table: moto reports it
                    key = operation["Item"]
            items.append((table, json.dumps(key, sort_keys=True, default=str)))
    return items


def make_concurrent_transactions_conflict() -> None:
    """Cancel a transaction that meets another one in progress on the same item; idempotent.

    A transaction is in progress from its arrival until its answer, including the time it
    waits for ``make_dynamodb_atomic``'s lock. Another ``TransactWriteItems`` touching
    one of its items meanwhile is cancelled with ``TransactionConflict`` on that item,
    as DynamoDB does. Apply after ``make_dynamodb_atomic``, so that the check runs before
    the lock is taken.
    """
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_conflicts", False):
        return

    @functools.wraps(original)
    def call_action(self: Any, *args: Any, **kwargs: Any) -> Any:
        body = getattr(self, "params", None)
        if not isinstance(body, dict) or not body.get("TransactItems"):
            return original(self, *args, **kwargs)
        mine = _transaction_items(self, body)
        with _in_flight_lock:
            busy = [item in _in_flight for item in mine]
            if any(busy):
                raise TransactionCanceledException(
                    [
                        ("TransactionConflict", "Transaction is ongoing for the item", None)
                        if conflict
                        else (None, None, None)
                        for conflict in busy
                    ]
                )
            for item in mine:
                _in_flight[item] = _in_flight.get(item, 0) + 1
        try:
            return original(self, *args, **kwargs)
        finally:
            with _in_flight_lock:
                for item in mine:
                    _in_flight[item] -= 1
                    if not _in_flight[item]:
                        del _in_flight[item]

    call_action._conflicts = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


MAX_ITEM_BYTES = 400 * 1024
MAX_NESTING = 32
MAX_NUMBER_DIGITS = 38


def _number_problem(text: str) -> str | None:
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(text)
    except InvalidOperation:
        return f"{text!r} is not a number"
    if not number.is_finite():
        return f"{text!r} is not a finite number"
    if number.is_zero():
        return None
    # Significant digits, without normalize(): it would round to the context's 28.
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > MAX_NUMBER_DIGITS:
        return "Attempting to store more than 38 significant digits in a Number"
    if not Decimal("1E-130") <= abs(number) < Decimal("1E126"):
        return (
            "Number overflow or underflow. Attempting to store a number with magnitude"
            " outside 1E-130..9.99E+125"
        )
    return None


def _value_size(value: dict[str, Any], depth: int) -> int:
    """DynamoDB's size of one AttributeValue (its documented rules); raises ValueError."""
    import base64

    (kind, content), *_ = value.items()
    # The top-level attribute is level 1 (depth 0): a value inside 31 nested maps or lists
    # is at level 32, the deepest DynamoDB stores.
    if depth >= MAX_NESTING:
        raise ValueError("Nesting Levels have exceeded supported limits")
    if kind in ("M", "L"):
        children = content.items() if kind == "M" else enumerate(content)
        size = 3
        for name, child in children:
            size += 1 + (len(str(name).encode()) if kind == "M" else 0)
            size += _value_size(child, depth + 1)
        return size
    if kind == "S":
        return len(content.encode("utf-8", "surrogatepass"))
    if kind == "N":
        problem = _number_problem(content)
        if problem:
            raise ValueError(problem)
        return len(content.lstrip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(content)) if isinstance(content, str) else len(content)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: member}, depth) for member in content)
    return 1  # BOOL, NULL


def check_item(item: dict[str, Any]) -> None:
    """Raise ValueError, with DynamoDB's message, for a low-level item DynamoDB would refuse.

    Examples:
        >>> check_item({"pk": {"S": "a"}, "n": {"N": "1" * 39}})
        Traceback (most recent call last):
        ...
        ValueError: Attempting to store more than 38 significant digits in a Number
    """
    size = sum(len(name.encode()) + _value_size(value, 0) for name, value in item.items())
    if size > MAX_ITEM_BYTES:
        raise ValueError("Item size has exceeded the maximum allowed size")


def enforce_dynamodb_item_limits() -> None:
    """Refuse what DynamoDB refuses in ``PutItem``, ``UpdateItem`` and transactions; idempotent.

    Items of ``PutItem`` and of a transaction's ``Put`` are checked whole (nesting, numbers,
    size); the values of an ``UpdateItem`` or a transaction's ``Update`` for nesting and
    numbers (moto still checks the updated item's size its own way).
    """
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_limits", False):
        return

    def check(body: dict[str, Any]) -> None:
        if isinstance(body.get("Item"), dict):
            check_item(body["Item"])
        for value in (body.get("ExpressionAttributeValues") or {}).values():
            _value_size(value, 1)
        for entry in body.get("TransactItems") or []:
            for operation in entry.values():
                check(operation)

    @functools.wraps(original)
    def call_action(self: Any, *args: Any, **kwargs: Any) -> Any:
        body = getattr(self, "params", None)
        if isinstance(body, dict):
            try:
                check(body)
            except ValueError as error:
                raise MockValidationException(str(error)) from None
        return original(self, *args, **kwargs)

    call_action._limits = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def keep_stream_shards_on_rollback() -> None:
    """Leave no trace of a cancelled transaction in a table's stream; idempotent.

    moto rolls a cancelled ``TransactWriteItems`` back by replacing each table it touched
    with a deep copy taken before. The copy has a stream shard of its own, so an open
    shard iterator keeps reading the discarded one, which holds records of the writes
    that were cancelled -- a phantom change, delivered to the stream's function -- and
    never sees a later change. DynamoDB Streams shows no cancelled write. So the live
    shard is kept: cut back to its length before the transaction and given to the
    restored table.
    """
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_keeps_shards", False):
        return

    @functools.wraps(original)
    def transact_write_items(self: Any, *args: Any, **kwargs: Any) -> Any:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if getattr(table, "stream_shard", None) is not None
        }
        try:
            return original(self, *args, **kwargs)
        except Exception:
            for name, (shard, length) in shards.items():
                table = self.tables.get(name)
                if table is not None and table.stream_shard is not shard:
                    del shard.items[length:]
                    shard.table = table
                    table.stream_shard = shard
            raise

    transact_write_items._keeps_shards = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def behave_like_dynamodb() -> None:
    """Apply every fix of this module to moto in this process; idempotent.

    Call it before the first DynamoDB request (the ``aws`` fixture does); the changes
    stay for the rest of the process.

    Examples:
        >>> behave_like_dynamodb()
        >>> behave_like_dynamodb()  # a second call changes nothing
    """
    make_dynamodb_atomic()
    make_concurrent_transactions_conflict()
    enforce_dynamodb_item_limits()
    keep_stream_shards_on_rollback()
