"""Claim mode: a leased, fenced claim around work whose effect is outside DynamoDB.

Every behaviour is checked on both store implementations (``any_dedup``); what is specific
to DynamoDB (request counts) uses ``dedup``.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from support.aws import RequestCounter
from support.clock import FakeClock

from lambda_dedup import (
    AlreadyInProgressError,
    Claim,
    Deduplicator,
    DedupRecord,
    LeaseLostError,
    Outcome,
    PayloadMismatchError,
    ResultNotStorableError,
    Status,
    fingerprint,
)


class Effects:
    """An external system: records every call, as a mail server would send every mail."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def send(self, what: str) -> dict[str, Any]:
        with self._lock:
            self.calls.append(what)
            return {"message_id": f"m-{len(self.calls)}", "to": what}


@pytest.fixture
def mail() -> Effects:
    return Effects()


def leave_crashed_claim(dedup: Deduplicator, clock: FakeClock, key: str, payload: Any) -> None:
    """What a holder that crashed right after claiming leaves behind: an IN_PROGRESS claim."""
    now_ms = int(clock() * 1000)
    crashed = DedupRecord(
        record_id=dedup.record_id(key),
        status=Status.IN_PROGRESS,
        expires_at=now_ms // 1000 + dedup.ttl_seconds,
        fingerprint=fingerprint(payload),
        token="crashed-holder",
        lease_expires_at_ms=now_ms + int(dedup.lease_seconds * 1000),
    )
    assert dedup.store.try_claim(crashed, now_ms=now_ms) is None


def test_first_delivery_runs_the_work_and_stores_its_result(
    any_dedup: Deduplicator, mail: Effects
) -> None:
    # GIVEN a new event
    # WHEN it is handled
    outcome = any_dedup.run_once("evt-1", lambda claim: mail.send("ana"), payload={"to": "ana"})
    # THEN the work ran once and its result is returned as a first delivery
    assert mail.calls == ["ana"]
    assert outcome == Outcome(
        "test-handler#evt-1", {"message_id": "m-1", "to": "ana"}, duplicate=False
    )


def test_a_new_event_costs_two_writes_and_no_read(
    dedup: Deduplicator, mail: Effects, requests: RequestCounter
) -> None:
    dedup.run_once("evt-1", lambda claim: mail.send("ana"))
    assert requests.calls == Counter({"PutItem": 1, "UpdateItem": 1})


def test_duplicate_of_a_completed_key_gets_the_stored_result(
    any_dedup: Deduplicator, mail: Effects
) -> None:
    # GIVEN a completed event
    first = any_dedup.run_once("evt-1", lambda claim: mail.send("ana"), payload={"to": "ana"})
    # WHEN it is delivered again
    again = any_dedup.run_once("evt-1", lambda claim: mail.send("ana"), payload={"to": "ana"})
    # THEN the work does not run and the original result is returned
    assert mail.calls == ["ana"]
    assert again.duplicate
    assert again.result == first.result


def test_duplicate_of_a_completed_key_costs_one_failed_write(
    dedup: Deduplicator, mail: Effects, requests: RequestCounter
) -> None:
    dedup.run_once("evt-1", lambda claim: mail.send("ana"))
    requests.reset()
    dedup.run_once("evt-1", lambda claim: mail.send("ana"))
    assert requests.calls == Counter({"PutItem": 1})


def test_duplicate_while_in_progress_is_retryable_not_dropped(
    any_dedup: Deduplicator, mail: Effects, clock: FakeClock
) -> None:
    # GIVEN an event whose work is still running
    seen: list[AlreadyInProgressError] = []

    def work(claim: Claim) -> dict[str, Any]:
        clock.advance(10)
        # WHEN a duplicate arrives meanwhile
        with pytest.raises(AlreadyInProgressError) as caught:
            any_dedup.run_once("evt-1", lambda c: mail.send("twice"))
        seen.append(caught.value)
        return mail.send("ana")

    any_dedup.run_once("evt-1", work)
    # THEN it is told to retry after the remaining lease, and its work did not run
    assert mail.calls == ["ana"]
    assert seen[0].retry_after_ms == 20_000


def test_crashed_holder_is_taken_over_after_its_lease_expires(
    any_dedup: Deduplicator, mail: Effects, clock: FakeClock
) -> None:
    # GIVEN a holder that claimed the event and then crashed without releasing it
    leave_crashed_claim(any_dedup, clock, "evt-1", payload={"to": "ana"})
    # WHEN a redelivery arrives before the lease expires, THEN it must wait
    with pytest.raises(AlreadyInProgressError):
        any_dedup.run_once("evt-1", lambda claim: mail.send("ana"), payload={"to": "ana"})
    # WHEN it arrives after the lease expired, THEN it takes over and completes
    clock.advance(31)
    outcome = any_dedup.run_once("evt-1", lambda claim: mail.send("ana"), payload={"to": "ana"})
    assert not outcome.duplicate
    assert mail.calls == ["ana"]
    assert any_dedup.run_once("evt-1", lambda claim: mail.send("ana")).duplicate


class Holder:
    """One invocation in a thread whose work waits until the test lets it finish."""

    def __init__(self, dedup: Deduplicator, name: str) -> None:
        self.claimed, self.resume = threading.Event(), threading.Event()
        self.outcome: Outcome[Any] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(dedup, name))
        self._thread.start()
        assert self.claimed.wait(10), f"{name} did not claim"

    def _run(self, dedup: Deduplicator, name: str) -> None:
        def work(claim: Claim) -> dict[str, str]:
            self.claimed.set()
            self.resume.wait(10)
            return {"by": name}

        try:
            self.outcome = dedup.run_once("evt-1", work)
        except BaseException as error:
            self.error = error

    def finish(self) -> None:
        self.resume.set()
        self._thread.join(10)


