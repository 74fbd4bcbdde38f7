"""The push triggers in the root module's plan: API Gateway, S3, SNS, EventBridge.

For each: the source, its wiring to its own function, the permission that lets the source
invoke it (scoped by ``source_arn``), the asynchronous invocation config and the
dead-letter policies, encryption, and the IAM each trigger adds to its function's role.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.plan import ACCOUNT, REGION, Plan, arn, statement_id_for, statements

SQS = arn("sqs")
LAMBDA = arn("lambda", "function")
TABLE = arn("dynamodb", "table")
BUCKET = f"dedup-profile-uploads-{ACCOUNT}-{REGION}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TOPIC_ARN = arn("sns", "dedup-profile-events")
RULE_ARN = arn("events", "rule/dedup-instance-stopped")
S3_FAILURES = f"{SQS}:dedup-profile-uploads-failures"
SNS_DLQ = f"{SQS}:dedup-profile-events-dlq"
EVENTBRIDGE_DLQ = f"{SQS}:dedup-instance-stopped-dlq"
TLS_ONLY = {"Bool": {"aws:SecureTransport": "false"}}

FUNCTIONS = {
    # trigger -> (function name, handler, environment, dedup TTL in days)
    "api_gateway": (
        "dedup-api-profiles",
        "lambda_dedup.handlers.api.handler",
        {"PROFILES_TABLE_NAME": "dedup-profiles"},
        1,
    ),
    "s3": (
        "dedup-s3-profiles",
        "lambda_dedup.handlers.s3.handler",
        {"PROFILES_TABLE_NAME": "dedup-profiles"},
        1,
    ),
    "sns": ("dedup-sns-welcome", "lambda_dedup.handlers.sns.handler", {}, 1),
    "eventbridge": (
        "dedup-instance-states",
        "lambda_dedup.handlers.eventbridge.handler",
        {"INSTANCE_STATES_TABLE_NAME": "dedup-instance-states"},
        2,
    ),
}
ASYNC = {
    # trigger -> its failure destination (Lambda's on-failure destination)
    "s3_trigger": S3_FAILURES,
    "sns_trigger": SNS_DLQ,
    "eventbridge_trigger": EVENTBRIDGE_DLQ,
}


def _change(plan: Plan, address: str) -> dict[str, Any]:
    for change in plan.data["resource_changes"]:
        if change["address"] == address:
            found: dict[str, Any] = change["change"]
            return found
    raise KeyError(address)


def _queue_policy(plan: Plan, address: str) -> dict[str, dict[str, Any]]:
    return statements(json.loads(plan.by_address(address)["policy"]))


@pytest.mark.parametrize("trigger", sorted(FUNCTIONS))
def test_each_push_trigger_has_its_own_function(root_plan: Plan, trigger: str) -> None:
    name, handler, environment, days = FUNCTIONS[trigger]
    function = root_plan.by_address(
        f'module.trigger_function["{trigger}"].aws_lambda_function.this[0]'
    )
    assert (function["function_name"], function["handler"]) == (name, handler)
    variables = function["environment"][0]["variables"]
    assert environment.items() <= variables.items()
    assert variables["DEDUP_TTL_SECONDS"] == str(days * 24 * 3600)
    role = root_plan.by_address(f'module.trigger_function["{trigger}"].aws_iam_role.this[0]')
    # IAM is global: the role carries the region, so a second region of the account can
    # hold the same stack.
    assert role["name"] == f"{name}-{REGION}"


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        (
            "api_gateway",
            {
                "CreateProfiles": (["dynamodb:PutItem"], [f"{TABLE}/dedup-profiles"]),
                "ReadProfiles": (["dynamodb:GetItem"], [f"{TABLE}/dedup-profiles"]),
            },
        ),
        ("s3", {"WriteProfiles": (["dynamodb:PutItem"], [f"{TABLE}/dedup-profiles"])}),
        ("sns", {}),
        (
            "eventbridge",
            {"RecordStates": (["dynamodb:PutItem"], [f"{TABLE}/dedup-instance-states"])},
        ),
    ],
)
def test_each_push_function_may_touch_only_its_effect_table(
    root_plan: Plan, trigger: str, expected: dict[str, tuple[list[str], list[str]]]
) -> None:
    policy = root_plan.role_policy(f'trigger_function["{trigger}"]')
    assert set(policy) == {"WriteOwnLogs", "WriteTraces", "IdempotencyTable", *expected}
    for sid, (actions, resources) in expected.items():
        assert (policy[sid]["Action"], policy[sid]["Resource"]) == (actions, resources)


# -- every permission is scoped to its source -------------------------------------------


def test_every_lambda_permission_has_a_source_arn_and_s3_a_source_account(
    root_plan: Plan,
) -> None:
    permissions = [
        change
        for change in root_plan.data["resource_changes"]
        if change["type"] == "aws_lambda_permission"
    ]
    assert len(permissions) == 5  # two API routes, S3, SNS, EventBridge
    for permission in permissions:
        after, unknown = permission["change"]["after"], permission["change"]["after_unknown"]
        assert after.get("source_arn") or unknown.get("source_arn"), permission["address"]
        assert after["action"] == "lambda:InvokeFunction"
        if after["principal"] == "s3.amazonaws.com":
            assert after["source_account"] == ACCOUNT


@pytest.mark.parametrize(
    ("trigger", "principal", "source_arn"),
    [
        ("s3_trigger", "s3.amazonaws.com", BUCKET_ARN),
        ("sns_trigger", "sns.amazonaws.com", TOPIC_ARN),
        ("eventbridge_trigger", "events.amazonaws.com", RULE_ARN),
    ],
)
def test_async_permissions_name_exactly_their_source(
    root_plan: Plan, trigger: str, principal: str, source_arn: str
) -> None:
    permission = root_plan.by_address(f"module.{trigger}.aws_lambda_permission.this[0]")
    assert (permission["principal"], permission["source_arn"]) == (principal, source_arn)


def test_no_role_policy_in_the_stack_allows_a_wildcard_action(root_plan: Plan) -> None:
    policies = root_plan.resources("aws_iam_role_policy")
    assert len(policies) == 14  # 8 functions' own, 6 triggers' (the API's needs none)
    # The DynamoDB Streams trigger's names the stream, known after apply (test_apply).
    known = [r["values"] for r in policies if "policy" in r["values"]]
    assert len(known) == 13
    for values in known:
        for statement in statements(root_plan.policy(values)).values():
            assert statement["Effect"] == "Allow"
            assert not [a for a in statement["Action"] if "*" in a], statement


# -- asynchronous invocation: retries, then the failure destination ---------------------


@pytest.mark.parametrize("trigger", sorted(ASYNC))
def test_async_invoke_config_retries_twice_then_sends_to_the_destination(
    root_plan: Plan, trigger: str
) -> None:
    config = root_plan.by_address(
        f"module.{trigger}.aws_lambda_function_event_invoke_config.this[0]"
    )
    assert (config["maximum_retry_attempts"], config["maximum_event_age_in_seconds"]) == (2, 3600)
    assert config["destination_config"] == [
        {"on_failure": [{"destination": ASYNC[trigger]}], "on_success": []}
    ]
    policy = root_plan.role_policy(trigger)
    assert policy["SendFailedEvents"]["Action"] == ["sqs:SendMessage"]
    assert policy["SendFailedEvents"]["Resource"] == [ASYNC[trigger]]


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("module.s3_trigger.aws_sqs_queue.on_failure[0]", "dedup-profile-uploads-failures"),
        ("module.sns_trigger.aws_sqs_queue.dead_letter[0]", "dedup-profile-events-dlq"),
        ("module.eventbridge_trigger.aws_sqs_queue.dead_letter[0]", "dedup-instance-stopped-dlq"),
    ],
)
def test_failure_queues_are_encrypted_tls_only_and_keep_messages_14_days(
    root_plan: Plan, address: str, name: str
) -> None:
    queue = root_plan.by_address(address)
    assert queue["name"] == name
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue["message_retention_seconds"] == 14 * 24 * 3600
    deny = _queue_policy(root_plan, address)["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Action"], deny["Resource"]) == (
        "Deny",
        ["sqs:*"],
        [f"{SQS}:{name}"],
    )
    assert deny["Condition"] == TLS_ONLY


@pytest.mark.parametrize(
    ("trigger", "sid", "service", "source_arn"),
    [
        ("sns_trigger", "TopicSendsUndeliverable", "sns.amazonaws.com", TOPIC_ARN),
        ("eventbridge_trigger", "RuleSendsUndeliverable", "events.amazonaws.com", RULE_ARN),
    ],
)
def test_dead_letter_queue_accepts_only_its_own_source(
    root_plan: Plan, trigger: str, sid: str, service: str, source_arn: str
) -> None:
    policy = _queue_policy(root_plan, f"module.{trigger}.aws_sqs_queue.dead_letter[0]")
    assert set(policy) == {sid, "DenyInsecureTransport"}
    allow = policy[sid]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": service}
    assert allow["Action"] == ["sqs:SendMessage"]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": source_arn}}


# -- API Gateway -------------------------------------------------------------------------


def test_api_is_an_http_api_with_a_payload_2_proxy_to_its_function(root_plan: Plan) -> None:
    api = root_plan.by_address("module.api_gateway_trigger.aws_apigatewayv2_api.this[0]")
    assert (api["name"], api["protocol_type"]) == ("dedup-profiles-api", "HTTP")
    integration = root_plan.by_address(
        "module.api_gateway_trigger.aws_apigatewayv2_integration.this[0]"
    )
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["payload_format_version"] == "2.0"
    assert integration["integration_uri"] == f"{LAMBDA}:dedup-api-profiles"


@pytest.mark.parametrize("route", ["POST /profiles", "GET /profiles/{user_id}"])
def test_api_routes_require_iam_authorization(root_plan: Plan, route: str) -> None:
    values = root_plan.by_address(
        f'module.api_gateway_trigger.aws_apigatewayv2_route.this["{route}"]'
    )
    assert values["route_key"] == route
    assert values["authorization_type"] == "AWS_IAM"
    assert root_plan.output("api_gateway_authorization_type") == "AWS_IAM"
    assert not root_plan.resources("aws_apigatewayv2_authorizer")


def test_api_stage_logs_access_to_its_own_group_and_throttles(root_plan: Plan) -> None:
    stage = root_plan.by_address("module.api_gateway_trigger.aws_apigatewayv2_stage.this[0]")
    assert (stage["name"], stage["auto_deploy"]) == ("$default", True)
    log_format = json.loads(stage["access_log_settings"][0]["format"])
    assert {"requestId", "routeKey", "status", "integrationError"} <= set(log_format)
    # The destination is the module's log group, whose ARN is known after apply only.
    unknown = _change(root_plan, "module.api_gateway_trigger.aws_apigatewayv2_stage.this[0]")
    assert unknown["after_unknown"]["access_log_settings"] == [{"destination_arn": True}]
    group = root_plan.by_address("module.api_gateway_trigger.aws_cloudwatch_log_group.this[0]")
    assert (group["name"], group["retention_in_days"]) == ("/aws/apigateway/dedup-profiles-api", 14)
    throttling = stage["default_route_settings"][0]
    assert (throttling["throttling_burst_limit"], throttling["throttling_rate_limit"]) == (100, 50)


def test_api_permissions_are_one_per_route_for_api_gateway(root_plan: Plan) -> None:
    routes = {
        "POST /profiles": statement_id_for("POST /profiles", "POST-profiles"),
        "GET /profiles/{user_id}": statement_id_for(
            "GET /profiles/{user_id}", "GET-profiles-user-id"
        ),
    }
    for route, statement_id in routes.items():
        address = f'module.api_gateway_trigger.aws_lambda_permission.this["{route}"]'
        permission = root_plan.by_address(address)
        assert permission["statement_id"] == statement_id
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["function_name"] == "dedup-api-profiles"
        # The execution ARN is known after apply; test_apply checks the value.
        assert _change(root_plan, address)["after_unknown"]["source_arn"] is True


# -- S3 ----------------------------------------------------------------------------------


def test_bucket_is_versioned_encrypted_private_and_tls_only(root_plan: Plan) -> None:
    prefix = "module.s3_trigger"
    assert root_plan.by_address(f"{prefix}.aws_s3_bucket.this[0]")["bucket"] == BUCKET
    versioning = root_plan.by_address(f"{prefix}.aws_s3_bucket_versioning.this[0]")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    (rule,) = root_plan.by_address(
        f"{prefix}.aws_s3_bucket_server_side_encryption_configuration.this[0]"
    )["rule"]
    assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert rule["bucket_key_enabled"] is True
    block = root_plan.by_address(f"{prefix}.aws_s3_bucket_public_access_block.this[0]")
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls")
    assert all(block[flag] is True for flag in (*flags, "restrict_public_buckets"))
    policy = statements(
        json.loads(root_plan.by_address(f"{prefix}.aws_s3_bucket_policy.this[0]")["policy"])
    )
    deny = policy["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Action"]) == ("Deny", ["s3:*"])
    assert deny["Resource"] == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    assert deny["Condition"] == TLS_ONLY


def test_bucket_notifies_its_function_of_json_uploads_under_profiles(root_plan: Plan) -> None:
    notification = root_plan.by_address("module.s3_trigger.aws_s3_bucket_notification.this[0]")
    (target,) = notification["lambda_function"]
    assert target["lambda_function_arn"] == f"{LAMBDA}:dedup-s3-profiles"
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert (target["filter_prefix"], target["filter_suffix"]) == ("profiles/", ".json")
    assert notification["bucket"] == BUCKET


def test_s3_function_may_read_only_the_notified_objects(root_plan: Plan) -> None:
    policy = root_plan.role_policy("s3_trigger")
    assert set(policy) == {"ReadObjects", "ListObjects", "SendFailedEvents"}
    assert policy["ReadObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert policy["ReadObjects"]["Resource"] == [f"{BUCKET_ARN}/profiles/*"]
    # Listing, so that an object gone since its event reads as 404 (not 403): this bucket only
    assert policy["ListObjects"]["Action"] == ["s3:ListBucket"]
    assert policy["ListObjects"]["Resource"] == [BUCKET_ARN]


# -- SNS ---------------------------------------------------------------------------------


def test_topic_is_kms_encrypted_and_tls_only(root_plan: Plan) -> None:
    topic = root_plan.by_address("module.sns_trigger.aws_sns_topic.this[0]")
    assert (topic["name"], topic["kms_master_key_id"]) == ("dedup-profile-events", "alias/aws/sns")
    policy = statements(
        json.loads(
            root_plan.by_address("module.sns_trigger.aws_sns_topic_policy.this[0]")["policy"]
        )
    )
    deny = policy["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Resource"], deny["Condition"]) == ("Deny", [TOPIC_ARN], TLS_ONLY)


def test_subscription_invokes_the_function_and_redrives_to_the_dead_letter_queue(
    root_plan: Plan,
) -> None:
    subscription = root_plan.by_address("module.sns_trigger.aws_sns_topic_subscription.this[0]")
    assert subscription["protocol"] == "lambda"
    assert subscription["endpoint"] == f"{LAMBDA}:dedup-sns-welcome"
    assert subscription["topic_arn"] == TOPIC_ARN
    assert json.loads(subscription["redrive_policy"]) == {"deadLetterTargetArn": SNS_DLQ}
    assert subscription["filter_policy"] is None


def test_sns_function_may_only_send_to_its_dead_letter_queue(root_plan: Plan) -> None:
    assert root_plan.role_policy("sns_trigger") == {
        "SendFailedEvents": {
            "Sid": "SendFailedEvents",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [SNS_DLQ],
        }
    }


# -- EventBridge -------------------------------------------------------------------------


def test_rule_matches_ec2_instances_stopping_on_the_default_bus(root_plan: Plan) -> None:
    rule = root_plan.by_address("module.eventbridge_trigger.aws_cloudwatch_event_rule.this[0]")
    assert (rule["name"], rule["event_bus_name"], rule["state"]) == (
        "dedup-instance-stopped",
        "default",
        "ENABLED",
    )
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Instance State-change Notification"],
        "detail": {"state": ["stopped"]},
    }


def test_target_retries_then_dead_letters(root_plan: Plan) -> None:
    target = root_plan.by_address("module.eventbridge_trigger.aws_cloudwatch_event_target.this[0]")
    assert target["arn"] == f"{LAMBDA}:dedup-instance-states"
    assert target["retry_policy"] == [
        {"maximum_retry_attempts": 185, "maximum_event_age_in_seconds": 86400}
    ]
    assert target["dead_letter_config"] == [{"arn": EVENTBRIDGE_DLQ}]
