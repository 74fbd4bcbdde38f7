"""The S3 handler: uploaded profile files, each object version applied once."""

from __future__ import annotations

import itertools
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from support.aws import FaultInjector, ItemReader, WriteLog
from support.batches import profile
from support.lambda_context import FakeLambdaContext
from support.logs import LogLines
from support.push_events import s3_event, s3_eventbridge_event
from unit.conftest import PROFILES

from lambda_dedup import InvalidEventError
from lambda_dedup.handlers import s3
from lambda_dedup.local.eventbridge import RuleTap, RuleTarget
from lambda_dedup.reference.domain import MAX_PROFILE_BYTES
from lambda_dedup.store.dynamodb import MAX_ATTEMPTS

BUCKET = "profile-uploads-test"


@pytest.fixture
def bucket(domain_env: str) -> Any:
    """A versioned bucket (as modules/trigger-s3 creates it), on moto in-process."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


SEQUENCERS = itertools.count(0x0055AED6DCD90281E5)


def upload(client: Any, key: str, content: Any, bucket: str = BUCKET) -> dict[str, Any]:
    """Put an object; return the notification S3 would send for it, with a sequencer
    greater than every earlier upload's, as S3's are for one key."""
    body = content if isinstance(content, str) else json.dumps(content)
    response = client.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return s3_event(
        bucket,
        key,
        version_id=response.get("VersionId"),
        etag=response["ETag"],
        sequencer=f"{next(SEQUENCERS):018X}",
        size=len(body.encode()),
    )


@pytest.fixture
def plain_bucket(domain_env: str) -> Any:
    """An unversioned bucket, as a caller's existing bucket may be."""
    client = boto3.client("s3")
    client.create_bucket(Bucket="plain-bucket")
    return client


def _profile_name(read_item: ItemReader) -> Any:
    item = read_item(PROFILES, user_id="u-1")
    return None if item is None else item.get("name")


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
    put = client.put_object(Bucket="plain-bucket", Key="u-1.json", Body=json.dumps(profile(1)))
    event = s3_event("plain-bucket", "u-1.json", sequencer="0055AED6DCD90281E5", etag=put["ETag"])
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


def test_a_late_event_for_an_older_version_never_overwrites_a_newer_one(
    bucket: Any, read_item: ItemReader, log_lines: LogLines
) -> None:
    # GIVEN two versions of one object, whose notifications arrive out of order
    v1 = upload(bucket, "incoming/u-1.json", profile(1, name="First"))
    v2 = upload(bucket, "incoming/u-1.json", profile(1, name="Second"))
    assert invoke(v2)["records"][0]["superseded"] is False
    # WHEN version 1's late notification arrives, and is redelivered
    late = [invoke(v1)["records"][0] for _ in range(2)]
    # THEN it applied nothing, and succeeded (no retry, nothing in the failure destination):
    # the newer version's profile stands
    assert [record["superseded"] for record in late] == [True, True]
    assert _profile_name(read_item) == "Second"
    assert len(log_lines.with_message("event superseded")) == 2
    assert log_lines.with_message("rejected event") == []


def test_a_redelivery_after_an_overwrite_is_a_duplicate(
    plain_bucket: Any, write_log: WriteLog, read_item: ItemReader, log_lines: LogLines
) -> None:
    # GIVEN an unversioned object whose event was applied, then the object overwritten
    first = upload(plain_bucket, "u-1.json", profile(1, name="First"), bucket="plain-bucket")
    applied = invoke(first)["records"][0]
    second = upload(plain_bucket, "u-1.json", profile(1, name="Second"), bucket="plain-bucket")
    # WHEN the first event is redelivered, before and after the second one is applied
    again = invoke(first)["records"][0]
    invoke(second)
    late = invoke(first)["records"][0]
    # THEN it is a duplicate each time, never "key reused with another payload"
    assert again == late == {**applied, "duplicate": True}
    assert log_lines.with_message("rejected event") == []
    assert write_log.count(PROFILES) == {("u-1",): 2}
    assert _profile_name(read_item) == "Second"


