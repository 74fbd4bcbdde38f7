"""What the batch handlers share: the record loop, its log lines and its metrics.

Each batch handler parses and applies one record; :func:`run_batch` runs it over the batch
with a :class:`~lambda_dedup.batch.KeyedBatchProcessor` and returns the partial batch
response. Every failed record gets one structured log line saying why:

* ``rejected record`` (ERROR): it cannot be parsed, validated or keyed -- whatever goes
  wrong computing its ordering key, idempotency key or identifier, or parsing it, even an
  unexpected ``KeyError`` or ``RecursionError`` -- or its idempotency key was used before
  with another payload. Retrying cannot help; it is reported so that it ends in the DLQ or
  the on-failure destination, never acknowledged, and the rest of the batch carries on;
* ``record failed`` (WARNING, with the traceback): anything else, for example a DynamoDB
  error that outlasted botocore's retries. It is reported and redelivered;
* ``record skipped`` (WARNING): an earlier record with its ordering key failed.

Every record that succeeded gets one INFO line, ``record applied`` or ``duplicate record``,
with its identifier, so that each delivery's outcome can be traced (the local runner's
accounting counts them).

Only a record that lacks the identifier Lambda needs for the partial batch response
(``messageId``, ``kinesis.sequenceNumber``, ``dynamodb.SequenceNumber``) fails the whole
batch: it cannot be reported on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config
from lambda_dedup.batch import (
    DEFAULT_MAX_WORKERS,
    KeyedBatchProcessor,
    OrderingKey,
    item_identifier,
)
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import (
    InvalidEventError,
    InvalidKeyError,
    OrderingKeyError,
    PayloadMismatchError,
    PrecedingRecordFailedError,
)
from lambda_dedup.handlers._runtime import logger, metrics

REJECTED = (InvalidEventError, InvalidKeyError, PayloadMismatchError)
"""Failures that no retry can fix."""

Parsed = TypeVar("Parsed")


def parse_or_reject(parse: Callable[[], Parsed], what: str) -> Parsed:
    """``parse()``, with any error it raises made a rejection of ``what`` ("the record",
    "the event"): parsing calls no service, so no retry can fix it."""
    try:
        return parse()
    except REJECTED:
        raise
    except Exception as error:
        raise InvalidEventError(
            f"{what} cannot be parsed: {type(error).__name__}: {error}"
        ) from error


METRICS = (
    "RecordsApplied",
    "DuplicatesSuppressed",
    "RecordsRejected",
    "RecordsFailed",
    "RecordsSkipped",
)


def run_batch(
    event: dict[str, Any],
    context: LambdaContext,
    parse: Callable[[Any], Parsed],
    apply: Callable[[Parsed], Outcome[Any]],
    *,
    source: str,
    event_type: EventType,
    ordering_key: OrderingKey,
    stop_on_failure: bool,
) -> PartialItemFailureResponse:
    """Run ``parse`` then ``apply`` on every record of ``event``; return the partial batch
    response.

    ``parse`` takes the record's Powertools data class and returns everything ``apply``
    needs (its idempotency key, validated payload, effects): any exception it raises, of
    whatever type, makes the record a rejection (:class:`InvalidEventError`). ``apply``
    takes what ``parse`` returned and returns the deduplicator's outcome; any exception it
    raises makes the record a reported failure. A record whose ordering key raises is a
    rejection too, reported without being run. Records run on
    a :class:`KeyedBatchProcessor` with ``ordering_key`` and ``stop_on_failure``, on
    ``BATCH_MAX_WORKERS`` threads (default 10).
    """
    processor = KeyedBatchProcessor(
        event_type,
        ordering_key,
        stop_on_failure=stop_on_failure,
        max_workers=config.batch_workers(DEFAULT_MAX_WORKERS),
    )

    def identify(raw: dict[str, Any]) -> dict[str, Any]:
        """The record's id in the partial batch response and, for stream records, its
        ``eventID`` (a Kinesis sequence number is unique only within its shard)."""
        found = {"source": source, "record_id": item_identifier(raw, processor.event_type)}
        if isinstance(raw.get("eventID"), str):
            found["event_id"] = raw["eventID"]
        return found

    def describe(data: Any) -> dict[str, Any]:
        return identify(data.raw_event)

    def record_handler(record: Any) -> Outcome[Any]:
        try:
            return apply(parse_or_reject(lambda: parse(record), "the record"))
        except REJECTED as error:
            field = getattr(error, "field", None)
            logger.error(
                "rejected record", extra={**describe(record), "reason": str(error), "field": field}
            )
            raise
        except Exception as error:
            logger.warning(
                "record failed",
                extra={**describe(record), "reason": f"{type(error).__name__}: {error}"},
                exc_info=True,
            )
            raise

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

    counts: Counter[str] = Counter()
    for entry in processor.entries:
        if entry[0] == "success":
            outcome = entry[1]
            counts["DuplicatesSuppressed" if outcome.duplicate else "RecordsApplied"] += 1
            logger.info(
                "duplicate record" if outcome.duplicate else "record applied",
                extra={**identify(entry[2]), "dedup_record_id": outcome.record_id},
            )
    for data, (_, error, _) in zip(processor.fail_messages, processor.exceptions, strict=True):
        if isinstance(error, PrecedingRecordFailedError):
            counts["RecordsSkipped"] += 1
            logger.warning(
                "record skipped",
                extra={**describe(data), "reason": str(error), "ordering_key": error.key},
            )
        elif isinstance(error, OrderingKeyError):  # never run, so not logged yet
            counts["RecordsRejected"] += 1
            logger.error(
                "rejected record",
                extra={**describe(data), "reason": str(error), "field": error.field},
            )
        else:
            counts["RecordsRejected" if isinstance(error, REJECTED) else "RecordsFailed"] += 1
    for name in METRICS:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[name])
    logger.info(
        "batch processed",
        extra={"source": source, "records": len(processor.records), **dict(counts)},
    )
    return response
