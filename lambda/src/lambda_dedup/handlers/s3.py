"""S3: profile files uploaded to a bucket, each object event applied once and in order.

Each ``ObjectCreated`` record names one uploaded object; its content is a profile
(:mod:`lambda_dedup.reference.domain`), which is read, validated and written to the profiles table
(``PROFILES_TABLE_NAME``) in effect mode: one ``TransactWriteItems`` holds the
deduplication marker, the object's position and the ``Put`` of the profile. The handler
takes S3's own notifications (``Records``) and the same events delivered through
EventBridge (``"source": "aws.s3"``, ``"detail-type": "Object Created"``), as
``modules/trigger-s3`` sends them with ``delivery = "eventbridge"``.

* **Key:** bucket + object key + ``versionId``, or the event's ``sequencer`` in an
  unversioned bucket. A redelivery has the same key, and an overwrite a new one. The
  payload that a redelivery must repeat is the event's identity (object, version, eTag,
  sequencer), never the object's current content.
* **Order:** S3 does not deliver notifications in order. For each object key the item
  ``s3-profiles:objects#<bucket>/<key>`` of the idempotency table keeps the greatest
  ``sequencer`` applied (compared as S3 documents: left-padded with zeros, then as text).
  An event older than it is **superseded**: it applies nothing, logs ``event
  superseded`` and succeeds. So a late event for an older version never overwrites the
  profile of a newer one.
* **Overwritten or deleted objects:** an unversioned object is read with ``If-Match`` on
  the event's eTag, and a versioned one by its ``versionId``. If the content is gone
  (``412`` or ``404``), a redelivery of an event already applied is a duplicate, and any
  other event is superseded: the newer object has its own event.
* **Failures:** a malformed event or file (not JSON, not a valid profile, larger than
  :data:`~lambda_dedup.reference.domain.MAX_PROFILE_BYTES`, or more than DynamoDB stores) raises
  after a ``rejected event`` log line naming the object and the field, so that the
  event goes through Lambda's retries to the on-failure destination. Nothing is dropped
  silently. Other event types (``ObjectRemoved``...) are logged and ignored.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from lambda_dedup import config, effects
from lambda_dedup.asynchronous import event_records, handle_event
from lambda_dedup.deduplicator import Deduplicator, Outcome
from lambda_dedup.exceptions import EffectConditionFailedError, InvalidEventError
from lambda_dedup.keys import record_id
from lambda_dedup.reference.domain import MAX_PROFILE_BYTES, parse_json, parse_profile
from lambda_dedup.reference.tables import PROFILES_TABLE_ENV
from lambda_dedup.runtime import client, deduplicator, logger, metrics

NAMESPACE = "s3-profiles"
POSITIONS = "s3-profiles:objects"
"""The namespace of the per-object position items in the idempotency table."""
CREATED = "ObjectCreated:"
EVENTBRIDGE_CREATED = "Object Created"
SEQUENCER = re.compile(r"^[0-9A-Fa-f]{1,64}$")
SEQUENCER_WIDTH = 64
"""Sequencers are left-padded with zeros to this width, so that text order is S3's order."""
GONE = frozenset({"PreconditionFailed", "NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "412"})
"""The read's error codes that say the event's content no longer exists (its bucket
deleted, too)."""
MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
"""A ``%`` in a notification's key that starts no escape: S3 would have sent ``%25``."""
BUCKET_NAME = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")
"""A bucket name S3 can have (legacy names included), as botocore checks it before any
request: the name of an event that does not match it is malformed, not a failed read."""


@dataclass(frozen=True, slots=True)
class ObjectEvent:
    """One object-created event, from a notification record or an EventBridge event."""

    bucket: str
    key: str
    version: str | None
    etag: str | None
    sequencer: str | None
    size: Any

    @property
    def dedup_key(self) -> str:
        # No '#' in a version id or a sequencer: the key ends unambiguously after the last.
        return f"{self.bucket}/{self.key}#{self.version or self.sequencer}"

    @property
    def identity(self) -> dict[str, Any]:
        """What a redelivery of this event repeats: its payload for deduplication."""
        return {
            "object": f"{self.bucket}/{self.key}",
            "version": self.version,
            "etag": self.etag,
            "sequencer": self.sequencer,
        }


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{field!r} must be a non-empty string", field)
    return value


def _object_event(
    bucket: Any, key: Any, version: Any, etag: Any, sequencer: Any, size: Any, prefix: str
) -> ObjectEvent:
    bucket, key = _text(bucket, f"{prefix}.bucket.name"), _text(key, f"{prefix}.object.key")
    if not BUCKET_NAME.fullmatch(bucket):
        raise InvalidEventError(f"{bucket!r} is not a bucket name", f"{prefix}.bucket.name")
    if version in (None, "", "null"):  # "null": written while versioning was off
        version = None
    elif not isinstance(version, str):
        raise InvalidEventError("the version id must be a string", f"{prefix}.object.versionId")
    if sequencer is not None and not (
        isinstance(sequencer, str) and SEQUENCER.fullmatch(sequencer)
    ):
        raise InvalidEventError(
            "'sequencer' must be 1-64 hexadecimal digits", f"{prefix}.object.sequencer"
        )
    if etag is not None and not (isinstance(etag, str) and etag):
        raise InvalidEventError("'eTag' must be a non-empty string", f"{prefix}.object.eTag")
    if version is None and sequencer is None:
        raise InvalidEventError(
            "an object needs a 'versionId' or a 'sequencer'", f"{prefix}.object.sequencer"
        )
    return ObjectEvent(bucket, key, version, etag, sequencer, size)


def notification_key(raw_key: Any) -> str:
    """The object key of a notification, which S3 URL-encodes (spaces as ``+``), decoded
    strictly: a ``%`` that starts no escape, or escapes that are not UTF-8, make the event
    malformed, never a guessed key (``unquote_plus`` alone would read ``%FF`` as U+FFFD).
    """
    raw = _text(raw_key, "s3.object.key")
    try:
        if MALFORMED_ESCAPE.search(raw):
            raise ValueError("a '%' that starts no escape")
        return unquote_plus(raw, errors="strict")
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidEventError(
            f"'s3.object.key' is not a URL-encoded UTF-8 key: {error}", "s3.object.key"
        ) from error


def object_event(record: dict[str, Any]) -> ObjectEvent:
    """The object event of one notification record; InvalidEventError if malformed."""
    s3 = record.get("s3")
    if not isinstance(s3, dict):
        raise InvalidEventError("'s3' must be an object", "s3")
    bucket, obj = s3.get("bucket"), s3.get("object")
    if not isinstance(bucket, dict) or not isinstance(obj, dict):
        raise InvalidEventError("'s3.bucket' and 's3.object' must be objects", "s3")
    return _object_event(
        bucket.get("name"),
        notification_key(obj.get("key")),
        obj.get("versionId"),
        obj.get("eTag"),
        obj.get("sequencer"),
        obj.get("size"),
        "s3",
    )


def eventbridge_object_event(event: dict[str, Any]) -> ObjectEvent:
    """The object event of an EventBridge ``Object Created`` event (its key is not
    URL-encoded); InvalidEventError if malformed."""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEventError("'detail' must be an object", "detail")
    bucket, obj = detail.get("bucket"), detail.get("object")
    if not isinstance(bucket, dict) or not isinstance(obj, dict):
        raise InvalidEventError("'detail.bucket' and 'detail.object' must be objects", "detail")
    return _object_event(
        bucket.get("name"),
        obj.get("key"),
        obj.get("version-id"),
        obj.get("etag"),
        obj.get("sequencer"),
        obj.get("size"),
        "detail",
    )


def object_version(record: dict[str, Any]) -> tuple[str, str, str | None, str]:
    """The bucket, the (decoded) object key, the version id (``None`` when unversioned)
    and the idempotency key of one notification record."""
    found = object_event(record)
    return found.bucket, found.key, found.version, found.dedup_key


def read_profile(found: ObjectEvent) -> dict[str, Any] | None:
    """Read the object the event names and validate it as a profile; ``None`` if that
    content no longer exists (overwritten or deleted since)."""
    if isinstance(found.size, int) and found.size > MAX_PROFILE_BYTES:
        raise InvalidEventError(
            f"the object is {found.size} bytes; a profile is at most {MAX_PROFILE_BYTES}",
            "s3.object.size",
        )
    request: dict[str, Any] = {"Bucket": found.bucket, "Key": found.key}
    if found.version is not None:
        request["VersionId"] = found.version
    elif found.etag is not None:
        request["IfMatch"] = f'"{found.etag.strip(chr(34))}"'
    try:
        body = client("s3").get_object(**request)["Body"]
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code")) in GONE:
            return None
        raise
    data: bytes = body.read(MAX_PROFILE_BYTES + 1)
    body.close()
    if len(data) > MAX_PROFILE_BYTES:
        raise InvalidEventError(
            f"the object is larger than {MAX_PROFILE_BYTES} bytes", "s3.object.size"
        )
    return parse_profile(parse_json(data, "the object"))


def position_effect(dedup: Deduplicator, table: str, found: ObjectEvent) -> effects.TransactItem:
    """The conditional ``Put`` that records ``found`` as its object's latest event: it
    fails, cancelling the transaction, if a later event of that object was applied."""
    assert found.sequencer is not None
    sequencer = found.sequencer.upper().rjust(SEQUENCER_WIDTH, "0")
    item = {
        "id": record_id(POSITIONS, f"{found.bucket}/{found.key}"),
        "sequencer": sequencer,
        "expires_at": int(time.time()) + dedup.ttl_seconds,  # as long as the markers
    }
    return effects.put(
        table,
        item,
        condition="attribute_not_exists(#id) OR #sequencer < :sequencer",
        names={"#id": "id", "#sequencer": "sequencer"},
        values={":sequencer": sequencer},
    )


def apply_object(
    dedup: Deduplicator, profiles: str, positions: str, found: ObjectEvent
) -> Outcome[Any]:
    """Read and apply one object event: the profile, the marker and the object's position
    in one transaction; superseded if a later event of the object was applied first."""
    profile = read_profile(found)
    writes = [] if found.sequencer is None else [position_effect(dedup, positions, found)]
    if profile is not None:
        writes.append(effects.put(profiles, profile))
    if not writes:  # a version gone, and no sequencer to record: nothing to apply
        return Outcome(dedup.record_id(found.dedup_key), None, duplicate=False, superseded=True)
    try:
        outcome = dedup.transact_once(found.dedup_key, writes, payload=found.identity)
    except EffectConditionFailedError as error:  # the position: a later event won
        return Outcome(error.record_id, None, duplicate=False, superseded=True)
    if profile is None and not outcome.duplicate:  # its content is gone, nothing applied
        return Outcome(outcome.record_id, None, duplicate=False, superseded=True)
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dedup = deduplicator(NAMESPACE)
    table = config.required(PROFILES_TABLE_ENV)
    positions = config.required(config.TABLE_NAME_ENV)
    if isinstance(event, dict) and event.get("source") == "aws.s3" and "detail" in event:
        records: list[tuple[Any, str, Any, dict[str, Any]]] = [
            (event.get("detail-type"), "detail-type", eventbridge_object_event, event)
        ]
    else:
        records = [
            (record.get("eventName"), "eventName", object_event, record)
            for record in event_records("s3", event)
        ]
    results: list[dict[str, Any]] = []
    for name, name_field, parse_event, record in records:
        if not isinstance(name, str) or not name:  # no type to tell: malformed, not ignored
            parse_event = functools.partial(_no_event_type, name_field)
        elif not (name.startswith(CREATED) or name == EVENTBRIDGE_CREATED):
            logger.info("event ignored", extra={"source": "s3", "event_name": name})
            metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
            continue

        def parse(record: dict[str, Any] = record, parse_event: Any = parse_event) -> ObjectEvent:
            found: ObjectEvent = parse_event(record)
            dedup.record_id(found.dedup_key)  # an unusable key is a rejection
            return found

        def apply(found: ObjectEvent) -> Outcome[Any]:
            return apply_object(dedup, table, positions, found)

        outcome = handle_event("s3", parse, apply, describe=_describe(record))
        results.append(
            {
                "record_id": outcome.record_id,
                "duplicate": outcome.duplicate,
                "superseded": outcome.superseded,
            }
        )
    return {"records": results}


def _no_event_type(field: str, _: Any) -> ObjectEvent:
    raise InvalidEventError(f"{field!r} must be a non-empty string", field)


def _describe(record: dict[str, Any]) -> dict[str, Any]:
    holder = record.get("s3") if "s3" in record else record.get("detail")
    holder = holder if isinstance(holder, dict) else {}
    obj, bucket = holder.get("object"), holder.get("bucket")
    obj = obj if isinstance(obj, dict) else {}
    bucket = bucket if isinstance(bucket, dict) else {}
    return {
        "bucket": bucket.get("name"),
        "object_key": obj.get("key"),
        "version_id": obj.get("versionId", obj.get("version-id")),
    }
