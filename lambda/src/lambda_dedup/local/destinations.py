"""On-failure destinations: where Lambda sends a record of what it gave up on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def queue_url(sqs_client: Any, queue_arn: str) -> str:
    """The URL of the queue ``arn:<partition>:sqs:<region>:<account>:<name>``."""
    _, _, _, _, account, name = queue_arn.split(":")
    url: str = sqs_client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return url


def send_to_destination(clients: Callable[[str], Any], destination: str, body: str) -> None:
    """Send ``body`` to the SQS queue or SNS topic ``destination`` (an ARN)."""
    service = destination.split(":")[2]
    if service == "sqs":
        sqs = clients("sqs")
        sqs.send_message(QueueUrl=queue_url(sqs, destination), MessageBody=body)
    elif service == "sns":
        clients("sns").publish(TopicArn=destination, Message=body)
    else:
        raise ValueError(f"unsupported on-failure destination {destination!r}")
