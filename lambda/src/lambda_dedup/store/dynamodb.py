"""The DynamoDB implementation of the store, plus effect mode's transactions."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lambda_dedup.effects import deserialize, serialize
from lambda_dedup.exceptions import EffectConditionFailedError
from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.storable import check_item
from lambda_dedup.store.base import DedupStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        TransactWriteItemTypeDef,
    )

# The table schema: partition key `id` (S) and the TTL attribute `expires_at` (N, epoch s).
KEY = "id"
TTL_ATTRIBUTE = "expires_at"
STATUS = "status"
FINGERPRINT = "fingerprint"
TOKEN = "token"
LEASE = "lease_expires_at"
RESULT = "result"
RESERVED_ATTRIBUTES = frozenset({KEY, TTL_ATTRIBUTE, STATUS, FINGERPRINT, TOKEN, LEASE, RESULT})

MAX_TRANSACTION_ITEMS = 100
"""DynamoDB's limit on TransactWriteItems; the marker takes one slot."""

MAX_ATTEMPTS = 4
"""Attempts per request (the first one included) before an error propagates."""

CONFLICT_ATTEMPTS = 5
"""Attempts of a transaction that DynamoDB cancels for ``TransactionConflict`` only."""

CONFLICT_BACKOFF_SECONDS = (0.02, 0.5)
"""Base and cap of the full-jitter backoff between those attempts."""

DEFAULT_BOTO_CONFIG = Config(
    # Throttling and transient errors are retried with backoff by botocore; whatever is
    # still failing after that propagates, so that the trigger redelivers the event.
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=2,
    read_timeout=5,
)

# Conditions, written once. `#lease < :now_ms` can only hold for IN_PROGRESS records,
# which are the only ones carrying a lease.
_ABSENT = "attribute_not_exists(#id) OR #exp < :now_s"
_TAKEOVER = "#status = :in_progress AND #lease < :now_ms"
_SAME_PAYLOAD = "(attribute_not_exists(#fp) OR #fp = :fp)"


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def record_to_item(record: DedupRecord) -> dict[str, AttributeValueTypeDef]:
    """Serialise a record to a DynamoDB item (low-level attribute values)."""
    item: dict[str, AttributeValueTypeDef] = {
        KEY: _s(record.record_id),
        STATUS: _s(record.status.value),
        TTL_ATTRIBUTE: _n(record.expires_at),
    }
    optional: dict[str, AttributeValueTypeDef | None] = {
        FINGERPRINT: None if record.fingerprint is None else _s(record.fingerprint),
        TOKEN: None if record.token is None else _s(record.token),
        LEASE: None if record.lease_expires_at_ms is None else _n(record.lease_expires_at_ms),
        RESULT: None if record.result is None else _s(record.result),
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def item_to_record(item: Mapping[str, Any]) -> DedupRecord:
    """Parse a DynamoDB item (low-level attribute values) into a record."""

    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value["S"])

    def number(name: str) -> int | None:
        value = item.get(name)
        return None if value is None else int(value["N"])

    return DedupRecord(
        record_id=str(item[KEY]["S"]),
        status=Status(text(STATUS) or Status.COMPLETED),
        expires_at=number(TTL_ATTRIBUTE) or 0,
        fingerprint=text(FINGERPRINT),
        token=text(TOKEN),
        lease_expires_at_ms=number(LEASE),
        result=text(RESULT),
    )


