"""Events through all seven triggers, and where each one ended, counted from the emulator.

:func:`send` puts a set of events on every trigger of a stack applied to the emulator
-- unique events, duplicates of some and one malformed event each -- while a
:class:`~lambda_dedup.local.runner.Runner` delivers them. :func:`count` then counts,
per trigger, from the emulator's own tables, queues and logs:

* **sent**: the deliveries asked for (a message sent, a record put, a request made...);
* **unique**: how many of them are distinct events (distinct idempotency keys);
* **effects**: the effects in the business tables (profiles, counters, audit, states,
  completed welcome messages);
* **duplicates**: deliveries whose function said ``duplicate`` (per delivery, the first
  outcome it logged after it was sent, from the function's CloudWatch Logs, so that a
  record redelivered after a failure is not counted twice);
* **dead-lettered**: deliveries found in the trigger's DLQ or on-failure destination
  (for the API: requests refused with a 4xx, which the client holds).

Nothing is lost when ``sent == effects + duplicates + dead-lettered`` on every row and
``effects == unique - malformed``. Each run takes a ``label`` that goes into every id it
makes, so runs on the same stack are counted apart.

What duplicates look like differs per source, as in AWS:

* SQS, Kinesis, SNS, API: the producer sends the same event twice (same business key
  or ``Idempotency-Key``, new message);
* S3 and EventBridge: the service delivers the same notification or event twice (the
  runner's :meth:`~Runner.redeliver`, as S3 and EventBridge occasionally do);
* DynamoDB Streams: the records are read again from the start of the stream (the
  runner's ``replay``, as after a mapping is re-created at ``TRIM_HORIZON``).
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambda_dedup.keys import record_id
from lambda_dedup.local.logs import log_group
from lambda_dedup.local.runner import Runner

TRIGGERS = ("api_gateway", "sqs", "kinesis", "dynamodb_stream", "s3", "sns", "eventbridge")
UNIQUE = 3
"""Valid, distinct events per trigger; one of them is sent twice, plus one malformed."""
DECISIVE = {
    "record applied": "applied",
    "event applied": "applied",
    "duplicate record": "duplicate",
    "duplicate event": "duplicate",
    "rejected record": "rejected",
    "rejected event": "rejected",
}
BIG_BYTES = 250 * 1024
"""A profile this large audits once, but not a change of it (old + new > 400 KB)."""


Lines = list[tuple[int, dict[str, Any]]]
"""A function's structured log lines, with their CloudWatch timestamps (ms)."""
LogId = Callable[[dict[str, Any]], Any]
"""The delivery id a log line names."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery asked for: the id its function logs, and when it was asked for."""

    id: str
    sent_at: float


@dataclass
class Sent:
    """What one trigger was sent."""

    deliveries: list[Delivery] = field(default_factory=list)
    unique: int = 0
    malformed: int = 1
    responses: list[tuple[int, bool]] = field(default_factory=list)
    """For the API: (status, replayed) of each request's final answer."""


@dataclass(frozen=True, slots=True)
class Row:
    """Where one trigger's events ended."""

    trigger: str
    sent: int
    unique: int
    effects: int
    duplicates: int
    dead_lettered: int
    malformed: int
    reasons: tuple[str, ...]
    """What the function logged about each rejected event."""

    @property
    def balanced(self) -> bool:
        """Nothing lost, nothing applied twice."""
        return (
            self.sent == self.effects + self.duplicates + self.dead_lettered
            and self.effects == self.unique - self.malformed
        )


@dataclass
class Stack:
    """The applied stack: its Terraform outputs and clients on the emulator."""

    outputs: dict[str, Any]
    clients: Callable[[str], Any]
    region: str

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]


# -- sending -----------------------------------------------------------------------------


def send(
    stack: Stack, runner: Runner, label: str, *, settle: Callable[[], object]
) -> dict[str, Sent]:
    """Send every trigger its events; ``settle()`` lets the runner deliver until idle.

    The DynamoDB Streams trigger comes last: its records are the profile changes the
    other triggers made, plus its own, replayed once before its malformed change.
    """
    started = time.time()
    sent = {
        "api_gateway": _send_api(stack, runner, label),
        "sqs": _send_sqs(stack, label),
        "kinesis": _send_kinesis(stack, label),
        "s3": _send_s3(stack, label),
        "sns": _send_sns(stack, label),
        "eventbridge": _send_eventbridge(stack, label),
    }
    settle()
    valid = {  # the service delivers this run's first valid event twice
        "s3": lambda event: f"profiles/{label}-1.json" in json.dumps(event),
        "eventbridge": lambda event: f"{instance_prefix(label)}00001" in json.dumps(event),
    }
    for trigger, identify in _EVENT_ID.items():
        at = time.time()
        event = runner.redeliver(trigger, valid[trigger])
        sent[trigger].deliveries.append(Delivery(identify(event), at))
    sent["dynamodb_stream"] = _send_dynamodb_stream(stack, runner, label, started, settle)
    return sent


