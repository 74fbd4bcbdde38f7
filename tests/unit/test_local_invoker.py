"""The local invoker: deployed functions, read from the emulator, each run from its zip in
an execution environment of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.awslambda.models import LambdaFunction
from support.aws import ItemReader
from support.events import load_event
from support.functions import deploy, runner_environment

from lambda_dedup.local import Invoker


@pytest.fixture
def lambda_client(dynamodb: Any) -> Any:
    """A Lambda client on moto in-process (the ``dynamodb`` fixture's mock is active)."""
    return boto3.client("lambda")


@pytest.fixture
def invoker(lambda_client: Any) -> Iterator[Invoker]:
    """An invoker whose functions reach moto through the in-process server."""
    with Invoker(lambda_client, runner_environment()) as invoker:
        yield invoker


def test_the_handler_runs_with_the_deployed_environment_and_a_lambda_context(
    lambda_client: Any, invoker: Invoker
) -> None:
    # GIVEN a function deployed with its handler path and environment
    arn = deploy(lambda_client, "reporter", "support.local_handlers.report", {"GREETING": "hi"})
    endpoint = runner_environment()["AWS_ENDPOINT_URL"]
    # WHEN it is invoked
    invocation = invoker.invoke("reporter", {"n": 1})
    # THEN the handler ran with the deployed environment, the base one and a context
    assert not invocation.failed
    seen = invocation.response
    assert seen["event"] == {"n": 1}
    assert (seen["greeting"], seen["endpoint"]) == ("hi", endpoint)
    assert (seen["function_name"], seen["invoked_function_arn"]) == ("reporter", arn)
    assert seen["aws_request_id"] == invocation.request_id
    assert 19_000 < seen["remaining_ms"] <= 20_000
    assert seen["memory"] == 512
    # AND the process's environment is as it was
    assert "GREETING" not in os.environ


def test_each_invocation_has_its_own_request_id(lambda_client: Any, invoker: Invoker) -> None:
    deploy(lambda_client, "reporter", "support.local_handlers.report", {})
    first, second = invoker.invoke("reporter", {}), invoker.invoke("reporter", {})
    assert first.request_id != second.request_id


def test_a_raising_handler_is_a_failed_invocation_with_lambdas_error_payload(
    lambda_client: Any, invoker: Invoker
) -> None:
    deploy(lambda_client, "failing", "support.local_handlers.fail", {})
    invocation = invoker.invoke("failing", "x")
    assert invocation.failed
    assert invocation.error is not None
    payload = invocation.error.payload()
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "cannot handle 'x'")
    assert payload["requestId"] == invocation.request_id
    assert any("local_handlers.py" in line for line in payload["stackTrace"])


def test_a_project_handler_writes_through_the_emulator(
    lambda_client: Any, invoker: Invoker, table: str, read_item: ItemReader
) -> None:
    # GIVEN the inbox function as the root module deploys it
    deploy(
        lambda_client,
        "dedup-inbox",
        "lambda_dedup.handlers.inbox.handler",
        {"DEDUP_TABLE_NAME": table},
    )
    command = load_event("direct_invoke")
    # WHEN the same command is invoked twice
    first, again = invoker.invoke("dedup-inbox", command), invoker.invoke("dedup-inbox", command)
    # THEN the inbox holds it once and both invocations got the first receipt
    assert first.response == again.response
    assert first.response["request_id"] == first.request_id
    assert read_item(table, id=f"inbox#{command['id']}") is not None


def test_moto_leaves_every_delivery_to_the_runner(
    lambda_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function mapped to a queue, a stream and a table stream, notified by a bucket
    # and subscribed to a topic, and a record of every invocation moto would attempt
    attempts: list[Any] = []
    monkeypatch.setattr(LambdaFunction, "invoke", lambda *args, **_: attempts.append(args))
    arn = deploy(lambda_client, "reporter", "support.local_handlers.report", {})
    sqs, kinesis, dynamodb = boto3.client("sqs"), boto3.client("kinesis"), boto3.client("dynamodb")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
    table = dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    for source in (queue_arn["Attributes"]["QueueArn"], stream_arn, table["LatestStreamArn"]):
        lambda_client.create_event_source_mapping(
            EventSourceArn=source, FunctionName="reporter", StartingPosition="TRIM_HORIZON"
        )
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads-test")
    s3.put_bucket_notification_configuration(
        Bucket="uploads-test",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="signups")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    # WHEN every source gets an event
    sqs.send_message(QueueUrl=queue, MessageBody="{}")
    kinesis.put_record(StreamName="clicks", Data=b"{}", PartitionKey="p")
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "1"}})
    s3.put_object(Bucket="uploads-test", Key="a.json", Body=b"{}")
    sns.publish(TopicArn=topic, Message="{}")
    # THEN moto attempted no invocation, and the queue's message was never received
    assert attempts == []
    (message,) = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
