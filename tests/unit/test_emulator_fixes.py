"""The emulator's fixes that the local runner relies on, each against moto in-process
(the ``dynamodb`` fixture is what starts it)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import emulator
import pytest
from moto.dynamodbstreams.models import dynamodbstreams_backends
from support.plan import ACCOUNT, REGION


def stream_reader(stream_arn: str) -> Any:
    """Read the table's only shard through moto's DynamoDB Streams backend (its boto3
    client is not routed by moto in-process), following one iterator as a reader does."""
    backend = dynamodbstreams_backends[ACCOUNT][REGION]
    shard = backend.describe_stream(stream_arn)["Shards"][0]
    iterator = backend.get_shard_iterator(stream_arn, shard["ShardId"], "TRIM_HORIZON").arn

    def read() -> list[str]:
        nonlocal iterator
        page = backend.get_records(iterator, 100)
        iterator = page["NextShardIterator"]
        return [record["dynamodb"]["Keys"]["pk"]["S"] for record in page["Records"]]

    return read


def test_a_cancelled_transaction_leaves_no_record_in_the_stream(dynamodb: Any) -> None:
    # GIVEN a table with a stream, an item, and a reader with an open iterator
    table = dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "first"}})
    read = stream_reader(table["LatestStreamArn"])
    assert read() == ["first"]

    # WHEN a transaction writes an item, then is cancelled by its second condition
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "items", "Item": {"pk": {"S": "cancelled"}}}},
                {
                    "Put": {
                        "TableName": "items",
                        "Item": {"pk": {"S": "first"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "later"}})

    # THEN the open iterator sees the later change, and never the cancelled one
    assert read() == ["later"]


def test_put_events_reaches_a_rules_other_targets_when_one_is_a_function(dynamodb: Any) -> None:
    # GIVEN a rule whose targets are a function and a queue
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events.put_rule(Name="stopped", EventPattern=json.dumps({"source": ["aws.ec2"]}))
    events.put_targets(
        Rule="stopped",
        Targets=[
            {"Id": "fn", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"},
            {"Id": "tap", "Arn": queue_arn["Attributes"]["QueueArn"]},
        ],
    )

    # WHEN an event matching the rule is put
    answer = events.put_events(
        Entries=[{"Source": "aws.ec2", "DetailType": "x", "Detail": json.dumps({"a": 1})}]
    )

    # THEN moto accepted it (instead of raising NotImplementedError) and the queue got it
    assert answer["FailedEntryCount"] == 0
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"a": 1}


def test_a_tls_only_bucket_policy_does_not_deny_the_emulators_plain_http(dynamodb: Any) -> None:
    # GIVEN a bucket whose policy denies requests without TLS, and denies one key outright
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads-test")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                **deny,
                "Resource": "arn:aws:s3:::uploads-test/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {**deny, "Resource": "arn:aws:s3:::uploads-test/locked"},
        ],
    }
    s3.put_bucket_policy(Bucket="uploads-test", Policy=json.dumps(policy))

    # WHEN objects are written / THEN the TLS-only statement stands aside for the
    # emulator's endpoint, and the unconditional one is still enforced
    s3.put_object(Bucket="uploads-test", Key="a.json", Body=b"{}")
    assert s3.get_object(Bucket="uploads-test", Key="a.json")["Body"].read() == b"{}"
    with pytest.raises(s3.exceptions.ClientError):
        s3.put_object(Bucket="uploads-test", Key="locked", Body=b"{}")


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


def _put(dynamodb: Any, **attributes: Any) -> str | None:
    """Put one item with ``attributes``; the error message if DynamoDB refuses it."""
    try:
        dynamodb.put_item(TableName="limits", Item={"pk": {"S": "x"}, **attributes})
    except dynamodb.exceptions.ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        return f"{code}: {message}"
    return None


@pytest.fixture
def limits_table(dynamodb: Any) -> Any:
    dynamodb.create_table(
        TableName="limits",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


@pytest.mark.parametrize(
    ("attributes", "refused"),
    [
        # A string inside 31 maps is at level 32 (the top-level attribute is level 1).
        ({"d": _nested(31)}, None),
        ({"d": _nested(32)}, "Nesting Levels have exceeded supported limits"),
        ({"n": {"N": "9" * 38}}, None),
        ({"n": {"N": "1" * 39}}, "more than 38 significant digits"),
        ({"n": {"N": "1e-200"}}, "overflow or underflow"),
        ({"n": {"N": "1e126"}}, "overflow or underflow"),
        ({"s": {"S": "x" * 400_000}}, None),
        ({"s": {"S": "x" * 410_000}}, "Item size has exceeded"),
        # 310,000 bytes are 413,336 characters of base64: DynamoDB counts the bytes.
        ({"b": {"B": b"x" * 310_000}}, None),
        ({"b": {"B": b"x" * 410_000}}, "Item size has exceeded"),
    ],
    ids=[
        "32-levels",
        "33-levels",
        "38-digits",
        "39-digits",
        "underflow",
        "overflow",
        "400000-chars",
        "410000-chars",
        "310000-bytes",
        "410000-bytes",
    ],
)
def test_dynamodb_item_limits_are_dynamodbs(
    limits_table: Any, attributes: dict[str, Any], refused: str | None
) -> None:
    # GIVEN an item at or past one of DynamoDB's limits
    # WHEN it is put, alone and in a transaction
    message = _put(limits_table, **attributes)
    # THEN the emulator refuses exactly what DynamoDB refuses, with its message
    if refused is None:
        assert message is None
    else:
        assert message is not None
        assert message.startswith("ValidationException: ")
        assert refused in message
        with pytest.raises(limits_table.exceptions.ClientError, match=refused):
            limits_table.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "limits", "Item": {"pk": {"S": "y"}, **attributes}}}
                ]
            )


def test_a_transaction_meeting_another_on_the_same_item_is_cancelled(
    limits_table: Any,
) -> None:
    # GIVEN a transaction on counter "ada" in progress: it waits for the request lock,
    # which the test holds, as a slow transaction in DynamoDB would hold the item
    def add(pk: str) -> dict[str, Any]:
        update = {
            "TableName": "limits",
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        return {"Update": update}

    first = threading.Thread(
        target=lambda: limits_table.transact_write_items(TransactItems=[add("ada")])
    )
    with emulator._atomic_lock:
        first.start()
        deadline = time.monotonic() + 5
        while not emulator._in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        # WHEN another transaction touches the same item meanwhile
        with pytest.raises(limits_table.exceptions.TransactionCanceledException) as raised:
            limits_table.transact_write_items(TransactItems=[add("bob"), add("ada")])
    first.join(5)
    # THEN it is cancelled for a conflict on that item only, and the first one applies
    codes = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert codes == ["None", "TransactionConflict"]
    items = limits_table.scan(TableName="limits")["Items"]
    assert [(i["pk"]["S"], i["n"]["N"]) for i in items] == [("ada", "1")]
    # and once it is done, the same item may be written again
    limits_table.transact_write_items(TransactItems=[add("ada")])
    assert not emulator._in_flight


def _bucket_to_eventbridge(versioned: bool) -> tuple[Any, Any, str]:
    """A bucket sending its events to EventBridge, a rule on the default bus for its
    created objects, and a queue as the rule's target: (s3, sqs, queue URL)."""
    s3, sqs, events = boto3.client("s3"), boto3.client("sqs"), boto3.client("events")
    s3.create_bucket(Bucket="shared")
    if versioned:
        s3.put_bucket_versioning(Bucket="shared", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket="shared", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url = sqs.create_queue(QueueName="s3-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"]}
    events.put_rule(Name="created", EventPattern=json.dumps(pattern))
    target = {"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}
    events.put_targets(Rule="created", Targets=[target])
    # A rule on another bus: S3 sends to the default bus only.
    events.create_event_bus(Name="other")
    events.put_rule(Name="other", EventBusName="other", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="other", EventBusName="other", Targets=[{**target, "Id": "o"}])
    return s3, sqs, url


@pytest.mark.parametrize("versioned", [True, False], ids=["versioned", "unversioned"])
def test_s3_sends_eventbridge_events_in_its_own_shape(dynamodb: Any, versioned: bool) -> None:
    # GIVEN a bucket with EventBridge notifications on, and a rule for its created objects
    s3, sqs, url = _bucket_to_eventbridge(versioned)
    # WHEN one key is written twice
    puts = [s3.put_object(Bucket="shared", Key="in/a b.json", Body=body) for body in (b"1", b"2")]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    events = [json.loads(m["Body"]) for m in messages]
    # THEN the rule got one event per write (once: not again through another bus's rule),
    # each in S3's shape: etag, a sequencer that grows, the API as the reason, an ISO time
    assert len(events) == 2
    objects = [event["detail"]["object"] for event in events]
    assert [o["etag"] for o in objects] == [p["ETag"].strip('"') for p in puts]
    assert "eTag" not in objects[0]
    assert int(objects[0]["sequencer"], 16) < int(objects[1]["sequencer"], 16)
    assert [o.get("version-id") for o in objects] == [p.get("VersionId") for p in puts]
    assert all(o["key"] == "in/a b.json" for o in objects)  # not URL-encoded
    assert {event["detail"]["reason"] for event in events} == {"PutObject"}
    assert events[0]["id"] != events[1]["id"]
    assert time.strptime(events[0]["time"], "%Y-%m-%dT%H:%M:%SZ")
