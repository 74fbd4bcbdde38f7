"""Factories for batch events, built from the realistic records in tests/events/.

Each factory copies the one record of ``tests/events/<source>.json`` as many times as it
is asked, and changes only what differs between records of a real batch: ids, sequence
numbers and payloads. A payload that is a ``str`` or ``bytes`` is sent as it is (to make
malformed records); anything else is JSON-encoded.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from support.events import load_event

_sequence = itertools.count(49657362910298310393802245412307148532911018563719233538)
_serializer = TypeSerializer()


def _text(payload: Any) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return payload if isinstance(payload, str) else json.dumps(payload)


def _template(source: str) -> dict[str, Any]:
    record: dict[str, Any] = load_event(source)["Records"][0]
    return record


def profile(user: int | str, **fields: Any) -> dict[str, Any]:
    """A valid profile for user ``u-<user>``, plus ``fields``."""
    user_id = user if isinstance(user, str) else f"u-{user}"
    return {"user_id": user_id, "email": f"{user_id}@example.com", "name": "Test", **fields}


def activity(number: int, *, user: int | str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid activity event ``evt-<number>``, by default of user ``u-<number>``."""
    user_id = user if isinstance(user, str) else f"u-{number if user is None else user}"
    return {"event_id": f"evt-{number}", "user_id": user_id, "type": "page_view", **fields}


def sqs_batch(
    bodies: Sequence[Any],
    *,
    groups: Sequence[str] | None = None,
    attributes: Sequence[Mapping[str, str] | None] | None = None,
) -> dict[str, Any]:
    """An SQS event with one message per body, each with a new ``messageId``.

    ``groups`` makes it a FIFO batch (a message group per message); ``attributes`` adds
    string message attributes per message.
    """
    records = []
    for index, body in enumerate(bodies):
        record = _template("sqs")
        record["messageId"] = str(uuid.uuid4())
        record["body"] = _text(body)
        if groups is not None:
            record["attributes"]["MessageGroupId"] = groups[index]
            record["attributes"]["MessageDeduplicationId"] = uuid.uuid4().hex
            record["attributes"]["SequenceNumber"] = str(next(_sequence))
            record["eventSourceARN"] += ".fifo"
        for name, value in ((attributes or [None] * len(bodies))[index] or {}).items():
            record["messageAttributes"][name] = {
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        records.append(record)
    return {"Records": records}


def kinesis_batch(
    payloads: Sequence[Any], *, partition_keys: Sequence[str] | None = None
) -> dict[str, Any]:
    """A Kinesis event, one record per payload, in increasing sequence numbers.

    The partition key defaults to the payload's ``user_id`` (or ``"p"``).
    """
    records = []
    for index, payload in enumerate(payloads):
        record = _template("kinesis")
        sequence = str(next(_sequence))
        data = payload if isinstance(payload, bytes) else _text(payload).encode()
        key = partition_keys[index] if partition_keys is not None else None
        if key is None:
            key = payload.get("user_id", "p") if isinstance(payload, dict) else "p"
        record["kinesis"].update(
            partitionKey=key, sequenceNumber=sequence, data=base64.b64encode(data).decode()
        )
        record["eventID"] = f"shardId-000000000000:{sequence}"
        records.append(record)
    return {"Records": records}


@dataclass
class Change:
    """One change of a profiles-table item, as DynamoDB Streams reports it."""

    keys: dict[str, Any]
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def event_name(self) -> str:
        if self.old is None:
            return "INSERT"
        return "REMOVE" if self.new is None else "MODIFY"


def change(
    user: int | str,
    *,
    old: bool = True,
    new: bool = True,
    event_id: str | None = None,
    **fields: Any,
) -> Change:
    """A change of profile ``u-<user>`` (MODIFY by default; INSERT or REMOVE without
    ``old`` or ``new``); ``fields`` go into the new image."""
    before = profile(user)
    after = {**before, **fields}
    made = Change({"user_id": before["user_id"]}, before if old else None, after if new else None)
    if event_id is not None:
        made.event_id = event_id
    return made


def dynamodb_stream_batch(changes: Sequence[Change | dict[str, Any]]) -> dict[str, Any]:
    """A DynamoDB Streams event, one record per change, in increasing sequence numbers.

    A ``dict`` replaces top-level fields of a record otherwise made from a valid change
    (to make malformed records), e.g. ``{"eventName": "UPSERT"}``.
    """
    records = []
    for item in changes:
        overrides = item if isinstance(item, dict) else {}
        if isinstance(item, dict):
            item = change("malformed")
        record = _template("dynamodb_stream")
        stream = record["dynamodb"]
        stream["Keys"] = {k: _serializer.serialize(v) for k, v in item.keys.items()}
        stream["SequenceNumber"] = str(next(_sequence))
        for name, image in (("OldImage", item.old), ("NewImage", item.new)):
            stream.pop(name, None)
            if image is not None:
                stream[name] = {k: _serializer.serialize(v) for k, v in image.items()}
        record["eventID"] = item.event_id
        record["eventName"] = item.event_name
        record.update(overrides)
        records.append(record)
    return {"Records": records}


def failed_ids(response: Mapping[str, Any]) -> list[str]:
    """The item identifiers of a partial batch response, in order."""
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
