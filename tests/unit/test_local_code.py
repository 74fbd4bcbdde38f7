"""The local runner runs each function's deployed zip as Lambda would: in an execution
environment of its own, with the function's environment set before its code is imported,
and every failure (import, init, exception, timeout) visible in Lambda's shape."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from support.functions import deploy, runner_environment, zip_of

from lambda_dedup.local import Invoker
from lambda_dedup.local.functions import write_function_output_to
from lambda_dedup.local.logs import CloudWatchLogs, log_group

POWERTOOLS_SHOP = """
import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = os.environ["POWERTOOLS_METRICS_NAMESPACE"]  # read at import, as code does
logger = Logger()
metrics = Metrics()


@metrics.log_metrics
def handler(event, context):
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    logger.info("order placed", extra={"order": event["order"]})
    return {"namespace": NAMESPACE, "service": logger.service}
"""

COUNTING_APP = """
import os

CODE = "{code}"
COLOR_AT_IMPORT = os.environ.get("COLOR")
calls = 0


def handler(event, context):
    global calls
    calls += 1
    return {{
        "code": CODE,
        "color_at_import": COLOR_AT_IMPORT,
        "only_a": os.environ.get("ONLY_A"),
        "runner_only": os.environ.get("RUNNER_ONLY"),
        "calls": calls,
    }}
"""

SLEEPER = """
import time

calls = 0


def handler(event, context):
    global calls
    calls += 1
    print("sleeping", event["sleep"])
    time.sleep(event["sleep"])
    return {"calls": calls, "remaining_ms": context.get_remaining_time_in_millis()}
"""


@pytest.fixture
def lambda_client(dynamodb: Any) -> Any:
    return boto3.client("lambda")


@pytest.fixture
def invoker(lambda_client: Any) -> Iterator[Invoker]:
    """The runner's invoker, storing the functions' logs in the emulator's CloudWatch Logs."""
    sink = CloudWatchLogs(boto3.client("logs"))
    with Invoker(lambda_client, runner_environment(), log_sink=sink) as invoker:
        yield invoker


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the runner prints: the functions' output and a line per failure."""
    stream = io.StringIO()
    previous = write_function_output_to(stream)
    yield stream
    write_function_output_to(previous)


def log_messages(function: str) -> list[str]:
    """The lines of the function's log group in the emulator, in order."""
    events = boto3.client("logs").filter_log_events(logGroupName=log_group(function))["events"]
    return [event["message"] for event in events]


def error_lines(function: str) -> list[dict[str, Any]]:
    """The error lines the runtime logged: ``{"errorMessage", "errorType"...}``."""
    lines = []
    for message in log_messages(function):
        try:
            line = json.loads(message)
        except ValueError:
            continue
        if isinstance(line, dict) and "errorType" in line:
            lines.append(line)
    return lines


