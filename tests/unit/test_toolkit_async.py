"""The asynchronous toolkit (process_event, event_handler) and the claim decorator, with a
team's own functions: "shipments" that are not the reference domain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from support.events import load_event
from support.lambda_context import lambda_context
from support.logs import LogLines
from support.push_events import s3_event, sns_event

from lambda_dedup import (
    Claim,
    ConfigurationError,
    Deduplicator,
    InMemoryStore,
    InvalidEventError,
    PayloadMismatchError,
    event_handler,
    process_event,
)


@pytest.fixture
def dedup() -> Deduplicator:
    return Deduplicator(InMemoryStore(), "shipments")


def test_a_direct_invocation_is_applied_once_and_a_duplicate_gets_the_stored_result(
    dedup: Deduplicator, log_lines: LogLines
) -> None:
    # GIVEN a team's command: ship an order, receipt stored for duplicates
    def ship(command: dict[str, Any]) -> Any:
        receipt = {"shipment": f"s-{command['order_id']}", "attempt": len(log_lines.all())}
        return dedup.put_once(command["order_id"], payload=command, result=receipt)

    # WHEN the same command arrives twice
    first = process_event({"order_id": "o-1"}, lambda_context(), ship)
    second = process_event({"order_id": "o-1"}, lambda_context(), ship)

    # THEN both get the first receipt; the logs tell the first from the duplicate
    assert first == second
    assert [line["message"] for line in log_lines.all()] == ["event applied", "duplicate event"]
    assert log_lines.all()[1]["source"] == "direct"


def test_a_rejection_raises_after_its_log_line_so_the_event_reaches_the_destination(
    dedup: Deduplicator, log_lines: LogLines
) -> None:
    # GIVEN a parse step that refuses a command without an order
    def parse(command: dict[str, Any]) -> str:
        if "order_id" not in command:
            raise InvalidEventError("'order_id' is required", "order_id")
        return str(command["order_id"])

    # WHEN such a command arrives
    with pytest.raises(InvalidEventError):
        process_event({"oops": 1}, None, lambda key: None, parse=parse)

    # THEN it is a rejection naming the field, before any write
    [line] = log_lines.with_message("rejected event")
    assert line["field"] == "order_id"
    assert InMemoryStore().records == {}


def test_a_reused_key_is_a_rejection(dedup: Deduplicator, log_lines: LogLines) -> None:
    # GIVEN a key already applied with another payload
    dedup.put_once("o-1", payload={"to": "Paris"})

    # WHEN another payload comes with it
    with pytest.raises(PayloadMismatchError):
        process_event(
            {"order_id": "o-1", "to": "Rome"},
            None,
            lambda command: dedup.put_once(command["order_id"], payload={"to": command["to"]}),
        )

    # THEN it is logged as rejected
    assert log_lines.with_message("rejected event")


def test_sns_and_s3_records_reach_the_function_as_data_classes(dedup: Deduplicator) -> None:
    # GIVEN a function that returns what it was given
    def describe(record: Any) -> str:
        return type(record).__name__

    # WHEN an SNS and an S3 event arrive
    sns = process_event(sns_event({"order_id": "o-1"}), None, describe)
    s3 = process_event(s3_event("bucket", "orders/o-1.json", version_id="v1"), None, describe)

    # THEN each record is its Powertools data class, and a list of results comes back
    assert sns == ["SNSEventRecord"]
    assert s3 == ["S3EventRecord"]


def test_an_eventbridge_event_reaches_the_function_as_its_data_class(
    log_lines: LogLines,
) -> None:
    # GIVEN AWS's sample EventBridge event
    event = load_event("eventbridge")
    seen: list[EventBridgeEvent] = []

    # WHEN it is processed
    process_event(event, None, seen.append)

    # THEN the function got an EventBridgeEvent, and the log line names the event
    assert seen[0].get_id == event["id"]
    assert log_lines.with_message("event applied")[0]["event_id"] == event["id"]


def test_a_service_error_propagates_as_a_failure(log_lines: LogLines) -> None:
    # GIVEN a function whose dependency is down
    def ship(_: Any) -> None:
        raise ConnectionError("carrier API down")

    # WHEN an event arrives
    with pytest.raises(ConnectionError):
        process_event({"order_id": "o-1"}, None, ship)

    # THEN it is a failure (Lambda retries it), not a rejection
    assert log_lines.with_message("event failed")
    assert not log_lines.with_message("rejected event")


def test_the_decorator_makes_a_lambda_handler(
    dedup: Deduplicator, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a decorated function
    @event_handler(source="direct")
    def handler(command: dict[str, Any]) -> Any:
        return dedup.put_once(command["order_id"], payload=command, result={"ok": True})

    # WHEN Lambda invokes it twice with one command
    results = [handler({"order_id": "o-9"}, lambda_context()) for _ in range(2)]

    # THEN both return the stored result, and each invocation flushed its metrics
    assert results == [{"ok": True}, {"ok": True}]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [sorted(k for k in line if k[0].isupper()) for line in emf] == [
        ["EventsApplied"],
        ["DuplicatesSuppressed"],
    ]
    assert callable(handler.event_function)


def test_once_runs_a_function_at_most_once_per_key_with_the_claim(
    dedup: Deduplicator,
) -> None:
    # GIVEN a side effect outside DynamoDB, fenced by the claim's token
    sent: list[tuple[str, str]] = []

    @dedup.once(key=lambda shipment: shipment["id"])
    def notify_carrier(shipment: dict[str, Any], claim: Claim) -> dict[str, Any]:
        sent.append((shipment["id"], claim.token))
        return {"booked": shipment["id"]}

    # WHEN it is called twice with one shipment, then with another payload for that key
    first = notify_carrier({"id": "s-1", "to": "Paris"})
    again = notify_carrier.outcome({"id": "s-1", "to": "Paris"})
    with pytest.raises(PayloadMismatchError):
        notify_carrier({"id": "s-1", "to": "Rome"})

    # THEN it ran once, the duplicate got the stored result, and the token was handed over
    assert first == again.result == {"booked": "s-1"}
    assert again.duplicate
    assert len(sent) == 1
    assert len(sent[0][1]) == 32


def test_from_env_reads_the_settings_modules_function_sets() -> None:
    # GIVEN the function's environment
    environ = {"DEDUP_TABLE_NAME": "idem", "DEDUP_TTL_SECONDS": "600"}

    # WHEN a deduplicator is built from it
    dedup = Deduplicator.from_env("orders", store=InMemoryStore(), environ=environ)

    # THEN it has the TTL; without the table name it refuses to start
    assert (dedup.namespace, dedup.ttl_seconds) == ("orders", 600)
    with pytest.raises(ConfigurationError, match="DEDUP_TABLE_NAME"):
        Deduplicator.from_env("orders", environ={})


def test_runtime_once_builds_its_deduplicator_on_the_first_call(
    monkeypatch: pytest.MonkeyPatch, dedup_table: str
) -> None:
    # GIVEN a function decorated at import time, before the environment is set
    from lambda_dedup import runtime

    monkeypatch.delenv("DEDUP_TABLE_NAME", raising=False)
    runtime.reset()
    booked: list[str] = []

    @runtime.once("shipments", key=lambda shipment: shipment["id"])
    def book(shipment: dict[str, Any]) -> str:
        booked.append(shipment["id"])
        return f"booking-{shipment['id']}"

    # WHEN the environment exists and the function is called twice
    monkeypatch.setenv("DEDUP_TABLE_NAME", dedup_table)
    try:
        results = [book({"id": "s-1"}), book({"id": "s-1"})]
    finally:
        runtime.reset()

    # THEN it ran once, on the table of the environment
    assert results == ["booking-s-1", "booking-s-1"]
    assert booked == ["s-1"]


def test_once_leaves_the_lambda_context_out_of_the_payload(dedup: Deduplicator) -> None:
    # GIVEN a function that takes the context for its lease
    @dedup.once(
        key=lambda shipment, context: shipment["id"],
        lease_ms=lambda shipment, context: context.get_remaining_time_in_millis(),
    )
    def book(shipment: dict[str, Any], context: Any) -> str:
        return f"booking-{shipment['id']}"

    # WHEN it is called on two deliveries, each with its own context
    first = book.outcome({"id": "s-1"}, lambda_context())
    again = book.outcome({"id": "s-1"}, lambda_context())

    # THEN the second is a duplicate, not a payload mismatch
    assert (first.duplicate, again.duplicate) == (False, True)


def test_the_runtime_builds_one_deduplicator_for_threads_that_race_for_it(
    dedup_env: str,
) -> None:
    # GIVEN a batch's threads asking for the handler's deduplicator at once, cold
    from concurrent.futures import ThreadPoolExecutor

    from lambda_dedup import runtime

    # WHEN ten of them race
    with ThreadPoolExecutor(10) as pool:
        found = list(pool.map(lambda _: runtime.deduplicator("race"), range(10)))

    # THEN they all got the same one (one boto3 client, not ten)
    assert len({id(dedup) for dedup in found}) == 1
