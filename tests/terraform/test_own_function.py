"""examples/own-function: a team's own project, as a team would use it.

* Every ref it pins (module sources, ``pip install`` from git) is one commit of this
  repository, which the root README names too.
* Its unit tests pass, on the test kit.
* Its Terraform, consuming the modules by git source at that commit (taken from this
  repository's own history, offline), applies to the emulator; its zip is built by
  ``package.py --source --requirements``; the local runner delivers order events and API
  requests to its functions, which run the team's code from that zip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import emulator as emulator_tool
import package as package_tool
import pytest
import tfharness
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambda_dedup.local.runner import Runner, emulator_clients

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "own-function"
PINNED = re.compile(r"(?:\?ref=|\.git@|checkout )([0-9a-f]{40})\b")
PINNING_FILES = [
    REPO / "README.md",
    *sorted((REPO / "modules").glob("*/README.md")),
    EXAMPLE / "README.md",
    EXAMPLE / "pyproject.toml",
    *sorted(EXAMPLE.glob("*.tf")),
]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


def test_every_pinned_ref_is_one_commit_of_this_repository() -> None:
    # GIVEN the refs that the example and the READMEs pin
    refs = {ref for path in PINNING_FILES for ref in PINNED.findall(path.read_text())}

    # THEN every ref is a full commit SHA (no tag that does not exist, like v0.1.0) ...
    for path in PINNING_FILES:
        loose = re.findall(r"\?ref=(?![0-9a-f]{40}\b)[^\s\"`]+", path.read_text())
        assert not loose, f"{path.relative_to(REPO)} pins {loose}"
    # ... and they are one commit, which exists in this repository's history, before HEAD
    assert len(refs) == 1, refs
    (ref,) = refs
    assert _git("cat-file", "-e", f"{ref}^{{commit}}").returncode == 0, f"no commit {ref}"
    assert _git("merge-base", "--is-ancestor", ref, "HEAD").returncode == 0
    # AND no module source is left unpinned
    for path in EXAMPLE.glob("*.tf"):
        for source in re.findall(
            r'module\s+"[^"]+"\s*\{\s*source\s*=\s*"([^"]+)"', path.read_text()
        ):
            assert source.startswith(tfharness.GIT_SOURCE)
            assert f"?ref={ref}" in source


def test_the_teams_unit_tests_pass_on_the_test_kit(tmp_path: Path) -> None:
    # WHEN the team runs pytest in its project (its pyproject.toml configures it)
    environment = {**os.environ, "PYTEST_ADDOPTS": ""}  # not this session's basetemp
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--basetemp={tmp_path / 'team'}"],
        cwd=EXAMPLE,
        env=environment,
        capture_output=True,
        text=True,
    )

    # THEN every test passes
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b6 passed\b", result.stdout), result.stdout


PROVIDER_OVERRIDE = """
provider "aws" {{
  region                      = "{region}"
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false

  endpoints {{
{endpoints}
  }}
}}
"""
SERVICES = ("apigatewayv2", "cloudwatchlogs", "dynamodb", "iam", "lambda", "sqs", "sts")


@pytest.fixture(scope="module")
def team_stack(
    tf: tfharness.Terraform,
    staged_tree: Path,
    emulator: emulator_tool.Emulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """The example applied to the emulator (its own copy of the staged configuration, with
    an override file pointing its provider there); destroyed afterwards."""
    directory = tmp_path_factory.mktemp("own-function") / "own-function"
    shutil.copytree(staged_tree / "examples" / "own-function", directory)
    endpoints = "\n".join(f'    {name} = "{emulator.endpoint}"' for name in SERVICES)
    (directory / "emulator_override.tf").write_text(
        PROVIDER_OVERRIDE.format(region=emulator_tool.REGION, endpoints=endpoints)
    )
    (directory / "terraform.tfvars").write_text(
        f'region = "{emulator_tool.REGION}"\nname = "team"\ndeletion_protection = false\n'
    )
    package_tool.build(  # python lambda/tools/package.py --source src --requirements ...
        directory / "build" / "orders.zip",
        sources=[EXAMPLE / "src"],
        requirements=EXAMPLE / "requirements.lock",
    )
    tf.init(directory)
    try:
        tf.run(directory, "apply", "-auto-approve", "-input=false", "-no-color")
        shown = tf.run(directory, "output", "-json").stdout
        yield {name: value["value"] for name, value in json.loads(shown).items()}
    finally:
        tf.run(directory, "destroy", "-auto-approve", "-input=false", "-no-color", check=False)


def _signed(method: str, url: str, body: str | None, headers: dict[str, str]) -> Any:
    """An API request signed with SigV4 as an IAM caller; its status, headers and body."""
    data = None if body is None else body.encode()
    request = AWSRequest(method, url, data=data, headers=headers)
    SigV4Auth(Credentials("test", "test"), "execute-api", emulator_tool.REGION).add_auth(request)
    prepared = urllib.request.Request(url, data=data, headers=dict(request.headers), method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _order(number: int) -> dict[str, Any]:
    return {
        "order_id": f"team-o-{number}",
        "customer_id": "team-c-1",
        "total_cents": 100 * number,
        "items": [{"sku": "BOOK-1"}],
    }


@pytest.fixture(scope="module")
def delivered(
    team_stack: dict[str, Any], emulator: emulator_tool.Emulator
) -> Iterator[dict[str, Any]]:
    """Order events and API requests, delivered by the local runner to the team's
    functions: two orders, one of them sent twice, one malformed message; one order
    posted twice with one key, then read."""
    sqs = boto3.client("sqs", **emulator.client_options())
    queue = team_stack["queue_url"]
    for body in [json.dumps(_order(1)), json.dumps(_order(2)), json.dumps(_order(2)), "oops"]:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    clients = emulator_clients(emulator.endpoint, emulator_tool.REGION)
    runner = Runner(
        clients, emulator.environment(), region=emulator_tool.REGION, sqs_redelivery_delay_s=1
    ).start()
    try:
        (server,) = [s for s in runner.apis if s.api.api_id == team_stack["api_id"]]
        headers = {"Content-Type": "application/json", "Idempotency-Key": "team-k-1"}
        body = json.dumps(_order(10))
        posts = [_signed("POST", f"{server.url}/orders", body, dict(headers)) for _ in range(2)]
        read = _signed("GET", f"{server.url}/orders/team-o-10", None, {})
        runner.run_until_idle(timeout_s=180)
        yield {"posts": posts, "read": read}
    finally:
        runner.close()


def test_each_order_event_is_recorded_once(
    team_stack: dict[str, Any], delivered: dict[str, Any], emulator: emulator_tool.Emulator
) -> None:
    # THEN (the fixture delivered the events) two orders exist, counted once each
    dynamodb = boto3.client("dynamodb", **emulator.client_options())
    orders = dynamodb.scan(TableName=team_stack["orders_table_name"])["Items"]
    ids = sorted(item["order_id"]["S"] for item in orders)
    assert ids == ["team-o-1", "team-o-10", "team-o-2"]
    customer = dynamodb.get_item(
        TableName=team_stack["customers_table_name"], Key={"customer_id": {"S": "team-c-1"}}
    )["Item"]
    assert (customer["order_count"]["N"], customer["total_cents"]["N"]) == ("2", "300")


def test_the_malformed_event_reaches_the_dlq_with_its_reason_logged(
    team_stack: dict[str, Any], delivered: dict[str, Any], emulator: emulator_tool.Emulator
) -> None:
    # THEN the message that is not an order ("oops") is in the DLQ, after the queue's receives
    sqs = boto3.client("sqs", **emulator.client_options())
    dead = sqs.receive_message(
        QueueUrl=team_stack["dead_letter_queue_url"], MaxNumberOfMessages=10
    ).get("Messages", [])
    assert [message["Body"] for message in dead] == ["oops"]
    # AND the consumer's log group says why, from the team's code in its zip
    logs = boto3.client("logs", **emulator.client_options())
    group = f"/aws/lambda/{team_stack['consumer_function_name']}"
    lines = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    rejected = [json.loads(line) for line in lines if '"rejected record"' in line]
    assert rejected
    assert "JSONDecodeError" in rejected[0]["reason"]


def test_a_retried_post_replays_the_first_response(delivered: dict[str, Any]) -> None:
    # THEN the API created the order once: the retry replays the first 201, receipt and
    # all, and the order reads back
    (status, _headers, body), (again, retry_headers, retry_body) = delivered["posts"]
    assert (status, again) == (201, 201)
    assert retry_body == body
    assert retry_headers.get("Idempotent-Replayed") == "true"
    assert "receipt_id" in json.loads(body)
    assert delivered["read"][0] == 200
    assert json.loads(delivered["read"][2])["order_id"] == "team-o-10"
