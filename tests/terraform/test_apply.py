"""The root module applied to moto server through pytest-terraform.

examples/emulator wraps the root module with a provider configured for the emulator;
pytest-terraform's ``terraform`` fixture applies it once per session and destroys it at
the end. The tests read its outputs and check them against what the emulator holds.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import emulator as emulator_tool
import pytest
from pytest_terraform import terraform
from support.plan import statements

# pytest-terraform's fixture takes (request, tmpdir_factory, worker_id) only, so what it
# needs -- the emulator, TF_VAR_endpoint_url and the zip -- comes from the autouse
# fixture below, which pytest sets up first.
terraform("emulator", scope="session", name="stack")


@pytest.fixture(scope="module", autouse=True)
def _prerequisites(emulator: emulator_tool.Emulator, package_zip: Path) -> None:
    assert os.environ["TF_VAR_endpoint_url"] == emulator.endpoint  # noqa: SIM112


@pytest.fixture(scope="module")
def outputs(stack: Any) -> dict[str, Any]:
    value: dict[str, Any] = stack.outputs["stack"]["value"]
    return value


@pytest.fixture(scope="module")
def aws(emulator: emulator_tool.Emulator) -> Any:
    return lambda service: boto3.client(service, **emulator.client_options())


def test_outputs_name_the_created_table_and_function(outputs: dict[str, Any], aws: Any) -> None:
    table = aws("dynamodb").describe_table(TableName=outputs["idempotency_table_name"])["Table"]
    assert table["TableArn"] == outputs["idempotency_table_arn"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = aws("dynamodb").describe_time_to_live(TableName=table["TableName"])
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }

    function = aws("lambda").get_function_configuration(FunctionName=outputs["inbox_function_name"])
    assert function["FunctionArn"] == outputs["inbox_function_arn"]
    assert function["Handler"] == "lambda_dedup.handlers.inbox.handler"
    assert function["Environment"]["Variables"]["DEDUP_TABLE_NAME"] == table["TableName"]
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_role_policy_in_the_emulator_is_the_planned_one(outputs: dict[str, Any], aws: Any) -> None:
    role = outputs["inbox_role_name"]
    names = aws("iam").list_role_policies(RoleName=role)["PolicyNames"]
    assert names == [f"{role}-base"]
    document = aws("iam").get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    resources = {r for statement in statements(document).values() for r in statement["Resource"]}
    assert outputs["idempotency_table_arn"] in resources


def _role_policies(aws: Any, role: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Every inline policy of ``role`` in the emulator, as statements by Sid."""
    iam = aws("iam")
    policies = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        policies[name] = statements(json.loads(document) if isinstance(document, str) else document)
    return policies


@pytest.mark.parametrize(
    ("trigger", "source"),
    [
        ("sqs", "sqs_queue_arn"),
        ("kinesis", "kinesis_stream_arn"),
        ("dynamodb_stream", "dynamodb_stream_arn"),
    ],
)
def test_each_function_has_one_mapping_on_its_source_reporting_item_failures(
    outputs: dict[str, Any], aws: Any, trigger: str, source: str
) -> None:
    function = outputs[f"{trigger}_function_name"]
    (mapping,) = aws("lambda").list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == outputs[source]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    if trigger != "sqs":
        destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
        assert destination == outputs[f"{trigger}_failure_destination_arn"]
        assert mapping["MaximumRetryAttempts"] == 5


def test_the_queue_in_the_emulator_dead_letters_after_five_receives(
    outputs: dict[str, Any], aws: Any
) -> None:
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=outputs["sqs_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": outputs["sqs_dead_letter_queue_arn"],
        "maxReceiveCount": 5,
    }
    assert attributes["VisibilityTimeout"] == "180"
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_profiles_stream_is_the_one_the_audit_function_may_read(
    outputs: dict[str, Any], aws: Any
) -> None:
    # The stream's ARN is known only after apply: the plan could not show this policy.
    table = aws("dynamodb").describe_table(TableName=outputs["dynamodb_stream_table_name"])
    assert table["Table"]["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    stream_arn = table["Table"]["LatestStreamArn"]
    assert outputs["dynamodb_stream_arn"] == stream_arn
    role = outputs["dynamodb_stream_function_name"]
    policy = _role_policies(aws, role)[f"{role}-dynamodb-stream"]
    assert policy["ReadStream"]["Resource"] == [stream_arn]
    assert policy["SendFailureRecords"]["Resource"] == [
        outputs["dynamodb_stream_failure_destination_arn"]
    ]


def test_no_role_in_the_emulator_is_granted_a_wildcard_action(
    outputs: dict[str, Any], aws: Any
) -> None:
    roles = [
        outputs[f"{name}_function_name"] for name in ("inbox", "sqs", "kinesis", "dynamodb_stream")
    ]
    for role in roles:
        for policy in _role_policies(aws, role).values():
            for statement in policy.values():
                assert statement["Effect"] == "Allow"
                assert not [a for a in statement["Action"] if "*" in a], (role, statement)


def test_plan_after_apply_shows_no_change(stack: Any) -> None:
    # The zip is reproducible and every attribute round-trips, so a second plan is empty.
    runner = stack.terraform
    result = subprocess.run(
        [runner.tf_bin, "plan", "-detailed-exitcode", "-input=false", "-no-color",
         f"-state={runner.state_path}"],
        cwd=runner.module_dir,
        env={**os.environ, "TF_DATA_DIR": runner.work_dir},
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
