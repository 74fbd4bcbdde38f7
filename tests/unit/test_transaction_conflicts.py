"""Effect mode under real DynamoDB's transaction conflicts.

DynamoDB cancels a ``TransactWriteItems`` that meets another transaction on the same item
(reason ``TransactionConflict``); botocore does not retry it, and moto never raises it. The
store retries such a cancellation, bounded and with jitter, before it propagates.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.store.dynamodb import CONFLICT_BACKOFF_SECONDS, DynamoDBStore

EFFECT: Any = {"Update": {"TableName": "counters", "Key": {"pk": {"S": "ada#click"}}}}


def _cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class _Client:
    """A DynamoDB client whose transactions fail with the given errors, then succeed."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {}


def _store(client: _Client, sleeps: list[float], attempts: int = 5) -> DynamoDBStore:
    return DynamoDBStore(
        "dedup",
        client=client,  # type: ignore[arg-type]
        conflict_attempts=attempts,
        sleep=sleeps.append,
    )


def _record() -> DedupRecord:
    return DedupRecord("clicks#e-1", Status.COMPLETED, expires_at=2_000_000_000)


def test_a_conflict_is_retried_with_bounded_jitter_and_then_applied() -> None:
    # GIVEN DynamoDB cancels the transaction twice because another one holds the counter
    client = _Client(
        _cancelled("None", "TransactionConflict"), _cancelled("None", "TransactionConflict")
    )
    sleeps: list[float] = []
    # WHEN the effect is applied
    result = _store(client, sleeps).transact_if_absent(_record(), [EFFECT], now_ms=0)
    # THEN the third attempt applies it, after two waits within the backoff's cap
    assert result is None
    assert client.calls == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= CONFLICT_BACKOFF_SECONDS[1] for s in sleeps)


def test_a_lasting_conflict_propagates_after_the_last_attempt() -> None:
    # GIVEN every attempt is cancelled for a conflict
    client = _Client(*[_cancelled("TransactionConflict", "None") for _ in range(3)])
    sleeps: list[float] = []
    # WHEN the effect is applied with three attempts
    # THEN the cancellation propagates (the trigger retries the record), after three tries
    with pytest.raises(ClientError) as raised:
        _store(client, sleeps, attempts=3).transact_if_absent(_record(), [EFFECT], now_ms=0)
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert (client.calls, len(sleeps)) == (3, 2)


@pytest.mark.parametrize(
    "reason", ["ThrottlingError", "ValidationError", "ItemCollectionSizeLimitExceeded"]
)
def test_other_cancellations_are_not_retried_here(reason: str) -> None:
    # GIVEN a cancellation for another reason, which botocore or the trigger handles
    client = _Client(_cancelled("None", reason))
    sleeps: list[float] = []
    # WHEN the effect is applied
    # THEN it propagates at once
    with pytest.raises(ClientError):
        _store(client, sleeps).transact_if_absent(_record(), [EFFECT], now_ms=0)
    assert (client.calls, sleeps) == (1, [])


def test_conflict_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="conflict_attempts"):
        DynamoDBStore("dedup", client=_Client(), conflict_attempts=0)  # type: ignore[arg-type]
