"""SNS: a welcome message per profile notification, sent once, in claim mode.

Each notification's message is a profile (:mod:`lambda_dedup.reference.domain`). The side effect is
outside DynamoDB -- a welcome message handed to the pluggable sender
(:mod:`lambda_dedup.reference.senders`) -- so it runs in claim mode: the key is claimed with a lease
as long as the invocation's remaining time, the message is sent, and the result (the
sender's message id) is stored for every duplicate.

* **Key:** the ``idempotency_key`` message attribute when the publisher sets one (a
  publisher's retry is a new message with a new ``MessageId``), else the ``MessageId``,
  which SNS keeps when it redelivers.
* **Failures:** a malformed notification, or a key reused with another payload, raises
  after a ``rejected event`` log line, so that the event goes through Lambda's retries to
  the on-failure destination. A key claimed by a concurrent invocation raises too
  (``event in progress``): the retry finds it done. If sending fails, the claim is
  released and the error propagates, so that the retry sends.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sns_event import SNSEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup.asynchronous import process_event
from lambda_dedup.deduplicator import Claim, Outcome
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.reference import senders
from lambda_dedup.reference.domain import parse_json, parse_profile
from lambda_dedup.runtime import deduplicator, logger, metrics

NAMESPACE = "sns-welcome"
KEY_ATTRIBUTE = "idempotency_key"
MAX_KEY = 256


def idempotency_key(record: dict[str, Any]) -> str:
    """The ``idempotency_key`` String attribute if present, else the ``MessageId``."""
    sns = record.get("Sns")
    if not isinstance(sns, dict):
        raise InvalidEventError("'Sns' must be an object", "Sns")
    attributes = sns.get("MessageAttributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise InvalidEventError("'Sns.MessageAttributes' must be an object", "MessageAttributes")
    attribute = (attributes or {}).get(KEY_ATTRIBUTE)
    if attribute is not None:
        if not isinstance(attribute, dict):
            raise InvalidEventError(f"{KEY_ATTRIBUTE!r} must be a String attribute", KEY_ATTRIBUTE)
        value = attribute.get("Value")
        if attribute.get("Type") != "String" or not isinstance(value, str):
            raise InvalidEventError(f"{KEY_ATTRIBUTE!r} must be a String attribute", KEY_ATTRIBUTE)
        if not 1 <= len(value) <= MAX_KEY:
            raise InvalidEventError(
                f"{KEY_ATTRIBUTE!r} must be 1-{MAX_KEY} characters", KEY_ATTRIBUTE
            )
        return value
    message_id = sns.get("MessageId")
    if not isinstance(message_id, str) or not message_id:
        raise InvalidEventError("'Sns.MessageId' must be a non-empty string", "Sns.MessageId")
    return message_id


def welcome(profile: dict[str, Any]) -> senders.WelcomeMessage:
    """The welcome message for a profile."""
    name = profile.get("name") or profile["user_id"]
    return senders.WelcomeMessage(
        user_id=profile["user_id"],
        to=profile["email"],
        subject="Welcome!",
        text=f"Hello {name}, your profile is ready.",
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    dedup = deduplicator(NAMESPACE)

    def parse(record: SNSEventRecord) -> tuple[str, dict[str, Any]]:
        raw = record.raw_event
        key = idempotency_key(raw)
        dedup.record_id(key)  # an unusable key is a rejection
        return key, parse_profile(parse_json(raw["Sns"].get("Message"), "the message"))

    def apply(parsed: tuple[str, dict[str, Any]]) -> Outcome[dict[str, Any]]:
        key, profile = parsed
        message = welcome(profile)

        def send(claim: Claim) -> dict[str, Any]:
            message_id = senders.sender().send(message, idempotency_token=claim.token)
            return {"message_id": message_id, "user_id": message.user_id}

        return dedup.run_once(
            key, send, payload=profile, lease_ms=context.get_remaining_time_in_millis()
        )

    results: list[dict[str, Any]] = process_event(event, context, apply, parse=parse, source="sns")
    return results
