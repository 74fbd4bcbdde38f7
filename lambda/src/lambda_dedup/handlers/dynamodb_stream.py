"""DynamoDB Streams: one audit record per change of the profiles table.

Each stream record (``INSERT``, ``MODIFY`` or ``REMOVE``) becomes one item of the audit
table (``AUDIT_TABLE_NAME``), keyed by the record's ``eventID``, with the changed item's
keys, its old and new images and the change's time. It is written in effect mode: one
``TransactWriteItems`` holds the deduplication marker and the audit ``Put``, so a
redelivered change is audited once.

* **Key:** the record's ``eventID``.
* **Rejected:** a malformed record -- whatever the error parsing, validating or keying it
  (an attribute value its type cannot hold, such as ``{"N": "abc"}``, ``{"N": 5}`` or
  ``{"BOOL": "false"}``, included: see :func:`attribute_value`)
  -- and a change too large to audit (old and new images over DynamoDB's 400 KB item
  limit together). The other records of the batch are applied.
* **Order:** the changes of one item (same ``Keys``) run in sequence order and stop at the
  first failure; the rest of that item is reported failed, unprocessed. Different items
  run concurrently.
* **Failures:** ``batchItemFailures`` lists the failed sequence numbers; after the
  mapping's retry limit or record age Lambda sends the range to the on-failure destination.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config, effects
from lambda_dedup.batch import process_batch
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.keys import fingerprint
from lambda_dedup.reference.tables import AUDIT_TABLE_ENV
from lambda_dedup.runtime import deduplicator, logger, metrics
from lambda_dedup.storable import check_item

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

NAMESPACE = "dynamodb-audit"
EVENT_NAMES = frozenset({"INSERT", "MODIFY", "REMOVE"})
CHANGE = ("event_name", "source_table", "keys", "old_image", "new_image")
"""The audit item's fields that a redelivery of the same ``eventID`` must repeat."""


def _number(text: Any, field: str) -> Decimal:
    if not isinstance(text, str):
        raise InvalidEventError(f"{field} must be a number as text", field)
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise InvalidEventError(f"{field} is not a number: {text[:40]!r}", field) from error
    if not number.is_finite():
        raise InvalidEventError(f"{field} is not a finite number: {text[:40]!r}", field)
    return number