def _send_api(stack: Stack, runner: Runner, label: str) -> Sent:
    (server,) = runner.apis
    requests = [
        (f"{label}-key-{n}", json.dumps(_profile(f"{label}-api-{n}"))) for n in range(1, UNIQUE + 1)
    ]
    requests.append(requests[0])  # the client's retry
    requests.append((f"{label}-key-bad", "{not json"))
    responses = []

    def put(request: tuple[str, str]) -> str:
        key, body = request
        responses.append(post_profile(server.url, key, body, stack.region))
        return key

    sent = _each(requests, put)
    sent.responses = responses
    return sent


def post_profile(url: str, key: str, body: str, region: str, attempts: int = 5) -> tuple[int, bool]:
    """POST /profiles, signed with SigV4 as an IAM caller; retried on a 5xx or 409 as a
    client should. The final answer's status, and whether it was a replay."""
    data = body
    for attempt in range(attempts):
        request = AWSRequest(
            "POST",
            f"{url}/profiles",
            data=data.encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        SigV4Auth(Credentials("test", "test"), "execute-api", region).add_auth(request)
        prepared = urllib.request.Request(
            f"{url}/profiles", data=data.encode(), headers=dict(request.headers), method="POST"
        )
        try:
            with urllib.request.urlopen(prepared, timeout=30) as answer:
                status, headers = answer.status, answer.headers
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
        if (status < 500 and status != 409) or attempt == attempts - 1:
            return status, headers.get("Idempotent-Replayed") == "true"
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _profile(user_id: str, **fields: Any) -> dict[str, Any]:
    return {"user_id": user_id, "email": f"{user_id}@example.com", "name": "Demo", **fields}


def _each(items: Iterable[Any], put: Callable[[Any], str]) -> Sent:
    """Put each item with ``put``, which returns its delivery id; the deliveries, timed."""
    sent = Sent(unique=UNIQUE + 1)
    for item in items:
        at = time.time()
        sent.deliveries.append(Delivery(put(item), at))
    return sent


def _send_sqs(stack: Stack, label: str) -> Sent:
    sqs = stack.clients("sqs")
    bodies = [
        json.dumps(_profile(f"{label}-sqs-{n}", request_id=f"{label}-r-{n}"))
        for n in range(1, UNIQUE + 1)
    ]
    bodies += [bodies[0], f"{{not json: {label}"]

    def put(body: str) -> str:
        answer = sqs.send_message(QueueUrl=stack["sqs_queue_url"], MessageBody=body)
        message_id: str = answer["MessageId"]
        return message_id

    return _each(bodies, put)


def _send_kinesis(stack: Stack, label: str) -> Sent:
    kinesis = stack.clients("kinesis")
    events = [
        json.dumps({"event_id": f"{label}-e-{n}", "user_id": f"{label}-kinesis", "type": f"t{n}"})
        for n in range(1, UNIQUE + 1)
    ]
    records = [(f"{label}-p{n}", data) for n, data in enumerate(events)]
    records += [records[0], (f"{label}-bad", "not json")]  # the producer's retry; last, bad

    def put(record: tuple[str, str]) -> str:
        partition, data = record
        answer = kinesis.put_record(
            StreamName=stack["kinesis_stream_name"], PartitionKey=partition, Data=data.encode()
        )
        return f"{answer['ShardId']}:{answer['SequenceNumber']}"

    return _each(records, put)


def _send_s3(stack: Stack, label: str) -> Sent:
    s3 = stack.clients("s3")
    files = [
        (f"profiles/{label}-{n}.json", json.dumps(_profile(f"{label}-s3-{n}")))
        for n in range(1, UNIQUE + 1)
    ]
    files.append((f"profiles/{label}-bad.json", "{not json"))

    def put(file: tuple[str, str]) -> str:
        key, body = file
        answer = s3.put_object(Bucket=stack["s3_bucket_name"], Key=key, Body=body.encode())
        return f"{key}#{answer['VersionId']}"

    return _each(files, put)


def _send_sns(stack: Stack, label: str) -> Sent:
    sns = stack.clients("sns")
    messages = [
        (f"{label}-welcome-{n}", json.dumps(_profile(f"{label}-sns-{n}")))
        for n in range(1, UNIQUE + 1)
    ]
    messages += [messages[0], (f"{label}-welcome-bad", json.dumps({"user_id": f"{label}-x"}))]

    def put(message: tuple[str, str]) -> str:
        key, text = message
        answer = sns.publish(
            TopicArn=stack["sns_topic_arn"],
            Message=text,
            MessageAttributes={"idempotency_key": {"DataType": "String", "StringValue": key}},
        )
        message_id: str = answer["MessageId"]
        return message_id

    return _each(messages, put)


def _send_eventbridge(stack: Stack, label: str) -> Sent:
    events = stack.clients("events")
    details = [
        {"instance-id": f"{instance_prefix(label)}{n:05x}", "state": "stopped"}
        for n in range(1, UNIQUE + 1)
    ]
    details.append({"state": "stopped", "note": label})  # no instance-id

    def put(detail: dict[str, Any]) -> str:
        entry = {
            "EventBusName": stack["eventbridge_bus_name"],
            "Source": "aws.ec2",
            "DetailType": "EC2 Instance State-change Notification",
            "Detail": json.dumps(detail),
        }
        event_id: str = events.put_events(Entries=[entry])["Entries"][0]["EventId"]
        return event_id

    return _each(details, put)


def instance_prefix(label: str) -> str:
    """EC2 instance ids are ``i-`` and hex: this run's start with 12 digits of its own."""
    return "i-" + hashlib.sha256(label.encode()).hexdigest()[:12]


def _send_dynamodb_stream(
    stack: Stack, runner: Runner, label: str, started: float, settle: Callable[[], object]
) -> Sent:
    """Profile changes of this run (the other triggers' and two of its own: a large
    profile, then a change of it too large to audit), replayed once before the last."""
    dynamodb = stack.clients("dynamodb")
    table = stack["profiles_table_name"]
    big = {"user_id": {"S": f"{label}-ddb-big"}, "bio": {"S": "a" * BIG_BYTES}}
    dynamodb.put_item(TableName=table, Item=big)
    settle()
    first = [Delivery(_sequence(r), started) for r in stream_records(stack, label)]
    replayed_at = time.time()
    (reader,) = [r for r in runner.streams if r.mapping.source == "dynamodb"]
    reader.replay()
    settle()
    dynamodb.put_item(TableName=table, Item={**big, "bio": {"S": "b" * BIG_BYTES}})
    changed_at = time.time()
    settle()
    records = stream_records(stack, label)
    sent = Sent(unique=len(records))
    sent.deliveries = first + [Delivery(d.id, replayed_at) for d in first]
    sent.deliveries.append(Delivery(_sequence(records[-1]), changed_at))
    return sent


def _sequence(record: dict[str, Any]) -> str:
    """A stream record's id in its function's logs (its sequence number)."""
    return str(record["dynamodb"]["SequenceNumber"])


def stream_records(stack: Stack, label: str) -> list[dict[str, Any]]:
    """This run's records in the profiles table's stream, read from the emulator."""
    streams = stack.clients("dynamodbstreams")
    arn = stack["dynamodb_stream_arn"]
    found = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            found += [{**record, "_shard": shard["ShardId"]} for record in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return [r for r in found if r["dynamodb"]["Keys"]["user_id"]["S"].startswith(f"{label}-")]


# -- counting ----------------------------------------------------------------------------


def count(stack: Stack, runner: Runner, label: str, sent: dict[str, Sent]) -> list[Row]:
    """One row per trigger, counted from the emulator."""
    rows = []
    for trigger in TRIGGERS:
        if trigger == "api_gateway":
            rows.append(_count_api(stack, label, sent[trigger]))
            continue
        function = stack[f"{trigger}_function_name"]
        lines = log_lines(stack.clients("logs"), function)
        fates = [fate(lines, delivery, _LOG_ID[trigger]) for delivery in sent[trigger].deliveries]
        dead = _DEAD_LETTERED[trigger](stack, label, sent[trigger])
        rows.append(
            Row(
                trigger=trigger,
                sent=len(sent[trigger].deliveries),
                unique=sent[trigger].unique,
                effects=_EFFECTS[trigger](stack, label),
                duplicates=fates.count("duplicate"),
                dead_lettered=dead,
                malformed=sent[trigger].malformed,
                reasons=_reasons(lines, {d.id for d in sent[trigger].deliveries}, _LOG_ID[trigger]),
            )
        )
    return rows


def log_lines(logs: Any, function: str) -> Lines:
    """The function's structured log lines in the emulator's CloudWatch Logs, in order."""
    found: list[tuple[int, dict[str, Any]]] = []
    paginator = logs.get_paginator("filter_log_events")
    for page in paginator.paginate(logGroupName=log_group(function)):
        for event in page["events"]:
            try:
                line = json.loads(event["message"])
            except ValueError:
                continue  # START, END, REPORT
            if isinstance(line, dict) and "message" in line:
                found.append((int(event["timestamp"]), line))
    return sorted(found, key=lambda entry: entry[0])


def fate(
    lines: Iterable[tuple[int, dict[str, Any]]], delivery: Delivery, log_id: Any
) -> str | None:
    """The first decisive outcome (applied, duplicate, rejected) the function logged for
    ``delivery`` after it was sent."""
    since_ms = int(delivery.sent_at * 1000) - 1
    for timestamp, line in lines:
        outcome = DECISIVE.get(line["message"])
        if outcome and timestamp >= since_ms and log_id(line) == delivery.id:
            return outcome
    return None


def _reasons(
    lines: list[tuple[int, dict[str, Any]]], ids: set[str], log_id: Any
) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                str(line.get("reason"))
                for _, line in lines
                if DECISIVE.get(line["message"]) == "rejected" and log_id(line) in ids
            }
        )
    )


