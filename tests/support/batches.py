"""The reference domain's payloads, and batch events of its sources.

The events are the test kit's (:mod:`lambda_dedup.testing.events`), with the names of the
reference stack's queue, stream and table. A payload that is a ``str`` or ``bytes`` is
sent as it is (to make malformed records); anything else is JSON-encoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lambda_dedup.testing import events

QUEUE = "dedup-profile-updates"
STREAM = "dedup-activity"
PROFILES_TABLE = "dedup-profiles"


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
    """An SQS event of the profiles queue, one message per body (the kit's
    :func:`~lambda_dedup.testing.events.sqs_event`); ``groups`` makes it a FIFO batch."""
    return events.sqs_event(bodies, queue=QUEUE, groups=groups, attributes=attributes)


def kinesis_batch(
    payloads: Sequence[Any], *, partition_keys: Sequence[str] | None = None
) -> dict[str, Any]:
    """A Kinesis event of the activity stream, one record per payload."""
    return events.kinesis_event(payloads, stream=STREAM, partition_keys=partition_keys)


Change = events.StreamChange
"""One change of a profiles-table item, as DynamoDB Streams reports it."""


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
    """A DynamoDB Streams event of the profiles table, one record per change.

    A ``dict`` replaces top-level fields of a record otherwise made from a valid change
    (to make malformed records), e.g. ``{"eventName": "UPSERT"}``.
    """
    valid = [change("malformed") if isinstance(item, dict) else item for item in changes]
    event = events.dynamodb_stream_event(valid, table=PROFILES_TABLE)
    for record, item in zip(event["Records"], changes, strict=True):
        if isinstance(item, dict):
            record.update(item)
    return event


failed_ids = events.failed_ids
"""The item identifiers of a partial batch response, in order."""
