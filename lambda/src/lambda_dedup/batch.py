"""Partial batch responses for SQS, Kinesis and DynamoDB Streams, with ordering keys.

:func:`process_batch` (and its decorator form :func:`batch_handler`) is the entry point
for a handler of one's own. It runs a record function over the batch and returns the
partial batch response (``batchItemFailures``), with one log line and metric per record,
as the reference handlers do:

* records are grouped by an **ordering key** -- a FIFO message group, a stream's partition
  key or item key, a profile's ``user_id``. Records of one key run one after another, in
  batch order; different keys run concurrently on a thread pool, so that a batch costs
  about one DynamoDB round trip of latency rather than one per record;
* with ``stop_on_failure`` the first failure of a key fails the rest of that key,
  unprocessed (:class:`~lambda_dedup.exceptions.PrecedingRecordFailedError`): they are
  redelivered after the record that failed, so per-key order holds across retries. That is
  what FIFO queues and ordered streams need. Standard queues keep going instead: their
  records are independent, and skipping them would push good messages towards the DLQ;
* a batch whose every record failed lists them all, which Lambda treats as a failed batch.

Every record is either reported in ``batchItemFailures`` or has completed its handler:
nothing is acknowledged that did not run to the end.

:class:`KeyedBatchProcessor` is the same engine as Powertools' ``BatchProcessor``, for
code built on ``process_partial_response``. It is imported on first use: the entry points
above do not load Powertools' batch utility (nor the ``asyncio`` it imports), which
keeps a function's cold start short.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, overload

from lambda_dedup import config
from lambda_dedup.exceptions import (
    REJECTED,
    ConfigurationError,
    InvalidEventError,
    OrderingKeyError,
    PrecedingRecordFailedError,
    parse_or_reject,
)
from lambda_dedup.keys import canonical_json

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from lambda_dedup.processor import KeyedBatchProcessor

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "METRICS",
    "SOURCES",
    "BatchHandler",
    "KeyedBatchProcessor",
    "OrderingKey",
    "RecordRun",
    "batch_handler",
    "default_ordering_key",
    "is_fifo",
    "item_identifier",
    "item_key",
    "message_group",
    "partition_key",
    "process_batch",
    "run_in_order",
]

DEFAULT_MAX_WORKERS = 10
"""Threads per batch; botocore's default connection pool holds 10 connections as well."""

OrderingKey = Callable[[dict[str, Any]], str | None]
"""Returns a raw record's ordering key, or ``None`` when the record has none of its own."""

SOURCES = ("sqs", "kinesis", "dynamodb-stream")
"""The batch sources, by the name their log lines carry."""

_IDENTIFIERS = {
    "sqs": (None, "messageId"),
    "kinesis": ("kinesis", "sequenceNumber"),
    "dynamodb-stream": ("dynamodb", "SequenceNumber"),
}
_EVENT_TYPES = {"SQS": "sqs", "KinesisDataStreams": "kinesis", "DynamoDBStreams": "dynamodb-stream"}
"""Powertools' ``EventType`` values, by source."""
_EVENT_SOURCES = {"aws:sqs": "sqs", "aws:kinesis": "kinesis", "aws:dynamodb": "dynamodb-stream"}
"""The records' ``eventSource``, by source."""


def _source_name(event_type: Any) -> str:
    """``"sqs"``... from a source name or Powertools' ``EventType``."""
    name = _EVENT_TYPES.get(getattr(event_type, "value", event_type), event_type)
    if name not in _IDENTIFIERS:
        raise ConfigurationError(f"source must be one of {list(SOURCES)}, not {event_type!r}")
    return str(name)


def _found_identifier(record: Any, source: str) -> Any:
    """The record's identifier as it is (``None`` if absent)."""
    section, name = _IDENTIFIERS[source]
    found = record.get(section) if section and isinstance(record, dict) else record
    return found.get(name) if isinstance(found, dict) else None


