"""Rules between inputs (preconditions) fail the plan with a message that says why."""

from __future__ import annotations

from typing import Any

import pytest
from support.module_calls import PLAN_FAILURE_CASES, PLAN_FAILURES
from support.plan import TerraformRuns


def _errors(terraform_runs: TerraformRuns) -> list[dict[str, Any]]:
    return terraform_runs.plan_errors[PLAN_FAILURES]


@pytest.mark.parametrize("case", sorted(PLAN_FAILURE_CASES))
def test_a_broken_rule_fails_the_plan_with_its_message(
    terraform_runs: TerraformRuns, case: str
) -> None:
    # GIVEN a module call whose inputs are each valid, but break a rule between them
    _, expected = PLAN_FAILURE_CASES[case]
    # WHEN it is planned
    # THEN the plan fails with the rule's message (each case's message is its own:
    # Terraform does not name the module call of a failed precondition)
    errors = _errors(terraform_runs)
    mine = [e for e in errors if e["detail"].startswith(expected)]
    assert len(mine) == 1, [e["detail"] for e in errors]
    assert mine[0]["summary"] == "Resource precondition failed"


def test_nothing_but_the_broken_calls_fails(terraform_runs: TerraformRuns) -> None:
    assert len(_errors(terraform_runs)) == len(PLAN_FAILURE_CASES)
