"""Local asynchronous invocation: retries, then Lambda's invocation record to the destination."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
from support.batches import profile
from support.functions import deploy, runner_environment
from support.push_events import s3_event
from unit.conftest import PROFILES, TABLE

from lambda_dedup.local import Invoker
from lambda_dedup.local.asynchronous import AsyncInvoker


def client_for(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


def async_function(
    handler: str, destination: str | None, *, retries: int = 2, **environment: str
) -> AsyncInvoker:
    client = boto3.client("lambda")
    deploy(client, "async-consumer", handler, {"DEDUP_TABLE_NAME": TABLE, **environment})
    config: dict[str, Any] = {"FunctionName": "async-consumer", "MaximumRetryAttempts": retries}
    if destination is not None:
        config["DestinationConfig"] = {"OnFailure": {"Destination": destination}}
    client.put_function_event_invoke_config(**config)
    return AsyncInvoker(Invoker(client, runner_environment()), client, client_for)


def records_in(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_a_malformed_upload_is_retried_twice_then_recorded_at_the_destination(
    failures: tuple[Any, str, str],
) -> None:
    # GIVEN the S3 function, and a file in its bucket that is not a profile
    sqs, url, arn = failures
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads-test")
    put = s3.put_object(Bucket="uploads-test", Key="profiles/bad.json", Body=b"{not json")
    event = s3_event("uploads-test", "profiles/bad.json", sequencer="00A1", etag=put["ETag"])
    invoker = async_function("lambda_dedup.handlers.s3.handler", arn, PROFILES_TABLE_NAME=PROFILES)
    # WHEN it is notified asynchronously
    outcome = invoker.invoke("async-consumer", event)
    # THEN Lambda's three attempts failed, and the invocation record went to the queue
    assert len(outcome.invocations) == 3
    assert not outcome.succeeded
    (record,) = records_in(sqs, url)
    assert record == outcome.record
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(":function:async-consumer:$LATEST")
    assert record["requestPayload"] == event
    assert record["responsePayload"]["errorType"] == "InvalidEventError"
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_a_valid_upload_is_applied_on_the_first_attempt(
    failures: tuple[Any, str, str], dynamodb: Any
) -> None:
    sqs, url, arn = failures
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads-test")
    put = s3.put_object(Bucket="uploads-test", Key="profiles/u-1.json", Body=json.dumps(profile(1)))
    invoker = async_function("lambda_dedup.handlers.s3.handler", arn, PROFILES_TABLE_NAME=PROFILES)
    event = s3_event("uploads-test", "profiles/u-1.json", etag=put["ETag"])
    outcome = invoker.invoke("async-consumer", event)
    assert (len(outcome.invocations), outcome.succeeded, outcome.record) == (1, True, None)
    assert dynamodb.get_item(TableName=PROFILES, Key={"user_id": {"S": "u-1"}}).get("Item")
    assert records_in(sqs, url) == []


def test_a_transient_failure_succeeds_on_the_retry_and_sends_nothing(
    failures: tuple[Any, str, str],
) -> None:
    sqs, url, arn = failures
    invoker = async_function("support.local_handlers.flaky", arn)
    outcome = invoker.invoke("async-consumer", {"id": str(uuid.uuid4())})
    assert [i.failed for i in outcome.invocations] == [True, False]
    assert outcome.invocations[-1].response == "ok after 2"
    assert outcome.record is None
    assert records_in(sqs, url) == []


def test_no_retries_when_the_config_says_zero(failures: tuple[Any, str, str]) -> None:
    sqs, url, arn = failures
    invoker = async_function("support.local_handlers.fail", arn, retries=0)
    outcome = invoker.invoke("async-consumer", "x")
    assert len(outcome.invocations) == 1
    assert records_in(sqs, url)[0]["requestContext"]["approximateInvokeCount"] == 1


def test_an_event_older_than_the_maximum_age_is_recorded_untried(
    failures: tuple[Any, str, str],
) -> None:
    sqs, url, arn = failures
    invoker = async_function("support.local_handlers.report", arn)
    outcome = invoker.invoke("async-consumer", {"n": 1}, queued_at=time.time() - 7 * 3600)
    assert outcome.invocations == ()
    (record,) = records_in(sqs, url)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestPayload"] == {"n": 1}


def test_without_a_config_lambdas_defaults_apply(domain_env: str) -> None:
    client = boto3.client("lambda")
    deploy(client, "plain", "support.local_handlers.fail", {})
    invoker = AsyncInvoker(Invoker(client, runner_environment()), client, client_for)
    outcome = invoker.invoke("plain", "x")
    assert len(outcome.invocations) == 3  # two retries by default
    assert outcome.record is None  # and nowhere to send the failure
