"""The root module's plan against the emulator: the table, the function and its role."""

from __future__ import annotations

import json
from pathlib import Path

import package as package_tool
from support.plan import ACCOUNT, REGION, Plan, statements

TABLE = "module.idempotency_table.aws_dynamodb_table.this[0]"
FUNCTION = "module.inbox_function.aws_lambda_function.this[0]"
ROLE = "module.inbox_function.aws_iam_role.this[0]"
ROLE_POLICY = "module.inbox_function.aws_iam_role_policy.this[0]"
LOG_GROUP = "module.inbox_function.aws_cloudwatch_log_group.this[0]"

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/dedup-idempotency"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/dedup-inbox"


FUNCTION_RESOURCES = {
    "aws_lambda_function.this[0]",
    "aws_iam_role.this[0]",
    "aws_iam_role_policy.this[0]",
    "aws_cloudwatch_log_group.this[0]",
}
TABLE_RESOURCES = {"aws_dynamodb_table.this[0]", "aws_dynamodb_resource_policy.this[0]"}
MAPPING_RESOURCES = {"aws_iam_role_policy.this[0]", "aws_lambda_event_source_mapping.this[0]"}
ASYNC_RESOURCES = {
    "aws_iam_role_policy.this[0]",
    "aws_lambda_function_event_invoke_config.this[0]",
    "aws_lambda_permission.this[0]",
}
EXPECTED = {
    "idempotency_table": TABLE_RESOURCES,
    "inbox_function": FUNCTION_RESOURCES,
    "profiles_table": TABLE_RESOURCES,
    "counters_table": TABLE_RESOURCES,
    "audit_table": TABLE_RESOURCES,
    'trigger_function["sqs"]': FUNCTION_RESOURCES,
    "sqs_trigger": {"aws_sqs_queue.this[0]", "aws_sqs_queue.dead_letter[0]", *MAPPING_RESOURCES},
    'trigger_function["kinesis"]': FUNCTION_RESOURCES,
    "kinesis_trigger": {
        "aws_kinesis_stream.this[0]",
        "aws_sqs_queue.on_failure[0]",
        *MAPPING_RESOURCES,
    },
    'trigger_function["dynamodb_stream"]': FUNCTION_RESOURCES,
    "dynamodb_stream_trigger": {"aws_sqs_queue.on_failure[0]", *MAPPING_RESOURCES},
    "instance_states_table": TABLE_RESOURCES,
    'trigger_function["api_gateway"]': FUNCTION_RESOURCES,
    "api_gateway_trigger": {
        "aws_apigatewayv2_api.this[0]",
        "aws_apigatewayv2_integration.this[0]",
        'aws_apigatewayv2_route.this["POST /profiles"]',
        'aws_apigatewayv2_route.this["GET /profiles/{user_id}"]',
        "aws_apigatewayv2_stage.this[0]",
        "aws_cloudwatch_log_group.this[0]",
        'aws_lambda_permission.this["POST /profiles"]',
        'aws_lambda_permission.this["GET /profiles/{user_id}"]',
    },
    'trigger_function["s3"]': FUNCTION_RESOURCES,
    "s3_trigger": {
        "aws_s3_bucket.this[0]",
        "aws_s3_bucket_versioning.this[0]",
        "aws_s3_bucket_server_side_encryption_configuration.this[0]",
        "aws_s3_bucket_public_access_block.this[0]",
        "aws_s3_bucket_ownership_controls.this[0]",
        "aws_s3_bucket_lifecycle_configuration.this[0]",
        "aws_s3_bucket_policy.this[0]",
        "aws_s3_bucket_notification.this[0]",
        "aws_sqs_queue.on_failure[0]",
        *ASYNC_RESOURCES,
    },
    'trigger_function["sns"]': FUNCTION_RESOURCES,
    "sns_trigger": {
        "aws_sns_topic.this[0]",
        "aws_sns_topic_policy.this[0]",
        "aws_sns_topic_subscription.this[0]",
        "aws_sqs_queue.dead_letter[0]",
        *ASYNC_RESOURCES,
    },
    'trigger_function["eventbridge"]': FUNCTION_RESOURCES,
    "eventbridge_trigger": {
        "aws_cloudwatch_event_rule.this[0]",
        "aws_cloudwatch_event_target.this[0]",
        "aws_sqs_queue.dead_letter[0]",
        *ASYNC_RESOURCES,
    },
}