_EVENT_ID: dict[str, Callable[[dict[str, Any]], str]] = {
    "s3": lambda event: "{key}#{versionId}".format(**event["Records"][0]["s3"]["object"]),
    "eventbridge": lambda event: str(event["id"]),
}
"""The id a function logs for an event, for the triggers whose events are redelivered."""

_LOG_ID: dict[str, LogId] = {
    "sqs": lambda line: line.get("record_id"),
    "kinesis": lambda line: line.get("event_id"),  # shardId:sequenceNumber
    "dynamodb_stream": lambda line: line.get("record_id"),
    "s3": lambda line: f"{line.get('object_key')}#{line.get('version_id')}",
    "sns": lambda line: line.get("message_id"),
    "eventbridge": lambda line: line.get("event_id"),
}


def _count_api(stack: Stack, label: str, sent: Sent) -> Row:
    lines = log_lines(stack.clients("logs"), stack["api_gateway_function_name"])
    since_ms = int(sent.deliveries[0].sent_at * 1000) - 1
    reasons = {
        str(line.get("reason"))
        for timestamp, line in lines
        if line["message"] == "rejected request" and timestamp >= since_ms
    }
    statuses = sent.responses
    return Row(
        trigger="api_gateway",
        sent=len(statuses),
        unique=sent.unique,
        effects=_profiles(stack, f"{label}-api-"),
        duplicates=sum(1 for status, replayed in statuses if replayed and status < 300),
        dead_lettered=sum(1 for status, _ in statuses if 400 <= status < 500),
        malformed=sent.malformed,
        reasons=tuple(sorted(reasons)),
    )


