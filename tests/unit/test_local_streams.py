"""The local shard reader: order, partial batch responses, bisect, retries, failure records."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from support.batches import activity
from support.functions import deploy, runner_environment
from unit.conftest import COUNTERS, TABLE

from lambda_dedup.local import Invoker
from lambda_dedup.local.streams import ShardReader, StreamMapping, first_failure

STREAM = "activity-test"


def reader_for(
    source_arn: str, client: Any, handler: str, environment: dict[str, str], **mapping: Any
) -> ShardReader:
    """Deploy a function, map the stream to it in the emulator, and read the mapping back."""
    lambda_client = boto3.client("lambda")
    deploy(lambda_client, "stream-consumer", handler, {"DEDUP_TABLE_NAME": TABLE, **environment})
    lambda_client.create_event_source_mapping(
        EventSourceArn=source_arn,
        FunctionName="stream-consumer",
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **mapping,
    )
    (entry,) = lambda_client.list_event_source_mappings(FunctionName="stream-consumer")[
        "EventSourceMappings"
    ]
    return ShardReader(
        Invoker(lambda_client, runner_environment()),
        client,
        StreamMapping.from_api(entry),
        boto3.client,
        region="us-east-1",
    )


def kinesis_reader(destination: str, **mapping: Any) -> tuple[Any, str, ShardReader]:
    """A Kinesis stream, and a reader for the Kinesis function mapped to it with failures
    going to ``destination``: (client, stream ARN, reader)."""
    kinesis, stream_arn = kinesis_stream()
    reader = reader_for(
        stream_arn,
        kinesis,
        "lambda_dedup.handlers.kinesis.handler",
        {"COUNTERS_TABLE_NAME": COUNTERS},
        DestinationConfig={"OnFailure": {"Destination": destination}},
        **mapping,
    )
    return kinesis, stream_arn, reader


def kinesis_stream() -> tuple[Any, str]:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    arn = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
    return kinesis, arn


def put(kinesis: Any, data: Any, partition: str) -> str:
    body = data if isinstance(data, str) else json.dumps(data)
    answer = kinesis.put_record(StreamName=STREAM, PartitionKey=partition, Data=body.encode())
    sequence: str = answer["SequenceNumber"]
    return sequence


def counts(dynamodb: Any) -> dict[str, int]:
    items = dynamodb.scan(TableName=COUNTERS)["Items"]
    return {item["type"]["S"]: int(item["count"]["N"]) for item in items}


def failure_records(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_a_poison_record_is_bisected_out_retried_then_sent_to_the_destination(
    failures: tuple[Any, str, str], dynamodb: Any
) -> None:
    # GIVEN the Kinesis function mapped with bisect, 2 retries and an on-failure queue, and
    # five records of one partition key: two events, a producer's retry, garbage, one more
    sqs, url, arn = failures
    kinesis, stream_arn, reader = kinesis_reader(
        arn, BisectBatchOnFunctionError=True, MaximumRetryAttempts=2
    )
    sequences = [
        put(kinesis, activity(1, user="u-1", type="a"), "u-1"),
        put(kinesis, activity(2, user="u-1", type="b"), "u-1"),
        put(kinesis, activity(1, user="u-1", type="a"), "u-1"),
        put(kinesis, "not json", "u-1"),
        put(kinesis, activity(3, user="u-1", type="c"), "u-1"),
    ]

    # WHEN the reader drains the stream
    outcomes = list(reader.drain())

    # THEN the first batch held all five, in order; the retries start at the bad record
    # and, split, hold it alone: three attempts (one and two retries), then its failure
    # record, and the last record goes through after it
    assert outcomes[0].sequence_numbers == tuple(sequences)
    assert outcomes[0].failed_from == sequences[3]
    alone = [o for o in outcomes[1:] if o.sequence_numbers == (sequences[3],)]
    assert len(alone) == 3
    assert alone[-1].discarded is not None
    assert outcomes[-1].sequence_numbers == (sequences[4],)
    assert outcomes[-1].failed_from is None
    (record,) = failure_records(sqs, url)
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (sequences[3],) * 2
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream_arn
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    # AND every unique event counted once: the retry and the redeliveries added nothing
    assert counts(dynamodb) == {"a": 1, "b": 1, "c": 1}


def test_without_bisect_the_whole_rest_of_the_batch_is_discarded(
    failures: tuple[Any, str, str], dynamodb: Any
) -> None:
    # GIVEN the Kinesis function without bisect and no retries: garbage, then a good record
    sqs, url, arn = failures
    kinesis, _, reader = kinesis_reader(arn, MaximumRetryAttempts=0)
    bad = put(kinesis, "not json", "u-1")
    good = put(kinesis, activity(1, user="u-1", type="a"), "u-1")

    # WHEN the reader drains the stream
    outcomes = list(reader.drain())

    # THEN one invocation, and both records went to the destination as one range: the
    # good one was skipped behind the bad one (same partition key), as Lambda would
    assert len(outcomes) == 1
    (record,) = failure_records(sqs, url)
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        bad,
        good,
        2,
    )
    assert counts(dynamodb) == {}


def test_records_arrive_in_lambdas_shape_in_batches_of_the_mapping_size(domain_env: str) -> None:
    # GIVEN a function that reports what it got, mapped with batch size 2, and 3 records
    kinesis, stream_arn = kinesis_stream()
    reader = reader_for(stream_arn, kinesis, "support.local_handlers.report", {}, BatchSize=2)
    sequences = [put(kinesis, {"n": n}, f"p-{n}") for n in range(3)]

    # WHEN the reader drains the stream
    outcomes = list(reader.drain())

    # THEN two batches, in order, each record shaped as Lambda delivers Kinesis records
    assert [o.sequence_numbers for o in outcomes] == [tuple(sequences[:2]), (sequences[2],)]
    record = outcomes[0].invocation.response["event"]["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventSourceARN"] == stream_arn
    assert record["eventID"] == f"shardId-000000000000:{sequences[0]}"
    assert json.loads(base64.b64decode(record["kinesis"]["data"])) == {"n": 0}
    assert record["kinesis"]["partitionKey"] == "p-0"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": "9"}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
        ("not a dict", 0),
    ],
)
def test_the_lowest_reported_failure_is_where_the_retry_starts(
    response: Any, expected: int | None
) -> None:
    # GIVEN a batch of sequence numbers 1, 2, 3 / WHEN the response is read
    # THEN the retry starts at the lowest reported one; an invalid response fails it all
    assert first_failure(response, ["1", "2", "3"]) == expected
