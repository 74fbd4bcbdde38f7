"""Hostile payloads in every handler: what DynamoDB cannot store is rejected before the
first write, naming the field, never retried as a service error.

Each payload is JSON that Python's ``json`` module parses, but DynamoDB cannot store.
Before this check, each one ended as ``record failed`` or ``event failed``, retried to
exhaustion, or as an API 503 "retry with the same key" that no retry could ever fix.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.aws import WriteLog
from support.batches import (
    change,
    dynamodb_stream_batch,
    failed_ids,
    kinesis_batch,
    profile,
    sqs_batch,
)
from support.events import load_event
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from support.push_events import http_request, instance_state_change, sns_event
from unit.conftest import AUDIT, COUNTERS, PROFILES

from lambda_dedup import InvalidEventError, InvalidKeyError, UnstorableValueError, effects
from lambda_dedup.handlers import api, dynamodb_stream, eventbridge, inbox, kinesis, sns, sqs
from lambda_dedup.local.functions import write_function_output_to
from lambda_dedup.storable import check_item


def _deep(levels: int) -> str:
    """A JSON value ``levels`` lists deep around a number."""
    return "[" * levels + "1" + "]" * levels


# One extra field of a profile (or command data), as raw JSON text, and the field blamed.
HOSTILE = {
    "nan": ('"score": NaN', "score"),
    "infinity": ('"score": -Infinity', "score"),
    "1e400": ('"score": 1e400', "score"),
    "1e-200": ('"score": 1e-200', "score"),
    "39-digits": ('"score": 123456789012345678901234567890123456789', "score"),
    "lone-surrogate": ('"name": "Ada \\ud800"', "name"),
    "surrogate-name": ('"\\udc00": 1', "\udc00"),
    # 32 lists: the number inside is at level 33, the first value past DynamoDB's 32.
    "33-levels": (f'"deep": {_deep(32)}', "deep" + "[0]" * 32),
}
CASES = list(HOSTILE.values())
IDS = list(HOSTILE)


def _profile_text(user: str, extra: str) -> str:
    return f'{{"user_id": "{user}", "email": "{user}@example.com", {extra}}}'


@pytest.mark.parametrize(("extra", "field"), CASES, ids=IDS)
def test_sqs_rejects_the_record_alone(
    write_log: WriteLog, log_lines: LogLines, extra: str, field: str
) -> None:
    # GIVEN a standard batch whose middle message carries a value DynamoDB cannot store
    event = sqs_batch([profile(1), _profile_text("u-2", extra), profile(3)])
    bad = event["Records"][1]["messageId"]
    # WHEN it is handled
    response = sqs.handler(event, FakeLambdaContext(function_name="dedup-sqs-profiles"))
    # THEN only that message is reported, as a rejection naming the field; nothing of it
    # was written, and the others were applied
    assert failed_ids(response) == [bad]
    (line,) = log_lines.with_message("rejected record")
    assert (line["record_id"], line["field"]) == (bad, field)
    assert log_lines.with_message("record failed") == []
    assert write_log.count(PROFILES) == {("u-1",): 1, ("u-3",): 1}


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"request_id": {"dataType": "Binary", "binaryValue": "AAEC"}}, "request_id"),
        ({"request_id": {"dataType": "Number", "stringValue": "7"}}, "request_id"),
        ({"request_id": "r-1"}, "request_id"),
        (None, "messageAttributes"),
    ],
    ids=["binary-request-id", "number-request-id", "not-an-attribute", "null-attributes"],
)
def test_sqs_rejects_wrongly_typed_message_attributes(
    write_log: WriteLog, log_lines: LogLines, attributes: Any, field: str
) -> None:
    # GIVEN a message whose request_id attribute, or attribute map, has the wrong type
    event = sqs_batch([profile(1), profile(2)])
    event["Records"][1]["messageAttributes"] = attributes
    # WHEN it is handled
    response = sqs.handler(event, FakeLambdaContext(function_name="dedup-sqs-profiles"))
    # THEN it is rejected, naming the attribute, and never keyed by its messageId instead
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    (line,) = log_lines.with_message("rejected record")
    assert line["field"] == field
    assert write_log.count(PROFILES) == {("u-1",): 1}


@pytest.mark.parametrize(
    "user_id", ["u-\ud800", "\udfff"], ids=["lone-high-surrogate", "lone-low-surrogate"]
)
def test_kinesis_rejects_a_counter_key_dynamodb_cannot_store(
    write_log: WriteLog, log_lines: LogLines, user_id: str
) -> None:
    # GIVEN an activity whose user_id (part of the counter's key) is a lone surrogate
    event = kinesis_batch([{"event_id": "e-1", "user_id": "u-1", "type": "t"}, b""])
    text = json.dumps({"event_id": "e-2", "user_id": user_id, "type": "t"})
    event["Records"][1]["kinesis"]["data"] = base64.b64encode(text.encode()).decode()
    bad = event["Records"][1]["kinesis"]["sequenceNumber"]
    # WHEN it is handled
    response = kinesis.handler(event, FakeLambdaContext(function_name="dedup-kinesis"))
    # THEN it alone is rejected, naming the field
    assert failed_ids(response) == [bad]
    (line,) = log_lines.with_message("rejected record")
    assert line["field"] == "user_id"
    assert write_log.count(COUNTERS) == {("u-1", "t"): 1}


def test_dynamodb_stream_counts_the_level_the_audit_item_adds(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a change whose new image is storable in its own table (a number inside 31
    # lists: level 32, the deepest DynamoDB stores)...
    deep = json.loads(_deep(31))
    check_item({**profile(2), "deep": deep})
    event = dynamodb_stream_batch([change(1), change(2, deep=deep)])
    bad = event["Records"][1]["dynamodb"]["SequenceNumber"]
    # WHEN it is audited: the image becomes one attribute of the audit item, a level down
    response = dynamodb_stream.handler(event, FakeLambdaContext(function_name="dedup-audit"))
    # THEN it is rejected before any write (level 33), and the other change audited
    assert failed_ids(response) == [bad]
    (line,) = log_lines.with_message("rejected record")
    assert line["field"].startswith("new_image.deep")
    assert len(write_log.count(AUDIT)) == 1


@pytest.mark.parametrize(("extra", "field"), CASES, ids=IDS)
def test_the_api_answers_400_naming_the_field(
    write_log: WriteLog, log_lines: LogLines, extra: str, field: str
) -> None:
    # GIVEN a POST whose body carries a value DynamoDB cannot store
    event = http_request("POST", "/profiles", _profile_text("u-1", extra), key="k-1")
    # WHEN it is handled
    response = api.handler(event, FakeLambdaContext(function_name="dedup-api"))
    # THEN the client gets a 400 that names the field, and nothing was written or claimed
    assert response["statusCode"] == 400, response
    body = json.loads(response["body"])
    assert body["error"]["field"] == field
    assert write_log.count(PROFILES) == {}
    assert log_lines.with_message("request failed") == []
    # AND the same key with a storable body is a new request, not a 409 or a replay
    retry = http_request("POST", "/profiles", profile(1), key="k-1")
    assert api.handler(retry, FakeLambdaContext(function_name="dedup-api"))["statusCode"] == 201


@pytest.mark.parametrize(("extra", "field"), CASES, ids=IDS)
def test_sns_rejects_the_event(
    write_log: WriteLog, log_lines: LogLines, extra: str, field: str
) -> None:
    # GIVEN a notification whose profile carries a value DynamoDB cannot store
    event = sns_event(_profile_text("u-1", extra))
    # WHEN it is handled / THEN it is rejected (the retries fail alike, then the
    # on-failure destination), naming the field, before any claim
    with pytest.raises(InvalidEventError):
        sns.handler(event, FakeLambdaContext(function_name="dedup-sns-welcome"))
    (line,) = log_lines.with_message("rejected event")
    assert line["field"] == field
    assert log_lines.with_message("event failed") == []


@pytest.mark.parametrize(
    "attributes",
    [{"idempotency_key": "k"}, {"idempotency_key": None, "other": 1}, "not an object"],
    ids=["attribute-not-object", "null-attribute", "attributes-not-object"],
)
def test_sns_rejects_a_wrongly_typed_idempotency_key(
    domain_env: str, log_lines: LogLines, attributes: Any
) -> None:
    # GIVEN a notification whose idempotency_key attribute (or attribute map) is no object
    event = sns_event(profile(1))
    event["Records"][0]["Sns"]["MessageAttributes"] = attributes
    if isinstance(attributes, dict) and attributes.get("idempotency_key") is None:
        event["Records"][0]["Sns"]["MessageAttributes"] = {"idempotency_key": 7}
    # WHEN it is handled / THEN it is a rejection, never an "event failed"
    with pytest.raises(InvalidEventError):
        sns.handler(event, FakeLambdaContext(function_name="dedup-sns-welcome"))
    assert len(log_lines.with_message("rejected event")) == 1
    assert log_lines.with_message("event failed") == []


@pytest.mark.parametrize(("extra", "field"), CASES, ids=IDS)
def test_the_inbox_rejects_the_command(
    write_log: WriteLog, log_lines: LogLines, extra: str, field: str
) -> None:
    # GIVEN a command whose data carries a value DynamoDB cannot store
    command = load_event("direct_invoke")
    text = json.dumps(command).replace('"data": {', f'"data": {{{extra}, ', 1)
    assert text != json.dumps(command)
    # WHEN it is invoked / THEN it is rejected before any write, naming the field one
    # level down: the inbox stores "data" as an attribute
    with pytest.raises(InvalidEventError):
        inbox.handler(json.loads(text), FakeLambdaContext(function_name="dedup-inbox"))
    (line,) = log_lines.with_message("rejected event")
    # "data" is itself a level: the deep list's first value past level 32 is one list up
    expected = f"data.{field}".removesuffix("[0]") if field.startswith("deep") else f"data.{field}"
    assert line["field"] == expected
    assert log_lines.with_message("event failed") == []


def test_eventbridge_rejects_a_detail_dynamodb_cannot_store(
    write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a state change whose state is a lone surrogate
    event = instance_state_change(state="\ud800")
    # WHEN it is handled / THEN it is rejected, naming the field of the item
    with pytest.raises(InvalidEventError):
        eventbridge.handler(event, FakeLambdaContext(function_name="dedup-instance-states"))
    (line,) = log_lines.with_message("rejected event")
    assert line["field"] == "state"


def test_a_rejection_happens_before_the_first_write() -> None:
    # GIVEN the effect builders / WHEN given what DynamoDB refuses / THEN they raise, so
    # that a transaction holding it is never sent
    with pytest.raises(UnstorableValueError) as caught:
        effects.put("t", {"pk": "a", "n": float("nan")})
    assert caught.value.field == "n"
    with pytest.raises(UnstorableValueError):
        effects.increment("t", {"pk": "\ud800"}, "count")


class StrictUtf8Output(io.StringIO):
    """Standard output as the Lambda runtime has it: strict UTF-8, so that text without a
    UTF-8 form (a lone surrogate) cannot be written, and ``logging`` drops the line."""

    def write(self, text: str) -> int:
        text.encode("utf-8")
        return super().write(text)


@pytest.fixture
def strict_log_lines() -> Iterator[LogLines]:
    stream = StrictUtf8Output()
    previous = write_function_output_to(stream)
    yield LogLines(stream)
    write_function_output_to(previous)


def test_a_rejection_naming_a_lone_surrogate_is_logged_on_lambdas_output(
    write_log: WriteLog, strict_log_lines: LogLines
) -> None:
    # GIVEN a batch whose second message has a key that is a lone surrogate, and standard
    # output that is strict UTF-8, as Lambda's is
    event = sqs_batch([profile(1), _profile_text("u-2", '"\\udc00": 1')])
    # WHEN it is handled
    response = sqs.handler(event, FakeLambdaContext(function_name="dedup-sqs-profiles"))
    # THEN the rejection is logged, naming the key (written as its JSON escape): the line
    # that explains the failure is not lost
    assert failed_ids(response) == [event["Records"][1]["messageId"]]
    (line,) = strict_log_lines.with_message("rejected record")
    assert line["field"] == "\udc00"


def test_a_rejected_command_whose_id_is_a_lone_surrogate_is_logged_on_lambdas_output(
    domain_env: str, strict_log_lines: LogLines
) -> None:
    # GIVEN a command whose id is a lone surrogate (no usable key), and strict UTF-8 output
    command = {"id": "cmd-\ud800", "type": "t"}
    # WHEN it is invoked / THEN it is rejected, with its one "rejected event" line written
    with pytest.raises(InvalidKeyError):
        inbox.handler(command, FakeLambdaContext(function_name="dedup-inbox"))
    (line,) = strict_log_lines.with_message("rejected event")
    assert line["command_id"] == "cmd-\ud800"
    assert strict_log_lines.with_message("event failed") == []
