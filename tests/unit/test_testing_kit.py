"""The test kit (lambda_dedup.testing) as another project gets it: a pytest plugin found by
its entry point, fixtures usable without an import, and nothing of it in the runtime."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lambda_dedup.testing import LambdaContext, events

OUTSIDE_TEST = """
from lambda_dedup import Deduplicator, effects
from lambda_dedup.testing import events


def test_the_fixtures_work_without_an_import(
    lambda_context, aws, dynamodb, dedup_store, read_item, memory_store, fake_clock,
    dynamodb_requests,
):
    assert lambda_context.get_remaining_time_in_millis() > 0
    aws.create_table("counters", "page")
    for store in (dedup_store, memory_store):
        memory_store.declare_table("counters", "page")
        dedup = Deduplicator(store, "clicks", clock=fake_clock)
        event = events.sqs_event([{"page": "/"}])
        for _ in range(2):
            dedup.transact_once(
                event["Records"][0]["messageId"],
                [effects.increment("counters", {"page": "/"}, "n")],
            )
    assert read_item("counters", page="/")["n"] == 1
    assert memory_store.item("counters", page="/")["n"] == 1
    assert dynamodb_requests.calls["TransactWriteItems"] == 2
"""


def _pytest_outside(tmp_path: Path, *, autoload: bool) -> subprocess.CompletedProcess[str]:
    """pytest on one test file in an empty directory: no conftest, no ini, no import of
    the plugin; the fixtures can only come from the installed entry point."""
    (tmp_path / "test_outside.py").write_text(OUTSIDE_TEST)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    if not autoload:
        environment["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_outside.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_plugin_is_loaded_by_its_entry_point(tmp_path: Path) -> None:
    # GIVEN a project's test file that uses the kit's fixtures and imports no plugin
    # WHEN pytest runs it with the installed plugins
    run = _pytest_outside(tmp_path, autoload=True)
    # THEN the fixtures are there and the test passes
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_without_the_entry_point_the_fixtures_are_missing(tmp_path: Path) -> None:
    # GIVEN the same file, WHEN pytest loads no plugin by entry point
    run = _pytest_outside(tmp_path, autoload=False)
    # THEN the fixtures are unknown: they came from the entry point above
    assert run.returncode != 0
    assert "fixture 'lambda_context' not found" in run.stdout


def test_the_runtime_never_imports_the_kit_pytest_or_moto() -> None:
    code = (
        "import sys, lambda_dedup, lambda_dedup.handlers\n"
        "import lambda_dedup.store, lambda_dedup.effects\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pytest', 'moto', '_pytest')"
        " or m.startswith('lambda_dedup.testing')]\n"
        "print(bad)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]"


def test_importing_the_kit_imports_neither_pytest_nor_moto() -> None:
    code = (
        "import sys, lambda_dedup.testing, lambda_dedup.testing.moto, lambda_dedup.testing.aws\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('pytest', 'moto', '_pytest')])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]"


def test_the_lambda_context_fixture(lambda_context: LambdaContext) -> None:
    assert lambda_context.function_name == "test-function"
    assert lambda_context.invoked_function_arn.endswith(":function:test-function")
    assert 29_000 < lambda_context.get_remaining_time_in_millis() <= 30_000
    assert LambdaContext(alias="live").invoked_function_arn.endswith(":test-function:live")


# -- the builders, against the sample events' shapes -------------------------------------


def test_sqs_fifo_batches_carry_groups_and_growing_sequence_numbers() -> None:
    batch = events.sqs_event(["a", {"b": 1}], groups=["g1", "g2"], queue="orders")
    first, second = batch["Records"]
    assert first["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:orders.fifo"
    assert (first["attributes"]["MessageGroupId"], second["body"]) == ("g1", '{"b": 1}')
    assert int(second["attributes"]["SequenceNumber"]) > int(first["attributes"]["SequenceNumber"])
    assert first["messageId"] != second["messageId"]
    again = events.sqs_event(["a"], message_ids=[first["messageId"]], receive_count=2)
    assert again["Records"][0]["messageId"] == first["messageId"]
    assert again["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_kinesis_records_carry_their_data_and_partition_keys() -> None:
    records = events.kinesis_event([b"\xff", {"user_id": "u"}], partition_keys=["k", None])
    first, second = records["Records"]
    assert base64.b64decode(first["kinesis"]["data"]) == b"\xff"
    assert (first["kinesis"]["partitionKey"], second["kinesis"]["partitionKey"]) == ("k", "u")
    assert second["eventID"].endswith(second["kinesis"]["sequenceNumber"])


def test_dynamodb_stream_records_have_the_images_of_their_event_names() -> None:
    insert = events.StreamChange({"pk": "a"}, new={"pk": "a", "n": 1})
    remove = events.StreamChange({"pk": "a"}, old={"pk": "a", "n": 1})
    batch = events.dynamodb_stream_event([insert, remove, {"eventName": "UPSERT"}], table="t")
    names = [(r["eventName"], sorted(r["dynamodb"])) for r in batch["Records"]]
    assert names[0] == (
        "INSERT",
        [
            "ApproximateCreationDateTime",
            "Keys",
            "NewImage",
            "SequenceNumber",
            "SizeBytes",
            "StreamViewType",
        ],
    )
    assert names[1][0] == "REMOVE"
    assert "OldImage" in names[1][1]
    assert "NewImage" not in names[1][1]
    assert names[2][0] == "UPSERT"
    assert batch["Records"][0]["eventSourceARN"].startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/"
    )


@pytest.mark.parametrize(
    "event",
    [
        events.s3_event("b", "k"),
        events.s3_eventbridge_event("b", "k"),
        events.sns_event("m"),
        events.eventbridge_event({"x": 1}),
        events.http_api_event("GET", "/x", query={"a": "1"}),
        events.rest_api_event("POST", "/x", b"\x00"),
        events.function_url_event("POST", "/x", {"a": 1}),
        events.direct_invocation_event(id="c-1"),
    ],
    ids=["s3", "s3-eventbridge", "sns", "eventbridge", "http-api", "rest-api", "url", "direct"],
)
def test_every_event_is_what_lambda_would_deliver_json(event: object) -> None:
    assert json.loads(json.dumps(event)) == event


def test_http_events_parse_with_powertools() -> None:
    from aws_lambda_powertools.utilities.data_classes import (
        APIGatewayProxyEvent,
        APIGatewayProxyEventV2,
        LambdaFunctionUrlEvent,
    )

    v2 = APIGatewayProxyEventV2(events.http_api_event("POST", "/o", {"a": 1}, query={"q": "1"}))
    assert (v2.request_context.http.method, v2.json_body, v2.query_string_parameters) == (
        "POST",
        {"a": 1},
        {"q": "1"},
    )
    v1 = APIGatewayProxyEvent(events.rest_api_event("POST", "/o", b"raw"))
    assert (v1.http_method, v1.decoded_body, v1.request_context.identity.user_arn) == (
        "POST",
        "raw",
        events.IAM_CALLER,
    )
    url = LambdaFunctionUrlEvent(events.function_url_event("GET", "/h"))
    assert url.request_context.http.path == "/h"


def test_dedup_env_points_the_runtime_deduplicators_at_moto(dedup_env: str, read_item: Any) -> None:
    # GIVEN the kit's handler environment
    from lambda_dedup import runtime

    # WHEN code under test uses the runtime's deduplicator, as a handler does
    outcome = runtime.deduplicator("team").put_once("k-1", result={"ok": True})

    # THEN its record is in the kit's idempotency table on moto
    assert not outcome.duplicate
    assert read_item(dedup_env, id="team#k-1")["status"] == "COMPLETED"
