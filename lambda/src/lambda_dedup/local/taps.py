"""Tap queues: how the runner sees what SNS and EventBridge would deliver to a function.

moto does not deliver SNS messages or EventBridge events to functions, but it does
deliver them to SQS queues, after evaluating the subscription's filter policy or the
rule's event pattern itself. So for each function subscription or rule target, the runner
adds a *mirror* -- a subscription with the same filter policy, or a target on the same
rule with the same input settings -- whose endpoint is a queue of its own, reads what
arrives there and invokes the function with it. The mirrors are removed on ``close()``.
"""

from __future__ import annotations

import uuid
from typing import Any


class TapQueue:
    """A queue the runner owns in the emulator, named ``local-runner-tap-<id>``."""

    def __init__(self, sqs_client: Any, label: str) -> None:
        self._sqs = sqs_client
        name = f"local-runner-tap-{label}-{uuid.uuid4().hex[:8]}"[:80]
        self.url: str = sqs_client.create_queue(QueueName=name)["QueueUrl"]
        self.arn: str = sqs_client.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]

    def receive(self) -> list[dict[str, Any]]:
        """Every message waiting, each deleted once read (the runner then owns it)."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self._sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, VisibilityTimeout=60
            ).get("Messages", [])
            if not batch:
                return messages
            self._sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)
                ],
            )
            messages.extend(batch)

    def delete(self) -> None:
        self._sqs.delete_queue(QueueUrl=self.url)
