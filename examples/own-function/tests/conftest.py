"""Fixtures of the orders team's tests. The test kit's fixtures (``aws``,
``lambda_context``, ``memory_store``...) come from lambda-dedup's pytest plugin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lambda_dedup import runtime
from lambda_dedup.testing.plugin import AwsSandbox


@pytest.fixture
def tables(aws: AwsSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The function's tables in moto, named in its environment as Terraform names them."""
    names = {
        "DEDUP_TABLE_NAME": aws.create_dedup_table("orders-idempotency"),
        "ORDERS_TABLE_NAME": aws.create_table("orders-orders", "order_id"),
        "CUSTOMERS_TABLE_NAME": aws.create_table("orders-customers", "customer_id"),
    }
    for name, value in names.items():
        monkeypatch.setenv(name, value)
    runtime.reset()  # the handlers' deduplicators and clients are built from this env
    yield names
    runtime.reset()


def order(number: int, **fields: Any) -> dict[str, Any]:
    """A valid order of customer c-1."""
    return {
        "order_id": f"o-{number}",
        "customer_id": "c-1",
        "total_cents": 1000 * number,
        "items": [{"sku": "BOOK-1", "quantity": number}],
        **fields,
    }
