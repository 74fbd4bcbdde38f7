"""Kinesis and DynamoDB Streams: the shard reader Lambda runs for an event source mapping.

As AWS documents it for both sources:

* Each shard is read in order, from the mapping's ``StartingPosition`` (``TRIM_HORIZON``,
  ``LATEST`` or, for Kinesis, ``AT_TIMESTAMP``), in batches of up to ``BatchSize``.
* A batch that succeeds moves the shard's checkpoint past it. With
  ``ReportBatchItemFailures``, the lowest reported sequence number becomes the checkpoint
  and Lambda retries from it; a response naming a record outside the batch, or none,
  fails the whole batch. A raising function fails the whole batch.
* With ``BisectBatchOnFunctionError``, a failed batch of more than one record is split in
  two and the halves are retried, first half first; splitting does not count against
  the retry quota.
* After ``MaximumRetryAttempts`` retries, or once the batch's oldest record is older than
  ``MaximumRecordAgeInSeconds``, the batch is discarded: Lambda sends a failure record
  (``KinesisBatchInfo`` or ``DDBStreamBatchInfo``: the shard, the first and last sequence
  numbers, the batch size) to the on-failure destination and moves on.

A batching window is not waited for: a local run reads what is there.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambda_dedup.local.destinations import send_to_destination
from lambda_dedup.local.functions import Invocation, Invoker

KINESIS = "kinesis"
DYNAMODB = "dynamodb"


@dataclass(frozen=True, slots=True)
class StreamMapping:
    """An event source mapping from a Kinesis or DynamoDB stream, as the emulator has it."""

    uuid: str
    function_name: str
    stream_arn: str
    batch_size: int
    starting_position: str
    starting_timestamp: dt.datetime | None
    bisect: bool
    maximum_retry_attempts: int
    """-1 means until the record expires."""
    maximum_record_age_s: int
    """-1 means no limit."""
    on_failure: str | None
    report_item_failures: bool
    enabled: bool

    @property
    def source(self) -> str:
        """``kinesis`` or ``dynamodb``."""
        return self.stream_arn.split(":")[2]

    @classmethod
    def from_api(cls, mapping: Mapping[str, Any]) -> StreamMapping:
        """From one entry of ``ListEventSourceMappings``."""
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        retries = mapping.get("MaximumRetryAttempts")
        age = mapping.get("MaximumRecordAgeInSeconds")
        return cls(
            uuid=mapping["UUID"],
            function_name=mapping["FunctionArn"].split(":")[6],
            stream_arn=mapping["EventSourceArn"],
            batch_size=int(mapping.get("BatchSize") or 100),
            starting_position=mapping.get("StartingPosition") or "TRIM_HORIZON",
            starting_timestamp=mapping.get("StartingPositionTimestamp"),
            bisect=bool(mapping.get("BisectBatchOnFunctionError")),
            maximum_retry_attempts=-1 if retries is None else int(retries),
            maximum_record_age_s=-1 if age is None else int(age),
            on_failure=destination or None,
            report_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            enabled=mapping.get("State", "Enabled") in ("Enabled", "Enabling", "Creating"),
        )


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One record in the shape Lambda delivers it, with what the reader needs to know."""

    sequence_number: str
    arrived_at: dt.datetime
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ShardBatchOutcome:
    """One invocation on one shard: what it delivered and what the response decided."""

    shard_id: str
    sequence_numbers: tuple[str, ...]
    invocation: Invocation
    failed_from: str | None
    """The sequence number the shard resumes from, or ``None`` if the batch succeeded."""
    discarded: dict[str, Any] | None = None
    """The failure record sent to the on-failure destination, if the batch was discarded."""


def _plain(value: Any) -> Any:
    """A DynamoDB attribute value from boto3, with binaries base64-encoded as Lambda sends
    them."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(item) for item in value]
    return value


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Source:
    """What differs between Kinesis and DynamoDB Streams: the API and the record shape."""

    batch_info = ""

    def __init__(self, client: Any, mapping: StreamMapping, region: str, role_arn: str) -> None:
        self.client = client
        self.mapping = mapping
        self.region = region
        self.role_arn = role_arn

    def shard_ids(self) -> list[str]:
        raise NotImplementedError

    def iterator(self, shard_id: str, kind: str, **position: Any) -> str:
        raise NotImplementedError

    def records(self, shard_id: str, raw: Sequence[Mapping[str, Any]]) -> list[StreamRecord]:
        raise NotImplementedError

    def start(self, shard_id: str) -> str:
        """The shard iterator at the mapping's starting position."""
        if self.mapping.starting_position == "AT_TIMESTAMP":
            return self.iterator(
                shard_id, "AT_TIMESTAMP", Timestamp=self.mapping.starting_timestamp
            )
        return self.iterator(shard_id, self.mapping.starting_position)


