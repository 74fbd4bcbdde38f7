"""S3: event notifications to functions, as S3 sends them.

moto stores objects but sends no notification to a function, so the runner watches each
bucket that has a function notification (read from the emulator's
``GetBucketNotificationConfiguration``). Every object version or delete marker that
appears after the watcher started becomes an event, in S3's notification shape, for each
configuration whose ``Events`` and prefix/suffix ``Filter`` match it:
``ObjectCreated:Put`` for a new version (an upload by any client: boto3, ``aws s3 cp``),
``ObjectRemoved:DeleteMarkerCreated`` for a delete marker. In an unversioned bucket only
new or changed objects are seen. Events go through asynchronous invocation.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus


@dataclass(frozen=True, slots=True)
class S3Notification:
    """One ``LambdaFunctionConfiguration`` of a bucket's notification configuration."""

    id: str
    bucket: str
    function_name: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def of_bucket(cls, s3_client: Any, bucket: str) -> list[S3Notification]:
        """The bucket's function notifications, from the emulator."""
        config = s3_client.get_bucket_notification_configuration(Bucket=bucket)
        found = []
        for entry in config.get("LambdaFunctionConfigurations") or []:
            rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
            values = {rule["Name"].lower(): rule["Value"] for rule in rules}
            found.append(
                cls(
                    id=entry.get("Id") or str(uuid.uuid4()),
                    bucket=bucket,
                    function_name=entry["LambdaFunctionArn"].split(":")[6],
                    events=tuple(entry.get("Events") or ()),
                    prefix=values.get("prefix", ""),
                    suffix=values.get("suffix", ""),
                )
            )
        return found

    def matches(self, event_name: str, key: str) -> bool:
        """Whether S3 sends ``event_name`` (``ObjectCreated:Put``...) for ``key`` here."""
        named = any(fnmatch.fnmatchcase(f"s3:{event_name}", pattern) for pattern in self.events)
        return named and key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """A version or delete marker that appeared in a bucket."""

    event_name: str
    key: str
    version_id: str | None
    size: int
    etag: str
    at: dt.datetime


_last_sequencer = 0
_sequencer_lock = threading.Lock()


def next_sequencer() -> str:
    """A sequencer greater than every earlier one, in this process and in any earlier
    run against the same emulator (it counts nanoseconds), as S3's grow for one key."""
    global _last_sequencer
    with _sequencer_lock:
        _last_sequencer = max(time.time_ns(), _last_sequencer + 1)
        return f"{_last_sequencer:018X}"


def notification_event(
    notification: S3Notification, change: ObjectChange, region: str
) -> dict[str, Any]:
    """The event S3 sends for ``change`` under ``notification``."""
    obj: dict[str, Any] = {
        "key": quote_plus(change.key, safe="/"),
        "sequencer": next_sequencer(),
    }
    if change.event_name.startswith("ObjectCreated"):
        obj.update(size=change.size, eTag=change.etag)
    if change.version_id and change.version_id != "null":
        obj["versionId"] = change.version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": change.at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
                "eventName": change.event_name,
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": notification.id,
                    "bucket": {
                        "name": notification.bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{notification.bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


class BucketWatcher:
    """Finds the object versions and delete markers a bucket gained since the last look."""

    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self.bucket = bucket
        self._seen = {self._identity(entry) for entry in self._entries()}

    @staticmethod
    def _identity(entry: Mapping[str, Any]) -> tuple[str, str]:
        return entry["Key"], entry.get("VersionId") or entry.get("ETag", "")

    def _entries(self) -> Iterator[dict[str, Any]]:
        versioning = self._s3.get_bucket_versioning(Bucket=self.bucket).get("Status")
        if versioning in ("Enabled", "Suspended"):
            pages = self._s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket)
            for page in pages:
                for version in page.get("Versions") or []:
                    yield {**version, "_event": "ObjectCreated:Put"}
                for marker in page.get("DeleteMarkers") or []:
                    yield {**marker, "_event": "ObjectRemoved:DeleteMarkerCreated"}
        else:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents") or []:
                    yield {**item, "_event": "ObjectCreated:Put"}

    def changes(self) -> list[ObjectChange]:
        """What appeared since the last call (or since the watcher started), oldest first."""
        new = []
        for position, entry in enumerate(self._entries()):
            identity = self._identity(entry)
            if identity in self._seen:
                continue
            self._seen.add(identity)
            new.append(
                (
                    (entry["LastModified"], -position),  # a key's versions: newest first
                    ObjectChange(
                        event_name=entry["_event"],
                        key=entry["Key"],
                        version_id=entry.get("VersionId"),
                        size=int(entry.get("Size") or 0),
                        etag=str(entry.get("ETag") or "").strip('"'),
                        at=entry["LastModified"],
                    ),
                )
            )
        return [change for _, change in sorted(new, key=lambda pair: pair[0])]