def item_identifier(record: dict[str, Any], event_type: Any) -> str:
    """What ``batchItemFailures`` reports for a raw record: its message id or sequence
    number (``"None"`` when it has none). ``event_type`` is a source name or Powertools'
    ``EventType``.

    Examples:
        >>> item_identifier({"messageId": "m-1"}, "sqs")
        'm-1'
        >>> item_identifier({"kinesis": {}}, "kinesis")
        'None'
    """
    # Never raises, however malformed the record: it names the record in log lines.
    return str(_found_identifier(record, _source_name(event_type)))


ExceptionInfo = tuple[type[BaseException], BaseException, TracebackType | None]


@dataclass
class RecordRun:
    """What happened to one record: its data class, then a result or the exception."""

    data: Any
    result: Any = None
    exception: ExceptionInfo | None = None


def run_in_order(
    records: Sequence[Any],
    ordering_key: OrderingKey,
    run: Callable[[Any], RecordRun],
    to_data: Callable[[Any], Any],
    identify: Callable[[Any], str],
    *,
    stop_on_failure: bool,
    max_workers: int,
) -> list[RecordRun]:
    """The engine of :func:`process_batch` and :class:`KeyedBatchProcessor`: ``run`` on
    every record, in order per ordering key and concurrently across keys; the runs in
    record order.

    A record whose ordering key raises (or cannot be hashed) is not run: its run holds an
    :class:`OrderingKeyError`. With ``stop_on_failure``, the records after a failure of
    the same key are not run either: theirs hold a :class:`PrecedingRecordFailedError`
    naming the first failure (``identify``). ``to_data`` makes the data class of a record
    that is not run.
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    groups: dict[object, list[int]] = {}
    runs: list[RecordRun | None] = [None] * len(records)
    for index, record in enumerate(records):
        try:
            key = ordering_key(record)
            hash(key)  # a key that cannot group the record fails here, not in setdefault
        except Exception as cause:  # one record's key must never fail its batch
            error = OrderingKeyError(cause)
            runs[index] = RecordRun(to_data(record), exception=(type(error), error, None))
            continue
        groups.setdefault(("record", index) if key is None else key, []).append(index)

    def run_group(item: tuple[object, list[int]]) -> None:
        key, indices = item
        failed: str | None = None
        for index in indices:
            record = records[index]
            if failed is not None:
                skipped = PrecedingRecordFailedError(str(key), failed)
                runs[index] = RecordRun(to_data(record), exception=(type(skipped), skipped, None))
                continue
            runs[index] = outcome = run(record)
            if outcome.exception is not None and stop_on_failure:
                failed = identify(record)

    workers = min(max_workers, len(groups))
    if workers <= 1:
        for item in groups.items():
            run_group(item)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="batch") as pool:
            # list() re-raises anything that escaped a group (a bug, not a record failure).
            list(pool.map(run_group, groups.items()))
    done = [run for run in runs if run is not None]
    assert len(done) == len(runs)
    return done


def __getattr__(name: str) -> Any:
    if name == "KeyedBatchProcessor":  # imports Powertools' batch utility: on first use
        from lambda_dedup.processor import KeyedBatchProcessor

        return KeyedBatchProcessor
    raise AttributeError(f"module 'lambda_dedup.batch' has no attribute {name!r}")


# -- the entry point for a team's own batch handlers -------------------------------------

METRICS = (
    "RecordsApplied",
    "DuplicatesSuppressed",
    "RecordsRejected",
    "RecordsFailed",
    "RecordsSkipped",
)
"""The metrics :func:`process_batch` adds for every batch (a count each, zeros included)."""


def is_fifo(event: Any) -> bool:
    """Whether an SQS batch comes from a FIFO queue (its records carry a message group).

    Examples:
        >>> is_fifo({"Records": [{"attributes": {"MessageGroupId": "g1"}}]})
        True
        >>> is_fifo({"Records": [{"eventSourceARN": "arn:aws:sqs:eu-west-1:1:orders"}]})
        False
    """
    records = event.get("Records") if isinstance(event, dict) else None
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):
            continue  # reported on its own, never a reason to fail the batch
        attributes = record.get("attributes")
        if isinstance(attributes, dict) and attributes.get("MessageGroupId"):
            return True
        if str(record.get("eventSourceARN", "")).endswith(".fifo"):
            return True
    return False


def message_group(record: dict[str, Any]) -> str | None:
    """A FIFO message's group; ``None`` for a standard queue's message. It raises for
    ``attributes`` that are not an object: such a record is a rejection, since where it
    belongs in its group's order cannot be known.

    Examples:
        >>> message_group({"attributes": {"MessageGroupId": "g1"}})
        'g1'
    """
    group = (record.get("attributes") or {}).get("MessageGroupId")
    return group if isinstance(group, str) and group else None


def partition_key(record: dict[str, Any]) -> str | None:
    """A Kinesis record's partition key.

    Examples:
        >>> partition_key({"kinesis": {"partitionKey": "user-1"}})
        'user-1'
    """
    kinesis = record.get("kinesis") if isinstance(record, dict) else None
    key = kinesis.get("partitionKey") if isinstance(kinesis, dict) else None
    return key if isinstance(key, str) else None


def item_key(record: dict[str, Any]) -> str | None:
    """A DynamoDB stream record's item key (``dynamodb.Keys``), as canonical JSON. It
    raises for a ``dynamodb`` that is not an object (a rejection, as for
    :func:`message_group`).

    Examples:
        >>> item_key({"dynamodb": {"Keys": {"id": {"S": "u-1"}}}})
        '{"id":{"S":"u-1"}}'
    """
    keys = (record.get("dynamodb") or {}).get("Keys")
    return canonical_json(keys) if isinstance(keys, dict) and keys else None


_DEFAULT_KEYS: dict[str, OrderingKey] = {
    "sqs": message_group,
    "kinesis": partition_key,
    "dynamodb-stream": item_key,
}


def default_ordering_key(source: str) -> OrderingKey:
    """The ordering key :func:`process_batch` uses for ``source`` when given none.

    * ``sqs``: :func:`message_group`, the message group of a FIFO message; ``None`` (a
      group of its own) for a standard queue's message, whose records are independent;
    * ``kinesis``: :func:`partition_key`;
    * ``dynamodb-stream``: :func:`item_key`, so that the changes of one item apply in
      order.

    Examples:
        >>> key = default_ordering_key("kinesis")
        >>> key({"kinesis": {"partitionKey": "user-1"}})
        'user-1'
        >>> default_ordering_key("sqs")({"attributes": {}}) is None
        True
    """
    if source not in SOURCES:
        raise ConfigurationError(f"source must be one of {sorted(SOURCES)}, not {source!r}")
    return _DEFAULT_KEYS[source]


def _source_of(event: Any) -> str:
    records = event.get("Records") if isinstance(event, dict) else None
    for record in records if isinstance(records, list) else []:
        name = record.get("eventSource") if isinstance(record, dict) else None
        found = _EVENT_SOURCES.get(name) if isinstance(name, str) else None
        if found is not None:
            return found
    raise ConfigurationError(
        "the batch's source cannot be told from its records (no eventSource aws:sqs, "
        "aws:kinesis or aws:dynamodb): pass source='sqs', 'kinesis' or 'dynamodb-stream'"
    )


def process_batch(
    event: dict[str, Any],
    context: LambdaContext | None,
    record_handler: Callable[[Any], Any],
    *,
    parse: Callable[[Any], Any] | None = None,
    source: str | None = None,
    ordering_key: OrderingKey | None = None,
    stop_on_failure: bool | None = None,
    max_workers: int | None = None,
) -> PartialItemFailureResponse:
    """Run ``record_handler`` on every record of an SQS, Kinesis or DynamoDB Streams
    batch; return the partial batch response.

    Each record reaches ``record_handler`` as its Powertools data class (``SQSRecord``,
    ``KinesisStreamRecord``, ``DynamoDBRecord``), or, with ``parse``, as what ``parse``
    returned for it. ``record_handler`` returns an
    :class:`~lambda_dedup.deduplicator.Outcome` (from ``transact_once``, ``put_once``,
    ``run_once``), which tells an applied record from a duplicate, or any other value
    (counted as applied). Then:

    * whatever ``parse`` raises, and an :data:`~lambda_dedup.exceptions.REJECTED` error
      from ``record_handler`` (:class:`~lambda_dedup.exceptions.InvalidEventError`, a
      reused key), makes the record a **rejection**: reported in ``batchItemFailures``
      with a ``rejected record`` log line naming the field, so that it ends in the DLQ or
      the on-failure destination. ``parse`` must not call any service;
    * any other exception (a DynamoDB error...) makes it a **failure**: reported, with a
      ``record failed`` line and its traceback, and redelivered;
    * a success gets a ``record applied`` or ``duplicate record`` line; with
      ``stop_on_failure``, the records after a failure of the same ordering key are
      ``record skipped``. A ``batch processed`` line and the :data:`METRICS` close the
      batch.

    Args:
        event: the batch, as Lambda delivers it.
        context: the Lambda context (``None`` in a test that has none).
        record_handler: applies one record.
        parse: validates one record and returns what ``record_handler`` needs.
        source: ``"sqs"``, ``"kinesis"`` or ``"dynamodb-stream"``; by default read from the
            records' ``eventSource``.
        ordering_key: a raw record's ordering key; records of one key run in batch
            order, keys run concurrently. Default: :func:`default_ordering_key`.
        stop_on_failure: fail the rest of a key after its first failure. Default: on for
            FIFO queues and streams, whose order matters, off for standard queues.
        max_workers: threads across keys, 1-10. Default: ``BATCH_MAX_WORKERS``, else 10.

    Examples:
        An SQS consumer whose effect is a DynamoDB write, applied once per message::

            from lambda_dedup import effects
            from lambda_dedup.batch import process_batch
            from lambda_dedup.runtime import deduplicator, metrics

            def record_handler(record):
                order = json.loads(record.body)
                return deduplicator("orders").transact_once(
                    order["order_id"], [effects.put("orders", order)], payload=order
                )

            @metrics.log_metrics
            def handler(event, context):
                return process_batch(event, context, record_handler)
    """
    from aws_lambda_powertools.metrics import MetricUnit

    from lambda_dedup.runtime import logger, metrics  # its Logger is built on first use

    source = _source_of(event) if source is None else _source_name(source)
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise InvalidEventError("the batch has no 'Records' list", "Records")
    if stop_on_failure is None:
        stop_on_failure = source != "sqs" or is_fifo(event)
    workers = config.batch_workers(DEFAULT_MAX_WORKERS) if max_workers is None else max_workers
    data_class = _data_class(source)

    def identify(raw: Any) -> dict[str, Any]:
        """The record's id in the partial batch response and, for stream records, its
        ``eventID`` (a Kinesis sequence number is unique only within its shard)."""
        found = {"source": source, "record_id": item_identifier(raw, source)}
        if isinstance(raw, dict) and isinstance(raw.get("eventID"), str):
            found["event_id"] = raw["eventID"]
        return found

    def run(raw: Any) -> RecordRun:
        data = data_class(raw)
        try:
            if parse is None:
                return RecordRun(data, result=record_handler(data))
            parsed = parse_or_reject(lambda: parse(data), "the record")
            return RecordRun(data, result=record_handler(parsed))
        except REJECTED as error:
            field = getattr(error, "field", None)
            logger.error(
                "rejected record", extra={**identify(raw), "reason": str(error), "field": field}
            )
            return RecordRun(data, exception=(type(error), error, error.__traceback__))
        except Exception as error:
            logger.warning(
                "record failed",
                extra={**identify(raw), "reason": f"{type(error).__name__}: {error}"},
                exc_info=True,
            )
            return RecordRun(data, exception=(type(error), error, error.__traceback__))

    runs = run_in_order(
        records,
        default_ordering_key(source) if ordering_key is None else ordering_key,
        run,
        data_class,
        lambda raw: item_identifier(raw, source),
        stop_on_failure=stop_on_failure,
        max_workers=workers,
    )

    counts: Counter[str] = Counter()
    for raw, outcome in zip(records, runs, strict=True):
        if outcome.exception is None:
            duplicate = getattr(outcome.result, "duplicate", False) is True
            counts["DuplicatesSuppressed" if duplicate else "RecordsApplied"] += 1
            extra = identify(raw)
            if isinstance(getattr(outcome.result, "record_id", None), str):
                extra["dedup_record_id"] = outcome.result.record_id
            logger.info("duplicate record" if duplicate else "record applied", extra=extra)
    failures = []
    for raw, outcome in zip(records, runs, strict=True):
        if outcome.exception is None:
            continue
        error = outcome.exception[1]
        if isinstance(error, PrecedingRecordFailedError):
            counts["RecordsSkipped"] += 1
            logger.warning(
                "record skipped",
                extra={**identify(raw), "reason": str(error), "ordering_key": error.key},
            )
        elif isinstance(error, OrderingKeyError):  # never run, so not logged yet
            counts["RecordsRejected"] += 1
            logger.error(
                "rejected record",
                extra={**identify(raw), "reason": str(error), "field": error.field},
            )
        else:
            counts["RecordsRejected" if isinstance(error, REJECTED) else "RecordsFailed"] += 1
        # As the record has it: a missing or empty one makes Lambda fail the whole batch,
        # the only way to retry a record that it cannot tell apart.
        identifier = _found_identifier(raw, source)
        failures.append({"itemIdentifier": identifier})
    for name in METRICS:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[name])
    logger.info(
        "batch processed",
        extra={"source": source, "records": len(records), **dict(counts)},
    )
    response: PartialItemFailureResponse = {"batchItemFailures": failures}  # type: ignore[typeddict-item]
    return response


def _data_class(source: str) -> Callable[[Any], Any]:
    """Powertools' data class of a record of ``source``, imported from its own module."""
    if source == "sqs":
        from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

        return SQSRecord
    if source == "kinesis":
        from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
            KinesisStreamRecord,
        )

        return KinesisStreamRecord
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

    return DynamoDBRecord


