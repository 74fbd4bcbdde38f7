"""The push-trigger modules' optional inputs, planned (support/module_calls.py).

JWT authorization and open APIs, existing buckets, topics and queues given by name or ARN,
customer keys, filters, custom buses and retry settings: what each option turns into, and
the IAM it adds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.module_calls import (
    DESTINATION_KEY_ARN,
    JWT,
    KMS_KEY_ARN,
    MODULE_OPTIONS,
    QUEUE_ARN,
    TOPIC_ARN,
)
from support.plan import ACCOUNT, Plan, TerraformRuns, arn, statement_id_for


@pytest.fixture(scope="module")
def plan(terraform_runs: TerraformRuns) -> Plan:
    return terraform_runs.plans[MODULE_OPTIONS]


def _values(plan: Plan, call: str, resource: str) -> dict[str, Any]:
    return plan.by_address(f"module.{call}.{resource}")


def _created(plan: Plan, call: str) -> set[str]:
    return {
        r["address"].removeprefix(f"module.{call}.")
        for r in plan.all_resources()
        if r["address"].startswith(f"module.{call}.")
    }


# -- API Gateway -------------------------------------------------------------------------


def test_jwt_authorizer_guards_every_route_with_its_scopes(plan: Plan) -> None:
    authorizer = _values(plan, "api_jwt", "aws_apigatewayv2_authorizer.jwt[0]")
    assert authorizer["authorizer_type"] == "JWT"
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    assert authorizer["jwt_configuration"] == [
        {"issuer": JWT["issuer"], "audience": JWT["audience"]}
    ]
    for route in ("POST /orders", "ANY /orders/{order_id}/items/{item_id}"):
        values = _values(plan, "api_jwt", f'aws_apigatewayv2_route.this["{route}"]')
        assert values["authorization_type"] == "JWT"
        assert values["authorization_scopes"] == JWT["scopes"]


def test_any_route_permission_allows_every_method_on_that_path_only(plan: Plan) -> None:
    route = "ANY /orders/{order_id}/items/{item_id}"
    address = f'module.api_jwt.aws_lambda_permission.this["{route}"]'
    assert plan.by_address(address)["statement_id"] == statement_id_for(
        route, "ANY-orders-order-id-items-item-id"
    )
    # "<execution ARN>/*/*/orders/*/items/*": the suffix is known at plan time.
    change = next(c for c in plan.data["resource_changes"] if c["address"] == address)
    assert change["change"]["after_unknown"]["source_arn"] is True


def test_routes_that_read_alike_get_their_own_permission(plan: Plan) -> None:
    # GIVEN two routes whose characters outside [A-Za-z0-9] differ only: GET /a-b, GET /a/b
    ids = [
        plan.by_address(f'module.api_open.aws_lambda_permission.this["{route}"]')["statement_id"]
        for route in ("GET /a-b", "GET /a/b")
    ]
    # THEN each has its own statement id (one would replace the other in the policy)
    assert ids[0] != ids[1]
    assert all(i.startswith("AllowApiGateway-GET-a-b-") and len(i) <= 100 for i in ids)


def test_stage_throttling_and_log_settings_follow_the_inputs(plan: Plan) -> None:
    stage = _values(plan, "api_jwt", "aws_apigatewayv2_stage.this[0]")
    throttling = stage["default_route_settings"][0]
    assert (throttling["throttling_burst_limit"], throttling["throttling_rate_limit"]) == (20, 10)
    group = _values(plan, "api_jwt", "aws_cloudwatch_log_group.this[0]")
    assert (group["retention_in_days"], group["kms_key_id"]) == (30, KMS_KEY_ARN)


def test_an_open_api_is_only_what_the_caller_asked_for(plan: Plan) -> None:
    route = _values(plan, "api_open", 'aws_apigatewayv2_route.this["POST /profiles"]')
    assert route["authorization_type"] == "NONE"
    assert "aws_apigatewayv2_authorizer.jwt[0]" not in _created(plan, "api_open")


# -- S3 ----------------------------------------------------------------------------------


def test_an_existing_bucket_is_wired_without_creating_bucket_resources(plan: Plan) -> None:
    assert _created(plan, "s3_existing") == {
        "aws_iam_role_policy.this[0]",
        "aws_lambda_function_event_invoke_config.this[0]",
        "aws_lambda_permission.this[0]",
        "aws_s3_bucket_notification.this[0]",
    }
    assert plan.output("s3_existing_bucket_arn") == "arn:aws:s3:::existing-imports"
    assert plan.output("s3_existing_on_failure_destination_arn") == TOPIC_ARN
    notification = _values(plan, "s3_existing", "aws_s3_bucket_notification.this[0]")
    assert set(notification["lambda_function"][0]["events"]) == {
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:CompleteMultipartUpload",
    }
    permission = _values(plan, "s3_existing", "aws_lambda_permission.this[0]")
    assert permission["source_arn"] == "arn:aws:s3:::existing-imports"
    assert permission["source_account"] == ACCOUNT


def test_a_topic_destination_and_a_customer_key_add_exactly_their_iam(plan: Plan) -> None:
    policy = plan.role_policy("s3_existing")
    assert policy["SendFailedEvents"]["Action"] == ["sns:Publish"]
    assert policy["SendFailedEvents"]["Resource"] == [TOPIC_ARN]
    assert policy["DecryptObjects"]["Action"] == ["kms:Decrypt"]
    assert policy["DecryptObjects"]["Resource"] == [KMS_KEY_ARN]
    assert policy["ReadObjects"]["Resource"] == ["arn:aws:s3:::existing-imports/*"]
    config = _values(plan, "s3_existing", "aws_lambda_function_event_invoke_config.this[0]")
    assert (config["maximum_retry_attempts"], config["maximum_event_age_in_seconds"]) == (0, 600)


def test_every_bucket_wiring_may_tell_a_gone_object_from_a_denied_one(plan: Plan) -> None:
    # GIVEN the S3 trigger's role policy, in either delivery mode
    for call, bucket in (("s3_existing", "existing-imports"), ("s3_shared", "shared-imports")):
        # THEN it may list the bucket: without it S3 answers 403, not 404, for an object
        # deleted or overwritten since its event
        listing = plan.role_policy(call)["ListObjects"]
        assert (listing["Action"], listing["Resource"]) == (
            ["s3:ListBucket"],
            [f"arn:aws:s3:::{bucket}"],
        )


def test_a_shared_bucket_is_wired_through_eventbridge_without_its_notifications(
    plan: Plan,
) -> None:
    # GIVEN an existing bucket shared with others, delivery = "eventbridge"
    # THEN its notification configuration is not touched, and a rule delivers its events
    assert _created(plan, "s3_shared") == {
        "aws_iam_role_policy.this[0]",
        "aws_lambda_function_event_invoke_config.this[0]",
        "aws_lambda_permission.this[0]",
        "aws_cloudwatch_event_rule.this[0]",
        "aws_cloudwatch_event_target.this[0]",
    }
    rule_arn = arn("events", "rule/shared-imports")
    assert plan.output("s3_shared_event_rule_arn") == rule_arn
    assert plan.output("s3_existing_event_rule_arn") is None
    rule = _values(plan, "s3_shared", "aws_cloudwatch_event_rule.this[0]")
    # AND the rule matches the bucket's events as the notification would: the detail-types
    # of the event types, the bucket, and the prefix and suffix as one wildcard ('*' escaped)
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {
            "bucket": {"name": ["shared-imports"]},
            "object": {"key": [{"wildcard": "in\\*coming/*.json"}]},
        },
    }
    # AND only that rule may invoke the function
    permission = _values(plan, "s3_shared", "aws_lambda_permission.this[0]")
    assert (permission["principal"], permission["source_arn"]) == (
        "events.amazonaws.com",
        rule_arn,
    )
    # AND EventBridge retries delivery, then puts the event in the same failure queue that
    # receives Lambda's invocation records after its own retries
    target = _values(plan, "s3_shared", "aws_cloudwatch_event_target.this[0]")
    assert target["arn"] == arn("lambda", "function:imports-reader")
    assert target["retry_policy"] == [
        {"maximum_retry_attempts": 10, "maximum_event_age_in_seconds": 3600}
    ]
    assert target["dead_letter_config"] == [{"arn": QUEUE_ARN}]
    config = _values(plan, "s3_shared", "aws_lambda_function_event_invoke_config.this[0]")
    assert config["destination_config"][0]["on_failure"] == [{"destination": QUEUE_ARN}]


def test_a_created_bucket_in_eventbridge_mode_sends_its_events_to_eventbridge(
    plan: Plan,
) -> None:
    # GIVEN delivery = "eventbridge" on a bucket the module creates
    notification = _values(plan, "s3_eventbridge_created", "aws_s3_bucket_notification.this[0]")
    # THEN the module turns EventBridge on for it, with no direct notification
    assert notification["eventbridge"] is True
    assert notification["lambda_function"] == []
    rule = _values(plan, "s3_eventbridge_created", "aws_cloudwatch_event_rule.this[0]")
    assert json.loads(rule["event_pattern"])["detail"]["object"] == {
        "key": [{"prefix": "incoming/"}]
    }
    # AND EventBridge may put what it cannot deliver in the created failure queue, from
    # this rule only, over TLS only
    queue = _values(plan, "s3_eventbridge_created", "aws_sqs_queue.on_failure[0]")
    policy = {s["Sid"]: s for s in json.loads(queue["policy"])["Statement"]}
    undeliverable = policy["RuleSendsUndeliverable"]
    assert undeliverable["Principal"] == {"Service": "events.amazonaws.com"}
    assert undeliverable["Condition"] == {
        "ArnEquals": {"aws:SourceArn": arn("events", "rule/eventbridge-imports")}
    }
    assert policy["DenyInsecureTransport"]["Effect"] == "Deny"


def test_a_created_bucket_uses_the_customer_key_and_the_lifecycle_inputs(plan: Plan) -> None:
    (rule,) = _values(
        plan, "s3_created", "aws_s3_bucket_server_side_encryption_configuration.this[0]"
    )["rule"]
    assert rule["apply_server_side_encryption_by_default"] == [
        {"sse_algorithm": "aws:kms", "kms_master_key_id": KMS_KEY_ARN}
    ]
    assert _values(plan, "s3_created", "aws_s3_bucket.this[0]")["force_destroy"] is True
    (lifecycle,) = _values(plan, "s3_created", "aws_s3_bucket_lifecycle_configuration.this[0]")[
        "rule"
    ]
    assert lifecycle["noncurrent_version_expiration"][0]["noncurrent_days"] == 7
    assert lifecycle["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7


# -- SNS ---------------------------------------------------------------------------------


def test_an_existing_topic_and_queue_are_wired_with_the_filter(plan: Plan) -> None:
    topic = arn("sns", "signups")
    assert _created(plan, "sns_existing") == {
        "aws_iam_role_policy.this[0]",
        "aws_lambda_function_event_invoke_config.this[0]",
        "aws_lambda_permission.this[0]",
        "aws_sns_topic_subscription.this[0]",
    }
    subscription = _values(plan, "sns_existing", "aws_sns_topic_subscription.this[0]")
    assert subscription["topic_arn"] == topic
    assert json.loads(subscription["filter_policy"]) == {"event_type": ["profile.created"]}
    assert subscription["filter_policy_scope"] == "MessageBody"
    assert json.loads(subscription["redrive_policy"]) == {"deadLetterTargetArn": QUEUE_ARN}
    assert _values(plan, "sns_existing", "aws_lambda_permission.this[0]")["source_arn"] == topic
    policy = plan.role_policy("sns_existing")
    assert policy["SendFailedEvents"]["Resource"] == [QUEUE_ARN]
    assert policy["EncryptFailures"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert policy["EncryptFailures"]["Resource"] == [DESTINATION_KEY_ARN]
    assert plan.output("sns_existing_dead_letter_queue_url") is None


def test_a_created_topic_uses_the_customer_key(plan: Plan) -> None:
    topic = _values(plan, "sns_created", "aws_sns_topic.this[0]")
    assert topic["kms_master_key_id"] == KMS_KEY_ARN


# -- EventBridge -------------------------------------------------------------------------


def test_a_rule_on_a_custom_bus_has_the_bus_in_its_arn(plan: Plan) -> None:
    rule_arn = arn("events", "rule/orders/order-placed")
    assert plan.output("eventbridge_custom_bus_rule_arn") == rule_arn
    rule = _values(plan, "eventbridge_custom_bus", "aws_cloudwatch_event_rule.this[0]")
    assert (rule["event_bus_name"], rule["state"]) == ("orders", "DISABLED")
    assert json.loads(rule["event_pattern"]) == {"source": ["shop.orders"]}
    permission = _values(plan, "eventbridge_custom_bus", "aws_lambda_permission.this[0]")
    assert permission["source_arn"] == rule_arn
    queue_policy = json.loads(
        _values(plan, "eventbridge_custom_bus", "aws_sqs_queue.dead_letter[0]")["policy"]
    )
    (allow,) = [s for s in queue_policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}
    target = _values(plan, "eventbridge_custom_bus", "aws_cloudwatch_event_target.this[0]")
    assert target["event_bus_name"] == "orders"
    assert target["retry_policy"] == [
        {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 600}
    ]


def test_an_existing_dead_letter_queue_is_used_for_both_failure_paths(plan: Plan) -> None:
    assert "aws_sqs_queue.dead_letter[0]" not in _created(plan, "eventbridge_existing_queue")
    target = _values(plan, "eventbridge_existing_queue", "aws_cloudwatch_event_target.this[0]")
    assert target["dead_letter_config"] == [{"arn": QUEUE_ARN}]
    config = _values(
        plan, "eventbridge_existing_queue", "aws_lambda_function_event_invoke_config.this[0]"
    )
    assert config["destination_config"][0]["on_failure"] == [{"destination": QUEUE_ARN}]
