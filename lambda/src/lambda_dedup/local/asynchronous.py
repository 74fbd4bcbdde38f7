"""Asynchronous invocation (S3, SNS, EventBridge), as the Lambda service performs it.

Lambda queues the event, invokes the function, and if the function raises, retries it up
to the function's ``MaximumRetryAttempts`` (0-2) times, as long as the event is younger
than ``MaximumEventAgeInSeconds``. When it gives up, it sends an *invocation record* to
the on-failure destination (an SQS queue or an SNS topic): the request payload, the
error, the condition (``RetriesExhausted`` or ``EventAgeExceeded``) and the number of
attempts. The settings are read from the emulator's ``GetFunctionEventInvokeConfig``.

Lambda waits about one minute before the first retry and two before the second; here
the wait is ``retry_delay_s`` (default none), so that a local run takes seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambda_dedup.local.destinations import send_to_destination
from lambda_dedup.local.functions import Invocation, Invoker

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    """A function's asynchronous invocation settings."""

    maximum_retry_attempts: int = DEFAULT_RETRIES
    maximum_event_age_s: int = DEFAULT_MAX_AGE_S
    on_failure: str | None = None
    """The destination's ARN (SQS queue or SNS topic), if any."""

    @classmethod
    def describe(cls, lambda_client: Any, function: str) -> AsyncConfig:
        """The emulator's config for ``function``; Lambda's defaults if it has none."""
        try:
            config = lambda_client.get_function_event_invoke_config(FunctionName=function)
        except lambda_client.exceptions.ResourceNotFoundException:
            return cls()
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        return cls(
            maximum_retry_attempts=int(config.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            maximum_event_age_s=int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)),
            on_failure=destination,
        )


@dataclass(frozen=True, slots=True)
class AsyncOutcome:
    """Every attempt at one event, and where it ended."""

    invocations: tuple[Invocation, ...]
    record: dict[str, Any] | None
    """The invocation record sent to the on-failure destination, if it was."""

    @property
    def succeeded(self) -> bool:
        return not self.invocations[-1].failed


def invocation_record(
    function_arn: str, event: Any, last: Invocation, attempts: int, condition: str
) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination."""
    return {
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "requestContext": {
            "requestId": last.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": last.error.payload() if last.error else None,
    }


class AsyncInvoker:
    """Invokes functions asynchronously: retries, then the on-failure destination.

    Args:
        invoker: runs the function in this process.
        clients: ``clients("sqs")`` / ``clients("sns")`` give boto3 clients on the emulator.
        retry_delay_s: the wait before each retry (Lambda's are about 1 and 2 minutes).
    """

    def __init__(
        self,
        invoker: Invoker,
        lambda_client: Any,
        clients: Callable[[str], Any],
        *,
        retry_delay_s: float = 0.0,
    ) -> None:
        self._invoker = invoker
        self._lambda = lambda_client
        self._clients = clients
        self._delay = retry_delay_s
        self._configs: dict[str, AsyncConfig] = {}

    def config(self, function: str) -> AsyncConfig:
        if function not in self._configs:
            self._configs[function] = AsyncConfig.describe(self._lambda, function)
        return self._configs[function]

    def invoke(self, function: str, event: Any, *, queued_at: float | None = None) -> AsyncOutcome:
        """Deliver ``event`` to ``function`` as an asynchronous invocation."""
        config = self.config(function)
        queued = time.time() if queued_at is None else queued_at
        invocations: list[Invocation] = []
        condition = "RetriesExhausted"
        for attempt in range(1 + config.maximum_retry_attempts):
            if attempt and self._delay:
                time.sleep(self._delay)
            if time.time() - queued > config.maximum_event_age_s:
                condition = "EventAgeExceeded"
                break
            invocation = self._invoker.invoke(function, event)
            invocations.append(invocation)
            if not invocation.failed:
                return AsyncOutcome(tuple(invocations), None)
        if not invocations:  # too old before the first attempt: Lambda drops it untried
            return AsyncOutcome((), self._send_failure(function, event, None, 0, condition))
        record = self._send_failure(function, event, invocations[-1], len(invocations), condition)
        return AsyncOutcome(tuple(invocations), record)

    def _send_failure(
        self, function: str, event: Any, last: Invocation | None, attempts: int, condition: str
    ) -> dict[str, Any] | None:
        destination = self.config(function).on_failure
        if destination is None:
            return None
        arn = self._invoker.function(function).arn
        placeholder = Invocation(function, "", error=None)
        record = invocation_record(arn, event, last or placeholder, attempts, condition)
        send_to_destination(self._clients, destination, json.dumps(record))
        return record
