"""Order events from SQS: each order recorded once, and its customer's totals updated.

The effect is DynamoDB data, so it runs in effect mode: one ``TransactWriteItems`` holds
the deduplication marker, the ``Put`` of the order and the ``ADD`` to the customer's
totals. A redelivered message is a duplicate and writes nothing; a malformed message is a
rejection, reported in the partial batch response, and reaches the queue's DLQ.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from lambda_dedup import Outcome, batch_handler, effects
from lambda_dedup.runtime import deduplicator

from orders.model import CUSTOMERS_TABLE, ORDERS_TABLE, parse_order, table

NAMESPACE = "orders-consumer"


def parse(record: SQSRecord) -> dict[str, Any]:
    """The order a message carries; whatever is wrong with it is a rejection."""
    return parse_order(json.loads(record.body))


@batch_handler(parse=parse)
def handler(order: dict[str, Any]) -> Outcome[Any]:
    """Record one order and add it to its customer's totals, once."""
    customer = {"customer_id": order["customer_id"]}
    return deduplicator(NAMESPACE).transact_once(  # built from the environment once
        order["order_id"],
        [
            effects.put(table(ORDERS_TABLE), order),
            effects.update(
                table(CUSTOMERS_TABLE),
                customer,
                "ADD order_count :one, total_cents :total",
                values={":one": 1, ":total": order["total_cents"]},
            ),
        ],
        payload=order,
    )
