"""SQS: profile upserts, each applied once, with a partial batch response.

Each message body is a profile (:mod:`lambda_dedup.reference.domain`). The profile is written to the
profiles table (``PROFILES_TABLE_NAME``) in effect mode: one ``TransactWriteItems`` holds
the deduplication marker and the ``Put`` of the profile, so the write happens exactly once
per key.

* **Key:** the business key ``user_id`` + ``request_id`` when the message carries a
  ``request_id`` (a body field or a string message attribute), so that a producer's retry
  -- a new message with a new ``messageId`` -- is recognised; else the ``messageId``, which
  redeliveries keep. ``request_id`` is envelope, not profile: it is not stored.
* **Order:** in a standard queue the records run concurrently, those of one ``user_id``
  one after another (two writes of one profile never race), and a failure holds back no
  other record. In a FIFO queue a message group runs in order and stops at its first
  failure: the rest of that group is reported failed, unprocessed.
* **Failures:** ``batchItemFailures`` lists the ``messageId`` of exactly the failed
  messages; Lambda deletes the others. A malformed message -- one that cannot be parsed,
  validated or keyed, whatever the error -- is a reported failure with a ``rejected
  record`` log line, and reaches the dead-letter queue after ``maxReceiveCount`` receives;
  the other messages of its batch are applied.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config, effects
from lambda_dedup.batch import is_fifo, message_group, process_batch
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.keys import fingerprint
from lambda_dedup.reference.domain import parse_json, parse_profile
from lambda_dedup.reference.tables import PROFILES_TABLE_ENV
from lambda_dedup.runtime import deduplicator, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

__all__ = ["handler", "is_fifo", "ordering_key", "parse_message"]

NAMESPACE = "sqs-profiles"
REQUEST_ID = "request_id"
MAX_REQUEST_ID = 256


def ordering_key(record: dict[str, Any]) -> str | None:
    """The message group of a FIFO message, else the profile's ``user_id`` if readable."""
    group = message_group(record)
    if group is not None:
        return group
    try:
        body = json.loads(record.get("body") or "")
    except (TypeError, ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    user_id = body.get("user_id") if isinstance(body, dict) else None
    return user_id if isinstance(user_id, str) else None


def _request_id(record: SQSRecord, body: dict[str, Any]) -> str | None:
    attributes = record.raw_event.get("messageAttributes")
    if not isinstance(attributes, dict):  # Lambda always sends an object, {} if none
        raise InvalidEventError("'messageAttributes' must be an object", "messageAttributes")
    attribute = attributes.get(REQUEST_ID)
    value = None
    if attribute is not None:
        data_type = attribute.get("dataType") if isinstance(attribute, dict) else None
        # "String", or a custom type "String.<label>"; a Binary or Number one is a mistake
        # that must not silently fall back to the messageId.
        if not isinstance(data_type, str) or data_type.split(".", 1)[0] != "String":
            raise InvalidEventError(
                f"the {REQUEST_ID!r} message attribute must be a String", REQUEST_ID
            )
        value = attribute.get("stringValue")
        if value is None:
            raise InvalidEventError(
                f"the {REQUEST_ID!r} message attribute has no stringValue", REQUEST_ID
            )
    candidates = {value for value in (body.get(REQUEST_ID), value) if value is not None}
    if not candidates:
        return None
    request_id = candidates.pop()
    if candidates:
        raise InvalidEventError("the body and the message attribute disagree", REQUEST_ID)
    if not isinstance(request_id, str) or not 1 <= len(request_id) <= MAX_REQUEST_ID:
        raise InvalidEventError(
            f"{REQUEST_ID!r} must be a string of 1-{MAX_REQUEST_ID} characters", REQUEST_ID
        )
    return request_id


def parse_message(record: SQSRecord) -> tuple[str, dict[str, Any]]:
    """The idempotency key and the validated profile of one message."""
    profile = parse_profile(parse_json(record.body, "the message body"))
    request_id = _request_id(record, profile)
    profile.pop(REQUEST_ID, None)
    if request_id is None:
        return record.message_id, profile
    return f"{quote(profile['user_id'], safe='')}/{quote(request_id, safe='')}", profile


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    dedup = deduplicator(NAMESPACE)
    table = config.required(PROFILES_TABLE_ENV)

    def parse(record: SQSRecord) -> tuple[str, list[effects.TransactItem], dict[str, Any]]:
        key, profile = parse_message(record)
        dedup.record_id(key)  # an unusable key (an empty messageId) is a rejection
        fingerprint(profile)
        return key, [effects.put(table, profile)], profile

    def apply(parsed: tuple[str, list[effects.TransactItem], dict[str, Any]]) -> Outcome[Any]:
        key, writes, profile = parsed
        return dedup.transact_once(key, writes, payload=profile)

    # Stops a FIFO queue's message group at its first failure; a standard queue goes on.
    return process_batch(
        event, context, apply, parse=parse, source="sqs", ordering_key=ordering_key
    )
