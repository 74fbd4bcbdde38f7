"""Handlers for tests of the local invoker: they report what the invocation looked like."""

from __future__ import annotations

import os
from typing import Any


def report(event: Any, context: Any) -> dict[str, Any]:
    """Echo the event, the context's attributes and the environment the handler saw."""
    return {
        "event": event,
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory": context.memory_limit_in_mb,
        "greeting": os.environ.get("GREETING"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
    }


def fail(event: Any, context: Any) -> None:
    raise ValueError(f"cannot handle {event!r}")


_seen: dict[str, int] = {}


def flaky(event: Any, context: Any) -> str:
    """Fail the first delivery of each event ``id``, succeed on the retry."""
    attempts = _seen[event["id"]] = _seen.get(event["id"], 0) + 1
    if attempts == 1:
        raise ConnectionError("downstream timed out")
    return f"ok after {attempts}"
