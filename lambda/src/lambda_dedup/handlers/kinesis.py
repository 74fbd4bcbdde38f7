"""Kinesis: activity events, counted once each, with a partial batch response.

Each record's data is an activity event (:mod:`lambda_dedup.reference.domain`). It adds 1 to the
counter of its ``(user_id, type)`` in the counters table (``COUNTERS_TABLE_NAME``), in
effect mode: one ``TransactWriteItems`` holds the deduplication marker and the counter's
``ADD``, so a redelivered record never counts twice.

* **Key:** the event's ``event_id`` when it has one (a producer's retry writes a new
  Kinesis record with a new ``eventID``), else the record's ``eventID``.
* **Order:** records that share a partition key or a counter (``user_id`` + ``type``),
  directly or through other records of the batch, run in sequence order and stop at the
  first failure; the rest of that group is reported failed, unprocessed, so per-key order
  holds. Other groups run concurrently. Grouping by counter too keeps two transactions
  on one counter item from running at once, which DynamoDB would cancel
  (``TransactionConflict``) however the producer chose its partition keys.
* **Rejected:** a record that cannot be parsed, validated or keyed, whatever the error
  (no ``data``, no ``eventID`` to fall back on, data nested too deep...): a reported
  failure with a ``rejected record`` log line; the other groups of its batch are applied.
* **Failures:** ``batchItemFailures`` lists the failed sequence numbers; Lambda resumes
  from the lowest one (bisecting if configured), and after the mapping's retry limit or
  record age sends the range to the on-failure destination.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config, effects
from lambda_dedup.batch import partition_key, process_batch
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.keys import fingerprint
from lambda_dedup.reference.domain import parse_activity, parse_json
from lambda_dedup.reference.tables import COUNTERS_TABLE_ENV
from lambda_dedup.runtime import deduplicator, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

NAMESPACE = "kinesis-activity"
COUNTER = "count"


def _counter_of(record: dict[str, Any]) -> str | None:
    """The counter item a record adds to, or ``None`` when it cannot be read (the record is
    then rejected when applied; computing its group must not fail the batch)."""
    try:
        data = base64.b64decode((record.get("kinesis") or {}).get("data", ""), validate=True)
        activity = parse_activity(parse_json(data, "the record's data"))
        return json.dumps([activity["user_id"], activity["type"]])
    except Exception:  # any unreadable record simply has no counter
        return None


def ordering_groups(records: list[dict[str, Any]]) -> dict[str, str]:
    """``eventID`` -> group, where records sharing a partition key or a counter, directly
    or transitively, share a group (union-find over both keys)."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(node: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: tuple[str, str], b: tuple[str, str]) -> None:
        parent[find(a)] = find(b)

    ids = []
    for record in records:
        event_id = record.get("eventID") if isinstance(record, dict) else None
        if not isinstance(event_id, str):
            continue
        ids.append(event_id)
        partition = partition_key(record)
        if partition is not None:
            union(("record", event_id), ("partition", partition))
        counter = _counter_of(record)
        if counter is not None:
            union(("record", event_id), ("counter", counter))
    return {event_id: json.dumps(find(("record", event_id))) for event_id in ids}


def parse_record(record: KinesisStreamRecord) -> tuple[str, dict[str, Any]]:
    """The idempotency key and the validated activity event of one record."""
    try:
        data = record.kinesis.data_as_bytes()
    except (binascii.Error, TypeError, ValueError) as error:
        raise InvalidEventError(f"the record's data is not base64: {error}", "data") from error
    activity = parse_activity(parse_json(data, "the record's data"))
    return activity.get("event_id") or record.event_id, activity


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    dedup = deduplicator(NAMESPACE)
    table = config.required(COUNTERS_TABLE_ENV)

    def parse(record: KinesisStreamRecord) -> tuple[str, list[effects.TransactItem], Any]:
        key, activity = parse_record(record)
        dedup.record_id(key)  # an unusable key is a rejection
        fingerprint(activity)
        counter = {"user_id": activity["user_id"], "type": activity["type"]}
        return key, [effects.increment(table, counter, COUNTER)], activity

    def apply(parsed: tuple[str, list[effects.TransactItem], Any]) -> Outcome[Any]:
        key, writes, activity = parsed
        return dedup.transact_once(key, writes, payload=activity)

    records = event.get("Records")
    groups = ordering_groups(records if isinstance(records, list) else [])

    def group_of(record: dict[str, Any]) -> str | None:
        event_id = record.get("eventID")
        return (groups.get(event_id) if isinstance(event_id, str) else None) or partition_key(
            record
        )

    return process_batch(
        event, context, apply, parse=parse, source="kinesis", ordering_key=group_of
    )
