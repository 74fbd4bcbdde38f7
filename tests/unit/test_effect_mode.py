"""Effect mode: the write that applies the effect is the one that deduplicates it."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError
from support.aws import FaultInjector, ItemReader, RequestCounter, create_keyed_table
from support.clock import FakeClock

from lambda_dedup import (
    Deduplicator,
    DedupStore,
    EffectConditionFailedError,
    InMemoryStore,
    Outcome,
    PayloadMismatchError,
    UnsupportedOperationError,
    effects,
)
from lambda_dedup.store.dynamodb import CONFLICT_ATTEMPTS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

COUNTERS = "counters"


@pytest.fixture
def counters(dynamodb: DynamoDBClient) -> str:
    return create_keyed_table(dynamodb, COUNTERS, "pk")


def add_one(user: str) -> list[effects.TransactItem]:
    return [effects.increment(COUNTERS, {"pk": user}, "clicks")]


class TestPutOnce:
    def test_first_delivery_writes_the_item_with_one_request(
        self, dedup: Deduplicator, table: str, requests: RequestCounter, read_item: ItemReader
    ) -> None:
        # GIVEN an event never seen before
        # WHEN it is handled
        outcome = dedup.put_once(
            "evt-1", {"body": "hello", "score": 1.5}, payload={"n": 1}, result={"ok": True}
        )
        # THEN the item is written by exactly one request, and the outcome is not a duplicate
        assert outcome == Outcome("test-handler#evt-1", {"ok": True}, duplicate=False)
        assert requests.calls == Counter({"PutItem": 1})
        item = read_item(table, id="test-handler#evt-1")
        assert item is not None
        assert item["body"] == "hello"
        assert item["status"] == "COMPLETED"

    def test_duplicate_costs_one_failed_write_and_no_read(
        self, dedup: Deduplicator, table: str, requests: RequestCounter, read_item: ItemReader
    ) -> None:
        # GIVEN an event already handled
        first = dedup.put_once("evt-1", {"body": "first"}, payload={"n": 1}, result={"id": 7})
        requests.reset()
        # WHEN it is delivered again
        again = dedup.put_once("evt-1", {"body": "second"}, payload={"n": 1}, result={"id": 8})
        # THEN one failed conditional write, no read, the original outcome, the item untouched
        assert requests.calls == Counter({"PutItem": 1})
        assert requests.reads == 0
        assert again == Outcome(first.record_id, {"id": 7}, duplicate=True)
        item = read_item(table, id=first.record_id)
        assert item is not None
        assert item["body"] == "first"

    def test_same_key_with_another_payload_is_an_error(self, dedup: Deduplicator) -> None:
        # GIVEN a handled event
        dedup.put_once("evt-1", {"a": 1}, payload={"amount": 10})
        # WHEN the same key arrives with a different payload
        # THEN it is reported, not silently treated as a duplicate
        with pytest.raises(PayloadMismatchError):
            dedup.put_once("evt-1", {"a": 1}, payload={"amount": 99})

    def test_record_past_its_ttl_counts_as_new(
        self, dedup: Deduplicator, clock: FakeClock, table: str, read_item: ItemReader
    ) -> None:
        # GIVEN a handled event whose record is past its TTL but not yet swept by DynamoDB
        dedup.put_once("evt-1", {"body": "old"})
        clock.advance(dedup.ttl_seconds + 1)
        assert read_item(table, id="test-handler#evt-1") is not None
        # WHEN it arrives again
        outcome = dedup.put_once("evt-1", {"body": "new"})
        # THEN it is handled as a new event
        assert not outcome.duplicate
        item = read_item(table, id="test-handler#evt-1")
        assert item is not None
        assert item["body"] == "new"

    def test_marker_attributes_cannot_be_overwritten(self, dedup: Deduplicator) -> None:
        with pytest.raises(ValueError, match="reserved"):
            dedup.put_once("evt-1", {"status": "forged"})


class TestTransactOnce:
    def test_first_delivery_applies_effect_and_marker_in_one_request(
        self,
        dedup: Deduplicator,
        counters: str,
        table: str,
        requests: RequestCounter,
        read_item: ItemReader,
    ) -> None:
        # GIVEN a new click event for user u1
        # WHEN it is handled
        outcome = dedup.transact_once("click-1", add_one("u1"), payload={"u": "u1"}, result="ok")
        # THEN one TransactWriteItems applied the effect and wrote the marker
        assert requests.calls == Counter({"TransactWriteItems": 1})
        assert not outcome.duplicate
        assert outcome.result == "ok"
        assert read_item(counters, pk="u1") == {"pk": "u1", "clicks": 1}
        assert read_item(table, id="test-handler#click-1") is not None

    def test_duplicate_is_one_cancelled_transaction_and_no_effect(
        self, dedup: Deduplicator, counters: str, requests: RequestCounter, read_item: ItemReader
    ) -> None:
        # GIVEN a handled event
        dedup.transact_once("click-1", add_one("u1"), payload={"u": "u1"}, result="ok")
        requests.reset()
        # WHEN it is redelivered
        again = dedup.transact_once("click-1", add_one("u1"), payload={"u": "u1"}, result="x")
        # THEN the counter is unchanged, the original outcome returned, with one request
        assert requests.calls == Counter({"TransactWriteItems": 1})
        assert again.duplicate
        assert again.result == "ok"
        assert read_item(counters, pk="u1") == {"pk": "u1", "clicks": 1}

    def test_eight_concurrent_deliveries_apply_the_effect_once(
        self, dedup: Deduplicator, counters: str, read_item: ItemReader
    ) -> None:
        # GIVEN the same event delivered by 8 threads at the same instant
        start = threading.Barrier(8)

        def deliver(_: int) -> Outcome[object]:
            start.wait()
            return dedup.transact_once("click-1", add_one("u1"), payload={"u": "u1"})

        # WHEN they race
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(deliver, range(8)))
        # THEN exactly one applied the effect; the 7 others were told it was a duplicate
        assert sorted(o.duplicate for o in outcomes) == [False] + [True] * 7
        assert read_item(counters, pk="u1") == {"pk": "u1", "clicks": 1}

    def test_failed_effect_condition_writes_nothing(
        self, dedup: Deduplicator, counters: str, table: str, read_item: ItemReader
    ) -> None:
        # GIVEN an effect whose own condition does not hold (the counter does not exist)
        guarded = effects.update(
            COUNTERS,
            {"pk": "u1"},
            "ADD clicks :one",
            condition="attribute_exists(pk)",
            values={":one": 1},
        )
        # WHEN the event is handled
        with pytest.raises(EffectConditionFailedError) as caught:
            dedup.transact_once("click-1", [guarded])
        # THEN the whole transaction was cancelled: no effect and no marker, so a retry can run
        assert caught.value.index == 0
        assert read_item(counters, pk="u1") is None
        assert read_item(table, id="test-handler#click-1") is None
        assert not dedup.transact_once("click-1", add_one("u1")).duplicate

    def test_a_lasting_transaction_conflict_propagates_for_a_retry(
        self, dedup: Deduplicator, counters: str, faults: FaultInjector, read_item: ItemReader
    ) -> None:
        # GIVEN DynamoDB cancels the transaction for a concurrent one on the counter, at
        # every one of the store's in-process attempts
        faults.fail(
            "TransactWriteItems",
            CONFLICT_ATTEMPTS,
            "TransactionCanceledException",
            "Transaction cancelled [None, TransactionConflict]",
            CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
        )
        # WHEN the event is handled
        # THEN the error propagates (the trigger will redeliver) and nothing is marked done
        with pytest.raises(ClientError) as caught:
            dedup.transact_once("click-1", add_one("u1"))
        assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert read_item(counters, pk="u1") is None
        assert not dedup.transact_once("click-1", add_one("u1")).duplicate

    def test_record_past_its_ttl_counts_as_new(
        self, dedup: Deduplicator, counters: str, clock: FakeClock, read_item: ItemReader
    ) -> None:
        dedup.transact_once("click-1", add_one("u1"))
        clock.advance(dedup.ttl_seconds + 1)
        assert not dedup.transact_once("click-1", add_one("u1")).duplicate
        assert read_item(counters, pk="u1") == {"pk": "u1", "clicks": 2}

    def test_stores_without_transactions_refuse_clearly(self, clock: FakeClock) -> None:
        class NoTransactions(InMemoryStore):
            transact_if_absent = DedupStore.transact_if_absent

        assert not NoTransactions().supports_transactions
        dedup = Deduplicator(NoTransactions(), "h", clock=clock)
        with pytest.raises(UnsupportedOperationError):
            dedup.transact_once("k", add_one("u1"))
