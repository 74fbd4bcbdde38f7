"""The root module applied to moto server through pytest-terraform.

examples/emulator wraps the root module with a provider configured for the emulator;
pytest-terraform's ``terraform`` fixture applies it once per session and destroys it at
the end. The first tests read its outputs and check them against what the emulator
holds; the end-to-end tests then deliver events through all seven triggers with the
local runner (``lambda_dedup.local``), once cleanly and once with transient failures,
and count where every event ended from the emulator's tables, queues and logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import emulator as emulator_tool
import pytest
import scenario
from botocore.retries.standard import ExponentialBackoff
from moto.events.models import EventPattern
from pytest_terraform import terraform
from support.aws import FaultInjector
from support.events import load_event
from support.plan import ACCOUNT, arn, statements

from lambda_dedup import runtime
from lambda_dedup.local.runner import Runner, emulator_clients
from lambda_dedup.store.dynamodb import MAX_ATTEMPTS

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
    assert role == _role_of(aws, outputs["inbox_function_name"])
    names = aws("iam").list_role_policies(RoleName=role)["PolicyNames"]
    assert names == [f"{outputs['inbox_function_name']}-base"]
    document = aws("iam").get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    resources = {r for statement in statements(document).values() for r in statement["Resource"]}
    assert outputs["idempotency_table_arn"] in resources


def _role_of(aws: Any, function_name: str) -> str:
    """The name of the execution role that the emulator's function runs with."""
    role_arn = aws("lambda").get_function_configuration(FunctionName=function_name)["Role"]
    name: str = role_arn.rsplit("/", 1)[-1]
    return name


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
    function = outputs["dynamodb_stream_function_name"]
    policy = _role_policies(aws, _role_of(aws, function))[f"{function}-dynamodb-stream"]
    assert policy["ReadStream"]["Resource"] == [stream_arn]
    assert policy["SendFailureRecords"]["Resource"] == [
        outputs["dynamodb_stream_failure_destination_arn"]
    ]


def test_no_role_in_the_emulator_is_granted_a_wildcard_action(
    outputs: dict[str, Any], aws: Any
) -> None:
    names = (
        "inbox",
        "sqs",
        "kinesis",
        "dynamodb_stream",
        "api_gateway",
        "s3",
        "sns",
        "eventbridge",
    )
    roles = [_role_of(aws, outputs[f"{name}_function_name"]) for name in names]
    # IAM is global: every role carries the region, so a second region can hold the stack.
    assert all(role.endswith(f"-{emulator_tool.REGION}") for role in roles), roles
    for role in roles:
        for policy in _role_policies(aws, role).values():
            for statement in policy.values():
                assert statement["Effect"] == "Allow"
                assert not [a for a in statement["Action"] if "*" in a], (role, statement)


def _permissions(aws: Any, function: str) -> list[dict[str, Any]]:
    """The statements of ``function``'s resource policy in the emulator."""
    policy = aws("lambda").get_policy(FunctionName=function)["Policy"]
    found: list[dict[str, Any]] = json.loads(policy)["Statement"]
    return found


def test_api_routes_reach_the_function_with_payload_2_and_iam_auth(
    outputs: dict[str, Any], aws: Any
) -> None:
    client, api_id = aws("apigatewayv2"), outputs["api_gateway_api_id"]
    (integration,) = client.get_integrations(ApiId=api_id)["Items"]
    function_arn = aws("lambda").get_function(FunctionName=outputs["api_gateway_function_name"])[
        "Configuration"
    ]["FunctionArn"]
    assert (integration["IntegrationUri"], integration["PayloadFormatVersion"]) == (
        function_arn,
        "2.0",
    )
    routes = {r["RouteKey"]: r for r in client.get_routes(ApiId=api_id)["Items"]}
    assert set(routes) == {"POST /profiles", "GET /profiles/{user_id}"}
    for route in routes.values():
        assert route["AuthorizationType"] == "AWS_IAM"
        assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    (stage,) = client.get_stages(ApiId=api_id)["Items"]
    assert stage["AccessLogSettings"]["DestinationArn"].endswith(
        "log-group:/aws/apigateway/dedup-profiles-api"
    )
    assert str(outputs["api_gateway_api_id"]) in outputs["api_gateway_url"]


def test_api_permissions_name_this_apis_execution_arn_and_each_route(
    outputs: dict[str, Any], aws: Any
) -> None:
    execution_arn = arn("execute-api", outputs["api_gateway_api_id"])
    sources = {
        statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        for statement in _permissions(aws, outputs["api_gateway_function_name"])
    }
    assert sources == {f"{execution_arn}/*/POST/profiles", f"{execution_arn}/*/GET/profiles/*"}


