"""The orders API: POST /orders once per Idempotency-Key, GET /orders/{order_id}."""

from __future__ import annotations

import json
from typing import Any

from conftest import order
from lambda_dedup.testing import LambdaContext, events

from orders import api


def post(body: Any, key: str | None, context: LambdaContext, **options: Any) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    event = events.http_api_event("POST", "/orders", body, headers=headers, **options)
    return api.handler(event, context)


def get(order_id: str, context: LambdaContext) -> Any:
    event = events.http_api_event(
        "GET",
        f"/orders/{order_id}",
        route_key="GET /orders/{order_id}",
        path_parameters={"order_id": order_id},
    )
    return api.handler(event, context)


def test_a_retried_post_creates_one_order_and_replays_the_receipt(
    tables: dict[str, str], lambda_context: LambdaContext, read_item: Any
) -> None:
    # GIVEN an order posted with a key
    first = post(order(1), "k-1", lambda_context)

    # WHEN the client retries it (its connection dropped before the answer)
    retry = post(order(1), "k-1", lambda_context)

    # THEN one order exists; the retry has the same body, receipt id included
    assert first["statusCode"] == retry["statusCode"] == 201
    assert retry["body"] == first["body"]
    assert retry["headers"]["Idempotent-Replayed"] == "true"
    assert read_item(tables["ORDERS_TABLE_NAME"], order_id="o-1") is not None


def test_client_mistakes_are_4xx_json(
    tables: dict[str, str], lambda_context: LambdaContext
) -> None:
    # GIVEN a stored order
    post(order(1), "k-1", lambda_context)

    # WHEN the key is reused for another order, is missing, or the order is invalid
    reused = post(order(2), "k-1", lambda_context)
    missing = post(order(3), None, lambda_context)
    invalid = post(order(4, total_cents=0), "k-4", lambda_context)

    # THEN each is a JSON 4xx saying what is wrong
    assert [r["statusCode"] for r in (reused, missing, invalid)] == [422, 400, 400]
    assert json.loads(invalid["body"])["error"]["field"] == "total_cents"


def test_get_reads_an_order(tables: dict[str, str], lambda_context: LambdaContext) -> None:
    # GIVEN an order created through the API
    post(order(5), "k-5", lambda_context)

    # WHEN it is read, and an unknown one too
    found = get("o-5", lambda_context)
    unknown = get("o-404", lambda_context)

    # THEN the first is the order, the second a 404
    assert json.loads(found["body"]) == order(5)
    assert unknown["statusCode"] == 404