# -- effects: the business tables -----------------------------------------------------


def _scan(stack: Stack, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in stack.clients("dynamodb").get_paginator("scan").paginate(TableName=table):
        items += page["Items"]
    return items


def _profiles(stack: Stack, prefix: str) -> int:
    items = _scan(stack, stack["profiles_table_name"])
    return sum(1 for item in items if item["user_id"]["S"].startswith(prefix))


def _counted(stack: Stack, label: str) -> int:
    items = _scan(stack, stack["counters_table_name"])
    return sum(int(i["count"]["N"]) for i in items if i["user_id"]["S"] == f"{label}-kinesis")


def _audited(stack: Stack, label: str) -> int:
    items = _scan(stack, stack["audit_table_name"])
    return sum(1 for i in items if i["keys"]["M"]["user_id"]["S"].startswith(f"{label}-"))


def _welcomed(stack: Stack, label: str) -> int:
    dynamodb = stack.clients("dynamodb")
    done = 0
    for n in range(1, UNIQUE + 1):
        key = {"id": {"S": record_id("sns-welcome", f"{label}-welcome-{n}")}}
        item = dynamodb.get_item(TableName=stack["idempotency_table_name"], Key=key).get("Item")
        done += bool(item and item["status"]["S"] == "COMPLETED")
    return done


def _stopped(stack: Stack, label: str) -> int:
    items = _scan(stack, stack["instance_states_table_name"])
    return sum(1 for i in items if i["instance_id"]["S"].startswith(instance_prefix(label)))


_EFFECTS: dict[str, Callable[[Stack, str], int]] = {
    "sqs": lambda stack, label: _profiles(stack, f"{label}-sqs-"),
    "kinesis": _counted,
    "dynamodb_stream": _audited,
    "s3": lambda stack, label: _profiles(stack, f"{label}-s3-"),
    "sns": _welcomed,
    "eventbridge": _stopped,
}


# -- dead-lettered: the DLQs and on-failure destinations --------------------------------


def queue_bodies(sqs: Any, url: str) -> list[str]:
    """Every message in a queue, read without consuming it."""
    seen: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
            "Messages", []
        )
        if not batch:
            break
        for message in batch:
            seen[message["MessageId"]] = message
    for message in seen.values():
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [message["Body"] for message in seen.values()]


