"""modules/function: layers and architectures, planned and refused.

The calls are part of the shared test-only configurations (support/module_calls.py), so
that their one plan and one validation serve every assertion here.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.module_calls import (
    FUNCTION_BOTH_ARCHITECTURES,
    FUNCTION_LAYER_CASES,
    INPUT_VALIDATION,
    LAYER_ARNS,
    MODULE_OPTIONS,
    PLAN_FAILURES,
)
from support.plan import Plan, TerraformRuns


@pytest.fixture(scope="module")
def plan(terraform_runs: TerraformRuns) -> Plan:
    return terraform_runs.plans[MODULE_OPTIONS]


def _function(plan: Plan, call: str) -> dict[str, Any]:
    return plan.by_address(f"module.{call}.aws_lambda_function.this[0]")


def test_layers_and_architectures_are_planned_as_given(plan: Plan) -> None:
    # GIVEN a function on arm64 with five layers (Lambda's limit), running a team's handler
    function = _function(plan, "function_arm64_layers")
    # THEN Lambda gets both, the layers in the caller's order
    assert function["architectures"] == ["arm64"]
    assert function["layers"] == LAYER_ARNS
    assert function["handler"] == "orders.handlers.place_order"
    assert plan.output("function_arm64_layers_architectures") == ["arm64"]


def test_a_function_without_them_is_x86_64_without_layers(plan: Plan) -> None:
    function = _function(plan, "with_sns_dead_letter")
    assert function["architectures"] == ["x86_64"]
    assert not function.get("layers")
    assert plan.output("with_sns_dead_letter_architectures") == ["x86_64"]
    assert plan.output("disabled_function_architectures") is None


def test_the_deprecated_architecture_still_works_with_a_warning(plan: Plan) -> None:
    # GIVEN an existing caller that sets architecture = "arm64"
    # THEN its function is planned on arm64, as before
    assert _function(plan, "function_deprecated_architecture")["architectures"] == ["arm64"]
    # AND the module's check fails for it (a warning, not an error), and for no other call
    failed = {
        check["address"]["to_display"]
        for check in plan.data.get("checks", [])
        if check["address"]["kind"] == "check" and check["status"] == "fail"
    }
    assert failed == {"module.function_deprecated_architecture.check.architecture_is_deprecated"}


@pytest.mark.parametrize("case", sorted(FUNCTION_LAYER_CASES))
def test_a_bad_layer_list_or_architecture_is_refused(
    terraform_runs: TerraformRuns, case: str
) -> None:
    # GIVEN six layers, a layer ARN without its version, or an architecture Lambda lacks
    _, bad, expected = FUNCTION_LAYER_CASES[case]
    # WHEN validated
    errors = [
        d
        for d in terraform_runs.validations[INPUT_VALIDATION]["diagnostics"]
        if d["severity"] == "error" and d.get("snippet", {}).get("context") == f'module "{case}"'
    ]
    # THEN exactly that rule refuses it, saying why
    assert [e["detail"][: len(expected)] for e in errors] == [expected], (bad, errors)


def test_both_architecture_inputs_fail_the_plan(terraform_runs: TerraformRuns) -> None:
    errors = terraform_runs.plan_errors[PLAN_FAILURES]
    mine = [e for e in errors if e["detail"].startswith(FUNCTION_BOTH_ARCHITECTURES)]
    assert len(mine) == 1, [e["detail"] for e in errors]
    assert mine[0]["summary"] == "Resource precondition failed"