@pytest.mark.parametrize("second_first", [True, False], ids=["after-newer", "before-newer"])
def test_an_event_whose_unversioned_content_is_gone_is_superseded(
    plain_bucket: Any, read_item: ItemReader, log_lines: LogLines, second_first: bool
) -> None:
    # GIVEN an unversioned object overwritten before its first event was handled
    first = upload(plain_bucket, "u-1.json", profile(1, name="First"), bucket="plain-bucket")
    second = upload(plain_bucket, "u-1.json", profile(1, name="Second"), bucket="plain-bucket")
    # WHEN both events arrive, in either order
    order = [second, first] if second_first else [first, second]
    outcomes = {id(event): invoke(event)["records"][0] for event in order}
    # THEN the first applied nothing (its content is gone, read with If-Match on its eTag),
    # and the second's profile stands
    assert outcomes[id(first)]["superseded"] is True
    assert outcomes[id(second)]["superseded"] is False
    assert _profile_name(read_item) == "Second"
    assert log_lines.with_message("rejected event") == []


def test_an_event_for_a_deleted_version_is_superseded(
    bucket: Any, write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN an object version deleted before its event was handled
    event = upload(bucket, "incoming/u-1.json", profile(1))
    version = event["Records"][0]["s3"]["object"]["versionId"]
    bucket.delete_object(Bucket=BUCKET, Key="incoming/u-1.json", VersionId=version)
    # WHEN its event arrives
    outcome = invoke(event)["records"][0]
    # THEN it applied nothing and succeeded: nothing to retry
    assert outcome["superseded"] is True
    assert write_log.count(PROFILES) == {}
    assert log_lines.with_message("event failed") == []


def test_an_eventbridge_object_created_event_is_the_same_event(
    bucket: Any, write_log: WriteLog, read_item: ItemReader
) -> None:
    # GIVEN an upload, and the event S3 sends to EventBridge for it (trigger-s3 with
    # delivery = "eventbridge"): same object, version, eTag and sequencer
    notification = upload(bucket, "incoming/new user?.json", profile(1, name="Ada"))
    obj = notification["Records"][0]["s3"]["object"]
    event = s3_eventbridge_event(
        BUCKET,
        "incoming/new user?.json",
        version_id=obj["versionId"],
        etag=obj["eTag"],
        sequencer=obj["sequencer"],
    )
    # WHEN it is delivered twice, and the notification once
    first, again = invoke(event)["records"][0], invoke(event)["records"][0]
    via_s3 = invoke(notification)["records"][0]
    # THEN the profile is applied once: one key, whichever way the event came
    assert first["duplicate"] is False
    assert again == via_s3 == {**first, "duplicate": True}
    assert write_log.count(PROFILES) == {("u-1",): 1}
    assert _profile_name(read_item) == "Ada"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda obj: obj.update(sequencer="not-hex"), "s3.object.sequencer"),
        (lambda obj: obj.update(eTag=7), "s3.object.eTag"),
        (lambda obj: obj.update(versionId=["v"]), "s3.object.versionId"),
        (lambda obj: obj.update(key=None), "s3.object.key"),
    ],
    ids=["sequencer", "etag", "version", "key"],
)
def test_a_malformed_object_event_is_rejected_before_any_read(
    bucket: Any, log_lines: LogLines, change: Any, field: str
) -> None:
    # GIVEN a notification with one malformed object field
    event = upload(bucket, "incoming/u-1.json", profile(1))
    change(event["Records"][0]["s3"]["object"])
    # WHEN it is delivered / THEN it is rejected, naming the field
    with pytest.raises(InvalidEventError):
        invoke(event)
    assert log_lines.with_message("rejected event")[0]["field"] == field


def test_the_emulators_eventbridge_events_apply_each_version_once_in_order(
    bucket: Any, write_log: WriteLog, read_item: ItemReader
) -> None:
    # GIVEN the bucket sending its events to EventBridge, the rule trigger-s3 writes for
    # delivery = "eventbridge", and the local runner's tap on its function target
    bucket.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events = boto3.client("events")
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": "incoming/"}]}},
    }
    events.put_rule(Name="uploads", EventPattern=json.dumps(pattern))
    function = "arn:aws:lambda:us-east-1:123456789012:function:uploads"
    events.put_targets(Rule="uploads", Targets=[{"Id": "function", "Arn": function}])
    (target,) = RuleTarget.all(events)
    tap = RuleTap(events, boto3.client("sqs"), target)
    # WHEN one profile is uploaded twice, and a file outside the prefix once
    for name in ("First", "Second"):
        bucket.put_object(
            Bucket=BUCKET, Key="incoming/u-1.json", Body=json.dumps(profile(1, name=name))
        )
    bucket.put_object(Bucket=BUCKET, Key="other/u-2.json", Body=json.dumps(profile(2)))
    delivered = [event for event, _ in tap.events()]
    tap.close()
    # AND the function gets them, the first one again after the second (at least once)
    outcomes = [invoke(event)["records"][0] for event in [*delivered, delivered[0]]]
    # THEN each version is applied once, in order, and the late redelivery is a duplicate
    assert len(delivered) == 2
    assert [(o["duplicate"], o["superseded"]) for o in outcomes] == [
        (False, False),
        (False, False),
        (True, False),
    ]
    assert write_log.count(PROFILES) == {("u-1",): 2}
    assert _profile_name(read_item) == "Second"