def test_late_completion_by_an_expired_holder_is_rejected(
    any_dedup: Deduplicator, clock: FakeClock
) -> None:
    # GIVEN holder A claimed the event and stalls past its lease
    a = Holder(any_dedup, "A")
    clock.advance(31)
    # AND holder B took over and completed
    b = any_dedup.run_once("evt-1", lambda claim: {"by": "B"})
    # WHEN A finally completes
    a.finish()
    # THEN A's completion is rejected and B's result stands
    assert isinstance(a.error, LeaseLostError)
    assert any_dedup.run_once("evt-1", lambda claim: {"by": "C"}).result == b.result == {"by": "B"}


def test_expired_holder_cannot_complete_over_a_successor_still_in_progress(
    any_dedup: Deduplicator, clock: FakeClock
) -> None:
    # GIVEN holder A stalls past its lease, and B takes over and is still working
    a = Holder(any_dedup, "A")
    clock.advance(31)
    b = Holder(any_dedup, "B")
    # WHEN A finishes first
    a.finish()
    # THEN A's completion is refused (its token no longer holds the record)
    assert isinstance(a.error, LeaseLostError)
    # AND B completes normally, and its result is the one every duplicate gets
    b.finish()
    assert b.error is None
    assert b.outcome is not None
    assert b.outcome.result == {"by": "B"}
    assert any_dedup.run_once("evt-1", lambda claim: {"by": "C"}).result == {"by": "B"}


def test_failure_releases_the_claim_so_a_retry_runs(any_dedup: Deduplicator, mail: Effects) -> None:
    # GIVEN work that fails the first time
    def flaky(claim: Claim) -> dict[str, Any]:
        if not mail.calls:
            mail.calls.append("failed attempt")
            raise ConnectionError("mail server unreachable")
        return mail.send("ana")

    # WHEN the event is handled, THEN the failure propagates
    with pytest.raises(ConnectionError):
        any_dedup.run_once("evt-1", flaky)
    # AND the retry is not blocked by the failed attempt's claim
    outcome = any_dedup.run_once("evt-1", flaky)
    assert not outcome.duplicate
    assert mail.calls == ["failed attempt", "ana"]


def test_same_key_with_another_payload_raises(any_dedup: Deduplicator, mail: Effects) -> None:
    # GIVEN a completed event
    any_dedup.run_once("evt-1", lambda claim: mail.send("ana"), payload={"to": "ana"})
    # WHEN the same key comes with another payload
    # THEN it is an error, and the work does not run
    with pytest.raises(PayloadMismatchError):
        any_dedup.run_once("evt-1", lambda claim: mail.send("bob"), payload={"to": "bob"})
    assert mail.calls == ["ana"]


def test_expired_claim_is_not_taken_over_with_another_payload(
    any_dedup: Deduplicator, mail: Effects, clock: FakeClock
) -> None:
    # GIVEN a claim that crashed while holding {"to": "ana"}, now expired
    leave_crashed_claim(any_dedup, clock, "evt-1", payload={"to": "ana"})
    clock.advance(31)
    # WHEN the key comes back with a different payload
    # THEN it is a mismatch, not a takeover
    with pytest.raises(PayloadMismatchError):
        any_dedup.run_once("evt-1", lambda claim: mail.send("bob"), payload={"to": "bob"})
    assert mail.calls == []


def test_completed_record_past_its_ttl_counts_as_new(
    any_dedup: Deduplicator, mail: Effects, clock: FakeClock
) -> None:
    # GIVEN an event completed longer ago than the TTL (the sweep has not run yet)
    any_dedup.run_once("evt-1", lambda claim: mail.send("ana"))
    clock.advance(any_dedup.ttl_seconds + 1)
    # WHEN it arrives again, THEN it is handled as new
    assert not any_dedup.run_once("evt-1", lambda claim: mail.send("ana")).duplicate
    assert mail.calls == ["ana", "ana"]


def test_eight_concurrent_deliveries_run_the_work_once(
    any_dedup: Deduplicator, mail: Effects
) -> None:
    # GIVEN 8 threads delivering the same event at the same instant
    start = threading.Barrier(8)
    release_work = threading.Event()

    def work(claim: Claim) -> dict[str, Any]:
        release_work.wait(5)  # stay in progress while the others try
        return mail.send("ana")

    def deliver(_: int) -> str:
        start.wait()
        try:
            outcome = any_dedup.run_once("evt-1", work, payload={"to": "ana"})
        except AlreadyInProgressError:
            return "in progress"
        finally:
            release_work.set()
        return "duplicate" if outcome.duplicate else "ran"

    # WHEN they race
    with ThreadPoolExecutor(8) as pool:
        results = Counter(pool.map(deliver, range(8)))
    # THEN the work ran exactly once; every other delivery was told to retry or replayed
    assert mail.calls == ["ana"]
    assert results["ran"] == 1
    assert results["in progress"] + results["duplicate"] == 7


def test_unstorable_result_fails_and_releases_the_claim(
    any_dedup: Deduplicator, mail: Effects
) -> None:
    with pytest.raises(ResultNotStorableError):
        any_dedup.run_once("evt-1", lambda claim: {"when": object()})
    assert not any_dedup.run_once("evt-1", lambda claim: mail.send("ana")).duplicate


def test_original_and_duplicate_get_identical_results(any_dedup: Deduplicator) -> None:
    # A tuple would come back from storage as a list: the original gets the list too.
    def work(claim: Claim) -> Any:
        return {"pair": (1, 2)}

    first = any_dedup.run_once("evt-1", work)
    again = any_dedup.run_once("evt-1", work)
    assert first.result == again.result == {"pair": [1, 2]}