@pytest.mark.parametrize(
    ("trigger", "principal", "source"),
    [
        ("s3", "s3.amazonaws.com", "s3_bucket_arn"),
        ("sns", "sns.amazonaws.com", "sns_topic_arn"),
        ("eventbridge", "events.amazonaws.com", "eventbridge_rule_arn"),
    ],
)
def test_async_functions_retry_twice_then_send_to_their_destination(
    outputs: dict[str, Any], aws: Any, trigger: str, principal: str, source: str
) -> None:
    function = outputs[f"{trigger}_function_name"]
    config = aws("lambda").get_function_event_invoke_config(FunctionName=function)
    destination = outputs[
        "s3_failure_destination_arn" if trigger == "s3" else f"{trigger}_dead_letter_queue_arn"
    ]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 3600
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == destination
    (permission,) = _permissions(aws, function)
    assert permission["Principal"] == {"Service": principal}
    assert permission["Condition"]["ArnLike"]["AWS:SourceArn"] == outputs[source]
    if trigger == "s3":
        assert permission["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT


def test_bucket_notifies_the_function_and_is_versioned_and_private(
    outputs: dict[str, Any], aws: Any
) -> None:
    s3, bucket = aws("s3"), outputs["s3_bucket_name"]
    (notification,) = s3.get_bucket_notification_configuration(Bucket=bucket)[
        "LambdaFunctionConfigurations"
    ]
    assert notification["LambdaFunctionArn"].endswith(f":function:{outputs['s3_function_name']}")
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in notification["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "profiles/", "suffix": ".json"}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_topic_subscription_redrives_to_the_dead_letter_queue(
    outputs: dict[str, Any], aws: Any
) -> None:
    sns = aws("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=outputs["sns_topic_arn"])[
        "Subscriptions"
    ]
    assert subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"].endswith(f":function:{outputs['sns_function_name']}")
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": outputs["sns_dead_letter_queue_arn"]}


def test_rule_matches_a_stopped_instance_and_targets_the_function(
    outputs: dict[str, Any], aws: Any
) -> None:
    events, rule = aws("events"), outputs["eventbridge_rule_name"]
    # moto does not implement TestEventPattern; its own matcher, which routes the events it
    # receives, reads the pattern the emulator stored.
    pattern = EventPattern.load(events.describe_rule(Name=rule)["EventPattern"])
    stopped = load_event("eventbridge")
    assert pattern.matches_event(stopped)
    stopped["detail"]["state"] = "running"
    assert not pattern.matches_event(stopped)
    (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target["Arn"].endswith(f":function:{outputs['eventbridge_function_name']}")
    assert target["DeadLetterConfig"] == {"Arn": outputs["eventbridge_dead_letter_queue_arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


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


# -- end to end: events through all seven triggers, delivered by the local runner --------

DUPLICATES = {trigger: 1 for trigger in scenario.TRIGGERS}
"""Duplicates sent per trigger; the DynamoDB stream's are its replay, counted per run."""
REASONS = {
    "api_gateway": "not valid JSON",
    "sqs": "not valid JSON",
    "kinesis": "not valid JSON",
    "dynamodb_stream": "bytes per item",
    "s3": "not valid JSON",
    "sns": "email",
    "eventbridge": "instance-id",
}
"""A word of the reason each trigger's malformed event must be logged with."""


def _run(
    emulator: emulator_tool.Emulator,
    outputs: dict[str, Any],
    label: str,
    *,
    in_process: bool = False,
) -> list[Any]:
    """One scenario run with a fresh runner: its rows, keyed by trigger. ``in_process``
    runs the handlers in this process, where faults injected into its boto3 session
    reach them (each function's own process would not see them)."""
    clients = emulator_clients(emulator.endpoint, emulator_tool.REGION)
    stack = scenario.Stack(outputs, clients, emulator_tool.REGION)
    runner = Runner(
        clients,
        emulator.environment(),
        region=emulator_tool.REGION,
        sqs_redelivery_delay_s=1,
        in_process=in_process,
    ).start()
    try:
        sent = scenario.send(
            stack, runner, label, settle=lambda: runner.run_until_idle(timeout_s=180)
        )
        return scenario.count(stack, runner, label, sent)
    finally:
        runner.close()


@pytest.fixture(scope="module")
def clean_run(emulator: emulator_tool.Emulator, outputs: dict[str, Any]) -> dict[str, Any]:
    return {row.trigger: row for row in _run(emulator, outputs, "clean")}


@pytest.fixture(scope="module")
def flaky_run(
    emulator: emulator_tool.Emulator, outputs: dict[str, Any], clean_run: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """The same events, while every trigger's function fails some writes transiently:
    each fault fails all of botocore's attempts once, so one invocation (or request)
    fails and the event's retry succeeds."""
    label = "flaky"
    boto3.setup_default_session()  # the session the handlers' clients come from
    assert boto3.DEFAULT_SESSION is not None
    faults = FaultInjector(events=boto3.DEFAULT_SESSION.events)
    prefix = scenario.instance_prefix(label)
    for operation, text in [
        ("PutItem", f"{label}-key-2"),  # API: the claim -> 503, the client retries
        ("TransactWriteItems", f"{label}-sqs-2"),  # SQS: reported, redelivered
        ("TransactWriteItems", f"{label}-e-2"),  # Kinesis: retried from that record
        ("TransactWriteItems", outputs["audit_table_name"]),  # DynamoDB stream
        ("TransactWriteItems", f"{label}-s3-2"),  # S3: an asynchronous retry
        ("PutItem", f"{label}-welcome-2"),  # SNS: the claim
        ("TransactWriteItems", f"{prefix}00002"),  # EventBridge
    ]:
        faults.throttle(operation, MAX_ATTEMPTS, matching=text)
    runtime.reset()  # the handlers' next clients carry the faults
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
        rows = {row.trigger: row for row in _run(emulator, outputs, label, in_process=True)}
    pending = faults.pending  # read before clear(), which drops what was not injected
    faults.clear()
    boto3.setup_default_session()
    runtime.reset()
    return rows, pending


@pytest.mark.parametrize("trigger", scenario.TRIGGERS)
def test_every_unique_event_has_one_effect_and_every_duplicate_none(
    trigger: str, clean_run: dict[str, Any]
) -> None:
    # GIVEN events sent through the trigger: unique ones, duplicates and one malformed
    # WHEN the runner delivered them (the fixture) / THEN each unique valid event wrote
    # exactly one effect, and each duplicate was suppressed
    row = clean_run[trigger]
    assert row.effects == row.unique - row.malformed
    if trigger == "dynamodb_stream":  # the replay delivered every first record again
        assert row.duplicates == row.effects
    else:
        assert row.duplicates == DUPLICATES[trigger]


@pytest.mark.parametrize("trigger", scenario.TRIGGERS)
def test_the_malformed_event_is_dead_lettered_and_its_reason_logged(
    trigger: str, clean_run: dict[str, Any]
) -> None:
    # THEN the malformed event is in the trigger's DLQ or on-failure destination (for
    # the API: answered with a 4xx), and the function's log in the emulator says why
    row = clean_run[trigger]
    assert row.dead_lettered == 1
    assert any(REASONS[trigger] in reason for reason in row.reasons), row.reasons


@pytest.mark.parametrize("trigger", scenario.TRIGGERS)
def test_nothing_is_lost(trigger: str, clean_run: dict[str, Any]) -> None:
    # THEN every event sent is an effect, a suppressed duplicate or dead-lettered
    row = clean_run[trigger]
    assert row.sent == row.effects + row.duplicates + row.dead_lettered
    assert row.balanced


def test_each_counter_and_audit_entry_was_written_once(
    clean_run: dict[str, Any], outputs: dict[str, Any], aws: Any
) -> None:
    # THEN the effects that a second application would change show it did not happen:
    # every activity counter is 1 and every audited change has one audit item
    dynamodb = aws("dynamodb")
    counters = dynamodb.scan(TableName=outputs["counters_table_name"])["Items"]
    mine = [int(i["count"]["N"]) for i in counters if i["user_id"]["S"] == "clean-kinesis"]
    assert mine == [1, 1, 1]
    audit = dynamodb.scan(TableName=outputs["audit_table_name"])["Items"]
    ids = [i["id"]["S"] for i in audit if i["keys"]["M"]["user_id"]["S"].startswith("clean-")]
    assert len(ids) == len(set(ids)) == clean_run["dynamodb_stream"].effects


@pytest.mark.parametrize("trigger", scenario.TRIGGERS)
def test_transient_failures_change_no_count(
    trigger: str,
    clean_run: dict[str, Any],
    flaky_run: tuple[dict[str, Any], int],
) -> None:
    # GIVEN the same events, while some writes of every function failed transiently
    rows, pending = flaky_run
    # THEN every fault was injected, and every count is the clean run's
    assert pending == 0
    flaky, clean = rows[trigger], clean_run[trigger]
    assert (flaky.sent, flaky.unique, flaky.effects, flaky.duplicates, flaky.dead_lettered) == (
        clean.sent,
        clean.unique,
        clean.effects,
        clean.duplicates,
        clean.dead_lettered,
    )
    assert flaky.balanced


def test_the_runners_command_line_reads_the_stack_and_delivers_until_idle(
    emulator: emulator_tool.Emulator, outputs: dict[str, Any], aws: Any
) -> None:
    # GIVEN a profile message on the SQS trigger's queue
    body = {"user_id": "cli-1", "email": "cli@example.com", "request_id": "cli-r-1"}
    aws("sqs").send_message(QueueUrl=outputs["sqs_queue_url"], MessageBody=json.dumps(body))

    # WHEN `python -m lambda_dedup.local --until-idle` runs against the emulator
    result = subprocess.run(
        [sys.executable, "-m", "lambda_dedup.local", "--until-idle"],
        env={**os.environ, **emulator.environment()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # THEN it printed the wiring it read from the emulator, and the profile is written
    assert result.returncode == 0, result.stderr
    assert f"{outputs['sqs_queue_arn']}  ->  {outputs['sqs_function_name']}" in result.stderr
    assert "POST /profiles at http://127.0.0.1:" in result.stderr
    key = {"user_id": {"S": "cli-1"}}
    assert "Item" in aws("dynamodb").get_item(TableName=outputs["profiles_table_name"], Key=key)
