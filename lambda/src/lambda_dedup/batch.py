"""Partial batch responses for SQS, Kinesis and DynamoDB Streams, with ordering keys.

:class:`KeyedBatchProcessor` is Powertools' ``BatchProcessor`` (same record handler, same
``batchItemFailures`` response, used through ``process_partial_response``) with one change
in how records are run:

* records are grouped by an **ordering key** -- a FIFO message group, a stream's partition
  key or item key, a profile's ``user_id``. Records of one key run one after another, in
  batch order; different keys run concurrently on a thread pool, so that a batch costs
  about one DynamoDB round trip of latency rather than one per record;
* with ``stop_on_failure`` the first failure of a key fails the rest of that key,
  unprocessed (:class:`~lambda_dedup.exceptions.PrecedingRecordFailedError`): they are
  redelivered after the record that failed, so per-key order holds across retries. That is
  what FIFO queues and ordered streams need. Standard queues keep going instead: their
  records are independent, and skipping them would push good messages towards the DLQ;
* the response never raises for a batch whose every record failed: it lists them all
  (``raise_on_entire_batch_failure=False``), which Lambda treats the same way.

Every record is either reported in ``batchItemFailures`` or has completed its handler:
nothing is acknowledged that did not run to the end.

:func:`process_batch` (and its decorator form :func:`batch_handler`) is the entry point
for a handler of one's own: it runs a record function over the batch on a
:class:`KeyedBatchProcessor` with the defaults of the event's source, and writes one log
line and metric per record, as the reference handlers do.
"""

from __future__ import annotations

import functools
import json
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, overload

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config
from lambda_dedup.exceptions import (
    REJECTED,
    ConfigurationError,
    OrderingKeyError,
    PrecedingRecordFailedError,
    parse_or_reject,
)

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "METRICS",
    "SOURCES",
    "BatchHandler",
    "KeyedBatchProcessor",
    "OrderingKey",
    "batch_handler",
    "default_ordering_key",
    "is_fifo",
    "item_identifier",
    "process_batch",
]

DEFAULT_MAX_WORKERS = 10
"""Threads per batch; botocore's default connection pool holds 10 connections as well."""

OrderingKey = Callable[[dict[str, Any]], str | None]
"""Returns a raw record's ordering key, or ``None`` when the record has none of its own."""


def item_identifier(record: dict[str, Any], event_type: EventType) -> str:
    """What ``batchItemFailures`` reports for a raw record: message id or sequence number."""
    if event_type is EventType.SQS:
        section, name = None, "messageId"
    elif event_type is EventType.KinesisDataStreams:
        section, name = "kinesis", "sequenceNumber"
    else:
        section, name = "dynamodb", "SequenceNumber"
    # Never raises, however malformed the record: it names the record in log lines.
    found = record.get(section) if section and isinstance(record, dict) else record
    return str(found.get(name) if isinstance(found, dict) else None)


@dataclass
class _Run:
    """What happened to one record: its data class, then a result or the exception."""

    data: Any
    result: Any = None
    exception: ExceptionInfo | None = None


class KeyedBatchProcessor(BatchProcessor):
    """Powertools' batch processor with per-key ordering and concurrency across keys.

    Args:
        event_type: ``EventType.SQS``, ``EventType.KinesisDataStreams`` or
            ``EventType.DynamoDBStreams``.
        ordering_key: the key of a raw record; ``None`` puts the record in a group of its
            own (for example a body that cannot even be parsed). A record for which it
            raises is reported failed, unprocessed, with an :class:`OrderingKeyError`: one
            record's key never fails its batch, and a record whose place in the order is
            unknown is never applied out of order.
        stop_on_failure: after a failure, report the rest of that key as failed without
            processing it (FIFO queues, streams).
        max_workers: threads across keys; 1 processes the whole batch in order.
    """

    def __init__(
        self,
        event_type: EventType,
        ordering_key: OrderingKey,
        *,
        stop_on_failure: bool,
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        super().__init__(event_type, raise_on_entire_batch_failure=False)
        self.ordering_key = ordering_key
        self.stop_on_failure = stop_on_failure
        self.max_workers = max_workers
        self.entries: list[tuple[Any, ...]] = []
        """What :meth:`process` returned for the last batch, in record order."""

    def process(self) -> list[tuple[Any, ...]]:
        groups: dict[object, list[int]] = {}
        runs: list[_Run | None] = [None] * len(self.records)
        for index, record in enumerate(self.records):
            try:
                key = self.ordering_key(record)
                hash(key)  # a key that cannot group the record fails here, not in setdefault
            except Exception as cause:  # one record's key must never fail its batch
                error = OrderingKeyError(cause)
                data = self._to_batch_type(record, event_type=self.event_type)
                runs[index] = _Run(data, exception=(type(error), error, cause.__traceback__))
                continue
            groups.setdefault(("record", index) if key is None else key, []).append(index)

        def run_group(item: tuple[object, list[int]]) -> None:
            key, indices = item
            failed: str | None = None
            for index in indices:
                record = self.records[index]
                if failed is not None:
                    skipped = PrecedingRecordFailedError(str(key), failed)
                    data = self._to_batch_type(record, event_type=self.event_type)
                    runs[index] = _Run(data, exception=(type(skipped), skipped, None))
                    continue
                runs[index] = outcome = self._run(record)
                if outcome.exception is not None and self.stop_on_failure:
                    failed = item_identifier(record, self.event_type)

        workers = min(self.max_workers, len(groups))
        if workers <= 1:
            for item in groups.items():
                run_group(item)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="batch") as pool:
                # list() re-raises anything that escaped a group (a bug, not a record failure).
                list(pool.map(run_group, groups.items()))

        # Report in record order, on this thread, through Powertools' own bookkeeping.
        self.entries = []
        for record, outcome in zip(self.records, runs, strict=True):
            assert outcome is not None
            if outcome.exception is None:
                self.entries.append(self.success_handler(record, outcome.result))
            else:
                self.entries.append(self.failure_handler(outcome.data, outcome.exception))
        return self.entries

    def _run(self, record: dict[str, Any]) -> _Run:
        """The record handler on one record, as ``BatchProcessor._process_record`` calls it."""
        data = self._to_batch_type(record, event_type=self.event_type)
        try:
            if self._handler_accepts_lambda_context:
                result = self.handler(record=data, lambda_context=self.lambda_context)
            else:
                result = self.handler(record=data)
        except Exception:
            return _Run(data, exception=sys.exc_info())
        return _Run(data, result=result)


