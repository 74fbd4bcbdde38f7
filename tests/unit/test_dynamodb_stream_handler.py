"""The DynamoDB Streams handler: one audit item per change, in per-item order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support.aws import ItemReader, WriteLog
from support.batches import change, dynamodb_stream_batch, failed_ids
from support.events import load_event
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from unit.conftest import AUDIT

from lambda_dedup.handlers import dynamodb_stream


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    context = FakeLambdaContext(function_name="dedup-dynamodb-audit")
    return dict(dynamodb_stream.handler(event, context))


def test_a_modify_becomes_one_audit_item_with_both_images(
    domain_env: str, read_item: ItemReader
) -> None:
    # GIVEN the realistic MODIFY record of a profile
    event = load_event("dynamodb_stream")
    # WHEN it is handled
    assert failed_ids(invoke(event)) == []
    # THEN the audit table holds the change, keyed by the stream record's eventID
    assert read_item(AUDIT, id="c81e728d9d4c2f636f067f89cc14862c") == {
        "id": "c81e728d9d4c2f636f067f89cc14862c",
        "event_name": "MODIFY",
        "source_table": "dedup-profiles",
        "keys": {"user_id": "u-1842"},
        "sequence_number": "111200000000004410523671",
        "changed_at": Decimal(1764452460),
        "old_image": {
            "user_id": "u-1842",
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "locale": "en-GB",
            "marketing_opt_in": False,
        },
        "new_image": {
            "user_id": "u-1842",
            "email": "ada.lovelace@example.org",
            "name": "Ada Lovelace",
            "locale": "en-GB",
            "marketing_opt_in": True,
            "logins": Decimal(12),
        },
    }


def test_insert_and_remove_carry_only_the_image_they_have(
    domain_env: str, read_item: ItemReader
) -> None:
    inserted, removed = change(1, old=False), change(2, new=False)
    assert failed_ids(invoke(dynamodb_stream_batch([inserted, removed]))) == []
    first = read_item(AUDIT, id=inserted.event_id)
    second = read_item(AUDIT, id=removed.event_id)
    assert first is not None
    assert second is not None
    assert (first["event_name"], "old_image" in first, "new_image" in first) == (
        "INSERT",
        False,
        True,
    )
    assert (second["event_name"], "old_image" in second, "new_image" in second) == (
        "REMOVE",
        True,
        False,
    )


def test_a_failure_holds_back_the_later_changes_of_the_same_item(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN three changes of item u-1, the second malformed, and one change of u-2
    first, third, other = change(1), change(1, name="Later"), change(2)
    event = dynamodb_stream_batch([first, {"eventName": "UPSERT"}, third, other])
    event["Records"][1]["dynamodb"]["Keys"] = {"user_id": {"S": "u-1"}}
    sequence = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
    # WHEN the batch is handled
    response = invoke(event)
    # THEN the malformed change and the later change of u-1 are reported
    assert failed_ids(response) == [sequence[1], sequence[2]]
    # AND only the changes before the failure, and u-2's, were audited
    assert write_log.count(AUDIT) == {(first.event_id,): 1, (other.event_id,): 1}
    assert log_lines.with_message("record skipped")[0]["record_id"] == sequence[2]


@pytest.mark.parametrize(
    ("damage", "field"),
    [
        (lambda r: r.update(eventName="UPSERT"), "eventName"),
        (lambda r: r.update(eventID=""), "eventID"),
        (lambda r: r["dynamodb"].pop("Keys"), "dynamodb.Keys"),
        (lambda r: r["dynamodb"].pop("SequenceNumber"), "SequenceNumber"),
        (
            lambda r: r["dynamodb"].update(NewImage={"email": {"XX": "?"}}),
            "dynamodb.NewImage.email",
        ),
        (
            lambda r: r["dynamodb"].update(ApproximateCreationDateTime="yesterday"),
            "dynamodb.ApproximateCreationDateTime",
        ),
    ],
)
def test_a_malformed_record_is_rejected_naming_the_field(
    write_log: WriteLog, log_lines: LogLines, damage: Any, field: str
) -> None:
    event = load_event("dynamodb_stream")
    damage(event["Records"][0])
    assert len(failed_ids(invoke(event))) == 1
    assert write_log.count(AUDIT) == {}
    (line,) = log_lines.with_message("rejected record")
    assert line["field"] == field


def test_a_change_too_large_to_audit_is_rejected_and_the_item_s_next_changes_wait(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a change whose old and new images are 250 KB each (over 400 KB together),
    # then a later change of the same item, and a small change of another item
    big = "a" * (250 * 1024)
    event = dynamodb_stream_batch(
        [change(1, bio=big), change(1, name="Later"), change(2, name="Other")]
    )
    event["Records"][0]["dynamodb"]["OldImage"]["bio"] = {"S": big}

    # WHEN the batch is handled
    failed = failed_ids(invoke(event))

    # THEN the large change is rejected -- no retry can make it fit -- naming DynamoDB's
    # limit, the same item's later change waits behind it, and the other item is audited
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in event["Records"][:2]]
    assert len(write_log.count(AUDIT)) == 1
    (line,) = log_lines.with_message("rejected record")
    assert "bytes per item" in line["reason"]
    assert line["field"] == "dynamodb.NewImage"


@pytest.mark.parametrize(
    "value",
    [{"N": "abc"}, {"N": "1e999999"}, {"L": [{"M": {"n": {"N": "not a number"}}}]}],
    ids=["not-a-number", "overflow", "nested"],
)
def test_a_change_with_an_unreadable_attribute_is_rejected_alone(
    write_log: WriteLog, log_lines: LogLines, value: dict[str, Any]
) -> None:
    # GIVEN three changes of three profiles; the middle one's new image holds an
    # attribute value that no Python number can hold (decimal raises, not ValueError)
    event = dynamodb_stream_batch([change(1), change(2), change(3)])
    event["Records"][1]["dynamodb"]["NewImage"]["score"] = value
    bad = event["Records"][1]["dynamodb"]["SequenceNumber"]
    # WHEN the batch is handled
    response = invoke(event)
    # THEN only it is reported, with one rejected-record line; the others are audited
    assert failed_ids(response) == [bad]
    assert len(write_log.count(AUDIT)) == 2
    (line,) = log_lines.with_message("rejected record")
    assert line["record_id"] == bad
    assert log_lines.with_message("record failed") == []


@pytest.mark.parametrize(
    "value",
    [
        {"N": 5},
        {"S": None},
        {"BOOL": "false"},
        {"NULL": False},
        {"B": "!!not base64"},
        {"SS": []},
        {"NS": ["NaN"]},
        {"S": "a", "N": "1"},
    ],
    ids=[
        "number-not-text",
        "null-string",
        "text-bool",
        "false-null",
        "bad-base64",
        "empty-set",
        "nan-set",
        "two-types",
    ],
)
def test_a_value_its_type_cannot_hold_is_rejected_not_coerced(
    write_log: WriteLog, log_lines: LogLines, value: dict[str, Any]
) -> None:
    # GIVEN a change whose new image holds a value its type cannot hold (Powertools'
    # deserializer turned {"N": 5} into a number and {"S": null} into NULL, and audited it)
    event = load_event("dynamodb_stream")
    event["Records"][0]["dynamodb"]["NewImage"]["extra"] = value
    # WHEN it is handled
    # THEN it is rejected, naming the attribute, and nothing is audited
    assert len(failed_ids(invoke(event))) == 1
    assert write_log.count(AUDIT) == {}
    (line,) = log_lines.with_message("rejected record")
    assert line["field"] == "dynamodb.NewImage.extra"


def test_binary_attributes_are_audited_as_binary(
    write_log: WriteLog, read_item: ItemReader
) -> None:
    # GIVEN a change whose image holds a binary value and a binary set (base64 in the event)
    event = load_event("dynamodb_stream")
    image = event["Records"][0]["dynamodb"]["NewImage"]
    image.update(avatar={"B": "AAEC"}, keys={"BS": ["AAEC", "/w=="]})
    # WHEN it is audited
    invoke(event)
    # THEN the audit keeps their type and bytes, not the base64 text as a string
    item = read_item(AUDIT, id=event["Records"][0]["eventID"])
    assert item is not None
    assert bytes(item["new_image"]["avatar"]) == b"\x00\x01\x02"
    assert {bytes(member) for member in item["new_image"]["keys"]} == {b"\x00\x01\x02", b"\xff"}
