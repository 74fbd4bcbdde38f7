"""The local SQS poller: batches, partial batch responses, redelivery and the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from support.batches import profile
from support.functions import deploy, runner_environment
from unit.conftest import PROFILES, TABLE

from lambda_dedup.local import Invoker
from lambda_dedup.local.sqs import SqsMapping, SqsPoller, failed_ids


@pytest.fixture
def queues(domain_env: str) -> tuple[Any, str, str]:
    """A queue whose messages move to its DLQ after two receives, visible again after 1 s."""
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="updates-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    queue = sqs.create_queue(
        QueueName="updates",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 2}
            ),
        },
    )["QueueUrl"]
    return sqs, queue, dlq


def poller_for(handler: str, sqs: Any, queue: str, environment: dict[str, str]) -> SqsPoller:
    """Deploy a function, map the queue to it in the emulator, and read the mapping back."""
    client = boto3.client("lambda")
    deploy(client, "consumer", handler, {"DEDUP_TABLE_NAME": TABLE, **environment})
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    client.create_event_source_mapping(
        EventSourceArn=arn["Attributes"]["QueueArn"],
        FunctionName="consumer",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    (mapping,) = client.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]
    return SqsPoller(
        Invoker(client, runner_environment()), sqs, SqsMapping.from_api(mapping), region="us-east-1"
    )


def depth(sqs: Any, queue: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def profiles_written(dynamodb: Any) -> list[str]:
    items = dynamodb.scan(TableName=PROFILES)["Items"]
    return sorted(item["user_id"]["S"] for item in items)


def test_failed_messages_come_back_then_go_to_the_dlq_and_nothing_is_lost(
    queues: tuple[Any, str, str], dynamodb: Any
) -> None:
    # GIVEN the SQS function mapped to a queue holding three profiles, a producer's retry
    # of one of them (same request_id) and a malformed message
    sqs, queue, dlq = queues
    poller = poller_for(
        "lambda_dedup.handlers.sqs.handler", sqs, queue, {"PROFILES_TABLE_NAME": PROFILES}
    )
    bodies = [
        profile(1, request_id="r-1"),
        profile(2, request_id="r-2"),
        profile(3, request_id="r-3"),
        profile(1, request_id="r-1"),
    ]
    for body in [*bodies, "{not json"]:
        sqs.send_message(
            QueueUrl=queue, MessageBody=body if isinstance(body, str) else json.dumps(body)
        )
    # WHEN the poller delivers the batch
    outcome = poller.poll_once()
    # THEN the function got all five, and only the malformed one stayed on the queue
    assert outcome is not None
    assert (len(outcome.received), len(outcome.deleted), len(outcome.failed)) == (5, 4, 1)
    assert profiles_written(dynamodb) == ["u-1", "u-2", "u-3"]
    # WHEN it comes back after the visibility timeout and fails again
    time.sleep(1.1)
    again = poller.poll_once()
    assert again is not None
    assert again.failed == outcome.failed
    # THEN the queue's redrive policy moves it to the DLQ on the next receive
    time.sleep(1.1)
    assert poller.poll_once() is None
    (dead,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert dead["Body"] == "{not json"
    # AND sent = unique effects + duplicates suppressed (acknowledged, no new effect) +
    # dead-lettered, counted from the emulator's table and queues
    assert depth(sqs, queue) == 0
    unique = len(profiles_written(dynamodb))
    duplicates = len(outcome.deleted) - unique
    assert (unique, duplicates, depth(sqs, dlq)) == (3, 1, 1)
    assert unique + duplicates + depth(sqs, dlq) == 5


def test_a_raising_function_deletes_nothing(queues: tuple[Any, str, str]) -> None:
    sqs, queue, _ = queues
    poller = poller_for("support.local_handlers.fail", sqs, queue, {})
    sqs.send_message(QueueUrl=queue, MessageBody="a")
    sqs.send_message(QueueUrl=queue, MessageBody="b")
    outcome = poller.poll_once()
    assert outcome is not None
    assert outcome.invocation.failed
    assert (len(outcome.deleted), len(outcome.failed)) == (0, 2)
    assert depth(sqs, queue) == 2


def test_the_records_are_shaped_as_lambda_delivers_them(queues: tuple[Any, str, str]) -> None:
    sqs, queue, _ = queues
    poller = poller_for("support.local_handlers.report", sqs, queue, {})
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="hello",
        MessageAttributes={"request_id": {"DataType": "String", "StringValue": "r-9"}},
    )
    outcome = poller.poll_once()
    assert outcome is not None
    (record,) = outcome.invocation.response["event"]["Records"]
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == poller.mapping.queue_arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["request_id"] == {
        "stringValue": "r-9",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    # The reporter returns no batchItemFailures: the whole batch succeeded.
    assert depth(sqs, queue) == 0


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{}]}, None),
        ("ok", None),
    ],
)
def test_an_invalid_partial_batch_response_fails_the_whole_batch(
    response: Any, expected: set[str] | None
) -> None:
    assert failed_ids(response, {"a", "b"}) == expected


def test_a_queue_is_not_idle_while_a_message_is_visible_again(aws: Any) -> None:
    # GIVEN a mapped queue whose failed message became visible again between a pass's
    # receive and the idle check (its redelivery delay just ended)
    from types import SimpleNamespace

    from lambda_dedup.local.runner import Runner

    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="visible-again")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    runner = Runner(aws.client, {}, region=aws.region)
    runner.sqs = [SimpleNamespace(queue_url=url)]  # type: ignore[list-item]

    # WHEN the runner asks whether anything is left to deliver
    # THEN the visible message counts: the runner must not stop with it in the queue
    assert runner._in_flight() == 1
    runner.invoker.close()