# -- the entry point for a team's own batch handlers -------------------------------------

SOURCES: dict[str, EventType] = {
    "sqs": EventType.SQS,
    "kinesis": EventType.KinesisDataStreams,
    "dynamodb-stream": EventType.DynamoDBStreams,
}
"""The batch sources, by the name their log lines carry."""

_EVENT_SOURCES = {"aws:sqs": "sqs", "aws:kinesis": "kinesis", "aws:dynamodb": "dynamodb-stream"}

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


def default_ordering_key(source: str) -> OrderingKey:
    """The ordering key :func:`process_batch` uses for ``source`` when given none.

    * ``sqs``: the message group of a FIFO message; ``None`` (a group of its own) for a
      standard queue's message, whose records are independent;
    * ``kinesis``: the record's partition key;
    * ``dynamodb-stream``: the item's key (``dynamodb.Keys``), so that the changes of one item
      apply in order.

    Examples:
        >>> key = default_ordering_key("kinesis")
        >>> key({"kinesis": {"partitionKey": "user-1"}})
        'user-1'
        >>> default_ordering_key("sqs")({"attributes": {}}) is None
        True
    """
    if source not in SOURCES:
        raise ConfigurationError(f"source must be one of {sorted(SOURCES)}, not {source!r}")

    def key(record: dict[str, Any]) -> str | None:
        if source == "sqs":
            group = (record.get("attributes") or {}).get("MessageGroupId")
            return group if isinstance(group, str) and group else None
        if source == "kinesis":
            found = (record.get("kinesis") or {}).get("partitionKey")
            return found if isinstance(found, str) else None
        keys = (record.get("dynamodb") or {}).get("Keys")
        return json.dumps(keys, sort_keys=True) if isinstance(keys, dict) else None

    return key


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

            from lambda_dedup import Deduplicator, effects
            from lambda_dedup.batch import process_batch
            from lambda_dedup.runtime import metrics

            dedup = Deduplicator.from_env("orders")

            def record_handler(record):
                order = json.loads(record.body)
                return dedup.transact_once(
                    order["order_id"], [effects.put("orders", order)], payload=order
                )

            @metrics.log_metrics
            def handler(event, context):
                return process_batch(event, context, record_handler)
    """
    from lambda_dedup.runtime import logger, metrics  # its Logger is built on first use

    source = _source_of(event) if source is None else source
    if source not in SOURCES:
        raise ConfigurationError(f"source must be one of {sorted(SOURCES)}, not {source!r}")
    event_type = SOURCES[source]
    if stop_on_failure is None:
        stop_on_failure = source != "sqs" or is_fifo(event)
    processor = KeyedBatchProcessor(
        event_type,
        default_ordering_key(source) if ordering_key is None else ordering_key,
        stop_on_failure=stop_on_failure,
        max_workers=(
            config.batch_workers(DEFAULT_MAX_WORKERS) if max_workers is None else max_workers
        ),
    )

    def identify(raw: dict[str, Any]) -> dict[str, Any]:
        """The record's id in the partial batch response and, for stream records, its
        ``eventID`` (a Kinesis sequence number is unique only within its shard)."""
        found = {"source": source, "record_id": item_identifier(raw, event_type)}
        if isinstance(raw.get("eventID"), str):
            found["event_id"] = raw["eventID"]
        return found

    def describe(data: Any) -> dict[str, Any]:
        return identify(data.raw_event)

    def run(record: Any) -> Any:
        try:
            if parse is None:
                return record_handler(record)
            return record_handler(parse_or_reject(lambda: parse(record), "the record"))
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
        event=event,
        record_handler=run,
        processor=processor,
        context=context,
    )

    counts: Counter[str] = Counter()
    for entry in processor.entries:
        if entry[0] == "success":
            outcome = entry[1]
            duplicate = getattr(outcome, "duplicate", False) is True
            counts["DuplicatesSuppressed" if duplicate else "RecordsApplied"] += 1
            extra = identify(entry[2])
            if isinstance(getattr(outcome, "record_id", None), str):
                extra["dedup_record_id"] = outcome.record_id
            logger.info("duplicate record" if duplicate else "record applied", extra=extra)
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

            from lambda_dedup import Deduplicator, effects
            from lambda_dedup.batch import batch_handler

            dedup = Deduplicator.from_env("clicks")

            @batch_handler
            def handler(record):
                click = record.kinesis.data_as_json()
                return dedup.transact_once(
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
