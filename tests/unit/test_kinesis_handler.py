"""The Kinesis handler: per-user counters, event_id keys, partition-key order."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from support.aws import ItemReader, WriteLog
from support.batches import activity, failed_ids, kinesis_batch
from support.events import load_event
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from unit.conftest import COUNTERS

from lambda_dedup.handlers import kinesis


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return dict(kinesis.handler(event, FakeLambdaContext(function_name="dedup-kinesis")))


def _count(read_item: ItemReader, user: str, kind: str) -> int:
    item = read_item(COUNTERS, user_id=user, type=kind)
    return 0 if item is None else int(item["count"])


def test_the_sample_record_counts_one_page_view(domain_env: str, read_item: ItemReader) -> None:
    assert failed_ids(invoke(load_event("kinesis"))) == []
    assert _count(read_item, "u-1842", "page_view") == 1
    assert read_item(domain_env, id="kinesis-activity#evt-01JD8Q2M7X9K4T") is not None


def test_distinct_events_add_up_and_a_repeated_event_id_does_not(
    domain_env: str, read_item: ItemReader
) -> None:
    # GIVEN three events of one user, one of them written twice by its producer
    events = [activity(1, user=9), activity(2, user=9), activity(1, user=9)]
    # WHEN they arrive (and the whole batch is redelivered)
    event = kinesis_batch(events)
    assert failed_ids(invoke(event)) == []
    assert failed_ids(invoke(event)) == []
    # THEN the counter says two
    assert _count(read_item, "u-9", "page_view") == 2


def test_without_an_event_id_the_record_event_id_is_the_key(
    domain_env: str, read_item: ItemReader
) -> None:
    # GIVEN an event without event_id, written twice by its producer (two records)
    bare = {"user_id": "u-3", "type": "login"}
    twice = kinesis_batch([bare, bare])
    # WHEN both records are delivered, and then redelivered
    assert failed_ids(invoke(twice)) == []
    assert failed_ids(invoke(twice)) == []
    # THEN each record counted once: the key is the record, not the content
    assert _count(read_item, "u-3", "login") == 2


def test_a_failure_holds_back_the_rest_of_its_partition_key(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN partition key A: valid, malformed, valid; partition key B: valid
    payloads: list[Any] = [activity(1), b"not json", activity(2), activity(3)]
    event = kinesis_batch(payloads, partition_keys=["A", "A", "A", "B"])
    sequence = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    # WHEN the batch is handled
    response = invoke(event)
    # THEN the malformed record and the A record after it are reported
    assert failed_ids(response) == [sequence[1], sequence[2]]
    # AND the later A record was not counted before the one that failed
    assert write_log.count(COUNTERS) == {("u-1", "page_view"): 1, ("u-3", "page_view"): 1}
    (skipped,) = log_lines.with_message("record skipped")
    assert skipped["record_id"] == sequence[2]


def test_an_event_id_reused_with_another_payload_is_rejected(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    invoke(kinesis_batch([activity(1)]))
    other = kinesis_batch([activity(1, type="purchase")])
    assert failed_ids(invoke(other)) == [other["Records"][0]["kinesis"]["sequenceNumber"]]
    assert write_log.count(COUNTERS) == {("u-1", "page_view"): 1}
    assert "different payload" in log_lines.with_message("rejected record")[0]["reason"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("@@ not base64 @@", "data"),
        (base64.b64encode(b"{not json").decode(), None),
        (base64.b64encode(b'["a list"]').decode(), None),
        (base64.b64encode(b'{"event_id": "e", "type": "click"}').decode(), "user_id"),
        (base64.b64encode(b'{"event_id": "e", "user_id": "u-1"}').decode(), "type"),
        (base64.b64encode(b'{"event_id": 7, "user_id": "u-1", "type": "x"}').decode(), "event_id"),
    ],
)
def test_a_malformed_record_is_rejected_naming_the_field(
    domain_env: str, log_lines: LogLines, data: str, field: str | None
) -> None:
    event = load_event("kinesis")
    event["Records"][0]["kinesis"]["data"] = data
    assert failed_ids(invoke(event)) == [event["Records"][0]["kinesis"]["sequenceNumber"]]
    (line,) = log_lines.with_message("rejected record")
    assert line.get("field") == field
    assert line["source"] == "kinesis"


def test_records_on_one_counter_share_a_group_whatever_their_partition_keys() -> None:
    # GIVEN u-1's page views under two partition keys, a record of another user under the
    # first key, another user's record alone, and a record that cannot be read
    event = kinesis_batch(
        [
            activity(1, user=1),
            activity(2, user=1),
            activity(3, user=2),
            activity(4, user=3),
            b"[" * 5000,
        ],
        partition_keys=["A", "B", "A", "C", "D"],
    )
    ids = [record["eventID"] for record in event["Records"]]
    # WHEN the batch is grouped
    groups = kinesis.ordering_groups(event["Records"])
    # THEN records that share a counter or a partition key, even through another record,
    # run in one group, so that no two transactions on one counter item run at once
    assert groups[ids[0]] == groups[ids[1]] == groups[ids[2]]
    assert len({groups[ids[0]], groups[ids[3]], groups[ids[4]]}) == 3


def test_a_failure_holds_back_later_records_of_its_counter_under_another_partition_key(
    domain_env: str, write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN u-1's page view reused with another payload (rejected) under key A, then a new
    # page view of u-1 under key B
    invoke(kinesis_batch([activity(1, user=1)]))
    event = kinesis_batch(
        [activity(1, user=1, type="purchase"), activity(2, user=1, type="purchase")],
        partition_keys=["A", "B"],
    )
    sequence = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    # WHEN the batch is handled
    # THEN the record on the same counter waits for the next delivery
    assert failed_ids(invoke(event)) == sequence
    (skipped,) = log_lines.with_message("record skipped")
    assert skipped["record_id"] == sequence[1]


def test_a_record_that_cannot_be_parsed_or_keyed_is_rejected_alone(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a batch of four users' events: one record has no data, and one has an event
    # without event_id and no eventID to fall back on
    event = kinesis_batch([activity(1), activity(2), activity(3), activity(4)])
    records = event["Records"]
    del records[1]["kinesis"]["data"]
    no_key = {"user_id": "u-3", "type": "page_view"}
    records[2]["kinesis"]["data"] = base64.b64encode(json.dumps(no_key).encode()).decode()
    del records[2]["eventID"]
    bad = [records[1]["kinesis"]["sequenceNumber"], records[2]["kinesis"]["sequenceNumber"]]
    # WHEN the batch is handled
    response = invoke(event)
    # THEN exactly those two are reported, each with one rejected-record line, never as
    # transient failures; the other users' events are counted
    assert failed_ids(response) == bad
    assert write_log.count(COUNTERS) == {("u-1", "page_view"): 1, ("u-4", "page_view"): 1}
    # (in either order: the two users' records run concurrently)
    rejected = log_lines.with_message("rejected record")
    assert sorted(line["record_id"] for line in rejected) == sorted(bad)
    assert log_lines.with_message("record failed") == []
