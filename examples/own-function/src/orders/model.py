"""An order, as both functions validate it."""

from __future__ import annotations

import os
from typing import Any

from lambda_dedup import InvalidEventError

ORDERS_TABLE = "ORDERS_TABLE_NAME"
CUSTOMERS_TABLE = "CUSTOMERS_TABLE_NAME"


def table(variable: str) -> str:
    """A table name from the function's environment (set by the Terraform config)."""
    return os.environ[variable]


def parse_order(value: Any) -> dict[str, Any]:
    """A valid order, or InvalidEventError naming the field: ``order_id`` and
    ``customer_id`` (1-64 characters), ``total_cents`` (a whole number from 1), ``items``
    (a non-empty list)."""
    if not isinstance(value, dict):
        raise InvalidEventError("an order must be a JSON object")
    for field in ("order_id", "customer_id"):
        text = value.get(field)
        if not isinstance(text, str) or not 1 <= len(text) <= 64:
            raise InvalidEventError(f"{field!r} must be a string of 1-64 characters", field)
    total = value.get("total_cents")
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise InvalidEventError("'total_cents' must be a whole number from 1", "total_cents")
    items = value.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidEventError("'items' must be a non-empty list", "items")
    return {
        "order_id": value["order_id"],
        "customer_id": value["customer_id"],
        "total_cents": total,
        "items": items,
    }
