"""Fixtures for the Terraform tests: one init/validate/plan per configuration, shared.

A Terraform command costs seconds of provider start-up, so every configuration is
initialised, validated and (for the root and the examples) planned once per session, in
parallel, and the tests assert on the results.

That work starts in the background as soon as the first Terraform test is set up, so
that it overlaps the apply of test_apply.py, which spends most of its time waiting for
the emulator's resources to settle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import tfharness
from support.module_calls import MODULE_OPTIONS, PLAN_FAILURES, write_all
from support.plan import Plan, TerraformRuns, configuration_name

PLANNED = ("root", "examples/function", "examples/emulator", MODULE_OPTIONS)
"""Configurations that are planned; modules are validated only (they need inputs)."""

FAILING = (PLAN_FAILURES,)
"""Configurations whose plan must fail; the tests read its error diagnostics."""


@pytest.fixture(scope="session", autouse=True)
def _terraform_runs_started(
    tf: tfharness.Terraform, staged_tree: Path, package_zip: Path
) -> Iterator[Future[TerraformRuns]]:
    """Start every configuration's init, validate and plan in the background."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="terraform-runs") as background:
        future = background.submit(_run_all, tf, staged_tree)
        yield future
        future.cancel()


@pytest.fixture(scope="session")
def terraform_runs(_terraform_runs_started: Future[TerraformRuns]) -> TerraformRuns:
    return _terraform_runs_started.result()


def _run_all(tf: tfharness.Terraform, staged_tree: Path) -> TerraformRuns:
    def run(directory: Path) -> tuple[str, dict[str, Any], Plan | list[dict[str, Any]] | None]:
        name = configuration_name(directory, staged_tree)
        tf.init(directory)
        validation = tf.validate(directory)
        if not validation["valid"]:
            return name, validation, None
        if name in PLANNED:
            return name, validation, Plan(tf.plan(directory))
        if name in FAILING:
            return name, validation, tf.plan_errors(directory)
        return name, validation, None

    directories = [*tfharness.terraform_directories(staged_tree), *write_all(staged_tree).values()]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(run, directories))
    return TerraformRuns(
        validations={name: validation for name, validation, _ in results},
        plans={name: plan for name, _, plan in results if isinstance(plan, Plan)},
        plan_errors={name: errors for name, _, errors in results if isinstance(errors, list)},
    )


@pytest.fixture(scope="session")
def root_plan(terraform_runs: TerraformRuns) -> Plan:
    return terraform_runs.plans["root"]