class BatchHandler(Protocol):
    """A Lambda handler made by :func:`batch_handler`; ``record_handler`` is the record
    function it wraps, for unit tests of one record."""

    record_handler: Callable[[Any], Any]

    def __call__(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse: ...


@overload
def batch_handler(record_handler: Callable[[Any], Any], /) -> BatchHandler: ...


@overload
def batch_handler(
    *,
    parse: Callable[[Any], Any] | None = None,
    source: str | None = None,
    ordering_key: OrderingKey | None = None,
    stop_on_failure: bool | None = None,
    max_workers: int | None = None,
) -> Callable[[Callable[[Any], Any]], BatchHandler]: ...


def batch_handler(
    record_handler: Callable[[Any], Any] | None = None,
    /,
    *,
    parse: Callable[[Any], Any] | None = None,
    source: str | None = None,
    ordering_key: OrderingKey | None = None,
    stop_on_failure: bool | None = None,
    max_workers: int | None = None,
) -> BatchHandler | Callable[[Callable[[Any], Any]], BatchHandler]:
    """Make a record function the Lambda handler of a batch source: the decorator form of
    :func:`process_batch`, with the same options.

    The handler it makes adds the Lambda context to the toolkit's log lines and flushes
    its metrics after each batch. The record function stays reachable as
    ``handler.record_handler``.

    Examples:
        A Kinesis consumer, in order per partition key, stopping a key at its first
        failure (the default for streams)::

            from lambda_dedup import effects
            from lambda_dedup.batch import batch_handler
            from lambda_dedup.runtime import deduplicator

            @batch_handler
            def handler(record):
                click = record.kinesis.data_as_json()
                return deduplicator("clicks").transact_once(
                    click["id"],
                    [effects.increment("counters", {"page": click["page"]}, "clicks")],
                    payload=click,
                )

        With options, for example one message group per customer in a standard queue::

            @batch_handler(ordering_key=lambda raw: json.loads(raw["body"])["customer"])
            def handler(record): ...
    """

    def decorate(function: Callable[[Any], Any]) -> BatchHandler:
        from lambda_dedup.runtime import logger, metrics

        @metrics.log_metrics
        @logger.inject_lambda_context
        @functools.wraps(function)
        def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
            return process_batch(
                event,
                context,
                function,
                parse=parse,
                source=source,
                ordering_key=ordering_key,
                stop_on_failure=stop_on_failure,
                max_workers=max_workers,
            )

        handler.record_handler = function  # type: ignore[attr-defined]
        return handler  # type: ignore[return-value]

    return decorate if record_handler is None else decorate(record_handler)