def test_module_level_powertools_reads_the_functions_environment_at_import(
    lambda_client: Any, invoker: Invoker, output: io.StringIO
) -> None:
    # GIVEN a handler module that builds Powertools' Metrics and Logger at import, and
    # reads POWERTOOLS_METRICS_NAMESPACE there, deployed with that variable
    deploy(
        lambda_client,
        "shop",
        "shop.handler",
        {"POWERTOOLS_METRICS_NAMESPACE": "Shop", "POWERTOOLS_SERVICE_NAME": "orders"},
        code=zip_of({"shop.py": POWERTOOLS_SHOP}),
    )
    # WHEN it is invoked
    invocation = invoker.invoke("shop", {"order": "o-1"})
    # THEN it imported and ran with the function's environment
    assert invocation.error is None, invocation.error
    assert invocation.response == {"namespace": "Shop", "service": "orders"}
    # AND its log line and its metrics are in the function's log group and the output
    lines = [json.loads(line) for line in invocation.logs]
    (logged,) = [line for line in lines if line.get("message") == "order placed"]
    assert (logged["service"], logged["order"]) == ("orders", "o-1")
    (emf,) = [line for line in lines if "_aws" in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Shop"
    assert emf["OrdersPlaced"] == [1.0] or emf["OrdersPlaced"] == 1.0
    assert set(invocation.logs) <= set(log_messages("shop"))
    assert "order placed" in output.getvalue()


def test_two_functions_with_the_same_module_each_run_their_own_code_and_environment(
    lambda_client: Any, invoker: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two functions whose zips both hold app.py, with different code and variables,
    # and a variable the runner's own process has
    deploy(
        lambda_client,
        "first",
        "app.handler",
        {"COLOR": "red", "ONLY_A": "yes"},
        code=zip_of({"app.py": COUNTING_APP.format(code="A")}),
    )
    deploy(
        lambda_client,
        "second",
        "app.handler",
        {"COLOR": "blue"},
        code=zip_of({"app.py": COUNTING_APP.format(code="B")}),
    )
    monkeypatch.setenv("RUNNER_ONLY", "leaked")
    # WHEN they are invoked in turn
    first, second, first_again = (
        invoker.invoke("first", {}),
        invoker.invoke("second", {}),
        invoker.invoke("first", {}),
    )
    # THEN each ran its own module, imported with its own environment, with its own state
    assert first.response == {
        "code": "A",
        "color_at_import": "red",
        "only_a": "yes",
        "runner_only": None,
        "calls": 1,
    }
    assert second.response == {
        "code": "B",
        "color_at_import": "blue",
        "only_a": None,
        "runner_only": None,
        "calls": 1,
    }
    assert first_again.response is not None
    assert (first_again.response["code"], first_again.response["calls"]) == ("A", 2)


def test_code_that_is_not_on_the_runners_path_runs_from_the_deployed_zip(
    lambda_client: Any, invoker: Invoker
) -> None:
    # GIVEN a function whose package exists only in its zip
    code = zip_of(
        {
            "zipped_only/__init__.py": "",
            "zipped_only/entry.py": "def handler(event, context):\n    return event['n'] + 1\n",
        }
    )
    deploy(lambda_client, "zipped", "zipped_only.entry.handler", {}, code=code)
    assert importlib.util.find_spec("zipped_only") is None
    # WHEN it is invoked / THEN its code ran
    assert invoker.invoke("zipped", {"n": 41}).response == 42


def test_a_redeployment_runs_the_new_code(lambda_client: Any, invoker: Invoker) -> None:
    # GIVEN a function that ran once
    version = "def handler(event, context):\n    return '{}'\n"
    deploy(
        lambda_client,
        "versioned",
        "app.handler",
        {},
        code=zip_of({"app.py": version.format(1)}),
    )
    assert invoker.invoke("versioned", {}).response == "1"
    # WHEN new code is deployed (a new CodeSha256)
    lambda_client.update_function_code(
        FunctionName="versioned", ZipFile=zip_of({"app.py": version.format(2)})
    )
    # THEN the next invocation runs it
    assert invoker.invoke("versioned", {}).response == "2"


FAILURES = {
    "import": (
        {"other.py": ""},
        "Runtime.ImportModuleError",
        "Unable to import module 'app': No module named 'app'",
    ),
    "init": (
        {"app.py": "import os\nTABLE = os.environ['ORDERS_TABLE']\n"},
        "KeyError",
        "'ORDERS_TABLE'",
    ),
    "exception": (
        {"app.py": "def handler(event, context):\n    raise ValueError('bad order')\n"},
        "ValueError",
        "bad order",
    ),
    "timeout": (
        {"app.py": SLEEPER},
        "Sandbox.Timedout",
        "RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_every_failure_is_printed_and_logged_in_lambdas_shape(
    failure: str, lambda_client: Any, invoker: Invoker, output: io.StringIO
) -> None:
    # GIVEN a function that fails at import, at init, in its handler or by its timeout
    files, error_type, message = FAILURES[failure]
    deploy(lambda_client, "broken", "app.handler", {}, timeout=1, code=zip_of(files))
    # WHEN it is invoked
    invocation = invoker.invoke("broken", {"sleep": 5})
    # THEN the invocation failed with Lambda's error type and message
    request_id = invocation.request_id
    error = invocation.error
    assert error is not None
    expected = message.format(request_id=request_id)
    assert (error.error_type, error.error_message) == (error_type, expected)
    at_init = failure in ("import", "init")
    assert error.payload()["requestId"] == ("" if at_init else request_id)
    # AND the runner printed it with the function's name
    assert f"[broken] {request_id} failed: {error_type}: {expected}" in output.getvalue()
    # AND the function's log group has it as the Python runtime logs it, around the
    # invocation's START, END and REPORT
    (logged,) = error_lines("broken")
    assert {key: logged[key] for key in ("errorMessage", "errorType", "requestId")} == {
        "errorMessage": expected,
        "errorType": error_type,
        "requestId": "" if at_init else request_id,
    }
    assert isinstance(logged["stackTrace"], list)
    if failure in ("init", "exception"):
        assert any("app.py" in frame for frame in logged["stackTrace"])
    messages = log_messages("broken")
    assert messages.count(f"START RequestId: {request_id} Version: $LATEST") == 1
    assert messages.count(f"END RequestId: {request_id}") == 1
    (report,) = [m for m in messages if m.startswith(f"REPORT RequestId: {request_id}")]
    if failure == "timeout":
        assert "Status: timeout" in report
        assert any(m.endswith(f"{request_id} Task timed out after 1.00 seconds") for m in messages)
        assert "sleeping 5" in messages


def test_a_timed_out_function_runs_again_in_a_new_environment(
    lambda_client: Any, invoker: Invoker
) -> None:
    # GIVEN a function with a one-second timeout, and an invocation that outlived it
    deploy(
        lambda_client,
        "sleeper",
        "app.handler",
        {},
        timeout=1,
        code=zip_of({"app.py": SLEEPER}),
    )
    started = time.monotonic()
    stopped = invoker.invoke("sleeper", {"sleep": 30})
    assert stopped.error is not None
    assert stopped.error.error_type == "Sandbox.Timedout"
    assert time.monotonic() - started < 10
    # WHEN it is invoked again
    again = invoker.invoke("sleeper", {"sleep": 0})
    # THEN it ran, in a new environment (its module state is fresh)
    assert again.error is None
    assert again.response["calls"] == 1
    assert 0 < again.response["remaining_ms"] <= 1000


def test_get_function_serves_the_deployed_zip_at_its_code_location(
    lambda_client: Any,
) -> None:
    # GIVEN a deployed function (the emulator's fix: moto answered a URL nothing served)
    runner_environment()  # the in-process server, with the emulator's fixes
    first = zip_of({"app.py": "def handler(event, context):\n    return 1\n"})
    deploy(lambda_client, "served", "app.handler", {}, code=first)
    # WHEN its code is read as Lambda's API gives it
    found = lambda_client.get_function(FunctionName="served")
    with urllib.request.urlopen(found["Code"]["Location"], timeout=10) as answer:
        served = answer.read()
    # THEN it is exactly the zip deployed, with the configuration's CodeSha256
    assert served == first
    digest = base64.b64encode(hashlib.sha256(first).digest()).decode()
    assert found["Configuration"]["CodeSha256"] == digest
    # AND after an update, the old location no longer serves, and the new one serves it
    second = zip_of({"app.py": "def handler(event, context):\n    return 2\n"})
    lambda_client.update_function_code(FunctionName="served", ZipFile=second)
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(found["Code"]["Location"], timeout=10)
    assert gone.value.code == 404
    gone.value.close()
    location = lambda_client.get_function(FunctionName="served")["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as answer:
        assert answer.read() == second


def test_in_process_mode_runs_the_handlers_of_this_process(
    lambda_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a function whose handler this process has, patched here (as tests that inject
    # faults into what handlers use do)
    from support import local_handlers

    def patched(event: Any, context: Any) -> str | None:
        return os.environ.get("GREETING")

    deploy(lambda_client, "patched", "support.local_handlers.fail", {"GREETING": "hi"})
    monkeypatch.setattr(local_handlers, "fail", patched)
    # WHEN it is invoked in process
    with Invoker(lambda_client, {}, in_process=True) as invoker:
        invocation = invoker.invoke("patched", {})
    # THEN the patched handler ran, with the function's environment
    assert (invocation.error, invocation.response) == (None, "hi")