@pytest.mark.parametrize(
    "name", ["no such/bucket", "bücket", "b" * 256], ids=["slash", "non-ascii", "long"]
)
def test_an_event_naming_an_impossible_bucket_is_rejected(
    bucket: Any, log_lines: LogLines, name: str
) -> None:
    # GIVEN a notification whose bucket name no bucket can have
    event = upload(bucket, "incoming/u-1.json", profile(1))
    event["Records"][0]["s3"]["bucket"]["name"] = name
    # WHEN it is delivered / THEN it is rejected, naming the bucket, before any read: not
    # an "event failed" that Lambda would retry to no avail
    with pytest.raises(InvalidEventError):
        invoke(event)
    (line,) = log_lines.with_message("rejected event")
    assert line["field"] == "s3.bucket.name"
    assert log_lines.with_message("event failed") == []


def test_an_event_of_a_deleted_bucket_is_superseded(
    domain_env: str, write_log: WriteLog, log_lines: LogLines
) -> None:
    # GIVEN a notification of an object whose bucket has since been deleted
    event = s3_event("deleted-bucket", "u-1.json", version_id="v1", sequencer="0055AED6DCD90281E5")
    # WHEN it is delivered, and again
    first, again = invoke(event), invoke(event)
    # THEN its content is gone, as for a deleted object: nothing is applied, and it is
    # done, not an "event failed" retried to the on-failure destination
    assert first["records"][0]["superseded"] is True
    assert again["records"][0]["duplicate"] is True
    assert write_log.count(PROFILES) == {}
    assert log_lines.with_message("event failed") == []


@pytest.mark.parametrize("raw_key", ["%FF%FE.json", "incoming/a%zz.json", "100%.json"])
def test_a_key_that_is_not_url_encoded_utf8_is_rejected_not_guessed(
    bucket: Any, write_log: WriteLog, log_lines: LogLines, raw_key: str
) -> None:
    # GIVEN a notification whose key does not decode (S3 would have sent %25 for a '%'),
    # and an object under the key a lenient decoder would guess ("\ufffd\ufffd.json")
    bucket.put_object(Bucket=BUCKET, Key="\ufffd\ufffd.json", Body=json.dumps(profile(1)))
    event = upload(bucket, "incoming/u-1.json", profile(2))
    event["Records"][0]["s3"]["object"]["key"] = raw_key
    # WHEN it is delivered / THEN it is rejected, naming the key, and nothing is written
    with pytest.raises(InvalidEventError):
        invoke(event)
    assert log_lines.with_message("rejected event")[0]["field"] == "s3.object.key"
    assert write_log.count(PROFILES) == {}


@pytest.mark.parametrize("name", [None, 5, ""], ids=["missing", "number", "empty"])
def test_a_record_without_an_event_type_is_rejected_not_ignored(
    bucket: Any, log_lines: LogLines, name: Any
) -> None:
    # GIVEN a notification whose eventName is missing or not a string, and an EventBridge
    # event without its detail-type
    event = upload(bucket, "incoming/u-1.json", profile(1))
    record = event["Records"][0]
    obj = record["s3"]["object"]
    bridged = s3_eventbridge_event(
        BUCKET,
        "incoming/u-1.json",
        version_id=obj["versionId"],
        etag=obj["eTag"],
        sequencer=obj["sequencer"],
    )
    if name is None:
        del record["eventName"], bridged["detail-type"]
    else:
        record["eventName"] = bridged["detail-type"] = name
    # WHEN each is delivered / THEN it is rejected (so it reaches the failure destination),
    # never acknowledged as an event of another type
    for delivered, field in ((event, "eventName"), (bridged, "detail-type")):
        with pytest.raises(InvalidEventError):
            invoke(delivered)
        assert log_lines.with_message("rejected event")[-1]["field"] == field
    assert log_lines.with_message("event ignored") == []
