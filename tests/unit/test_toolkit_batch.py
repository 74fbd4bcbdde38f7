"""The batch toolkit (process_batch, batch_handler) with a team's own record function.

The record function here is an "orders" consumer that is not the reference domain: each
message is an order, recorded once per ``order_id`` with ``put_once``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from support.batches import change, dynamodb_stream_batch, failed_ids, kinesis_batch, sqs_batch
from support.lambda_context import lambda_context
from support.logs import LogLines

from lambda_dedup import (
    ConfigurationError,
    Deduplicator,
    InMemoryStore,
    InvalidEventError,
    Outcome,
    batch_handler,
    process_batch,
)
from lambda_dedup.batch import default_ordering_key


def order(number: int, **fields: Any) -> dict[str, Any]:
    return {"order_id": f"o-{number}", "customer": "c-1", "total": number * 10, **fields}


class Orders:
    """A team's consumer: records each order once. Its record function raises
    InvalidEventError for an order without id; ``parse`` (below) reads the JSON."""

    def __init__(self) -> None:
        self.dedup = Deduplicator(InMemoryStore(), "orders")
        self.fail_on: set[str] = set()
        self.seen: list[str] = []

    @staticmethod
    def parse(record: SQSRecord) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(record.body)  # not JSON: a rejection
        return body

    def __call__(self, record: SQSRecord | dict[str, Any]) -> Outcome[Any]:
        body = record if isinstance(record, dict) else self.parse(record)
        if "order_id" not in body:
            raise InvalidEventError("'order_id' is required", "order_id")
        self.seen.append(body["order_id"])
        if body["order_id"] in self.fail_on:
            raise RuntimeError("the warehouse API timed out")
        return self.dedup.put_once(body["order_id"], {"total": body["total"]}, payload=body)


@pytest.fixture
def orders() -> Orders:
    return Orders()


def test_a_standard_batch_applies_each_record_once_and_reports_only_bad_ones(
    orders: Orders, log_lines: LogLines
) -> None:
    # GIVEN a standard queue's batch: two orders, a body that is not JSON, one without id
    event = sqs_batch([order(1), order(2), "not json", {"customer": "c-1"}])
    ids = [record["messageId"] for record in event["Records"]]

    # WHEN the team's function runs on it, twice (a redelivery)
    first = process_batch(event, lambda_context(), orders, parse=orders.parse)
    second = process_batch(event, lambda_context(), orders, parse=orders.parse)

    # THEN only the two malformed messages are reported, each as a rejection naming why
    assert failed_ids(first) == failed_ids(second) == ids[2:]
    # (records run concurrently: their lines come in either order)
    rejected = {line["record_id"]: line for line in log_lines.with_message("rejected record")}
    assert set(rejected) == set(ids[2:])
    assert rejected[ids[3]]["field"] == "order_id"
    assert "JSONDecodeError" in rejected[ids[2]]["reason"]
    # AND the orders were applied once, then recognised as duplicates
    assert len(log_lines.with_message("record applied")) == 2
    assert len(log_lines.with_message("duplicate record")) == 2
    summary = log_lines.with_message("batch processed")
    assert summary[1]["DuplicatesSuppressed"] == 2
    assert summary[1]["RecordsRejected"] == 2


def test_a_service_error_is_a_failure_and_a_standard_queue_goes_on(
    orders: Orders, log_lines: LogLines
) -> None:
    # GIVEN a standard batch whose first order meets a service error
    orders.fail_on.add("o-1")
    event = sqs_batch([order(1), order(2)])

    # WHEN it runs
    response = process_batch(event, lambda_context(), orders, max_workers=1)

    # THEN that message is reported failed (redelivered), and the other one still applied
    assert failed_ids(response) == [event["Records"][0]["messageId"]]
    assert orders.seen == ["o-1", "o-2"]
    assert log_lines.with_message("record failed")[0]["reason"].startswith("RuntimeError")


def test_a_fifo_group_stops_at_its_first_failure_by_default(
    orders: Orders, log_lines: LogLines
) -> None:
    # GIVEN a FIFO batch: o-1 and o-2 in group g1 (o-1 fails), o-3 in group g2
    orders.fail_on.add("o-1")
    event = sqs_batch([order(1), order(2), order(3)], groups=["g1", "g1", "g2"])
    ids = [record["messageId"] for record in event["Records"]]

    # WHEN it runs
    response = process_batch(event, lambda_context(), orders)

    # THEN o-2 is skipped, not run, and reported with o-1; g2 is applied
    assert failed_ids(response) == ids[:2]
    assert "o-2" not in orders.seen
    assert log_lines.with_message("record skipped")[0]["ordering_key"] == "g1"


def test_with_parse_any_parse_error_is_a_rejection_before_the_record_function(
    orders: Orders,
) -> None:
    # GIVEN a parse step that raises KeyError on a body without "total"
    calls: list[Any] = []

    def parse(record: SQSRecord) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(record.body)
        body["total"] += 0
        return body

    event = sqs_batch([order(1), {"order_id": "o-2"}])

    # WHEN the batch runs
    response = process_batch(event, None, calls.append, parse=parse)

    # THEN the record function only saw the parsed order; the other is reported
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert calls == [order(1)]


def test_streams_keep_order_per_partition_key_and_stop_on_failure() -> None:
    # GIVEN a Kinesis batch: a, b with partition key k1 (a fails), c with k2
    seen: list[str] = []

    def record_handler(record: Any) -> None:
        name = record.kinesis.data_as_json()["name"]
        seen.append(name)
        if name == "a":
            raise RuntimeError("down")

    event = kinesis_batch(
        [{"name": "a"}, {"name": "b"}, {"name": "c"}], partition_keys=["k1", "k1", "k2"]
    )

    # WHEN it runs with the defaults the source implies
    response = process_batch(event, None, record_handler)

    # THEN b is held back behind a; c is applied
    sequence = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    assert failed_ids(response) == sequence[:2]
    assert sorted(seen) == ["a", "c"]


def test_dynamodb_stream_records_are_ordered_by_item_key() -> None:
    # GIVEN the default ordering key of a DynamoDB stream
    key = default_ordering_key("dynamodb-stream")
    event = dynamodb_stream_batch([change(1, old=False), change(1)])

    # WHEN it keys two changes of one item
    first, second = (key(record) for record in event["Records"])

    # THEN they share a key, so they run in order
    assert first == second is not None


def test_the_decorator_makes_a_lambda_handler_that_flushes_metrics(
    orders: Orders, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a record function made a handler with the decorator
    handler = batch_handler(orders)

    # WHEN Lambda calls it
    response = handler(sqs_batch([order(1)]), lambda_context())

    # THEN the batch is applied, the metrics are written, and the function stays reachable
    assert response == {"batchItemFailures": []}
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf
    assert emf[-1]["RecordsApplied"] == [1.0]
    assert handler.record_handler is orders


def test_the_decorator_takes_options() -> None:
    # GIVEN a standard queue whose messages must run in order per customer
    seen: list[str] = []

    @batch_handler(
        ordering_key=lambda raw: json.loads(raw["body"])["customer"], stop_on_failure=True
    )
    def handler(record: SQSRecord) -> None:
        body = json.loads(record.body)
        seen.append(body["order_id"])
        if body["order_id"] == "o-1":
            raise RuntimeError("down")

    # WHEN a batch with two orders of one customer runs
    event = sqs_batch([order(1), order(2)])
    response = handler(event, lambda_context())

    # THEN the second waits behind the first
    assert len(failed_ids(response)) == 2
    assert seen == ["o-1"]


def test_a_batch_whose_source_cannot_be_told_is_refused() -> None:
    # GIVEN records without an eventSource
    # WHEN / THEN the toolkit asks for the source rather than guess
    with pytest.raises(ConfigurationError, match="pass source="):
        process_batch({"Records": [{"messageId": "m"}]}, None, lambda record: None)
