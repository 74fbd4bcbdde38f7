"""Checks of the Terraform sources: fmt, validate, checkov, conventions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tfdocs
import tfharness
from support.plan import TerraformRuns, configuration_directory, configuration_name

REPO = Path(__file__).resolve().parents[2]
CONFIGURATIONS = [configuration_name(d, REPO) for d in tfharness.terraform_directories(REPO)]
MODULES = [name for name in CONFIGURATIONS if name.startswith("modules/")]


def _directory(name: str) -> Path:
    return configuration_directory(name, REPO)


def _tf_files(name: str) -> list[Path]:
    return sorted(_directory(name).glob("*.tf"))


def test_terraform_files_are_formatted(tf: tfharness.Terraform, tmp_path: Path) -> None:
    result = tf.fmt_check(tfharness.stage(tmp_path))
    assert result.returncode == 0, (
        f"run `terraform fmt -recursive`:\n{result.stdout}{result.stderr}"
    )


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_configuration_validates(terraform_runs: TerraformRuns, name: str) -> None:
    report = terraform_runs.validations[name]
    assert report["valid"], json.dumps(report["diagnostics"], indent=2)
    assert report["warning_count"] == 0, json.dumps(report["diagnostics"], indent=2)


@pytest.mark.parametrize("name", MODULES)
def test_module_has_no_provider_block(name: str) -> None:
    for path in _tf_files(name):
        assert not re.search(r'^provider "', path.read_text(), re.M), (
            f"{path} configures a provider"
        )


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_every_variable_and_output_has_a_one_sentence_description(name: str) -> None:
    configuration = tfdocs.read(_directory(name))
    items: list[tfdocs.Variable | tfdocs.Output] = [
        *configuration.variables,
        *configuration.outputs,
    ]
    for item in items:
        text = item.description
        assert text.endswith("."), f"{item.name}: {text!r} is not a sentence"
        assert not re.search(r"\.\s+[A-Z]", text), f"{item.name}: more than one sentence"


@pytest.mark.parametrize("name", MODULES)
def test_module_variables_are_typed_and_never_any(name: str) -> None:
    for variable in tfdocs.read(_directory(name)).variables:
        assert "any" not in re.findall(r"\w+", variable.type), f"{variable.name}: {variable.type}"


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_readme_has_usage_then_current_inputs_and_outputs(name: str) -> None:
    readme, current, wanted = tfdocs.updated_readme(_directory(name))
    assert current == wanted, f"{readme} is out of date: run `make docs`"
    assert current.index(tfdocs.BEGIN) > 200, f"{readme}: hand-written usage comes first"


@pytest.mark.parametrize("name", [n for n in CONFIGURATIONS if n.startswith("examples/")])
def test_example_readme_says_what_it_creates(name: str) -> None:
    text = (_directory(name) / "README.md").read_text()
    assert text.startswith("Configuration in this directory creates:")


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_terraform_and_aws_provider_constraints(name: str) -> None:
    versions = _directory(name) / "versions.tf"
    text = versions.read_text()
    assert 'required_version = ">= 1.5"' in text
    assert re.search(r'source\s+=\s+"hashicorp/aws"', text)
    # 5.70 is the true floor: event source mapping `tags` and `arn` arrive there; 5.100.0 is
    # what the tests run on.
    assert re.search(r'version\s+=\s+">= 5\.70, < 7\.0"', text)


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_no_attribute_that_provider_6_deprecates(name: str) -> None:
    # GIVEN the configuration's sources
    text = "\n".join(path.read_text() for path in _tf_files(name))
    # THEN none reads data.aws_region's name or id, which 6.x deprecates (a warning on
    # every plan of a user's config)
    assert not re.search(r"data\.aws_region\.[A-Za-z0-9_-]+(\[[^]]*\])?\.(name|id)\b", text)


def _checkov() -> str:
    configured = os.environ.get("CHECKOV")
    candidates = [configured] if configured else [str(REPO / ".venv-checkov" / "bin" / "checkov")]
    candidates.append(shutil.which("checkov") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("checkov not found: `make test` installs it in .venv-checkov, or set CHECKOV")


@pytest.fixture(scope="session")
def checkov_report(staged_tree: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            _checkov(),
            "--directory", str(staged_tree),
            "--framework", "terraform",
            "--skip-path", "build",
            "--skip-download",  # offline: no guidelines from the Prisma Cloud API
            "--output", "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_LEVEL": "ERROR"},
    )  # fmt: skip
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report, dict), report
    return report


def test_checkov_finds_no_failed_check(checkov_report: dict[str, Any]) -> None:
    failed = checkov_report["results"]["failed_checks"]
    summary = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in failed]
    assert not failed, "\n".join(summary)
    assert checkov_report["summary"]["passed"] > 0


def test_every_checkov_skip_is_inline_with_a_reason(checkov_report: dict[str, Any]) -> None:
    skipped = checkov_report["results"]["skipped_checks"]
    assert skipped, "expected the documented inline skips"
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']}: {reason!r}"
