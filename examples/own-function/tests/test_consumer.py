"""The order events consumer, on moto and on the in-memory store."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import order
from lambda_dedup import Deduplicator, InMemoryStore
from lambda_dedup.testing import LambdaContext, events
from lambda_dedup.testing.plugin import AwsSandbox

from orders import consumer


def test_each_order_is_recorded_once_and_counted_once(
    tables: dict[str, str], aws: AwsSandbox, lambda_context: LambdaContext, read_item: Any
) -> None:
    # GIVEN a batch of two orders, then the same batch again (SQS redelivered it)
    batch = events.sqs_event([order(1), order(2)])

    # WHEN the consumer handles both deliveries
    first = consumer.handler(batch, lambda_context)
    again = consumer.handler(batch, lambda_context)

    # THEN nothing failed, both orders exist, and the customer's totals count each once
    assert events.failed_ids(first) == events.failed_ids(again) == []
    assert read_item(tables["ORDERS_TABLE_NAME"], order_id="o-2")["total_cents"] == 2000
    customer = read_item(tables["CUSTOMERS_TABLE_NAME"], customer_id="c-1")
    assert (customer["order_count"], customer["total_cents"]) == (2, 3000)


def test_a_malformed_order_fails_alone(
    tables: dict[str, str], lambda_context: LambdaContext, read_item: Any
) -> None:
    # GIVEN a batch with a valid order, a body that is not JSON and an order without items
    batch = events.sqs_event([order(1), "{not json", order(2, items=[])])
    ids = [record["messageId"] for record in batch["Records"]]

    # WHEN it is handled
    response = consumer.handler(batch, lambda_context)

    # THEN only the two bad messages are reported (SQS redelivers them, then the DLQ)
    assert events.failed_ids(response) == ids[1:]
    assert read_item(tables["ORDERS_TABLE_NAME"], order_id="o-1") is not None


def test_the_record_function_on_the_in_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the consumer's deduplicator on an in-memory store that knows the tables' keys
    monkeypatch.setenv("ORDERS_TABLE_NAME", "orders")
    monkeypatch.setenv("CUSTOMERS_TABLE_NAME", "customers")
    store = InMemoryStore(key_schemas={"orders": ("order_id",), "customers": ("customer_id",)})
    dedup = Deduplicator(store, consumer.NAMESPACE)
    monkeypatch.setattr(consumer, "deduplicator", lambda namespace: dedup)

    # WHEN one order is applied twice
    outcomes = [consumer.handler.record_handler(order(7)) for _ in range(2)]

    # THEN the transaction ran once: one order, one count
    assert [outcome.duplicate for outcome in outcomes] == [False, True]
    assert store.items("orders") == [order(7)]
    assert store.items("customers") == [
        {"customer_id": "c-1", "order_count": 1, "total_cents": 7000}
    ]
