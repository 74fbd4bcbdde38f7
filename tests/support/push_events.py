"""Factories for the push triggers' events, built from the realistic ones in tests/events/.

Each factory copies ``tests/events/<source>.json`` and changes only what differs between
two real deliveries: ids, keys, payloads and the caller. A payload that is a ``str`` is
sent as it is (to make malformed events); anything else is JSON-encoded.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote

from support.events import load_event

IAM_CALLER = "arn:aws:sts::123456789012:assumed-role/profile-client/profile-client"


def _text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


def http_request(
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    caller: str = IAM_CALLER,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A payload 2.0 request from the IAM principal ``caller``, with ``Idempotency-Key:
    key`` when ``key`` is given (sent as it is: quote it to send a structured string)."""
    event: dict[str, Any] = load_event("api_gateway_http")
    route_path = "/profiles/{user_id}" if path.count("/") > 1 else path
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route_path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    event["requestContext"]["authorizer"]["iam"]["userArn"] = caller
    event["headers"].pop("idempotency-key")
    if key is not None:
        event["headers"]["idempotency-key"] = key
    event["headers"].update(headers or {})
    if body is None:
        event.pop("body")
        event["headers"].pop("content-type")
    else:
        event["body"] = _text(body)
    if path.count("/") > 1:
        # API Gateway passes path parameters decoded ("+" stays a plus), rawPath as sent.
        event["pathParameters"] = {"user_id": unquote(path.rsplit("/", 1)[1])}
    return event


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
    event: dict[str, Any] = load_event("s3")
    record = event["Records"][0]
    record["eventName"] = event_name
    record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    obj = record["s3"]["object"]
    obj.update(
        key=quote_plus(key, safe="/"),
        size=size,
        sequencer=sequencer or obj["sequencer"],
        eTag=(etag or obj["eTag"]).strip('"'),
    )
    if version_id is None:
        obj.pop("versionId")
    else:
        obj["versionId"] = version_id
    return event


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
    event: dict[str, Any] = load_event("s3_eventbridge")
    event["id"] = str(uuid.uuid4())
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    detail = event["detail"]
    detail["bucket"]["name"] = bucket
    obj = detail["object"]
    obj.update(key=key, size=size, etag=etag.strip('"'), sequencer=sequencer)
    if version_id is None:
        obj.pop("version-id")
    else:
        obj["version-id"] = version_id
    return event


def sns_event(
    message: Any,
    *,
    message_id: str | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A notification of ``message``, with a new ``MessageId`` unless one is given, and
    string message ``attributes``."""
    event: dict[str, Any] = load_event("sns")
    sns = event["Records"][0]["Sns"]
    sns["Message"] = _text(message)
    sns["MessageId"] = message_id or str(uuid.uuid4())
    for name, value in (attributes or {}).items():
        sns["MessageAttributes"][name] = {"Type": "String", "Value": value}
    return event


def instance_state_change(
    event_id: str | None = None,
    *,
    instance: str = "i-0a1b2c3d4e5f60718",
    state: str = "stopped",
    **fields: Any,
) -> dict[str, Any]:
    """An EC2 state-change event with a new ``id`` unless one is given; ``fields`` replace
    top-level fields (``detail``, ``time``...)."""
    event: dict[str, Any] = load_event("eventbridge")
    event["id"] = event_id or str(uuid.uuid4())
    event["detail"] = {"instance-id": instance, "state": state}
    event["resources"] = [f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"]
    event.update(fields)
    return event
