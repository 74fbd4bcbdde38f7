"""The runner's push sources against moto in-process: the API server, S3, SNS, EventBridge."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from support.functions import deploy, runner_environment
from support.plan import ACCOUNT

from lambda_dedup.local import Invoker
from lambda_dedup.local.api import ApiServer, HttpApi, Route
from lambda_dedup.local.eventbridge import RuleTap, RuleTarget
from lambda_dedup.local.s3 import BucketWatcher, S3Notification, notification_event
from lambda_dedup.local.sns import SnsSubscription, SubscriptionTap

SIGNED = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request"


@pytest.fixture
def reporter(dynamodb: Any) -> tuple[Any, str]:
    """A deployed function that answers with what it got: (Lambda client, ARN)."""
    client = boto3.client("lambda")
    return client, deploy(client, "reporter", "support.local_handlers.report", {})


def http(url: str, method: str = "GET", body: bytes | None = None, **headers: str) -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def api(reporter: tuple[Any, str]) -> Any:
    """An HTTP API in the emulator with two IAM routes to the reporter, served locally."""
    client, arn = reporter
    gateway = boto3.client("apigatewayv2")
    api_id = gateway.create_api(Name="profiles", ProtocolType="HTTP")["ApiId"]
    integration = gateway.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    for key in ("POST /profiles", "GET /profiles/{user_id}"):
        gateway.create_route(
            ApiId=api_id,
            RouteKey=key,
            AuthorizationType="AWS_IAM",
            Target=f"integrations/{integration}",
        )
    (found,) = HttpApi.all(gateway)
    server = ApiServer(Invoker(client, runner_environment()), found, account=ACCOUNT)
    yield server
    server.close()


def test_a_request_reaches_its_routes_function_as_a_payload_2_event(api: ApiServer) -> None:
    # GIVEN the API served on loopback / WHEN a signed GET reaches a parameterised route
    status, answer = http(f"{api.url}/profiles/u%2D1?x=1&x=2", Authorization=SIGNED)

    # THEN the function got API Gateway's payload 2.0 event, with the IAM caller
    assert status == 200
    event = answer["event"]
    assert (event["version"], event["routeKey"]) == ("2.0", "GET /profiles/{user_id}")
    assert event["pathParameters"] == {"user_id": "u-1"}
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["requestContext"]["http"]["method"] == "GET"
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["userArn"] == f"arn:aws:iam::{ACCOUNT}:user/AKIDEXAMPLE"


def test_api_gateway_answers_for_itself_without_a_signature_or_a_route(api: ApiServer) -> None:
    # WHEN a request is unsigned, or matches no route / THEN API Gateway's own answers
    assert http(f"{api.url}/profiles", "POST", b"{}") == (403, {"message": "Forbidden"})
    assert http(f"{api.url}/nowhere", Authorization=SIGNED) == (404, {"message": "Not Found"})
    assert api.requests == 0


@pytest.mark.parametrize(
    ("route_key", "method", "path", "expected"),
    [
        ("GET /profiles/{user_id}", "GET", "/profiles/u-1", {"user_id": "u-1"}),
        ("GET /profiles/{user_id}", "GET", "/profiles/u-1/extra", None),
        ("GET /profiles/{user_id}", "POST", "/profiles/u-1", None),
        ("ANY /files/{proxy+}", "PUT", "/files/a/b.json", {"proxy": "a/b.json"}),
        ("$default", "DELETE", "/anything", {}),
    ],
)
def test_routes_match_as_api_gateway_matches_them(
    route_key: str, method: str, path: str, expected: dict[str, str] | None
) -> None:
    route = Route(route_key, "NONE", "f", "2.0")
    assert route.match(method, path) == expected


def test_new_object_versions_become_notifications_that_follow_the_filters(
    reporter: tuple[Any, str],
) -> None:
    # GIVEN a versioned bucket notifying the function of profiles/*.json, and one object
    # that was there before the watcher started
    _, arn = reporter
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads-test")
    s3.put_bucket_versioning(Bucket="uploads-test", VersioningConfiguration={"Status": "Enabled"})
    filters = [{"Name": "prefix", "Value": "profiles/"}, {"Name": "suffix", "Value": ".json"}]
    s3.put_bucket_notification_configuration(
        Bucket="uploads-test",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "profiles",
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": filters}},
                }
            ]
        },
    )
    s3.put_object(Bucket="uploads-test", Key="profiles/old.json", Body=b"{}")
    (notification,) = S3Notification.of_bucket(s3, "uploads-test")
    watcher = BucketWatcher(s3, "uploads-test")

    # WHEN objects are written: two versions of one key, one elsewhere, and a deletion
    first = s3.put_object(Bucket="uploads-test", Key="profiles/a b.json", Body=b"1")
    second = s3.put_object(Bucket="uploads-test", Key="profiles/a b.json", Body=b"22")
    s3.put_object(Bucket="uploads-test", Key="other/x.json", Body=b"{}")
    s3.delete_object(Bucket="uploads-test", Key="profiles/old.json")
    changes = watcher.changes()

    # THEN each new version and the delete marker is one change, and only the two
    # created versions match the notification, in S3's event shape
    assert len(changes) == 4
    assert watcher.changes() == []
    matching = [c for c in changes if notification.matches(c.event_name, c.key)]
    events = [notification_event(notification, c, "us-east-1") for c in matching]
    objects = [event["Records"][0]["s3"]["object"] for event in events]
    assert [o["versionId"] for o in objects] == [first["VersionId"], second["VersionId"]]
    assert [o["key"] for o in objects] == ["profiles/a+b.json"] * 2
    assert objects[0]["sequencer"] < objects[1]["sequencer"]
    record = events[0]["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["configurationId"] == "profiles"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::uploads-test"


def test_a_function_subscription_gets_what_its_filter_policy_lets_through(
    reporter: tuple[Any, str],
) -> None:
    # GIVEN a topic, and a function subscribed with a filter policy on an attribute
    _, arn = reporter
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="profile-events")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps({"kind": ["created"]})},
    )
    (subscription,) = SnsSubscription.all(sns)
    tap = SubscriptionTap(sns, boto3.client("sqs"), subscription)

    # WHEN two messages are published, one of which the policy lets through
    def publish(kind: str) -> str:
        attributes = {"kind": {"DataType": "String", "StringValue": kind}}
        answer = sns.publish(TopicArn=topic, Message=kind, MessageAttributes=attributes)
        message_id: str = answer["MessageId"]
        return message_id

    created = publish("created")
    publish("deleted")
    (event, published_at), *rest = tap.events()

    # THEN the function gets only that one, as SNS's event with the message's id
    assert rest == []
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == subscription.arn
    assert (record["Sns"]["MessageId"], record["Sns"]["Message"]) == (created, "created")
    assert record["Sns"]["MessageAttributes"]["kind"] == {"Type": "String", "Value": "created"}
    assert published_at > 0
    # AND closing the tap removes its subscription and queue from the emulator
    tap.close()
    protocols = [s["Protocol"] for s in sns.list_subscriptions()["Subscriptions"]]
    assert protocols == ["lambda"]


def test_a_rules_function_target_gets_the_events_its_pattern_matches(
    reporter: tuple[Any, str],
) -> None:
    # GIVEN a rule for stopped instances targeting the function
    _, arn = reporter
    events = boto3.client("events")
    pattern = {"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}
    events.put_rule(Name="instance-stopped", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="instance-stopped", Targets=[{"Id": "fn", "Arn": arn}])
    (target,) = RuleTarget.all(events)
    tap = RuleTap(events, boto3.client("sqs"), target)

    # WHEN a stopped and a running instance are reported
    for state in ("stopped", "running"):
        detail = json.dumps({"instance-id": "i-0123456789abcdef0", "state": state})
        events.put_events(Entries=[{"Source": "aws.ec2", "DetailType": "x", "Detail": detail}])
    (event, _), *rest = tap.events()

    # THEN the function gets the stopped one only, as EventBridge's event
    assert rest == []
    assert event["detail"]["state"] == "stopped"
    assert event["source"] == "aws.ec2"
    tap.close()
    targets = events.list_targets_by_rule(Rule="instance-stopped")["Targets"]
    assert [t["Id"] for t in targets] == ["fn"]
