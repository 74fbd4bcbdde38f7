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
