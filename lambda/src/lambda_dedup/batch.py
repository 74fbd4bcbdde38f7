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
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo

from lambda_dedup.exceptions import OrderingKeyError, PrecedingRecordFailedError

__all__ = ["DEFAULT_MAX_WORKERS", "KeyedBatchProcessor", "OrderingKey", "item_identifier"]

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
