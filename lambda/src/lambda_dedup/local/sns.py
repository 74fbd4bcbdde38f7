"""SNS: messages published to a topic, delivered to its function subscriptions.

For each ``lambda`` subscription (``ListSubscriptions`` and ``GetSubscriptionAttributes``
on the emulator) the runner adds a mirror subscription to a tap queue (:mod:`.taps`)
with the same ``FilterPolicy`` and ``FilterPolicyScope``, so the emulator's own filter
policy evaluation decides what the function gets. Each message that reaches the tap
becomes an SNS event -- ``Records[0].Sns`` with the message id, attributes, timestamp
and signature fields -- delivered by asynchronous invocation. Any publisher works:
boto3, ``aws sns publish``, an on-failure destination.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_dedup.local.taps import TapQueue


@dataclass(frozen=True, slots=True)
class SnsSubscription:
    """A function subscription, as the emulator has it."""

    arn: str
    topic_arn: str
    function_name: str
    filter_policy: str | None
    filter_policy_scope: str

    @classmethod
    def all(cls, sns_client: Any) -> list[SnsSubscription]:
        """Every ``lambda`` subscription in the emulator."""
        found = []
        for page in sns_client.get_paginator("list_subscriptions").paginate():
            for entry in page["Subscriptions"]:
                if entry["Protocol"] != "lambda":
                    continue
                attributes = sns_client.get_subscription_attributes(
                    SubscriptionArn=entry["SubscriptionArn"]
                )["Attributes"]
                found.append(
                    cls(
                        arn=entry["SubscriptionArn"],
                        topic_arn=entry["TopicArn"],
                        function_name=entry["Endpoint"].split(":")[6],
                        filter_policy=attributes.get("FilterPolicy") or None,
                        filter_policy_scope=attributes.get("FilterPolicyScope")
                        or "MessageAttributes",
                    )
                )
        return found


def sns_event(subscription: SnsSubscription, envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The event SNS sends a function for one message (``envelope``: SNS's JSON form)."""
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Timestamp": envelope["Timestamp"],
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "MessageId": envelope["MessageId"],
                    "Message": envelope["Message"],
                    "MessageAttributes": dict(envelope.get("MessageAttributes") or {}),
                    "Type": envelope.get("Type", "Notification"),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
                    "TopicArn": envelope["TopicArn"],
                    "Subject": envelope.get("Subject"),
                },
            }
        ]
    }


def published_at(envelope: Mapping[str, Any]) -> float:
    """When the message was published, in seconds since the epoch."""
    stamp = str(envelope["Timestamp"]).replace("Z", "+00:00")
    return dt.datetime.fromisoformat(stamp).timestamp()


class SubscriptionTap:
    """A mirror of one function subscription, ending in a tap queue."""

    def __init__(self, sns_client: Any, sqs_client: Any, subscription: SnsSubscription) -> None:
        self.subscription = subscription
        self._sns = sns_client
        self._queue = TapQueue(sqs_client, subscription.topic_arn.split(":")[5])
        attributes = {"FilterPolicyScope": subscription.filter_policy_scope}
        if subscription.filter_policy:
            attributes["FilterPolicy"] = subscription.filter_policy
        self._mirror: str = sns_client.subscribe(
            TopicArn=subscription.topic_arn,
            Protocol="sqs",
            Endpoint=self._queue.arn,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]

    def events(self) -> list[tuple[dict[str, Any], float]]:
        """Each message published since the last call, as the function's event, with the
        time it was published."""
        found = []
        for message in self._queue.receive():
            envelope = json.loads(message["Body"])
            found.append((sns_event(self.subscription, envelope), published_at(envelope)))
        return found

    def close(self) -> None:
        self._sns.unsubscribe(SubscriptionArn=self._mirror)
        self._queue.delete()