def test_plan_creates_the_whole_stack_and_nothing_else(root_plan: Plan) -> None:
    actions = root_plan.actions()
    assert set(map(tuple, actions.values())) == {("create",)}
    created: dict[str, set[str]] = {}
    for address in actions:
        module, _, resource = address.removeprefix("module.").partition(".")
        created.setdefault(module, set()).add(resource)
    assert created == EXPECTED


def test_table_has_string_key_id_ttl_pitr_and_encryption(root_plan: Plan) -> None:
    table = root_plan.by_address(TABLE)
    assert table["name"] == "dedup-idempotency"
    assert table["hash_key"] == "id"
    assert table["range_key"] is None
    assert table["attribute"] == [{"name": "id", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["ttl"] == [{"enabled": True, "attribute_name": "expires_at"}]
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True
    assert table["deletion_protection_enabled"] is False


def test_function_runtime_handler_and_environment(root_plan: Plan, package_zip: Path) -> None:
    function = root_plan.by_address(FUNCTION)
    assert function["function_name"] == "dedup-inbox"
    assert function["runtime"] == "python3.13"
    assert function["handler"] == "lambda_dedup.handlers.inbox.handler"
    assert function["tracing_config"] == [{"mode": "Active"}]
    assert function["environment"] == [
        {
            "variables": {
                "DEDUP_TABLE_NAME": "dedup-idempotency",
                "DEDUP_TTL_SECONDS": "86400",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_METRICS_NAMESPACE": "LambdaDedup",
                "POWERTOOLS_SERVICE_NAME": "dedup-inbox",
            }
        }
    ]
    # The plan deploys exactly the zip `make package` built.
    assert function["source_code_hash"] == package_tool.source_code_hash(package_zip)


def test_function_handler_exists_in_the_package(root_plan: Plan) -> None:
    module, _, attribute = root_plan.by_address(FUNCTION)["handler"].rpartition(".")
    imported = __import__(module, fromlist=[attribute])
    assert callable(getattr(imported, attribute))


def test_log_group_is_the_functions_own_with_retention(root_plan: Plan) -> None:
    log_group = root_plan.by_address(LOG_GROUP)
    assert log_group["name"] == "/aws/lambda/dedup-inbox"
    assert log_group["retention_in_days"] == 14


def test_role_can_only_be_assumed_by_lambda(root_plan: Plan) -> None:
    trust = json.loads(root_plan.by_address(ROLE)["assume_role_policy"])
    assert trust["Statement"] == [
        {
            "Sid": "LambdaAssumeRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]


def test_role_policy_grants_exact_actions_on_exact_arns(root_plan: Plan) -> None:
    policy = statements(root_plan.policy(root_plan.by_address(ROLE_POLICY)))
    assert set(policy) == {"WriteOwnLogs", "WriteTraces", "IdempotencyTable"}
    assert all(statement["Effect"] == "Allow" for statement in policy.values())

    assert policy["WriteOwnLogs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert policy["WriteOwnLogs"]["Resource"] == [f"{LOG_GROUP_ARN}:*"]

    assert policy["IdempotencyTable"]["Action"] == [
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert policy["IdempotencyTable"]["Resource"] == [TABLE_ARN]

    # X-Ray accepts no resource-level permissions for these actions: "*" is the only
    # resource AWS allows, so this is the one statement not scoped to an ARN.
    assert policy["WriteTraces"]["Action"] == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    assert policy["WriteTraces"]["Resource"] == ["*"]


def test_role_policy_resources_are_only_the_table_and_the_log_group(root_plan: Plan) -> None:
    policy = statements(root_plan.policy(root_plan.by_address(ROLE_POLICY)))
    scoped = {sid: s for sid, s in policy.items() if sid != "WriteTraces"}
    resources = {resource for statement in scoped.values() for resource in statement["Resource"]}
    assert resources == {TABLE_ARN, f"{LOG_GROUP_ARN}:*"}


def test_outputs_are_known_at_plan_time(root_plan: Plan) -> None:
    assert root_plan.output("idempotency_table_arn") == TABLE_ARN
    assert root_plan.output("idempotency_table_name") == "dedup-idempotency"
    assert root_plan.output("inbox_function_name") == "dedup-inbox"
    assert (
        root_plan.output("inbox_function_arn")
        == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dedup-inbox"
    )
