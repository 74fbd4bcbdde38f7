"""Fixtures of the orders team's tests. The test kit's fixtures (``aws``, ``dedup_env``,
``lambda_context``, ``read_item``...) come from lambda-dedup's pytest plugin."""

from __future__ import annotations

from typing import Any

import pytest
from lambda_dedup.testing.plugin import AwsSandbox


@pytest.fixture
def tables(aws: AwsSandbox, dedup_env: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The functions' tables in moto, named in their environment as Terraform names them
    (``dedup_env`` does the idempotency table's, and resets lambda-dedup's cached
    deduplicators and clients around the test)."""
    names = {
        "ORDERS_TABLE_NAME": aws.create_table("orders-orders", "order_id"),
        "CUSTOMERS_TABLE_NAME": aws.create_table("orders-customers", "customer_id"),
    }
    for name, value in names.items():
        monkeypatch.setenv(name, value)
    return names


def order(number: int, **fields: Any) -> dict[str, Any]:
    """A valid order of customer c-1."""
    return {
        "order_id": f"o-{number}",
        "customer_id": "c-1",
        "total_cents": 1000 * number,
        "items": [{"sku": "BOOK-1", "quantity": number}],
        **fields,
    }
