"""EventBridge: EC2 instance state changes, each recorded once.

Each event is an "EC2 Instance State-change Notification". It becomes one item of the
instance states table (``INSTANCE_STATES_TABLE_NAME``: partition key ``instance_id``, sort
key ``changed_at``, the event's time followed by its id), with the instance, the state and
the time, written in effect mode: one ``TransactWriteItems`` holds the deduplication
marker and the ``Put``.

* **Key:** the event's ``id``, which EventBridge keeps when it delivers an event again.
* **Failures:** an event without an instance, a state or a time raises after a
  ``rejected event`` log line, so that it goes through Lambda's retries to the
  on-failure destination. The rule target's own dead-letter queue receives the events
  EventBridge could not deliver to the function at all.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config, effects
from lambda_dedup.asynchronous import handle_event
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.reference.tables import INSTANCE_STATES_TABLE_ENV
from lambda_dedup.runtime import deduplicator, logger, metrics

NAMESPACE = "eventbridge-instance-states"
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
CHANGE = ("instance_id", "state", "time", "account", "region")
"""The item's fields that a redelivery of the same event ``id`` must repeat."""


def _text(value: Any, field: str, limit: int = 256) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise InvalidEventError(f"{field!r} must be a string of 1-{limit} characters", field)
    return value


def state_change(event: EventBridgeEvent) -> dict[str, Any]:
    """The instance states table's item for one event; InvalidEventError if malformed."""
    raw = event.raw_event
    event_id = _text(raw.get("id"), "id")
    time = _text(raw.get("time"), "time", 64)
    try:
        dt.datetime.fromisoformat(time)
    except ValueError as error:
        raise InvalidEventError(f"'time' is not an ISO 8601 time: {time!r}", "time") from error
    detail = raw.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEventError("'detail' must be an object", "detail")
    instance = _text(detail.get("instance-id"), "detail.instance-id", 64)
    if not INSTANCE_ID.fullmatch(instance):
        raise InvalidEventError(
            f"'detail.instance-id' is not an EC2 instance id: {instance!r}", "detail.instance-id"
        )
    return {
        "instance_id": instance,
        "changed_at": f"{time}#{event_id}",
        "state": _text(detail.get("state"), "detail.state", 32),
        "time": time,
        "event_id": event_id,
        "account": str(raw.get("account", "")),
        "region": str(raw.get("region", "")),
    }


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dedup = deduplicator(NAMESPACE)
    table = config.required(INSTANCE_STATES_TABLE_ENV)
    data = EventBridgeEvent(event if isinstance(event, dict) else {})

    def parse() -> tuple[str, list[effects.TransactItem], dict[str, Any]]:
        item = state_change(data)
        dedup.record_id(item["event_id"])  # an unusable key is a rejection
        payload = {name: item[name] for name in CHANGE}
        return item["event_id"], [effects.put(table, item)], payload

    def apply(parsed: tuple[str, list[effects.TransactItem], dict[str, Any]]) -> Outcome[Any]:
        key, writes, payload = parsed
        return dedup.transact_once(key, writes, payload=payload)

    describe = {"event_id": data.raw_event.get("id"), "detail_type": data.get("detail-type")}
    outcome = handle_event("eventbridge", parse, apply, describe=describe)
    return {"record_id": outcome.record_id, "duplicate": outcome.duplicate}
