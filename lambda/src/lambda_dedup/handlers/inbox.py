"""Direct invocation: an idempotent receiver ("inbox") for commands.

Callers of ``Invoke`` (SDKs, Step Functions) retry on timeouts and throttling, so one
command can arrive several times. Each command is written to the inbox once, in effect
mode: a single conditional ``PutItem`` whose item is both the inbox entry and the
deduplication marker. Every delivery of a command, first or duplicate, gets the same
receipt.

Event::

    {"id": "<1-256 characters>", "type": "<1-128 characters>", "data": {...optional...}}

Returns the receipt ``{"id", "type", "accepted_at_ms", "request_id"}`` of the first delivery.
A malformed command raises :class:`~lambda_dedup.exceptions.InvalidEventError`, and a
known id with other content :class:`~lambda_dedup.exceptions.PayloadMismatchError`, each
after a structured log line, so that an asynchronous invocation ends in the function's DLQ.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup.exceptions import InvalidEventError, PayloadMismatchError
from lambda_dedup.handlers._runtime import deduplicator, logger, metrics

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
    try:
        command = parse_command(event)
    except InvalidEventError as error:
        logger.error("rejected command", extra={"reason": str(error), "field": error.field})
        metrics.add_metric(name="CommandsRejected", unit=MetricUnit.Count, value=1)
        raise
    receipt = {
        "id": command["id"],
        "type": command["type"],
        "accepted_at_ms": int(time.time() * 1000),
        "request_id": context.aws_request_id,
    }
    try:
        outcome = deduplicator(NAMESPACE).put_once(
            command["id"],
            {"type": command["type"], "data": command["data"]},
            payload=command,
            result=receipt,
        )
    except PayloadMismatchError as error:
        logger.error("command id reused", extra={"reason": str(error), "command_id": command["id"]})
        metrics.add_metric(name="CommandsRejected", unit=MetricUnit.Count, value=1)
        raise
    if outcome.duplicate:
        metrics.add_metric(name="DuplicatesSuppressed", unit=MetricUnit.Count, value=1)
        logger.info("duplicate command", extra={"command_id": command["id"]})
    else:
        metrics.add_metric(name="CommandsAccepted", unit=MetricUnit.Count, value=1)
    result: dict[str, Any] = outcome.result
    return result
