"""The poll-based triggers in the root module's plan: SQS, Kinesis, DynamoDB Streams.

For each: the source and its failure destination, the event source mapping's settings,
and the IAM policy the trigger attaches to its function's role (exact actions, resources
equal to the source's and the destination's ARNs).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.plan import REGION, Plan, arn

SQS = arn("sqs")
QUEUE_ARN = f"{SQS}:dedup-profile-updates"
DLQ_ARN = f"{SQS}:dedup-profile-updates-dlq"
STREAM_ARN = arn("kinesis", "stream/dedup-activity")
KINESIS_FAILURES_ARN = f"{SQS}:dedup-activity-failures"
AUDIT_FAILURES_ARN = f"{SQS}:dedup-profile-audit-failures"
TABLE = arn("dynamodb", "table")

TRIGGERS = {
    # trigger module -> (its function module, function name, handler, environment)
    "sqs_trigger": (
        'trigger_function["sqs"]',
        "dedup-sqs-profiles",
        "lambda_dedup.handlers.sqs.handler",
        {"PROFILES_TABLE_NAME": "dedup-profiles"},
    ),
    "kinesis_trigger": (
        'trigger_function["kinesis"]',
        "dedup-kinesis-activity",
        "lambda_dedup.handlers.kinesis.handler",
        {"COUNTERS_TABLE_NAME": "dedup-activity-counters"},
    ),
    "dynamodb_stream_trigger": (
        'trigger_function["dynamodb_stream"]',
        "dedup-profile-audit",
        "lambda_dedup.handlers.dynamodb_stream.handler",
        {"AUDIT_TABLE_NAME": "dedup-profile-audit"},
    ),
}


def _mapping(plan: Plan, trigger: str) -> dict[str, Any]:
    return plan.by_address(f"module.{trigger}.aws_lambda_event_source_mapping.this[0]")


def _unknown(plan: Plan, address: str) -> dict[str, Any]:
    """The attributes of ``address`` that are known only after apply."""
    for change in plan.data["resource_changes"]:
        if change["address"] == address:
            unknown: dict[str, Any] = change["change"]["after_unknown"]
            return unknown
    raise KeyError(address)


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_each_trigger_has_its_own_function_and_role(root_plan: Plan, trigger: str) -> None:
    function_module, name, handler, environment = TRIGGERS[trigger]
    function = root_plan.by_address(f"module.{function_module}.aws_lambda_function.this[0]")
    assert (function["function_name"], function["handler"]) == (name, handler)
    assert function["timeout"] == 30
    variables = function["environment"][0]["variables"]
    assert environment.items() <= variables.items()
    # Keys are remembered for longer than the source can redeliver (DLQ: 14 days;
    # streams: 24 hours of retention).
    days = 14 if trigger == "sqs_trigger" else 2
    assert variables["DEDUP_TTL_SECONDS"] == str(days * 24 * 3600)
    role = root_plan.by_address(f"module.{function_module}.aws_iam_role.this[0]")
    # IAM is global: the role carries the region, so a second region of the account can
    # hold the same stack.
    assert role["name"] == f"{name}-{REGION}"
    # The trigger's statements go to that role, and its mapping invokes that function.
    role_policy = root_plan.by_address(f"module.{trigger}.aws_iam_role_policy.this[0]")
    assert role_policy["role"] == f"{name}-{REGION}"
    assert _mapping(root_plan, trigger)["function_name"] == name


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_every_mapping_reports_batch_item_failures(root_plan: Plan, trigger: str) -> None:
    mapping = _mapping(root_plan, trigger)
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["enabled"] is True


@pytest.mark.parametrize(
    ("function_module", "sid", "action", "table"),
    [
        ('trigger_function["sqs"]', "WriteProfiles", "dynamodb:PutItem", "dedup-profiles"),
        (
            'trigger_function["kinesis"]',
            "CountActivity",
            "dynamodb:UpdateItem",
            "dedup-activity-counters",
        ),
        (
            'trigger_function["dynamodb_stream"]',
            "WriteAudit",
            "dynamodb:PutItem",
            "dedup-profile-audit",
        ),
    ],
)
def test_each_function_may_write_only_its_effect_table(
    root_plan: Plan, function_module: str, sid: str, action: str, table: str
) -> None:
    policy = root_plan.role_policy(function_module)
    assert set(policy) == {"WriteOwnLogs", "WriteTraces", "IdempotencyTable", sid}
    assert (policy[sid]["Action"], policy[sid]["Resource"]) == ([action], [f"{TABLE}/{table}"])


# -- SQS ---------------------------------------------------------------------------------


def test_sqs_queue_is_encrypted_with_a_dead_letter_queue_after_five_receives(
    root_plan: Plan,
) -> None:
    queue = root_plan.by_address("module.sqs_trigger.aws_sqs_queue.this[0]")
    dlq = root_plan.by_address("module.sqs_trigger.aws_sqs_queue.dead_letter[0]")
    assert (queue["name"], dlq["name"]) == ("dedup-profile-updates", "dedup-profile-updates-dlq")
    assert queue["sqs_managed_sse_enabled"] is dlq["sqs_managed_sse_enabled"] is True
    assert json.loads(queue["redrive_policy"]) == {
        "deadLetterTargetArn": DLQ_ARN,
        "maxReceiveCount": 5,
    }
    assert dlq["message_retention_seconds"] == 14 * 24 * 3600
    assert queue["fifo_queue"] is dlq["fifo_queue"] is False


def test_sqs_visibility_timeout_is_six_times_the_function_timeout(root_plan: Plan) -> None:
    function = root_plan.by_address('module.trigger_function["sqs"].aws_lambda_function.this[0]')
    queue = root_plan.by_address("module.sqs_trigger.aws_sqs_queue.this[0]")
    assert queue["visibility_timeout_seconds"] == 6 * function["timeout"] == 180


def test_sqs_mapping_settings(root_plan: Plan) -> None:
    mapping = _mapping(root_plan, "sqs_trigger")
    assert mapping["event_source_arn"] == QUEUE_ARN
    assert (mapping["batch_size"], mapping["maximum_batching_window_in_seconds"]) == (10, 0)
    assert mapping["scaling_config"] == []
    assert mapping["filter_criteria"] == []


def test_sqs_role_may_only_consume_its_queue(root_plan: Plan) -> None:
    policy = root_plan.role_policy("sqs_trigger")
    assert policy == {
        "ConsumeQueue": {
            "Sid": "ConsumeQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Resource": [QUEUE_ARN],
        }
    }


@pytest.mark.parametrize(
    ("address", "arn"),
    [
        ("module.sqs_trigger.aws_sqs_queue.this[0]", QUEUE_ARN),
        ("module.sqs_trigger.aws_sqs_queue.dead_letter[0]", DLQ_ARN),
        ("module.kinesis_trigger.aws_sqs_queue.on_failure[0]", KINESIS_FAILURES_ARN),
        ("module.dynamodb_stream_trigger.aws_sqs_queue.on_failure[0]", AUDIT_FAILURES_ARN),
    ],
)
def test_every_queue_refuses_plain_http(root_plan: Plan, address: str, arn: str) -> None:
    queue = root_plan.by_address(address)
    assert queue["sqs_managed_sse_enabled"] is True
    assert json.loads(queue["policy"])["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


# -- Kinesis -----------------------------------------------------------------------------


def test_kinesis_stream_is_kms_encrypted_on_demand(root_plan: Plan) -> None:
    stream = root_plan.by_address("module.kinesis_trigger.aws_kinesis_stream.this[0]")
    assert stream["name"] == "dedup-activity"
    assert (stream["encryption_type"], stream["kms_key_id"]) == ("KMS", "alias/aws/kinesis")
    assert stream["stream_mode_details"] == [{"stream_mode": "ON_DEMAND"}]
    assert stream["retention_period"] == 24


@pytest.mark.parametrize(
    ("trigger", "destination"),
    [("kinesis_trigger", KINESIS_FAILURES_ARN), ("dynamodb_stream_trigger", AUDIT_FAILURES_ARN)],
)
def test_stream_mappings_retry_a_finite_number_of_times_then_send_to_a_queue(
    root_plan: Plan, trigger: str, destination: str
) -> None:
    mapping = _mapping(root_plan, trigger)
    assert mapping["starting_position"] == "TRIM_HORIZON"
    assert mapping["bisect_batch_on_function_error"] is True
    assert mapping["maximum_retry_attempts"] == 5
    assert mapping["maximum_record_age_in_seconds"] == 3600
    assert mapping["parallelization_factor"] == 1
    assert mapping["batch_size"] == 100
    assert mapping["destination_config"] == [{"on_failure": [{"destination_arn": destination}]}]


def test_kinesis_mapping_reads_the_stream(root_plan: Plan) -> None:
    assert _mapping(root_plan, "kinesis_trigger")["event_source_arn"] == STREAM_ARN


def test_kinesis_role_may_read_the_stream_and_send_failures(root_plan: Plan) -> None:
    policy = root_plan.role_policy("kinesis_trigger")
    assert set(policy) == {"ReadStream", "SendFailureRecords"}
    assert policy["ReadStream"]["Action"] == [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ]
    assert policy["ReadStream"]["Resource"] == [STREAM_ARN]
    assert policy["SendFailureRecords"]["Action"] == ["sqs:SendMessage"]
    assert policy["SendFailureRecords"]["Resource"] == [KINESIS_FAILURES_ARN]


# -- DynamoDB Streams --------------------------------------------------------------------


def test_the_profiles_table_streams_new_and_old_images(root_plan: Plan) -> None:
    table = root_plan.by_address("module.profiles_table.aws_dynamodb_table.this[0]")
    assert (table["name"], table["hash_key"]) == ("dedup-profiles", "user_id")
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")


def test_dynamodb_mapping_reads_the_profiles_stream_known_after_apply(root_plan: Plan) -> None:
    # The stream's ARN carries a label DynamoDB picks when it creates the stream: the
    # mapping and the policy get it after apply (test_apply checks them against it).
    mapping = "module.dynamodb_stream_trigger.aws_lambda_event_source_mapping.this[0]"
    assert _unknown(root_plan, mapping).get("event_source_arn") is True
    policy = "module.dynamodb_stream_trigger.aws_iam_role_policy.this[0]"
    assert _unknown(root_plan, policy).get("policy") is True


def test_the_stream_trigger_creates_no_table_of_its_own(root_plan: Plan) -> None:
    assert not [
        address
        for address in root_plan.actions()
        if address.startswith("module.dynamodb_stream_trigger.aws_dynamodb_table")
    ]


@pytest.mark.parametrize(
    ("table", "name", "keys"),
    [
        ("profiles_table", "dedup-profiles", ("user_id", None)),
        ("counters_table", "dedup-activity-counters", ("user_id", "type")),
        ("audit_table", "dedup-profile-audit", ("id", None)),
        ("instance_states_table", "dedup-instance-states", ("instance_id", "changed_at")),
        ("idempotency_table", "dedup-idempotency", ("id", None)),
    ],
)
def test_every_table_is_encrypted_and_refuses_plain_http(
    root_plan: Plan, table: str, name: str, keys: tuple[str, str | None]
) -> None:
    values = root_plan.by_address(f"module.{table}.aws_dynamodb_table.this[0]")
    assert (values["name"], values["hash_key"], values["range_key"]) == (name, *keys)
    assert values["billing_mode"] == "PAY_PER_REQUEST"
    assert values["server_side_encryption"][0]["enabled"] is True
    assert values["point_in_time_recovery"][0]["enabled"] is True
    policy = root_plan.by_address(f"module.{table}.aws_dynamodb_resource_policy.this[0]")
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Deny", f"{TABLE}/{name}")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
