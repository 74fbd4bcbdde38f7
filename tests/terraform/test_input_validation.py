"""Every input rule of the modules rejects a bad value with a message that says why."""

from __future__ import annotations

from typing import Any

import pytest
from support.module_calls import CASES, INPUT_VALIDATION, ROOT_TAGS
from support.plan import TerraformRuns


def _errors(terraform_runs: TerraformRuns) -> list[dict[str, Any]]:
    report = terraform_runs.validations[INPUT_VALIDATION]
    return [d for d in report["diagnostics"] if d["severity"] == "error"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_rejected_with_a_clear_message(
    terraform_runs: TerraformRuns, case: str
) -> None:
    # GIVEN a module call with exactly one bad input
    _, bad, expected = CASES[case]
    # WHEN the configuration is validated
    # THEN that call fails with the rule's message
    errors = _errors(terraform_runs)
    mine = [e for e in errors if e.get("snippet", {}).get("context") == f'module "{case}"']
    assert mine, f"{bad} was accepted"
    assert len(mine) == 1, mine
    assert mine[0]["detail"].startswith(expected), mine[0]["detail"]


def test_nothing_but_the_bad_inputs_is_rejected(terraform_runs: TerraformRuns) -> None:
    assert len(_errors(terraform_runs)) == len(CASES)


def test_the_root_refuses_tags_that_the_project_tag_would_take_past_50(
    terraform_runs: TerraformRuns,
) -> None:
    # GIVEN the root module called with 50 tags (51 with its own Project tag)
    # WHEN the configuration is validated
    diagnostics = terraform_runs.validations[ROOT_TAGS]["diagnostics"]
    errors = [d for d in diagnostics if d["severity"] == "error"]
    # THEN the root's own rule says why, once
    root = [e for e in errors if e["detail"].startswith("tags must have at most 49 entries")]
    assert len(root) == 1, [e["detail"] for e in errors]
    # AND the only other errors are the nested modules refusing the same 51 tags
    assert all(e["detail"].startswith("tags must have at most") for e in errors)