def _payloads(stack: Stack, output: str) -> list[Any]:
    """The ``requestPayload`` of each invocation record in a destination queue."""
    bodies = queue_bodies(stack.clients("sqs"), stack[output])
    return [json.loads(body).get("requestPayload") for body in bodies]


def _in_ranges(stack: Stack, output: str, info: str, records: Iterable[str]) -> int:
    """How many of ``records`` (``shardId:sequenceNumber``) the failure records in a
    destination queue cover."""
    ranges = []
    for body in queue_bodies(stack.clients("sqs"), stack[output]):
        batch = json.loads(body)[info]
        start, end = int(batch["startSequenceNumber"]), int(batch["endSequenceNumber"])
        ranges.append((batch["shardId"], start, end))
    covered = 0
    for record in set(records):
        shard, _, sequence = record.rpartition(":")
        covered += any(s == shard and lo <= int(sequence) <= hi for s, lo, hi in ranges)
    return covered


def _sqs_dead(stack: Stack, label: str, sent: Sent) -> int:
    bodies = queue_bodies(stack.clients("sqs"), stack["sqs_dead_letter_queue_url"])
    return sum(1 for body in bodies if label in body)


def _kinesis_dead(stack: Stack, label: str, sent: Sent) -> int:
    records = [d.id for d in sent.deliveries]
    return _in_ranges(stack, "kinesis_failure_queue_url", "KinesisBatchInfo", records)


def _stream_dead(stack: Stack, label: str, sent: Sent) -> int:
    records = [f"{r['_shard']}:{_sequence(r)}" for r in stream_records(stack, label)]
    return _in_ranges(stack, "dynamodb_stream_failure_queue_url", "DDBStreamBatchInfo", records)


def _s3_dead(stack: Stack, label: str, sent: Sent) -> int:
    payloads = _payloads(stack, "s3_failure_queue_url")
    keys = [p["Records"][0]["s3"]["object"]["key"] for p in payloads]
    return sum(1 for key in keys if key.startswith(f"profiles/{label}-"))


def _sns_dead(stack: Stack, label: str, sent: Sent) -> int:
    ids = {d.id for d in sent.deliveries}
    payloads = _payloads(stack, "sns_dead_letter_queue_url")
    return sum(1 for p in payloads if p and p["Records"][0]["Sns"]["MessageId"] in ids)


def _eventbridge_dead(stack: Stack, label: str, sent: Sent) -> int:
    ids = {d.id for d in sent.deliveries}
    payloads = _payloads(stack, "eventbridge_dead_letter_queue_url")
    return sum(1 for p in payloads if p and p.get("id") in ids)


_DEAD_LETTERED: dict[str, Callable[[Stack, str, Sent], int]] = {
    "sqs": _sqs_dead,
    "kinesis": _kinesis_dead,
    "dynamodb_stream": _stream_dead,
    "s3": _s3_dead,
    "sns": _sns_dead,
    "eventbridge": _eventbridge_dead,
}


def table(rows: Iterable[Row]) -> str:
    """The rows as a text table, one line per trigger."""
    header = ("trigger", "sent", "unique", "effects", "duplicates", "DLQ", "balanced")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.trigger,
                str(row.sent),
                str(row.unique),
                str(row.effects),
                str(row.duplicates),
                str(row.dead_lettered),
                "yes" if row.balanced else "NO",
            )
        )
    widths = [max(len(line[n]) for line in lines) for n in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if n == 0 else cell.rjust(width)
            for n, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )
