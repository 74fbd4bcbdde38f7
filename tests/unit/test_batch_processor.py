"""KeyedBatchProcessor: per-key order, concurrency across keys, stop on failure.

Record handlers here are plain functions, so that the processor's own rules are tested
without AWS. Concurrency is shown with a barrier, never with timings: ten handlers can
only pass a ten-party barrier if they are in flight at the same time.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from support.batches import failed_ids, sqs_batch

from lambda_dedup import KeyedBatchProcessor, PrecedingRecordFailedError


def _key(record: dict[str, Any]) -> str | None:
    key = record["messageAttributes"].get("key")
    return None if key is None else str(key["stringValue"])


def _batch(keys: list[str | None], bodies: list[str] | None = None) -> dict[str, Any]:
    bodies = bodies or [f"body-{n}" for n in range(len(keys))]
    attributes = [None if key is None else {"key": key} for key in keys]
    return sqs_batch(bodies, attributes=attributes)


def _run(
    event: dict[str, Any], handler: Any, *, stop: bool, workers: int = 10
) -> tuple[dict[str, Any], KeyedBatchProcessor]:
    processor = KeyedBatchProcessor(EventType.SQS, _key, stop_on_failure=stop, max_workers=workers)
    response = process_partial_response(event=event, record_handler=handler, processor=processor)
    return dict(response), processor


def test_records_of_different_keys_run_concurrently() -> None:
    # GIVEN ten records with ten keys, whose handler waits until all ten are running
    barrier = threading.Barrier(10, timeout=10)

    def handler(record: SQSRecord) -> str:
        barrier.wait()
        return record.body

    # WHEN the batch is processed
    response, _ = _run(_batch([f"k{n}" for n in range(10)]), handler, stop=False)
    # THEN every handler got past the barrier: they were in flight at once
    assert failed_ids(response) == []


def test_records_of_one_key_run_one_at_a_time_in_batch_order() -> None:
    # GIVEN 12 records over 3 keys, and a handler that notices overlapping calls per key
    keys = [f"k{n % 3}" for n in range(12)]
    running: dict[str, int] = defaultdict(int)
    seen: dict[str, list[str]] = defaultdict(list)
    overlaps: list[str] = []
    lock = threading.Lock()

    def handler(record: SQSRecord) -> None:
        key = record.message_attributes["key"].string_value  # type: ignore[union-attr]
        assert key is not None
        with lock:
            running[key] += 1
            if running[key] > 1:
                overlaps.append(key)
        threading.Event().wait(0.005)  # let the other threads interleave
        with lock:
            seen[key].append(record.body)
            running[key] -= 1

    # WHEN the batch is processed on several threads
    response, _ = _run(_batch(keys), handler, stop=False)  # type: ignore[arg-type]
    # THEN no key ever had two records in flight, and each key saw its records in order
    assert failed_ids(response) == []
    assert overlaps == []
    for key in ("k0", "k1", "k2"):
        assert seen[key] == [f"body-{n}" for n in range(12) if keys[n] == key]


def test_stop_on_failure_reports_the_rest_of_the_key_unprocessed() -> None:
    # GIVEN key A's second record fails, and key B is healthy
    keys: list[str | None] = ["A", "B", "A", "A", "B"]
    event = _batch(keys, ["ok", "ok", "boom", "ok", "ok"])
    handled: list[str] = []

    def handler(record: SQSRecord) -> None:
        if record.body == "boom":
            raise RuntimeError("boom")
        handled.append(record.message_id)

    # WHEN the batch is processed with stop_on_failure
    response, processor = _run(event, handler, stop=True)
    ids = [record["messageId"] for record in event["Records"]]
    # THEN the failed record and the A record after it are reported, in batch order
    assert failed_ids(response) == [ids[2], ids[3]]
    # AND the A record after the failure never ran; B's records all did
    assert sorted(handled) == sorted([ids[0], ids[1], ids[4]])
    skipped = [error for _, error, _ in processor.exceptions if error is not None]
    assert isinstance(skipped[1], PrecedingRecordFailedError)
    assert (skipped[1].key, skipped[1].failed_record) == ("A", ids[2])


def test_without_stop_on_failure_later_records_of_the_key_still_run() -> None:
    event = _batch(["A", "A", "A"], ["ok", "boom", "ok"])
    handled: list[str] = []

    def handler(record: SQSRecord) -> None:
        if record.body == "boom":
            raise RuntimeError("boom")
        handled.append(record.body)

    response, _ = _run(event, handler, stop=False)
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert handled == ["ok", "ok"]


def test_records_without_a_key_are_independent_of_each_other() -> None:
    # GIVEN three unkeyed records, the first of which fails, under stop_on_failure
    event = _batch([None, None, None], ["boom", "ok", "ok"])

    def handler(record: SQSRecord) -> None:
        if record.body == "boom":
            raise RuntimeError("boom")

    # THEN only the failing one is reported: unkeyed records never hold each other back
    response, _ = _run(event, handler, stop=True)
    assert failed_ids(response) == [event["Records"][0]["messageId"]]


def test_a_batch_that_fails_entirely_is_reported_not_raised() -> None:
    event = _batch(["A", "B"])

    def handler(record: SQSRecord) -> None:
        raise RuntimeError("down")

    response, _ = _run(event, handler, stop=False, workers=1)
    assert failed_ids(response) == [r["messageId"] for r in event["Records"]]


def test_results_are_reported_in_record_order() -> None:
    event = _batch([f"k{n}" for n in range(6)])
    response, processor = _run(event, lambda record: record.body, stop=False)
    assert [entry[1] for entry in processor.entries] == [f"body-{n}" for n in range(6)]
    assert failed_ids(response) == []


def test_max_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        KeyedBatchProcessor(EventType.SQS, _key, stop_on_failure=False, max_workers=0)
