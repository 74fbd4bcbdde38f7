"""The examples' plans: what a consumer's inputs turn into, and no wildcard anywhere."""

from __future__ import annotations

import pytest
from support.plan import TerraformRuns, statements

FUNCTION = "module.function.aws_lambda_function.this[0]"
ROLE_POLICY = "module.function.aws_iam_role_policy.this[0]"


def test_function_example_passes_its_inputs_through(terraform_runs: TerraformRuns) -> None:
    plan = terraform_runs.plans["examples/function"]
    function = plan.by_address(FUNCTION)
    assert function["runtime"] == "python3.13"
    assert function["architectures"] == ["arm64"]
    assert function["memory_size"] == 512
    assert function["timeout"] == 10
    # A new account has 10 concurrent executions in all and may reserve none of them.
    assert function["reserved_concurrent_executions"] == -1
    variables = function["environment"][0]["variables"]
    assert variables["DEDUP_TABLE_NAME"] == "orders-inbox-idempotency"
    assert variables["DEDUP_TTL_SECONDS"] == str(3 * 24 * 3600)
    assert variables["ORDERS_SOURCE"] == "example"


def test_function_example_scopes_its_role_to_its_own_table(terraform_runs: TerraformRuns) -> None:
    plan = terraform_runs.plans["examples/function"]
    policy = statements(plan.policy(plan.by_address(ROLE_POLICY)))
    assert policy["IdempotencyTable"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-inbox-idempotency"
    ]


def test_emulator_example_plans_the_whole_root_module(terraform_runs: TerraformRuns) -> None:
    root = terraform_runs.plans["root"]
    wrapped = terraform_runs.plans["examples/emulator"]
    assert set(wrapped.actions()) == {f"module.stack.{address}" for address in root.actions()}


@pytest.mark.parametrize("name", ["root", "examples/function", "examples/emulator"])
def test_no_policy_grants_a_wildcard_action(terraform_runs: TerraformRuns, name: str) -> None:
    plan = terraform_runs.plans[name]
    # A policy naming a created table's stream is known after apply only; test_apply
    # checks that one in the emulator.
    policies = [p for p in plan.resources("aws_iam_role_policy") if "policy" in p["values"]]
    assert policies
    for role_policy in policies:
        for statement in statements(plan.policy(role_policy["values"])).values():
            for action in statement["Action"]:
                assert "*" not in action, f"{role_policy['address']} grants {action}"
