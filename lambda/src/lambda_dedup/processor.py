"""``KeyedBatchProcessor``: Powertools' ``BatchProcessor`` with ordering keys.

It is the engine of :func:`lambda_dedup.batch.process_batch` (:func:`~lambda_dedup.batch.
run_in_order`) inside Powertools' own processor, for code built on
``process_partial_response``: same record handler, same ``batchItemFailures`` response.
Import it from :mod:`lambda_dedup.batch` or :mod:`lambda_dedup`; this module imports
Powertools' batch utility, which :func:`~lambda_dedup.batch.process_batch` does not need.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from lambda_dedup.batch import (
    DEFAULT_MAX_WORKERS,
    OrderingKey,
    RecordRun,
    item_identifier,
    run_in_order,
)

__all__ = ["KeyedBatchProcessor"]


class KeyedBatchProcessor(BatchProcessor):
    """Powertools' batch processor with per-key ordering and concurrency across keys.

    Args:
        event_type: ``EventType.SQS``, ``EventType.KinesisDataStreams`` or
            ``EventType.DynamoDBStreams``.
        ordering_key: the key of a raw record; ``None`` puts the record in a group of its
            own (for example a body that cannot even be parsed). A record for which it
            raises is reported failed, unprocessed, with an
            :class:`~lambda_dedup.exceptions.OrderingKeyError`: one record's key never
            fails its batch, and a record whose place in the order is unknown is never
            applied out of order.
        stop_on_failure: after a failure, report the rest of that key as failed without
            processing it (FIFO queues, streams).
        max_workers: threads across keys; 1 processes the whole batch in order.

    Examples:
        ::

            from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
            from lambda_dedup import KeyedBatchProcessor

            processor = KeyedBatchProcessor(
                EventType.SQS, lambda raw: raw["attributes"].get("MessageGroupId"),
                stop_on_failure=True,
            )

            def handler(event, context):
                return process_partial_response(
                    event=event, record_handler=record_handler, processor=processor,
                    context=context,
                )
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
        def to_data(record: dict[str, Any]) -> Any:
            return self._to_batch_type(record, event_type=self.event_type)

        runs = run_in_order(
            self.records,
            self.ordering_key,
            self._run,
            to_data,
            lambda record: item_identifier(record, self.event_type),
            stop_on_failure=self.stop_on_failure,
            max_workers=self.max_workers,
        )
        # Report in record order, on this thread, through Powertools' own bookkeeping.
        self.entries = []
        for record, outcome in zip(self.records, runs, strict=True):
            if outcome.exception is None:
                self.entries.append(self.success_handler(record, outcome.result))
            else:
                self.entries.append(self.failure_handler(outcome.data, outcome.exception))
        return self.entries

    def _run(self, record: dict[str, Any]) -> RecordRun:
        """The record handler on one record, as ``BatchProcessor._process_record`` calls it."""
        data = self._to_batch_type(record, event_type=self.event_type)
        try:
            if self._handler_accepts_lambda_context:
                result = self.handler(record=data, lambda_context=self.lambda_context)
            else:
                result = self.handler(record=data)
        except Exception as error:
            return RecordRun(data, exception=(type(error), error, error.__traceback__))
        return RecordRun(data, result=result)
