"""The trigger and data-table modules' optional inputs, planned (support/module_calls.py).

FIFO queues, customer keys, existing sources and destinations given by ARN, filters and
the other mapping settings: what each option turns into, and the IAM it adds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.module_calls import (
    CLICKS_STREAM_ARN,
    DESTINATION_KEY_ARN,
    FILTER,
    JOBS_QUEUE_ARN,
    KMS_KEY_ARN,
    MODULE_OPTIONS,
    ORDERS_STREAM_ARN,
    QUEUE_ARN,
    TOPIC_ARN,
)
from support.plan import Plan, TerraformRuns, arn

SQS = arn("sqs")


@pytest.fixture(scope="module")
def plan(terraform_runs: TerraformRuns) -> Plan:
    return terraform_runs.plans[MODULE_OPTIONS]


def _values(plan: Plan, call: str, resource: str) -> dict[str, Any]:
    return plan.by_address(f"module.{call}.{resource}")


def _mapping(plan: Plan, call: str) -> dict[str, Any]:
    return _values(plan, call, "aws_lambda_event_source_mapping.this[0]")


def _created(plan: Plan, call: str) -> set[str]:
    prefix = f"module.{call}."
    return {
        r["address"].removeprefix(prefix)
        for r in plan.all_resources()
        if r["address"].startswith(prefix)
    }


# -- SQS ---------------------------------------------------------------------------------


def test_fifo_queue_has_a_fifo_dead_letter_queue_both_under_the_customer_key(plan: Plan) -> None:
    queue = _values(plan, "sqs_fifo", "aws_sqs_queue.this[0]")
    dlq = _values(plan, "sqs_fifo", "aws_sqs_queue.dead_letter[0]")
    assert (queue["name"], dlq["name"]) == ("fifo-jobs.fifo", "fifo-jobs-dlq.fifo")
    assert queue["fifo_queue"] is dlq["fifo_queue"] is True
    assert queue["content_based_deduplication"] is True
    assert queue["kms_master_key_id"] == dlq["kms_master_key_id"] == KMS_KEY_ARN
    assert queue["visibility_timeout_seconds"] == 600
    assert json.loads(queue["redrive_policy"]) == {
        "deadLetterTargetArn": f"{SQS}:fifo-jobs-dlq.fifo",
        "maxReceiveCount": 3,
    }
    assert plan.output("sqs_fifo_queue_name") == "fifo-jobs.fifo"
    assert plan.output("sqs_fifo_fifo") is True


def test_fifo_mapping_has_no_batching_window_and_keeps_concurrency_and_filters(
    plan: Plan,
) -> None:
    mapping = _mapping(plan, "sqs_fifo")
    assert mapping["maximum_batching_window_in_seconds"] is None
    assert mapping["scaling_config"] == [{"maximum_concurrency": 5}]
    assert mapping["filter_criteria"] == [{"filter": [{"pattern": FILTER}]}]


def test_a_customer_key_adds_decrypt_on_that_key_only(plan: Plan) -> None:
    policy = plan.role_policy("sqs_fifo")
    assert set(policy) == {"ConsumeQueue", "DecryptMessages"}
    assert policy["ConsumeQueue"]["Resource"] == [f"{SQS}:fifo-jobs.fifo"]
    assert policy["DecryptMessages"]["Action"] == ["kms:Decrypt"]
    assert policy["DecryptMessages"]["Resource"] == [KMS_KEY_ARN]


def test_an_existing_queue_is_consumed_and_nothing_is_created_for_it(plan: Plan) -> None:
    assert _created(plan, "sqs_existing") == {
        "aws_iam_role_policy.this[0]",
        "aws_lambda_event_source_mapping.this[0]",
    }
    mapping = _mapping(plan, "sqs_existing")
    assert (mapping["event_source_arn"], mapping["batch_size"]) == (JOBS_QUEUE_ARN, 5)
    assert mapping["enabled"] is False
    assert plan.role_policy("sqs_existing")["ConsumeQueue"]["Resource"] == [JOBS_QUEUE_ARN]
    assert plan.output("sqs_existing_queue_arn") == JOBS_QUEUE_ARN
    assert plan.output("sqs_existing_fifo") is True  # from the ARN's .fifo suffix
    assert plan.output("sqs_existing_queue_url") is None
    assert plan.output("sqs_existing_dead_letter_queue_arn") is None


def test_large_batches_come_with_a_batching_window(plan: Plan) -> None:
    mapping = _mapping(plan, "sqs_large_batches")
    assert (mapping["batch_size"], mapping["maximum_batching_window_in_seconds"]) == (500, 20)


# -- Kinesis -----------------------------------------------------------------------------


def test_an_existing_stream_with_a_topic_destination_and_a_customer_key(plan: Plan) -> None:
    assert _created(plan, "kinesis_existing") == {
        "aws_iam_role_policy.this[0]",
        "aws_lambda_event_source_mapping.this[0]",
    }
    mapping = _mapping(plan, "kinesis_existing")
    assert mapping["event_source_arn"] == CLICKS_STREAM_ARN
    assert mapping["starting_position"] == "AT_TIMESTAMP"
    assert mapping["starting_position_timestamp"] == "2026-01-01T00:00:00Z"
    assert (mapping["batch_size"], mapping["parallelization_factor"]) == (500, 4)
    assert mapping["bisect_batch_on_function_error"] is False
    assert mapping["maximum_retry_attempts"] == 2
    assert mapping["maximum_record_age_in_seconds"] == 600
    assert mapping["destination_config"] == [{"on_failure": [{"destination_arn": TOPIC_ARN}]}]
    policy = plan.role_policy("kinesis_existing")
    assert set(policy) == {"ReadStream", "SendFailureRecords", "DecryptRecords", "EncryptFailures"}
    assert policy["ReadStream"]["Resource"] == [CLICKS_STREAM_ARN]
    assert policy["SendFailureRecords"]["Action"] == ["sns:Publish"]
    assert policy["SendFailureRecords"]["Resource"] == [TOPIC_ARN]
    assert policy["DecryptRecords"]["Resource"] == [KMS_KEY_ARN]
    # The topic is under a customer key: Lambda sends with the role's rights on that key.
    assert policy["EncryptFailures"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert policy["EncryptFailures"]["Resource"] == [DESTINATION_KEY_ARN]
    assert plan.output("kinesis_existing_stream_name") == "clicks"
    assert plan.output("kinesis_existing_on_failure_destination_arn") == TOPIC_ARN
    assert plan.output("kinesis_existing_on_failure_queue_url") is None


def test_a_provisioned_stream_under_a_customer_key(plan: Plan) -> None:
    stream = _values(plan, "kinesis_provisioned", "aws_kinesis_stream.this[0]")
    assert stream["stream_mode_details"] == [{"stream_mode": "PROVISIONED"}]
    assert (stream["shard_count"], stream["retention_period"]) == (2, 48)
    assert (stream["encryption_type"], stream["kms_key_id"]) == ("KMS", KMS_KEY_ARN)


# -- DynamoDB Streams --------------------------------------------------------------------


def test_an_existing_stream_is_read_with_exactly_its_arn_and_filtered(plan: Plan) -> None:
    assert _created(plan, "dynamodb_existing") == {
        "aws_iam_role_policy.this[0]",
        "aws_lambda_event_source_mapping.this[0]",
    }
    mapping = _mapping(plan, "dynamodb_existing")
    assert mapping["event_source_arn"] == ORDERS_STREAM_ARN
    assert mapping["starting_position"] == "LATEST"
    assert mapping["filter_criteria"] == [{"filter": [{"pattern": '{"eventName":["INSERT"]}'}]}]
    assert mapping["destination_config"] == [{"on_failure": [{"destination_arn": QUEUE_ARN}]}]
    policy = plan.role_policy("dynamodb_existing")
    assert policy["ReadStream"]["Action"] == [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ]
    assert policy["ReadStream"]["Resource"] == [ORDERS_STREAM_ARN]
    assert policy["SendFailureRecords"]["Action"] == ["sqs:SendMessage"]
    assert policy["SendFailureRecords"]["Resource"] == [QUEUE_ARN]
    assert plan.output("dynamodb_existing_stream_arn") == ORDERS_STREAM_ARN
    assert plan.output("dynamodb_existing_table_name") is None


def test_a_created_source_table_streams_both_images_under_the_customer_key(plan: Plan) -> None:
    assert _created(plan, "dynamodb_created") == {
        "aws_dynamodb_table.this[0]",
        "aws_dynamodb_resource_policy.this[0]",
        "aws_sqs_queue.on_failure[0]",
        "aws_iam_role_policy.this[0]",
        "aws_lambda_event_source_mapping.this[0]",
    }
    table = _values(plan, "dynamodb_created", "aws_dynamodb_table.this[0]")
    assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert table["server_side_encryption"] == [{"enabled": True, "kms_key_arn": KMS_KEY_ARN}]
    queue = _values(plan, "dynamodb_created", "aws_sqs_queue.on_failure[0]")
    assert queue["name"] == "created-orders-failures"


def test_a_created_source_table_under_a_customer_key_is_read_with_that_key(plan: Plan) -> None:
    # GIVEN the module's own table under a customer managed key: the role policy names the
    # new stream, so its document is read at apply; its statements are planned already
    address = "module.dynamodb_created.data.aws_iam_policy_document.this[0]"
    change = next(c for c in plan.data["resource_changes"] if c["address"] == address)
    planned = {s.get("sid"): s for s in change["change"]["after"]["statement"]}
    # THEN the role may decrypt with that key (Lambda reads the stream with the role's rights)
    assert planned["DecryptStream"]["actions"] == ["kms:Decrypt"]
    assert planned["DecryptStream"]["resources"] == [KMS_KEY_ARN]
    # AND a stream of another module's table gets no such statement from this module
    assert "DecryptStream" not in plan.role_policy("dynamodb_existing")


# -- data tables -------------------------------------------------------------------------


def test_a_data_table_with_a_sort_key_a_stream_and_a_customer_key(plan: Plan) -> None:
    table = _values(plan, "data_table", "aws_dynamodb_table.this[0]")
    assert (table["hash_key"], table["range_key"]) == ("pk", "sk")
    assert table["attribute"] == [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}]
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_IMAGE")
    assert table["server_side_encryption"] == [{"enabled": True, "kms_key_arn": KMS_KEY_ARN}]
    assert table["point_in_time_recovery"][0]["enabled"] is False
    assert table["deletion_protection_enabled"] is True


# -- the root module with triggers turned off ----------------------------------------------


def test_turned_off_triggers_leave_nothing_behind(plan: Plan) -> None:
    # GIVEN the root module with only the SQS trigger on
    # THEN the other six triggers' functions, sources and tables are not planned
    modules = {address.split(".")[1] for address in _created(plan, "sqs_only_stack")}
    assert modules == {
        "idempotency_table",
        "inbox_function",
        "profiles_table",
        'trigger_function["sqs"]',
        "sqs_trigger",
    }
    assert plan.output("sqs_only_stack_sqs_function_name") == "sqs-only-sqs-profiles"
    assert plan.output("sqs_only_stack_sqs_queue_arn") == f"{SQS}:sqs-only-profile-updates"
    assert plan.output("sqs_only_stack_profiles_table_name") == "sqs-only-profiles"
    for name in (
        "kinesis_function_name",
        "kinesis_stream_arn",
        "dynamodb_stream_function_name",
        "dynamodb_stream_arn",
        "counters_table_name",
        "audit_table_name",
        "api_gateway_function_name",
        "api_gateway_url",
        "s3_function_name",
        "s3_bucket_name",
        "sns_topic_arn",
        "eventbridge_rule_arn",
        "instance_states_table_name",
    ):
        assert plan.output(f"sqs_only_stack_{name}") is None, name
    # AND the profiles table has no stream, since nothing reads it
    table = _values(plan, "sqs_only_stack", "module.profiles_table.aws_dynamodb_table.this[0]")
    assert table["stream_enabled"] is False
