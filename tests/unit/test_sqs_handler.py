"""The SQS handler: profile upserts keyed by request, FIFO groups, validation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from support.aws import ItemReader, WriteLog
from support.batches import failed_ids, profile, sqs_batch
from support.events import load_event
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from unit.conftest import PROFILES

from lambda_dedup import runtime
from lambda_dedup.handlers import sqs


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return dict(sqs.handler(event, FakeLambdaContext(function_name="dedup-sqs-profiles")))


def test_the_sample_message_writes_its_profile_without_the_request_id(
    domain_env: str, read_item: ItemReader
) -> None:
    # GIVEN the realistic SQS event: a profile with extra fields and a request_id
    response = invoke(load_event("sqs"))
    # THEN the profile is stored as sent, other fields included, request_id excluded
    assert failed_ids(response) == []
    assert read_item(PROFILES, user_id="u-1842") == {
        "user_id": "u-1842",
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "locale": "en-GB",
        "marketing_opt_in": False,
    }
    # AND the deduplication key is the business key, not the messageId
    assert read_item(domain_env, id="sqs-profiles#u-1842/req-7d2f0c4e") is not None


def test_a_producer_retry_with_the_same_request_id_is_one_effect(write_log: WriteLog) -> None:
    # GIVEN the same request sent twice: once with request_id in the body, once as a
    # message attribute (two messages, two messageIds)
    body = profile(7)
    first = sqs_batch([{**body, "request_id": "r-1"}])
    retry = sqs_batch([body], attributes=[{"request_id": "r-1"}])
    # WHEN both are delivered
    assert failed_ids(invoke(first)) == failed_ids(invoke(retry)) == []
    # THEN the profile was written once
    assert write_log.count(PROFILES) == {("u-7",): 1}


def test_without_a_request_id_the_message_id_is_the_key(write_log: WriteLog) -> None:
    # GIVEN two messages with the same profile and no request_id
    batch = sqs_batch([profile(7), profile(7)])
    # WHEN they are delivered, and then the first one is redelivered
    assert failed_ids(invoke(batch)) == []
    assert failed_ids(invoke({"Records": batch["Records"][:1]})) == []
    # THEN each message was applied once (two messages, two writes), the redelivery none
    assert write_log.count(PROFILES) == {("u-7",): 2}


def test_a_request_id_reused_for_another_profile_is_rejected(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    invoke(sqs_batch([profile(7, request_id="r-1")]))
    tampered = sqs_batch([profile(7, request_id="r-1", name="Someone Else")])
    assert failed_ids(invoke(tampered)) == [tampered["Records"][0]["messageId"]]
    assert write_log.count(PROFILES) == {("u-7",): 1}
    (line,) = log_lines.with_message("rejected record")
    assert "different payload" in line["reason"]


def test_a_fifo_group_stops_at_its_first_failure(
    write_log: WriteLog, log_lines: LogLines, read_item: ItemReader
) -> None:
    # GIVEN a FIFO batch: group A's second message is malformed, group B is healthy
    bodies: list[Any] = [profile(1), profile(2), "{not json", profile(3), profile(4)]
    event = sqs_batch(bodies, groups=["A", "B", "A", "A", "B"])
    ids = [record["messageId"] for record in event["Records"]]
    # WHEN it is handled
    response = invoke(event)
    # THEN the failed message and the rest of its group are reported, in order
    assert failed_ids(response) == [ids[2], ids[3]]
    # AND A's later message was not applied, while A's first and all of B were
    assert write_log.count(PROFILES) == {("u-1",): 1, ("u-2",): 1, ("u-4",): 1}
    assert read_item(PROFILES, user_id="u-3") is None
    (skipped,) = log_lines.with_message("record skipped")
    assert (skipped["record_id"], skipped["ordering_key"]) == (ids[3], "A")


def test_a_standard_queue_does_not_hold_back_a_users_later_message(
    write_log: WriteLog,
) -> None:
    # GIVEN a standard batch: user 5's first message is invalid, its second one is fine
    event = sqs_batch([profile(5, email="nope"), profile(5, name="Fixed")])
    # THEN only the invalid one is reported; the later one is applied
    assert failed_ids(invoke(event)) == [event["Records"][0]["messageId"]]
    assert write_log.count(PROFILES) == {("u-5",): 1}


@pytest.mark.parametrize(
    "poison",
    ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000],
    ids=["nested-lists", "nested-objects"],
)
def test_a_body_too_deep_to_key_fails_only_itself(
    write_log: WriteLog, log_lines: LogLines, poison: str
) -> None:
    # GIVEN a standard batch: two good messages around a 2 KB body of nested brackets,
    # whose ordering key cannot be computed (RecursionError in the JSON decoder)
    event = sqs_batch([profile(1), poison, profile(2)])
    poison_id = event["Records"][1]["messageId"]
    # WHEN the batch is handled
    response = invoke(event)
    # THEN only the poison message is reported, as rejected, and both good ones applied
    assert failed_ids(response) == [poison_id]
    assert write_log.count(PROFILES) == {("u-1",): 1, ("u-2",): 1}
    (line,) = log_lines.with_message("rejected record")
    assert line["record_id"] == poison_id


def test_an_ordering_key_that_raises_fails_only_its_record() -> None:
    # GIVEN a processor whose ordering key raises for one record
    from aws_lambda_powertools.utilities.batch import EventType, process_partial_response

    from lambda_dedup.batch import KeyedBatchProcessor
    from lambda_dedup.exceptions import OrderingKeyError

    def key(record: dict[str, Any]) -> str:
        if record["body"] == "bad":
            raise RecursionError("maximum recursion depth exceeded")
        return "k"

    ran: list[str] = []
    processor = KeyedBatchProcessor(EventType.SQS, key, stop_on_failure=True)
    event = sqs_batch(["good", "bad", "good"])
    # WHEN the batch is processed
    response = process_partial_response(
        event=event,
        record_handler=lambda record: ran.append(record.body),
        processor=processor,
        context=FakeLambdaContext(),  # type: ignore[arg-type]
    )
    # THEN only the bad record is reported, unprocessed (its place in the order is
    # unknown), as a rejection; the good ones ran, and the batch did not fail
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    assert ran == ["good", "good"]
    assert [entry[0] for entry in processor.entries] == ["success", "fail", "success"]
    (error,) = (info[1] for info in processor.exceptions)
    assert isinstance(error, OrderingKeyError)
    assert "RecursionError" in str(error)


def test_a_message_whose_ordering_key_cannot_be_read_is_rejected_alone(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a standard batch whose middle message has attributes that are not an object,
    # so that neither FIFO detection nor its ordering key can read a message group
    event = sqs_batch([profile(1), profile(2), profile(3)])
    event["Records"][1]["attributes"] = "not an object"
    bad = event["Records"][1]["messageId"]
    # WHEN the batch is handled
    response = invoke(event)
    # THEN only that message is reported, with one rejected-record line; the others applied
    assert failed_ids(response) == [bad]
    assert write_log.count(PROFILES) == {("u-1",): 1, ("u-3",): 1}
    (line,) = log_lines.with_message("rejected record")
    assert line["record_id"] == bad
    assert "ordering key" in line["reason"]
    assert log_lines.with_message("record failed") == []


def test_a_message_that_cannot_be_parsed_or_keyed_is_a_rejection_not_a_failure(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a standard batch with a message without messageAttributes (which Lambda always
    # sends) and one with an empty messageId (an unusable idempotency key), between
    # good ones
    event = sqs_batch([profile(1), profile(2), profile(3), profile(4)])
    del event["Records"][1]["messageAttributes"]
    event["Records"][2]["messageId"] = ""
    # WHEN the batch is handled
    response = invoke(event)
    # THEN both are reported, each with one rejected-record line (no retry can fix them),
    # never as transient failures; the good messages are applied
    assert failed_ids(response) == [event["Records"][1]["messageId"], ""]
    assert write_log.count(PROFILES) == {("u-1",): 1, ("u-4",): 1}
    # (the lines in either order: the two users' messages run concurrently)
    rejected = log_lines.with_message("rejected record")
    lines = {line["record_id"]: line for line in rejected}
    assert len(rejected) == 2
    assert set(lines) == {event["Records"][1]["messageId"], ""}
    assert lines[event["Records"][1]["messageId"]]["field"] == "messageAttributes"
    assert log_lines.with_message("record failed") == []
    batch = log_lines.with_message("batch processed")[-1]
    assert (batch["RecordsRejected"], batch["RecordsApplied"]) == (2, 2)


def test_a_standard_batch_of_ten_writes_concurrently(domain_env: str) -> None:
    # GIVEN ten messages for ten users, and a DynamoDB client on which every transaction
    # waits until ten are in flight
    barrier = threading.Barrier(10, timeout=10)

    def wait_for_all(**_: Any) -> None:
        barrier.wait()

    runtime.store().client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems", wait_for_all
    )
    # WHEN the batch is handled
    response = invoke(sqs_batch([profile(n) for n in range(10)]))
    # THEN all ten passed the barrier: the batch cost one round trip of latency, not ten
    assert failed_ids(response) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[1, 2, 3]", None),
        ({"email": "a@example.com"}, "user_id"),
        ({"user_id": "", "email": "a@example.com"}, "user_id"),
        ({"user_id": "u" * 129, "email": "a@example.com"}, "user_id"),
        ({"user_id": "u-1", "email": "not-an-address"}, "email"),
        ({"user_id": "u-1", "email": "a@example.com", "name": 42}, "name"),
        ({"user_id": "u-1", "email": "a@example.com", "request_id": 42}, "request_id"),
        ({"user_id": "u-1", "email": "a@example.com", "bio": "x" * 70_000}, None),
    ],
)
def test_an_invalid_profile_is_rejected_naming_the_field(
    write_log: WriteLog, log_lines: LogLines, body: Any, field: str | None
) -> None:
    event = sqs_batch([body])
    assert failed_ids(invoke(event)) == [event["Records"][0]["messageId"]]
    assert write_log.count(PROFILES) == {}
    (line,) = log_lines.with_message("rejected record")
    assert line.get("field") == field  # Powertools omits keys whose value is None
    assert line["source"] == "sqs"


def test_body_and_attribute_request_ids_must_agree(log_lines: LogLines, domain_env: str) -> None:
    event = sqs_batch([profile(1, request_id="r-1")], attributes=[{"request_id": "r-2"}])
    assert failed_ids(invoke(event)) != []
    assert log_lines.with_message("rejected record")[0]["field"] == "request_id"
