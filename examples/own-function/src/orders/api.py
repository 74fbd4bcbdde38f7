"""The orders HTTP API: ``POST /orders`` once per ``Idempotency-Key``, and
``GET /orders/{order_id}``.

``POST`` runs in effect mode: the route validates nothing itself (``parse`` did, before
anything was written) and writes nothing itself; it hands the ``Put`` of the order to the
middleware, which writes it with the stored response in one transaction. A retry with the
same key gets the same ``201``, marked ``Idempotent-Replayed``: the same ``receipt_id``
too, although the route would draw a new one (a ULID) if it ran again.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from lambda_dedup import effects
from lambda_dedup.http import (
    IdempotencyKey,
    add_effects,
    current_request,
    error_response,
    http_handler,
)
from lambda_dedup.runtime import client
from ulid import ULID

from orders.model import ORDERS_TABLE, parse_order, table

JSON = "application/json"

app = APIGatewayHttpResolver()
idempotency = IdempotencyKey(
    "orders-api",  # the namespace; its deduplicator is built from the environment on first use
    parse=lambda event: parse_order(json.loads(event.decoded_body or "")),
    mode="effect",
)


@app.post("/orders", middlewares=[idempotency])
def create_order() -> Response[str]:
    order: dict[str, Any] = current_request().payload
    add_effects(effects.put(table(ORDERS_TABLE), order))
    receipt = {**order, "receipt_id": str(ULID())}
    location = {"Location": f"/orders/{order['order_id']}"}
    return Response(201, JSON, json.dumps(receipt, sort_keys=True), headers=location)


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response[str]:
    found = client("dynamodb").get_item(
        TableName=table(ORDERS_TABLE),
        Key=effects.serialize({"order_id": order_id}),
        ConsistentRead=True,
    )
    if "Item" not in found:
        return error_response(404, "not_found", f"no order {order_id!r}")
    order = effects.deserialize(found["Item"])  # numbers come back as Decimal
    return Response(200, JSON, json.dumps(order, sort_keys=True, default=int))


handler = http_handler(app)
