"""Direct invocation: an idempotent receiver ("inbox") for commands.

Callers of ``Invoke`` (SDKs, Step Functions) retry on timeouts and throttling, so one
command can arrive several times. Each command is written to the inbox once, in effect
mode: a single conditional ``PutItem`` whose item is both the inbox entry and the
deduplication marker. Every delivery of a command, first or duplicate, gets the same
receipt.

Event::

    {"id": "<1-256 characters>", "type": "<1-128 characters>", "data": {...optional...}}

Returns the receipt ``{"id", "type", "accepted_at_ms", "request_id"}`` of the first delivery.
A malformed command raises :class:`~lambda_dedup.exceptions.InvalidEventError` (one that
DynamoDB could not store, :class:`~lambda_dedup.exceptions.UnstorableValueError`), and a
known id with other content :class:`~lambda_dedup.exceptions.PayloadMismatchError`, each
after a ``rejected event`` log line and before any write, so that an asynchronous
invocation ends in the function's DLQ. The log lines and metrics are those of every
asynchronous handler (:mod:`lambda_dedup.asynchronous`).
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup.asynchronous import handle_event
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.runtime import deduplicator, logger, metrics
from lambda_dedup.storable import check_item

NAMESPACE = "inbox"


def parse_command(event: Any) -> dict[str, Any]:
    """Validate a command; raise :class:`InvalidEventError` naming the bad field."""
    if not isinstance(event, dict):
        raise InvalidEventError("the event must be a JSON object")
    for field, limit in (("id", 256), ("type", 128)):
        value = event.get(field)
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            raise InvalidEventError(f"{field!r} must be a string of 1-{limit} characters", field)
    data = event.get("data", {})
    if not isinstance(data, dict):
        raise InvalidEventError("'data' must be a JSON object", "data")
    return {"id": event["id"], "type": event["type"], "data": data}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    dedup = deduplicator(NAMESPACE)

    def parse() -> dict[str, Any]:
        command = parse_command(event)
        dedup.record_id(command["id"])  # an unusable id is a rejection
        # The inbox entry is the marker's item: what DynamoDB would refuse in it (numbers,
        # lone surrogates, 32 levels counting "data" itself, 400 KB) is refused now.
        check_item({"type": command["type"], "data": command["data"]}, what="the command")
        return command

    def apply(command: dict[str, Any]) -> Outcome[Any]:
        receipt = {
            "id": command["id"],
            "type": command["type"],
            "accepted_at_ms": int(time.time() * 1000),
            "request_id": context.aws_request_id,
        }
        return dedup.put_once(
            command["id"],
            {"type": command["type"], "data": command["data"]},
            payload=command,
            result=receipt,
        )

    command = event if isinstance(event, dict) else {}
    describe = {"command_id": command.get("id"), "command_type": command.get("type")}
    result: dict[str, Any] = handle_event("inbox", parse, apply, describe=describe).result
    return result
