"""The direct-invocation inbox: one entry per command, the same receipt for every retry."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ItemReader, RequestCounter
from support.events import load_event
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines

from lambda_dedup import InvalidEventError, PayloadMismatchError, runtime
from lambda_dedup.handlers import inbox


@pytest.fixture
def handler_requests(handler_env: str) -> RequestCounter:
    """Counts the requests of the DynamoDB client the handler itself uses."""
    return RequestCounter(runtime.store().client)


def invoke(event: Any) -> Any:
    return inbox.handler(event, FakeLambdaContext(function_name="dedup-inbox"))


def test_first_delivery_is_accepted_and_stored(handler_env: str, read_item: ItemReader) -> None:
    # GIVEN a new command
    command = load_event("direct_invoke")
    # WHEN it is invoked
    receipt = invoke(command)
    # THEN the receipt names it, and the inbox holds it once
    assert receipt["id"] == command["id"]
    assert receipt["type"] == "order.placed"
    item = read_item(handler_env, id=f"inbox#{command['id']}")
    assert item is not None
    assert item["data"]["order_id"] == "ord-10442"
    assert str(item["data"]["total"]) == "42.5"


def test_retry_gets_the_identical_receipt_without_a_second_entry(
    handler_env: str, read_item: ItemReader
) -> None:
    # GIVEN a command already accepted by one invocation
    command = load_event("direct_invoke")
    first = invoke(command)
    # WHEN the caller retries it (a new invocation, a new request id)
    again = invoke(load_event("direct_invoke"))
    # THEN it gets the first receipt, request id included
    assert again == first


def test_first_delivery_costs_one_write_and_a_retry_one_failed_write(
    handler_requests: RequestCounter,
) -> None:
    invoke(load_event("direct_invoke"))
    assert handler_requests.calls == {"PutItem": 1}
    handler_requests.reset()
    invoke(load_event("direct_invoke"))
    assert handler_requests.calls == {"PutItem": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("id"), "id"),
        (lambda e: e.update(id=""), "id"),
        (lambda e: e.update(type=7), "type"),
        (lambda e: e.update(data=["not", "an", "object"]), "data"),
    ],
)
def test_malformed_command_is_rejected_with_a_logged_reason(
    handler_env: str, change: Any, field: str, log_lines: LogLines
) -> None:
    # GIVEN a command with a bad field
    command = load_event("direct_invoke")
    change(command)
    # WHEN it is invoked
    # THEN it raises (an asynchronous invocation then ends in the DLQ) naming the field
    with pytest.raises(InvalidEventError) as caught:
        invoke(command)
    assert caught.value.field == field
    # AND a structured log line says why
    rejected = log_lines.with_message("rejected event")
    assert len(rejected) == 1
    assert rejected[0]["level"] == "ERROR"
    assert rejected[0]["field"] == field
    assert field in rejected[0]["reason"]


def test_event_that_is_not_an_object_is_rejected(handler_env: str) -> None:
    with pytest.raises(InvalidEventError, match="JSON object"):
        invoke(["not", "a", "command"])


def test_same_id_with_other_content_is_an_error(handler_env: str, log_lines: LogLines) -> None:
    invoke(load_event("direct_invoke"))
    tampered = load_event("direct_invoke")
    tampered["data"]["total"] = 4200
    with pytest.raises(PayloadMismatchError):
        invoke(tampered)
    assert log_lines.with_message("rejected event")
