"""Kinesis: activity events, counted once each, with a partial batch response.

Each record's data is an activity event (:mod:`lambda_dedup.domain`). It adds 1 to the
counter of its ``(user_id, type)`` in the counters table (``COUNTERS_TABLE_NAME``), in
effect mode: one ``TransactWriteItems`` holds the deduplication marker and the counter's
``ADD``, so a redelivered record never counts twice.

* **Key:** the event's ``event_id`` when it has one (a producer's retry writes a new
  Kinesis record with a new ``eventID``), else the record's ``eventID``.
* **Order:** records of one partition key run in sequence order and stop at the first
  failure; the rest of that key is reported failed, unprocessed, so per-key order holds.
  Different partition keys run concurrently.
* **Failures:** ``batchItemFailures`` lists the failed sequence numbers; Lambda resumes
  from the lowest one (bisecting if configured), and after the mapping's retry limit or
  record age sends the range to the on-failure destination.
"""

from __future__ import annotations

import binascii
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config, effects
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.domain import parse_activity, parse_json
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.handlers._batch import run_batch
from lambda_dedup.handlers._runtime import deduplicator, logger, metrics

NAMESPACE = "kinesis-activity"
COUNTER = "count"


def ordering_key(record: dict[str, Any]) -> str | None:
    """The record's partition key."""
    key = (record.get("kinesis") or {}).get("partitionKey")
    return key if isinstance(key, str) else None


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
    table = config.required(config.COUNTERS_TABLE_ENV)

    def apply(record: KinesisStreamRecord) -> Outcome[Any]:
        key, activity = parse_record(record)
        counter = {"user_id": activity["user_id"], "type": activity["type"]}
        return dedup.transact_once(
            key, [effects.increment(table, counter, COUNTER)], payload=activity
        )

    return run_batch(
        event,
        context,
        apply,
        source="kinesis",
        event_type=EventType.KinesisDataStreams,
        ordering_key=ordering_key,
        stop_on_failure=True,
    )