def _binary(text: Any, field: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidEventError(f"{field} must be base64 text", field)
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as error:
        raise InvalidEventError(f"{field} is not base64", field) from error


def _members(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidEventError(f"{field} must be a non-empty list", field)
    return value


def attribute_value(value: Any, field: str) -> Any:
    """One attribute value of a stream image (``{"S": "ada"}``) as a plain Python value,
    its type kept: ``Decimal`` for N, ``bytes`` for B (decoded from the event's base64),
    sets for SS/NS/BS. A value its type cannot hold (``{"N": 5}``, ``{"S": null}``,
    ``{"BOOL": "false"}``, ``{"NULL": false}``, B that is not base64, an empty set) raises
    :class:`InvalidEventError` naming ``field``: Powertools' own deserializer would
    silently store another value.

    Examples:
        >>> attribute_value({"L": [{"N": "1.5"}, {"B": "AAEC"}, {"NULL": True}]}, "v")
        [Decimal('1.5'), b'\\x00\\x01\\x02', None]
        >>> try:
        ...     attribute_value({"M": {"on": {"BOOL": "false"}}}, "NewImage.flags")
        ... except InvalidEventError as error:
        ...     print(error.field)
        NewImage.flags.on
    """
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidEventError(f"{field} must be an attribute value with one type", field)
    ((kind, content),) = value.items()
    if kind == "S" and isinstance(content, str):
        return content
    if kind == "N":
        return _number(content, field)
    if kind == "B":
        return _binary(content, field)
    if kind == "BOOL" and isinstance(content, bool):
        return content
    if kind == "NULL" and content is True:
        return None
    if kind == "M" and isinstance(content, dict):
        return {
            str(name): attribute_value(child, f"{field}.{name}") for name, child in content.items()
        }
    if kind == "L" and isinstance(content, list):
        return [attribute_value(child, f"{field}[{i}]") for i, child in enumerate(content)]
    if kind == "SS" and all(isinstance(m, str) for m in _members(content, field)):
        return set(content)
    if kind == "NS":
        return {_number(member, field) for member in _members(content, field)}
    if kind == "BS":
        return {_binary(member, field) for member in _members(content, field)}
    raise InvalidEventError(f"{field} holds a {kind!r} value its type cannot hold", field)


def _image(record: DynamoDBRecord, name: str, field: str) -> dict[str, Any]:
    stream = record.raw_event.get("dynamodb")
    image = stream.get(name) if isinstance(stream, dict) else None
    if image is None:
        return {}
    if not isinstance(image, dict):
        raise InvalidEventError(f"{field} is not a DynamoDB item", field)
    return {str(key): attribute_value(value, f"{field}.{key}") for key, value in image.items()}


def audit_item(record: DynamoDBRecord) -> dict[str, Any]:
    """The audit table's item for one stream record; InvalidEventError if malformed."""
    raw = record.raw_event
    if not isinstance(raw.get("eventID"), str) or not raw["eventID"]:
        raise InvalidEventError("'eventID' must be a non-empty string", "eventID")
    if raw.get("eventName") not in EVENT_NAMES:
        raise InvalidEventError("'eventName' must be INSERT, MODIFY or REMOVE", "eventName")
    stream = raw.get("dynamodb")
    if not isinstance(stream, dict):
        raise InvalidEventError("'dynamodb' must be an object", "dynamodb")
    if not isinstance(stream.get("SequenceNumber"), str):
        raise InvalidEventError("'dynamodb.SequenceNumber' must be a string", "SequenceNumber")
    keys = _image(record, "Keys", "dynamodb.Keys")
    if not keys:
        raise InvalidEventError("'dynamodb.Keys' must name the changed item", "dynamodb.Keys")
    # arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>
    arn_parts = str(raw.get("eventSourceARN", "")).split("/")
    item: dict[str, Any] = {
        "id": raw["eventID"],
        "event_name": raw["eventName"],
        "source_table": arn_parts[1] if len(arn_parts) > 1 else "",
        "keys": keys,
        "sequence_number": stream["SequenceNumber"],
    }
    changed_at = stream.get("ApproximateCreationDateTime")
    if changed_at is not None:
        if not isinstance(changed_at, int | float):
            raise InvalidEventError(
                "'dynamodb.ApproximateCreationDateTime' must be a number",
                "dynamodb.ApproximateCreationDateTime",
            )
        item["changed_at"] = int(changed_at)
    for name, attribute, field in (
        ("old_image", "OldImage", "dynamodb.OldImage"),
        ("new_image", "NewImage", "dynamodb.NewImage"),
    ):
        image = _image(record, attribute, field)
        if image:
            item[name] = image
    # Measured as DynamoDB measures it, with the levels the audit item adds (the images
    # are attributes of it): what it would refuse is a rejection, before any write.
    check_item(item, what="the audit item", size_field="dynamodb.NewImage")
    return item


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    dedup = deduplicator(NAMESPACE)
    table = config.required(AUDIT_TABLE_ENV)

    def parse(record: DynamoDBRecord) -> tuple[str, list[effects.TransactItem], Any]:
        item = audit_item(record)
        dedup.record_id(item["id"])  # an unusable key is a rejection
        # What the change is; its position in the stream (sequence number) is not.
        payload = {name: item.get(name) for name in CHANGE}
        fingerprint(payload)
        return item["id"], [effects.put(table, item)], payload

    def apply(parsed: tuple[str, list[effects.TransactItem], Any]) -> Outcome[Any]:
        key, writes, payload = parsed
        return dedup.transact_once(key, writes, payload=payload)

    return process_batch(
        event,
        context,
        apply,
        parse=parse,
        source="dynamodb-stream",  # in order per item
    )
