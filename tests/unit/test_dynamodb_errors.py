"""DynamoDB errors other than a failed condition: retried by botocore, then surfaced.

An event is never marked done unless its effect is durable: whatever DynamoDB could not
do, the error propagates so that the trigger redelivers the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from support.aws import FaultInjector, ItemReader, RequestCounter, create_keyed_table

from lambda_dedup import Claim, Deduplicator, effects
from lambda_dedup.store.dynamodb import MAX_ATTEMPTS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def test_throttled_write_is_retried_and_succeeds(
    dedup: Deduplicator,
    faults: FaultInjector,
    requests: RequestCounter,
    read_item: ItemReader,
    table: str,
) -> None:
    # GIVEN DynamoDB throttles the first two attempts
    faults.throttle("PutItem", times=2)
    # WHEN an event is handled
    outcome = dedup.put_once("evt-1", {"body": "x"})
    # THEN botocore retried, the third attempt succeeded, and the effect is there once
    assert not outcome.duplicate
    assert requests.calls["PutItem"] == 1
    assert requests.attempts["PutItem"] == 3
    assert read_item(table, id="test-handler#evt-1") is not None


def test_persistent_throttling_surfaces_and_nothing_is_done(
    dedup: Deduplicator,
    faults: FaultInjector,
    requests: RequestCounter,
    read_item: ItemReader,
    table: str,
) -> None:
    # GIVEN DynamoDB throttles every attempt
    faults.throttle("PutItem", times=100)
    # WHEN an event is handled
    # THEN after the configured attempts the throttling error reaches the caller
    with pytest.raises(ClientError) as caught:
        dedup.put_once("evt-1", {"body": "x"})
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert requests.attempts["PutItem"] == MAX_ATTEMPTS
    # AND nothing is recorded, so the redelivered event will be applied
    assert read_item(table, id="test-handler#evt-1") is None
    faults.clear()
    assert not dedup.put_once("evt-1", {"body": "x"}).duplicate


def test_throttled_transaction_surfaces_without_an_effect(
    dedup: Deduplicator, dynamodb: DynamoDBClient, faults: FaultInjector, read_item: ItemReader
) -> None:
    create_keyed_table(dynamodb, "counters", "pk")
    faults.throttle("TransactWriteItems", times=100)
    with pytest.raises(ClientError, match="ThrottlingException"):
        dedup.transact_once("evt-1", [effects.increment("counters", {"pk": "u1"}, "n")])
    assert read_item("counters", pk="u1") is None


def test_throttled_claim_surfaces_before_the_work_runs(
    dedup: Deduplicator, faults: FaultInjector
) -> None:
    ran: list[str] = []
    faults.throttle("PutItem", times=100)
    with pytest.raises(ClientError, match="ThrottlingException"):
        dedup.run_once("evt-1", lambda claim: ran.append("work"))
    assert ran == []


def test_unrecorded_completion_surfaces_and_is_released(
    dedup: Deduplicator, faults: FaultInjector, read_item: ItemReader, table: str
) -> None:
    # GIVEN the work succeeds but DynamoDB keeps throttling the completion
    faults.throttle("UpdateItem", times=100)
    sent: list[str] = []

    def work(claim: Claim) -> dict[str, Any]:
        sent.append("mail")
        return {"sent": len(sent)}

    # WHEN the event is handled
    # THEN the error propagates: the event is not acknowledged
    with pytest.raises(ClientError, match="ThrottlingException"):
        dedup.run_once("evt-1", work)
    # AND the claim was given back, never COMPLETED without its result
    assert read_item(table, id="test-handler#evt-1") is None
    # AND the redelivery the error asks for runs the work again at once and records it
    faults.clear()
    assert dedup.run_once("evt-1", work).result == {"sent": 2}
    done = read_item(table, id="test-handler#evt-1")
    assert done is not None
    assert done["status"] == "COMPLETED"


def test_access_denied_is_not_mistaken_for_a_duplicate(
    dedup: Deduplicator, faults: FaultInjector
) -> None:
    faults.fail("PutItem", 1, "AccessDeniedException", "not authorized to perform dynamodb:PutItem")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        dedup.put_once("evt-1", {"body": "x"})


def test_lost_response_of_a_successful_write_is_not_taken_for_a_duplicate(
    dedup: Deduplicator, faults: FaultInjector, requests: RequestCounter
) -> None:
    # GIVEN DynamoDB applies the write but its response is lost (500), so botocore retries
    faults.lose_response("PutItem")
    # WHEN the event is handled
    outcome = dedup.put_once("evt-1", {"body": "x"}, result="ok")
    # THEN the retry meets our own record and the outcome is a first delivery
    assert requests.attempts["PutItem"] == 2
    assert outcome.duplicate is False
    assert outcome.result == "ok"


def test_lost_response_of_a_claim_does_not_block_its_own_holder(
    dedup: Deduplicator, faults: FaultInjector
) -> None:
    # GIVEN the claim is applied but its response is lost, so botocore retries it
    faults.lose_response("PutItem")
    ran: list[str] = []

    def work(claim: Claim) -> str:
        ran.append("work")
        return "done"

    # WHEN the event is handled
    outcome = dedup.run_once("evt-1", work)
    # THEN the retry recognised its own claim (same token) and the work ran once
    assert ran == ["work"]
    assert outcome.duplicate is False


def test_lost_response_of_a_completion_still_counts_as_completed(
    dedup: Deduplicator, faults: FaultInjector
) -> None:
    # GIVEN the completion is applied but its response is lost, so botocore retries it
    faults.lose_response("UpdateItem")
    # WHEN the event is handled, THEN the retried completion is recognised as done
    outcome = dedup.run_once("evt-1", lambda claim: "done")
    assert outcome.result == "done"
    assert dedup.run_once("evt-1", lambda claim: "again").result == "done"
