"""Events of the reference stack's push triggers: the test kit's builders
(:mod:`lambda_dedup.testing.events`) with the stack's routes, topic and rule.

A payload that is a ``str`` is sent as it is (to make malformed events); anything else
is JSON-encoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from lambda_dedup.testing import events

IAM_CALLER = "arn:aws:sts::123456789012:assumed-role/profile-client/profile-client"
TOPIC = "dedup-profile-events"
SAMPLE_ETAG = "d41d8cd98f00b204e9800998ecf8427e"
SAMPLE_SEQUENCER = "00674AD88B3E9F1C2A"


def http_request(
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    caller: str = IAM_CALLER,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A payload 2.0 request to the profiles API from the IAM principal ``caller``, with
    ``Idempotency-Key: key`` when ``key`` is given (sent as it is: quote it to send a
    structured string)."""
    nested = path.count("/") > 1
    sent = dict(headers or {})
    if key is not None:
        sent = {"idempotency-key": key, **sent}
    return events.http_api_event(
        method,
        path,
        body,
        route_key=f"{method} {'/profiles/{user_id}' if nested else path}",
        # API Gateway passes path parameters decoded ("+" stays a plus), rawPath as sent.
        path_parameters={"user_id": unquote(path.rsplit("/", 1)[1])} if nested else None,
        headers=sent,
        caller=caller,
    )


def s3_event(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    sequencer: str | None = None,
    etag: str | None = None,
    size: int = 100,
    event_name: str = "ObjectCreated:Put",
) -> dict[str, Any]:
    """A notification for object ``key`` (URL-encoded as S3 does) of ``bucket``; ``etag``
    is the object's (as S3 returns it, quotes or not), else the sample's."""
    return events.s3_event(
        bucket,
        key,
        event_name=event_name,
        version_id=version_id,
        sequencer=sequencer or SAMPLE_SEQUENCER,
        etag=etag or SAMPLE_ETAG,
        size=size,
    )


def s3_eventbridge_event(
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    sequencer: str,
    etag: str,
    size: int = 100,
) -> dict[str, Any]:
    """The ``Object Created`` event S3 sends to EventBridge for ``key`` (not URL-encoded,
    unlike a notification's), as a rule delivers it to a function."""
    return events.s3_eventbridge_event(
        bucket, key, version_id=version_id, sequencer=sequencer, etag=etag, size=size
    )


def sns_event(
    message: Any,
    *,
    message_id: str | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A notification of ``message`` on the profile events topic, with a new
    ``MessageId`` unless one is given, and string message ``attributes``."""
    return events.sns_event(
        message,
        topic=TOPIC,
        subject="profile created",
        message_id=message_id,
        attributes={"event_type": "profile.created", **(attributes or {})},
    )


def instance_state_change(
    event_id: str | None = None,
    *,
    instance: str = "i-0a1b2c3d4e5f60718",
    state: str = "stopped",
    **fields: Any,
) -> dict[str, Any]:
    """An EC2 state-change event with a new ``id`` unless one is given; ``fields`` replace
    top-level fields (``detail``, ``time``...)."""
    event = events.eventbridge_event(
        {"instance-id": instance, "state": state},
        source="aws.ec2",
        detail_type="EC2 Instance State-change Notification",
        event_id=event_id,
        resources=[f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"],
        time="2026-11-30T09:31:08Z",
    )
    event.update(fields)
    return event
