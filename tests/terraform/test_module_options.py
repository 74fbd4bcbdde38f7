"""The modules' optional inputs, planned against the emulator (support/module_calls.py)."""

from __future__ import annotations

import pytest
from support.module_calls import (
    DISABLED_OUTPUTS,
    KMS_KEY_ARN,
    MODULE_OPTIONS,
    ORDERS_TABLE_ARN,
    QUEUE_ARN,
    TOPIC_ARN,
)
from support.plan import REGION, Plan, TerraformRuns


@pytest.fixture(scope="module")
def plan(terraform_runs: TerraformRuns) -> Plan:
    return terraform_runs.plans[MODULE_OPTIONS]


def _function(plan: Plan, call: str) -> dict[str, object]:
    return plan.by_address(f"module.{call}.aws_lambda_function.this[0]")


def test_sqs_dead_letter_queue_is_wired_and_may_be_sent_to(plan: Plan) -> None:
    assert _function(plan, "with_sqs_dead_letter")["dead_letter_config"] == [
        {"target_arn": QUEUE_ARN}
    ]
    policy = plan.role_policy("with_sqs_dead_letter")
    assert policy["DeadLetter"]["Action"] == ["sqs:SendMessage"]
    assert policy["DeadLetter"]["Resource"] == [QUEUE_ARN]


def test_role_names_carry_the_region_within_iams_64_characters(plan: Plan) -> None:
    # GIVEN two functions with 64-character names that differ in their last character only
    names = [
        plan.by_address(f"module.{call}.aws_iam_role.this[0]")["name"]
        for call in ("long_named_functions", "long_named_functions_2")
    ]
    # THEN each role is cut to 64 characters, ends in the region, and they stay apart
    assert all(len(n) == 64 and n.endswith(f"-{REGION}") for n in names), names
    assert names[0] != names[1]


def test_sns_dead_letter_topic_may_be_published_to(plan: Plan) -> None:
    policy = plan.role_policy("with_sns_dead_letter")
    assert policy["DeadLetter"]["Action"] == ["sns:Publish"]
    assert policy["DeadLetter"]["Resource"] == [TOPIC_ARN]


def test_optional_statements_appear_only_when_asked_for(plan: Plan) -> None:
    # The SNS call sets a dead-letter target only: no KMS, no extra statements, unreserved.
    assert set(plan.role_policy("with_sns_dead_letter")) == {
        "WriteOwnLogs",
        "WriteTraces",
        "IdempotencyTable",
        "DeadLetter",
    }
    assert _function(plan, "with_sns_dead_letter")["reserved_concurrent_executions"] == -1


def test_reserved_concurrency_kms_and_extra_statements(plan: Plan) -> None:
    function = _function(plan, "with_sqs_dead_letter")
    assert function["reserved_concurrent_executions"] == 3
    assert function["kms_key_arn"] == KMS_KEY_ARN
    policy = plan.role_policy("with_sqs_dead_letter")
    assert policy["DecryptEnvironment"]["Action"] == ["kms:Decrypt"]
    assert policy["DecryptEnvironment"]["Resource"] == [KMS_KEY_ARN]
    assert policy["ReadOrders"]["Action"] == ["dynamodb:GetItem"]
    assert policy["ReadOrders"]["Resource"] == [ORDERS_TABLE_ARN]


def test_provisioned_table_with_customer_key_and_deletion_protection(plan: Plan) -> None:
    table = plan.by_address("module.provisioned_table.aws_dynamodb_table.this[0]")
    assert table["billing_mode"] == "PROVISIONED"
    assert (table["read_capacity"], table["write_capacity"]) == (2, 3)
    assert table["server_side_encryption"] == [{"enabled": True, "kms_key_arn": KMS_KEY_ARN}]
    assert table["deletion_protection_enabled"] is True


@pytest.mark.parametrize("call", sorted(DISABLED_OUTPUTS))
def test_create_false_creates_nothing_and_outputs_null(plan: Plan, call: str) -> None:
    assert not [
        r["address"] for r in plan.all_resources() if r["address"].startswith(f"module.{call}.")
    ]
    for name in DISABLED_OUTPUTS[call]:
        assert plan.output(f"{call}_{name}") is None, name
