"""The S3 handler: uploaded profile files, each object version applied once."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from support.aws import FaultInjector, ItemReader, WriteLog
from support.batches import profile
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from support.push_events import s3_event
from unit.conftest import PROFILES

from lambda_dedup import InvalidEventError
from lambda_dedup.domain import MAX_PROFILE_BYTES
from lambda_dedup.handlers import s3
from lambda_dedup.store.dynamodb import MAX_ATTEMPTS

BUCKET = "profile-uploads-test"


@pytest.fixture
def bucket(domain_env: str) -> Any:
    """A versioned bucket (as modules/trigger-s3 creates it), on moto in-process."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def upload(client: Any, key: str, content: Any, bucket: str = BUCKET) -> dict[str, Any]:
    """Put an object; return the notification S3 would send for it."""
    body = content if isinstance(content, str) else json.dumps(content)
    response = client.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return s3_event(bucket, key, version_id=response.get("VersionId"), size=len(body.encode()))


def invoke(event: dict[str, Any]) -> Any:
    return s3.handler(event, FakeLambdaContext(function_name="dedup-s3-profiles"))


def test_an_uploaded_profile_is_written_once(
    bucket: Any, write_log: WriteLog, read_item: ItemReader
) -> None:
    # GIVEN a profile file was uploaded
    event = upload(bucket, "incoming/u-1.json", profile(1, locale="fr-FR"))
    # WHEN its notification is delivered twice
    first, again = invoke(event), invoke(event)
    # THEN the profile is written once, and both deliveries report the same record
    assert write_log.count(PROFILES) == {("u-1",): 1}
    assert read_item(PROFILES, user_id="u-1") == profile(1, locale="fr-FR")
    assert first["records"][0]["duplicate"] is False
    assert again["records"] == [{**first["records"][0], "duplicate": True}]


def test_the_key_is_the_object_version(bucket: Any, write_log: WriteLog) -> None:
    # GIVEN the same object key uploaded twice: two versions
    v1 = upload(bucket, "incoming/u-1.json", profile(1, name="First"))
    v2 = upload(bucket, "incoming/u-1.json", profile(1, name="Second"))
    # WHEN both notifications arrive, and the first again
    key1, key2 = (invoke(e)["records"][0]["record_id"] for e in (v1, v2))
    invoke(v1)
    # THEN each version was applied once
    assert key1 != key2
    assert key1.endswith("#" + v1["Records"][0]["s3"]["object"]["versionId"])
    assert write_log.count(PROFILES) == {("u-1",): 2}


def test_the_version_the_event_names_is_read(bucket: Any, read_item: ItemReader) -> None:
    # GIVEN version 1's notification is delivered after version 2 was uploaded
    v1 = upload(bucket, "incoming/u-1.json", profile(1, name="First"))
    upload(bucket, "incoming/u-1.json", profile(1, name="Second"))
    invoke(v1)
    # THEN version 1's content was written
    item = read_item(PROFILES, user_id="u-1")
    assert item is not None
    assert item["name"] == "First"


def test_an_unversioned_object_is_keyed_by_its_sequencer(
    domain_env: str, write_log: WriteLog
) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket="plain-bucket")
    client.put_object(Bucket="plain-bucket", Key="u-1.json", Body=json.dumps(profile(1)))
    event = s3_event("plain-bucket", "u-1.json", sequencer="0055AED6DCD90281E5")
    assert invoke(event)["records"][0]["record_id"].endswith("u-1.json#0055AED6DCD90281E5")
    invoke(event)
    assert write_log.count(PROFILES) == {("u-1",): 1}


def test_an_encoded_key_is_decoded(bucket: Any, write_log: WriteLog) -> None:
    # S3 sends "incoming/new+user%3F.json" for the key "incoming/new user?.json"
    event = upload(bucket, "incoming/new user?.json", profile(1))
    assert event["Records"][0]["s3"]["object"]["key"] == "incoming/new+user%3F.json"
    invoke(event)
    assert write_log.count(PROFILES) == {("u-1",): 1}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("{not json", None),
        ({"user_id": "u-1"}, "email"),
        (
            {"user_id": "u-1", "email": "a@example.com", "bio": "x" * MAX_PROFILE_BYTES},
            "s3.object.size",
        ),
    ],
)
def test_a_malformed_file_raises_with_a_logged_reason(
    bucket: Any, write_log: WriteLog, log_lines: LogLines, content: Any, field: str | None
) -> None:
    # GIVEN a file that is not a valid profile
    event = upload(bucket, "incoming/bad.json", content)
    # WHEN its notification is delivered, and retried as Lambda does
    for _ in range(3):
        with pytest.raises(InvalidEventError):
            invoke(event)
    # THEN nothing was written, and each attempt logged why, naming the object
    assert write_log.count(PROFILES) == {}
    lines = log_lines.with_message("rejected event")
    assert len(lines) == 3
    assert lines[0]["bucket"] == BUCKET
    assert lines[0]["object_key"] == "incoming/bad.json"
    assert lines[0].get("field") == field  # Powertools omits keys whose value is None


def test_a_file_larger_than_a_profile_is_not_read(
    bucket: Any, write_log: WriteLog, log_lines: LogLines
) -> None:
    event = s3_event(BUCKET, "huge.json", version_id="v1", size=MAX_PROFILE_BYTES + 1)
    with pytest.raises(InvalidEventError):
        invoke(event)
    assert log_lines.with_message("rejected event")[0]["field"] == "s3.object.size"


def test_other_event_types_are_ignored(bucket: Any, write_log: WriteLog) -> None:
    event = s3_event(BUCKET, "gone.json", version_id="v1", event_name="ObjectRemoved:Delete")
    assert invoke(event) == {"records": []}
    assert write_log.count(PROFILES) == {}


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": "x"}])
def test_an_event_without_records_is_rejected(
    domain_env: str, log_lines: LogLines, event: Any
) -> None:
    with pytest.raises(InvalidEventError):
        invoke(event)
    assert log_lines.with_message("rejected event")[0]["field"] == "Records"


def test_a_dynamodb_error_raises_so_that_lambda_retries(
    bucket: Any, write_log: WriteLog, handler_faults: FaultInjector, log_lines: LogLines
) -> None:
    event = upload(bucket, "incoming/u-1.json", profile(1))
    handler_faults.throttle("TransactWriteItems", times=MAX_ATTEMPTS)
    with pytest.raises(ClientError):
        invoke(event)
    assert "ThrottlingException" in log_lines.with_message("event failed")[0]["reason"]
    # Lambda's retry applies it, once.
    assert invoke(event)["records"][0]["duplicate"] is False
    assert write_log.count(PROFILES) == {("u-1",): 1}
