"""SQS: the poller Lambda runs for an event source mapping, as AWS documents it.

* It receives up to the mapping's ``BatchSize`` messages, gathering them for up to
  ``MaximumBatchingWindowInSeconds``, and invokes the function once with them, in the
  event shape Lambda delivers (``messageId``, ``receiptHandle``, ``body``,
  ``attributes``, ``messageAttributes``, ``eventSourceARN``...).
* With ``ReportBatchItemFailures``, it deletes the messages that the response does not
  list in ``batchItemFailures``. A response that names a message outside the batch, or
  an empty identifier, fails the whole batch. Without it, it deletes all of them.
* If the function raises, it deletes none.

What it does not delete becomes visible again after the queue's visibility timeout, and
the queue's own redrive policy moves it to the DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_dedup.local.destinations import queue_url
from lambda_dedup.local.functions import Invocation, Invoker

MAX_RECEIVE = 10
"""SQS returns at most 10 messages per ``ReceiveMessage``."""


@dataclass(frozen=True, slots=True)
class SqsMapping:
    """An event source mapping from a queue, as the emulator's Lambda API describes it."""

    uuid: str
    function_name: str
    queue_arn: str
    batch_size: int
    batching_window_s: int
    report_item_failures: bool
    enabled: bool

    @classmethod
    def from_api(cls, mapping: Mapping[str, Any]) -> SqsMapping:
        """From one entry of ``ListEventSourceMappings``."""
        return cls(
            uuid=mapping["UUID"],
            function_name=mapping["FunctionArn"].split(":")[6],
            queue_arn=mapping["EventSourceArn"],
            batch_size=int(mapping.get("BatchSize") or 10),
            batching_window_s=int(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            report_item_failures="ReportBatchItemFailures"
            in (mapping.get("FunctionResponseTypes") or []),
            enabled=mapping.get("State", "Enabled") in ("Enabled", "Enabling", "Creating"),
        )


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one poll did: the messages it delivered, deleted and left for redelivery."""

    received: tuple[str, ...]
    deleted: tuple[str, ...]
    failed: tuple[str, ...]
    invocation: Invocation


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """boto3's ``MessageAttributes`` in the shape Lambda's SQS records carry them."""
    converted = {}
    for name, value in attributes.items():
        record: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            record["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            record["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        converted[name] = record
    return converted


def _chunks(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``messages`` in groups of at most 10, the most one SQS batch request takes."""
    return [messages[n : n + MAX_RECEIVE] for n in range(0, len(messages), MAX_RECEIVE)]


def failed_ids(response: Any, batch: set[str]) -> set[str] | None:
    """The message ids a partial batch response reports; ``None`` when it is invalid
    (Lambda then fails the whole batch)."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return None
        ids.add(identifier)
    return ids


class SqsPoller:
    """Polls one queue for one mapping and invokes its function, as Lambda's poller does."""

    def __init__(
        self,
        invoker: Invoker,
        sqs_client: Any,
        mapping: SqsMapping,
        *,
        region: str,
        redelivery_delay_s: int | None = None,
    ) -> None:
        """``redelivery_delay_s``, if given, replaces the queue's visibility timeout for
        failed messages (``ChangeMessageVisibility``), so that a local run need not wait
        the deployed timeout (six times the function's) before each redelivery."""
        self._redelivery_delay = redelivery_delay_s
        self._invoker = invoker
        self._sqs = sqs_client
        self.mapping = mapping
        self._region = region
        self.queue_url = queue_url(sqs_client, mapping.queue_arn)

    def _receive(self, wait_s: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.mapping.batching_window_s
        while len(messages) < self.mapping.batch_size:
            received = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, self.mapping.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=wait_s if not messages else 0,
            ).get("Messages", [])
            messages.extend(received)
            if not received and time.monotonic() >= deadline:
                break
            if not received:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        return messages

    def _record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": _message_attributes(message.get("MessageAttributes") or {}),
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self._region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def poll_once(self, wait_s: int = 0) -> BatchOutcome | None:
        """Receive one batch, invoke, delete what succeeded; ``None`` if the queue was empty."""
        messages = self._receive(wait_s)
        if not messages:
            return None
        ids = [m["MessageId"] for m in messages]
        invocation = self._invoker.invoke(
            self.mapping.function_name, {"Records": [self._record(m) for m in messages]}
        )
        if invocation.failed:
            failed: set[str] | None = set(ids)
        elif self.mapping.report_item_failures:
            failed = failed_ids(invocation.response, set(ids))
        else:
            failed = set()
        failed = set(ids) if failed is None else failed
        done = [m for m in messages if m["MessageId"] not in failed]
        for chunk in _chunks(done):
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)
                ],
            )
        retried = [m for m in messages if m["MessageId"] in failed]
        for chunk in _chunks(retried if self._redelivery_delay is not None else []):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(n),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": self._redelivery_delay,
                    }
                    for n, m in enumerate(chunk)
                ],
            )
        return BatchOutcome(
            received=tuple(ids),
            deleted=tuple(m["MessageId"] for m in done),
            failed=tuple(i for i in ids if i in failed),
            invocation=invocation,
        )