class _Kinesis(_Source):
    batch_info = "KinesisBatchInfo"

    @property
    def name(self) -> str:
        """``arn:aws:kinesis:<region>:<account>:stream/<name>``: moto's iterators need it."""
        return self.mapping.stream_arn.split("/", 1)[1]

    def shard_ids(self) -> list[str]:
        shards = self.client.list_shards(StreamName=self.name)["Shards"]
        return [shard["ShardId"] for shard in shards]

    def iterator(self, shard_id: str, kind: str, **position: Any) -> str:
        iterator: str = self.client.get_shard_iterator(
            StreamName=self.name, ShardId=shard_id, ShardIteratorType=kind, **position
        )["ShardIterator"]
        return iterator

    def records(self, shard_id: str, raw: Sequence[Mapping[str, Any]]) -> list[StreamRecord]:
        converted = []
        for record in raw:
            sequence = record["SequenceNumber"]
            arrived = record["ApproximateArrivalTimestamp"]
            event = {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": _epoch(arrived),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": self.role_arn,
                "awsRegion": self.region,
                "eventSourceARN": self.mapping.stream_arn,
            }
            converted.append(StreamRecord(sequence, arrived, event))
        return converted


class _DynamoDBStream(_Source):
    batch_info = "DDBStreamBatchInfo"

    def shard_ids(self) -> list[str]:
        stream = self.client.describe_stream(StreamArn=self.mapping.stream_arn)
        return [shard["ShardId"] for shard in stream["StreamDescription"]["Shards"]]

    def iterator(self, shard_id: str, kind: str, **position: Any) -> str:
        iterator: str = self.client.get_shard_iterator(
            StreamArn=self.mapping.stream_arn, ShardId=shard_id, ShardIteratorType=kind, **position
        )["ShardIterator"]
        return iterator

    def records(self, shard_id: str, raw: Sequence[Mapping[str, Any]]) -> list[StreamRecord]:
        converted = []
        for record in raw:
            change = _plain(dict(record["dynamodb"]))
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            arrived = created if isinstance(created, dt.datetime) else dt.datetime.now(dt.UTC)
            change["ApproximateCreationDateTime"] = int(_epoch(arrived))
            event = {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": record.get("awsRegion", self.region),
                "dynamodb": change,
                "eventSourceARN": self.mapping.stream_arn,
            }
            converted.append(StreamRecord(change["SequenceNumber"], arrived, event))
        return converted


@dataclass
class _Shard:
    """A shard's position: records read but not yet done, and the batch being retried."""

    shard_id: str
    iterator: str | None
    pending: list[StreamRecord] = field(default_factory=list)
    window: int = 0
    """The size of the batch being retried (smaller than the batch size when bisecting)."""
    attempts: int = 0
    """Failed invocations of the batch being retried; a split starts a new count."""


def first_failure(response: Any, batch: Sequence[str]) -> int | None:
    """The position in ``batch`` of the lowest sequence number a partial batch response
    reports, ``None`` if it reports none. An invalid response fails the whole batch (0)."""
    if response is None:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return 0
    positions = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return 0
        positions.append(batch.index(identifier))
    return min(positions)


