"""What every batch handler (SQS, Kinesis, DynamoDB Streams) must do with a batch.

Each case runs against each source: duplicates inside a batch, a redelivered batch, a
poison record among ten, a batch that fails entirely, and a DynamoDB error during the
effect. Effects are counted by :class:`~support.aws.WriteLog` from the writes DynamoDB
accepted, not from what the handler says it did.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from support.aws import FaultInjector, WriteLog
from support.batches import (
    activity,
    change,
    dynamodb_stream_batch,
    failed_ids,
    kinesis_batch,
    profile,
    sqs_batch,
)
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from unit.conftest import AUDIT, COUNTERS, PROFILES

from lambda_dedup.handlers import dynamodb_stream, kinesis, sqs
from lambda_dedup.store.dynamodb import MAX_ATTEMPTS


@dataclass(frozen=True)
class Source:
    """How to build a batch for one handler, and where its effect lands."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    make: Callable[[Sequence[Any]], dict[str, Any]]
    record: Callable[[int], Any]
    """A valid record payload, unique per number (the same number = a duplicate)."""
    poison: Any
    """A payload that cannot be parsed or validated."""
    table: str
    effect_key: Callable[[int], tuple[str, ...]]
    """The key of the item that record ``n``'s effect writes."""
    identifier: Callable[[dict[str, Any]], str]
    """What the partial batch response reports for a raw record."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler(copy.deepcopy(event), FakeLambdaContext())


SOURCES = {
    "sqs": Source(
        handler=sqs.handler,
        make=sqs_batch,
        record=lambda n: profile(n, request_id=f"req-{n}"),
        poison="{not json",
        table=PROFILES,
        effect_key=lambda n: (f"u-{n}",),
        identifier=lambda record: record["messageId"],
    ),
    "kinesis": Source(
        handler=kinesis.handler,
        make=kinesis_batch,
        record=activity,
        poison=b"\xff\xfe not json",
        table=COUNTERS,
        effect_key=lambda n: (f"u-{n}", "page_view"),
        identifier=lambda record: record["kinesis"]["sequenceNumber"],
    ),
    "dynamodb-stream": Source(
        handler=dynamodb_stream.handler,
        make=dynamodb_stream_batch,
        record=lambda n: change(n, event_id=f"change-{n}", logins=n),
        poison={"eventName": "UPSERT"},
        table=AUDIT,
        effect_key=lambda n: (f"change-{n}",),
        identifier=lambda record: record["dynamodb"]["SequenceNumber"],
    ),
}


@pytest.fixture(params=sorted(SOURCES))
def source(request: pytest.FixtureRequest, domain_env: str) -> Source:
    return SOURCES[request.param]


def _summary(log_lines: LogLines) -> dict[str, Any]:
    """The last "batch processed" line."""
    return log_lines.with_message("batch processed")[-1]


def test_duplicates_inside_a_batch_are_applied_once(
    source: Source, write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a batch in which records 0 and 1 arrive twice
    event = source.make([source.record(n) for n in (0, 1, 0, 2, 1)])
    # WHEN it is handled
    response = source.invoke(event)
    # THEN every record succeeds, and each effect was written exactly once
    assert failed_ids(response) == []
    assert write_log.count(source.table) == {source.effect_key(n): 1 for n in (0, 1, 2)}
    summary = _summary(log_lines)
    assert (summary["RecordsApplied"], summary["DuplicatesSuppressed"]) == (3, 2)


def test_a_redelivered_batch_is_acknowledged_without_a_second_effect(
    source: Source, write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a batch that was handled once
    event = source.make([source.record(n) for n in range(5)])
    assert failed_ids(source.invoke(event)) == []
    # WHEN the same batch is delivered again
    response = source.invoke(event)
    # THEN it is acknowledged as a whole (same outcome) and nothing is written again
    assert failed_ids(response) == []
    assert write_log.count(source.table) == {source.effect_key(n): 1 for n in range(5)}
    assert _summary(log_lines)["DuplicatesSuppressed"] == 5


def test_a_poison_record_among_ten_is_reported_and_the_nine_applied_once(
    source: Source, write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a batch of 10 in which the fifth record cannot be parsed
    payloads = [source.record(n) for n in range(10)]
    payloads[4] = source.poison
    event = source.make(payloads)
    poison_id = source.identifier(event["Records"][4])
    # WHEN it is handled
    response = source.invoke(event)
    # THEN exactly the poison record is reported
    assert failed_ids(response) == [poison_id]
    # AND the nine others were applied exactly once
    expected = {source.effect_key(n): 1 for n in range(10) if n != 4}
    assert write_log.count(source.table) == expected
    # AND a structured line says why the poison record was rejected
    rejected = log_lines.with_message("rejected record")
    assert [(line["record_id"], line["level"]) for line in rejected] == [(poison_id, "ERROR")]
    assert rejected[0]["reason"]
    # AND it is never acknowledged: a redelivery fails again, so it ends in the DLQ
    assert failed_ids(source.invoke(source.make([source.poison]))) != []


def test_a_batch_whose_every_record_fails_reports_them_all(
    source: Source, write_log: WriteLog
) -> None:
    # GIVEN a batch of three poison records
    event = source.make([source.poison] * 3)
    # WHEN it is handled
    response = source.invoke(event)
    # THEN the response lists all three (no exception fails the invocation)
    assert failed_ids(response) == [source.identifier(r) for r in event["Records"]]
    assert write_log.count(source.table) == {}


def test_a_dynamodb_error_during_the_effect_reports_the_record_unapplied(
    source: Source, write_log: WriteLog, handler_faults: FaultInjector, log_lines: LogLines
) -> None:
    # GIVEN DynamoDB throttles every attempt of record 1's transaction, until botocore
    # gives up
    (key,) = source.effect_key(1)[:1]
    handler_faults.throttle("TransactWriteItems", times=MAX_ATTEMPTS, matching=f'"{key}"')
    event = source.make([source.record(n) for n in range(3)])
    # WHEN a batch of three is handled
    response = source.invoke(event)
    # THEN exactly record 1 is reported, and its effect was not written
    failed = source.identifier(event["Records"][1])
    assert failed_ids(response) == [failed]
    assert write_log.count(source.table) == {source.effect_key(n): 1 for n in (0, 2)}
    (line,) = log_lines.with_message("record failed")
    assert line["record_id"] == failed
    assert "ThrottlingException" in line["reason"]
    # WHEN the batch is redelivered
    assert failed_ids(source.invoke(event)) == []
    # THEN the failed record is applied now, and the others are not applied again
    assert write_log.count(source.table) == {source.effect_key(n): 1 for n in range(3)}