def _names(*aliases: str) -> dict[str, str]:
    table = {
        "#id": KEY,
        "#exp": TTL_ATTRIBUTE,
        "#status": STATUS,
        "#fp": FINGERPRINT,
        "#token": TOKEN,
        "#lease": LEASE,
        "#result": RESULT,
    }
    return {alias: table[alias] for alias in aliases}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _old_item(error: ClientError) -> Mapping[str, Any] | None:
    """The item that failed a condition, from ``ReturnValuesOnConditionCheckFailure``."""
    item: Mapping[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
    return item or None


def _in_the_way(
    item: Mapping[str, Any] | None, token: str | None, error: ClientError
) -> DedupRecord | None:
    """The record whose presence failed a write's condition, or ``None`` if it is ours.

    A record carrying our own token is our own write, retried by botocore after its
    response was lost: that counts as written. DynamoDB always returns the old item of an
    existing record; if it is missing anyway, the state is unknown and ``error``
    propagates so that the event is retried.
    """
    if not item:
        raise error
    existing = item_to_record(item)
    return None if existing.token == token else existing


class DynamoDBStore(DedupStore):
    """Deduplication records in a DynamoDB table with partition key ``id`` and TTL.

    Every operation is one conditional write that returns the old item when its condition
    fails (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so nothing is ever read first.
    The IAM actions it needs on the table are ``PutItem``, ``UpdateItem`` and ``DeleteItem``.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        boto_config: Config | None = None,
        conflict_attempts: int = CONFLICT_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if conflict_attempts < 1:
            raise ValueError("conflict_attempts must be at least 1")
        self.table_name = table_name
        self.conflict_attempts = conflict_attempts
        self._sleep = sleep
        self.client: DynamoDBClient = client or boto3.client(
            "dynamodb", config=boto_config or DEFAULT_BOTO_CONFIG
        )

    # -- claim mode ---------------------------------------------------------------------

    def try_claim(self, record: DedupRecord, *, now_ms: int) -> DedupRecord | None:
        condition = f"{_ABSENT} OR ({_TAKEOVER}"
        names = _names("#id", "#exp", "#status", "#lease")
        values: dict[str, AttributeValueTypeDef] = {
            ":now_s": _n(now_ms // 1000),
            ":now_ms": _n(now_ms),
            ":in_progress": _s(Status.IN_PROGRESS.value),
        }
        if record.fingerprint is not None:
            condition += f" AND {_SAME_PAYLOAD}"
            names.update(_names("#fp"))
            values[":fp"] = _s(record.fingerprint)
        condition += ")"
        return self._put_unless_taken(
            {
                "TableName": self.table_name,
                "Item": record_to_item(record),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
            record.token,
        )

    def complete(self, record_id: str, *, token: str, result: str | None, expires_at: int) -> bool:
        update = "SET #status = :completed, #exp = :exp"
        names = _names("#status", "#exp", "#token", "#lease")
        values: dict[str, AttributeValueTypeDef] = {
            ":completed": _s(Status.COMPLETED.value),
            ":in_progress": _s(Status.IN_PROGRESS.value),
            ":exp": _n(expires_at),
            ":token": _s(token),
        }
        if result is not None:
            update += ", #result = :result"
            names.update(_names("#result"))
            values[":result"] = _s(result)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={KEY: _s(record_id)},
                UpdateExpression=f"{update} REMOVE #lease",
                # Fenced: a holder whose lease expired and was taken over cannot overwrite
                # the new holder's record. (Powertools updates unconditionally here.)
                ConditionExpression="#token = :token AND #status = :in_progress",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            item = _old_item(error)
            if item is None:
                return False
            current = item_to_record(item)
            # Already completed by this very holder (a retried request whose first
            # response was lost).
            return current.token == token and current.status is Status.COMPLETED
        return True

    def release(self, record_id: str, *, token: str) -> bool:
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={KEY: _s(record_id)},
                ConditionExpression="#token = :token AND #status = :in_progress",
                ExpressionAttributeNames=_names("#token", "#status"),
                ExpressionAttributeValues={
                    ":token": _s(token),
                    ":in_progress": _s(Status.IN_PROGRESS.value),
                },
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # -- effect mode --------------------------------------------------------------------

    def put_if_absent(
        self,
        record: DedupRecord,
        *,
        now_ms: int,
        attributes: Mapping[str, Any] | None = None,
    ) -> DedupRecord | None:
        return self._put_unless_taken(self._marker_put(record, now_ms, attributes), record.token)

    def transact_if_absent(
        self,
        record: DedupRecord,
        effects: Sequence[TransactWriteItemTypeDef],
        *,
        now_ms: int,
    ) -> DedupRecord | None:
        """Write the COMPLETED marker and apply ``effects`` in one ``TransactWriteItems``.

        The marker's condition (key absent or expired) gates the whole transaction, so the
        effects are applied exactly once per key. Returns ``None`` when applied, otherwise
        the existing marker. A failed condition on an effect raises
        :class:`EffectConditionFailedError`.

        DynamoDB cancels a transaction that meets another one on the same item
        (``TransactionConflict``); botocore does not retry that. Such a cancellation is
        retried here, up to ``conflict_attempts`` attempts in all with full-jitter backoff,
        and then propagates as the original ``ClientError``, as does any other reason.
        """
        if not effects:
            raise ValueError("a transaction needs at least one effect besides the marker")
        if len(effects) >= MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS - 1} effects fit in one transaction")
        marker: TransactWriteItemTypeDef = {
            "Put": self._marker_put(record, now_ms, None)  # type: ignore[typeddict-item]
        }
        base, cap = CONFLICT_BACKOFF_SECONDS
        for attempt in range(1, self.conflict_attempts + 1):
            try:
                self.client.transact_write_items(TransactItems=[marker, *effects])
            except ClientError as error:
                if _error_code(error) != "TransactionCanceledException":
                    raise
                reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
                codes = [reason.get("Code") for reason in reasons]
                if codes and codes[0] == "ConditionalCheckFailed":
                    return _in_the_way(reasons[0].get("Item"), record.token, error)
                for index, code in enumerate(codes[1:]):
                    if code == "ConditionalCheckFailed":
                        message = str(reasons[index + 1].get("Message", ""))
                        raise EffectConditionFailedError(
                            record.record_id, index, message
                        ) from error
                conflict_only = "TransactionConflict" in codes and all(
                    code in ("TransactionConflict", "None", None) for code in codes
                )
                if not conflict_only or attempt == self.conflict_attempts:
                    raise
                self._sleep(random.uniform(0, min(cap, base * 2**attempt)))
            else:
                return None
        raise AssertionError("unreachable")  # pragma: no cover

    def _put_unless_taken(
        self, request: Mapping[str, Any], token: str | None
    ) -> DedupRecord | None:
        """One conditional ``PutItem``: ``None`` if written, else the record in the way."""
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise
            return _in_the_way(_old_item(error), token, error)
        return None

    def _marker_put(
        self, record: DedupRecord, now_ms: int, attributes: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if attributes:
            clash = RESERVED_ATTRIBUTES.intersection(attributes)
            if clash:
                raise ValueError(f"attributes {sorted(clash)} are reserved for the marker")
            item.update(serialize(attributes))
        marker = record_to_item(record)
        if attributes:  # the whole item, marker included, within DynamoDB's limits
            check_item({**attributes, **deserialize(marker)}, what="the marker item")
        item.update(marker)
        return {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": _ABSENT,
            "ExpressionAttributeNames": _names("#id", "#exp"),
            "ExpressionAttributeValues": {":now_s": _n(now_ms // 1000)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
