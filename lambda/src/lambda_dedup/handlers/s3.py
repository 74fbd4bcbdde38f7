"""S3: profile files uploaded to a bucket, each version applied once.

Each ``ObjectCreated`` record names one uploaded object; its content is a profile
(:mod:`lambda_dedup.domain`), which is read, validated and written to the profiles table
(``PROFILES_TABLE_NAME``) in effect mode: one ``TransactWriteItems`` holds the
deduplication marker and the ``Put`` of the profile.

* **Key:** bucket + object key + ``versionId``: exactly the version the event names is
  read, so an overwrite is a new key while a redelivery is not. An unversioned bucket has
  no ``versionId``; its events' ``sequencer`` orders the writes of one key instead.
* **Failures:** a malformed file (not JSON, not a valid profile, larger than
  :data:`~lambda_dedup.domain.MAX_PROFILE_BYTES`) raises after a ``rejected event`` log
  line naming the object and the field, so that the event goes through Lambda's retries
  to the on-failure destination. Nothing is dropped silently. Other event types
  (``ObjectRemoved``...) are logged and ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambda_dedup import config, effects
from lambda_dedup.deduplicator import Outcome
from lambda_dedup.domain import MAX_PROFILE_BYTES, parse_json, parse_profile
from lambda_dedup.exceptions import InvalidEventError
from lambda_dedup.handlers._async import apply_event, event_records
from lambda_dedup.handlers._runtime import client, deduplicator, logger, metrics

NAMESPACE = "s3-profiles"
CREATED = "ObjectCreated:"


def object_version(record: dict[str, Any]) -> tuple[str, str, str | None, str]:
    """The bucket, the (decoded) object key, the version id (``None`` when unversioned)
    and the idempotency key of one S3 record."""
    s3 = record.get("s3")
    if not isinstance(s3, dict):
        raise InvalidEventError("'s3' must be an object", "s3")
    bucket = (s3.get("bucket") or {}).get("name")
    obj = s3.get("object") or {}
    raw_key, sequencer = obj.get("key"), obj.get("sequencer")
    if not isinstance(bucket, str) or not bucket:
        raise InvalidEventError("'s3.bucket.name' must be a non-empty string", "s3.bucket.name")
    if not isinstance(raw_key, str) or not raw_key:
        raise InvalidEventError("'s3.object.key' must be a non-empty string", "s3.object.key")
    version = obj.get("versionId")
    if version in (None, "", "null"):  # "null": written while versioning was off
        version = None
    elif not isinstance(version, str):
        raise InvalidEventError("'s3.object.versionId' must be a string", "s3.object.versionId")
    position = version or sequencer
    if not isinstance(position, str) or not position:
        raise InvalidEventError(
            "an object needs a 'versionId' or a 'sequencer'", "s3.object.sequencer"
        )
    key = unquote_plus(raw_key)  # S3 event keys are URL-encoded, spaces as '+'
    # No '#' in a version id or a sequencer: the key ends unambiguously after the last one.
    return bucket, key, version, f"{bucket}/{key}#{position}"


def read_profile(bucket: str, key: str, version: str | None, size: Any) -> dict[str, Any]:
    """Read the object (that version, if any) and validate it as a profile."""
    if isinstance(size, int) and size > MAX_PROFILE_BYTES:
        raise InvalidEventError(
            f"the object is {size} bytes; a profile is at most {MAX_PROFILE_BYTES}",
            "s3.object.size",
        )
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version is not None:
        request["VersionId"] = version
    body = client("s3").get_object(**request)["Body"]
    data: bytes = body.read(MAX_PROFILE_BYTES + 1)
    body.close()
    if len(data) > MAX_PROFILE_BYTES:
        raise InvalidEventError(
            f"the object is larger than {MAX_PROFILE_BYTES} bytes", "s3.object.size"
        )
    return parse_profile(parse_json(data, "the object"))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dedup = deduplicator(NAMESPACE)
    table = config.required(config.PROFILES_TABLE_ENV)
    results: list[dict[str, Any]] = []
    for record in event_records("s3", event):
        name = str(record.get("eventName", ""))
        if not name.startswith(CREATED):
            logger.info("event ignored", extra={"source": "s3", "event_name": name})
            metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
            continue

        def apply(record: dict[str, Any] = record) -> Outcome[Any]:
            bucket, key, version, dedup_key = object_version(record)
            size = ((record.get("s3") or {}).get("object") or {}).get("size")
            profile = read_profile(bucket, key, version, size)
            return dedup.transact_once(dedup_key, [effects.put(table, profile)], payload=profile)

        outcome = apply_event("s3", _describe(record), apply)
        results.append({"record_id": outcome.record_id, "duplicate": outcome.duplicate})
    return {"records": results}


def _describe(record: dict[str, Any]) -> dict[str, Any]:
    obj = ((record.get("s3") or {}).get("object")) or {}
    bucket = ((record.get("s3") or {}).get("bucket")) or {}
    return {
        "bucket": bucket.get("name"),
        "object_key": obj.get("key"),
        "version_id": obj.get("versionId"),
    }