class ShardReader:
    """Reads every shard of one mapping's stream and invokes its function, as Lambda does.

    Args:
        invoker: runs the function in this process.
        client: a boto3 ``kinesis`` or ``dynamodbstreams`` client on the emulator.
        clients: ``clients("sqs")`` / ``clients("sns")`` for the on-failure destination.
        role_arn: the function's execution role (Kinesis records carry it).
    """

    def __init__(
        self,
        invoker: Invoker,
        client: Any,
        mapping: StreamMapping,
        clients: Any,
        *,
        region: str,
        role_arn: str = "",
    ) -> None:
        source = _Kinesis if mapping.source == KINESIS else _DynamoDBStream
        self._source: _Source = source(client, mapping, region, role_arn)
        self._invoker = invoker
        self._clients = clients
        self.mapping = mapping
        self._shards: dict[str, _Shard] = {}

    def _discover(self) -> None:
        for shard_id in self._source.shard_ids():
            if shard_id not in self._shards:
                self._shards[shard_id] = _Shard(shard_id, self._source.start(shard_id))

    def replay(self) -> None:
        """Forget every checkpoint: read each shard again from the starting position, as a
        re-created mapping does. Every record already done is delivered once more."""
        self._shards.clear()

    def _read(self, shard: _Shard) -> None:
        while len(shard.pending) < self.mapping.batch_size and shard.iterator:
            answer = self._source.client.get_records(
                ShardIterator=shard.iterator, Limit=self.mapping.batch_size - len(shard.pending)
            )
            shard.iterator = answer.get("NextShardIterator")
            if not answer["Records"]:
                break
            shard.pending.extend(self._source.records(shard.shard_id, answer["Records"]))

    def poll_once(self) -> list[ShardBatchOutcome]:
        """One batch from each shard that has records; an empty list if none had any."""
        self._discover()
        outcomes = []
        for shard in self._shards.values():
            self._read(shard)
            if shard.pending:
                outcomes.append(self._deliver(shard))
        return outcomes

    def drain(self) -> Iterator[ShardBatchOutcome]:
        """Deliver until every shard is read to its end and nothing is left to retry."""
        while outcomes := self.poll_once():
            yield from outcomes

    def _deliver(self, shard: _Shard) -> ShardBatchOutcome:
        size = shard.window or self.mapping.batch_size
        batch = shard.pending[:size]
        sequences = [record.sequence_number for record in batch]
        invocation = self._invoker.invoke(
            self.mapping.function_name, {"Records": [record.event for record in batch]}
        )
        if invocation.failed:
            start: int | None = 0
        elif self.mapping.report_item_failures:
            start = first_failure(invocation.response, sequences)
        else:
            start = None
        if start is None:
            del shard.pending[: len(batch)]
            shard.window, shard.attempts = 0, 0
            return ShardBatchOutcome(shard.shard_id, tuple(sequences), invocation, None)

        # Records before the lowest failure are done; the retry starts from it.
        del shard.pending[:start]
        failing = batch[start:]
        if self.mapping.bisect and len(failing) > 1:
            shard.window = (len(failing) + 1) // 2  # splitting is not a retry
        else:
            shard.window = len(failing)
            shard.attempts += 1
        if self._exhausted(shard.attempts, failing[0]):
            condition = (
                "RecordAgeExceeded" if self._too_old(failing[0]) else "RetryAttemptsExhausted"
            )
            record = self._discard(shard, failing, invocation, condition)
            return ShardBatchOutcome(
                shard.shard_id, tuple(sequences), invocation, failing[0].sequence_number, record
            )
        return ShardBatchOutcome(
            shard.shard_id, tuple(sequences), invocation, failing[0].sequence_number
        )

    def _too_old(self, record: StreamRecord) -> bool:
        limit = self.mapping.maximum_record_age_s
        age = dt.datetime.now(dt.UTC) - record.arrived_at.astimezone(dt.UTC)
        return limit >= 0 and age.total_seconds() > limit

    def _exhausted(self, attempts: int, oldest: StreamRecord) -> bool:
        """``attempts`` = the first try + the retries: past ``MaximumRetryAttempts`` + 1?"""
        limit = self.mapping.maximum_retry_attempts
        return (limit >= 0 and attempts > limit) or self._too_old(oldest)

    def _discard(
        self,
        shard: _Shard,
        failing: list[StreamRecord],
        invocation: Invocation,
        condition: str,
    ) -> dict[str, Any]:
        """Send the failure record for ``failing`` and move the checkpoint past it."""
        function = self._invoker.function(self.mapping.function_name)
        record = {
            "requestContext": {
                "requestId": invocation.request_id or str(uuid.uuid4()),
                "functionArn": function.arn,
                "condition": condition,
                "approximateInvokeCount": shard.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if invocation.failed else "",
            },
            "version": "1.0",
            "timestamp": _iso(dt.datetime.now(dt.UTC)),
            self._source.batch_info: {
                "shardId": shard.shard_id,
                "startSequenceNumber": failing[0].sequence_number,
                "endSequenceNumber": failing[-1].sequence_number,
                "approximateArrivalOfFirstRecord": _iso(failing[0].arrived_at),
                "approximateArrivalOfLastRecord": _iso(failing[-1].arrived_at),
                "batchSize": len(failing),
                "streamArn": self.mapping.stream_arn,
            },
        }
        if self.mapping.on_failure:
            send_to_destination(self._clients, self.mapping.on_failure, json.dumps(record))
        del shard.pending[: len(failing)]
        shard.window, shard.attempts = 0, 0
        return record
