"""Builders for the effect items of :meth:`Deduplicator.transact_once`.

They take plain Python values (floats are converted to ``Decimal``, as boto3 requires)
and return low-level ``TransactWriteItems`` entries. Every item, key and value is checked
first with :func:`lambda_dedup.storable.check_item`: what DynamoDB would refuse (a number
it cannot hold, a lone surrogate, nesting beyond 32 levels, an item over 400 KB) raises
:class:`~lambda_dedup.exceptions.UnstorableValueError`, naming the field, before anything
is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from lambda_dedup.storable import check_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef as TransactItem
else:
    TransactItem = dict  # one low-level ``TransactWriteItems`` entry

__all__ = ["TransactItem", "deserialize", "increment", "put", "serialize", "update"]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _decimals(value: Any) -> Any:
    """Floats become ``Decimal`` (boto3 refuses floats); containers are converted deeply."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialise plain Python values to low-level DynamoDB attribute values.

    Raises :class:`~lambda_dedup.exceptions.UnstorableValueError` for a value that DynamoDB
    would refuse (see :mod:`lambda_dedup.storable`).
    """
    check_item(values)
    return {name: _serializer.serialize(_decimals(value)) for name, value in values.items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`serialize`: a low-level item as plain Python values (numbers
    come back as ``Decimal``)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _expression_parts(
    condition: str | None, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    if condition:
        parts["ConditionExpression"] = condition
    if names:
        parts["ExpressionAttributeNames"] = dict(names)
    if values:
        parts["ExpressionAttributeValues"] = serialize(values)
    return parts


def put(
    table_name: str,
    item: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TransactItem:
    """A ``Put`` of ``item`` into ``table_name``, optionally conditional."""
    body = {"TableName": table_name, "Item": serialize(item)}
    body.update(_expression_parts(condition, names, values))
    return {"Put": body}  # type: ignore[typeddict-item]


def update(
    table_name: str,
    key: Mapping[str, Any],
    expression: str,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TransactItem:
    """An ``Update`` of the item at ``key`` with ``expression`` (``SET``/``ADD``/...)."""
    body = {"TableName": table_name, "Key": serialize(key), "UpdateExpression": expression}
    body.update(_expression_parts(condition, names, values))
    return {"Update": body}  # type: ignore[typeddict-item]


def increment(table_name: str, key: Mapping[str, Any], attribute: str, by: int = 1) -> TransactItem:
    """``ADD attribute :by`` on the item at ``key`` (created at ``by`` if missing)."""
    return update(
        table_name, key, "ADD #counter :by", names={"#counter": attribute}, values={":by": by}
    )
