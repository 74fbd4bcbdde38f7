"""The project's local AWS: moto server on a free loopback port.

Run it directly to serve until interrupted::

    python lambda/tools/emulator.py            # prints {"endpoint": "http://127.0.0.1:PORT"}

or use :class:`Emulator` from Python (``with Emulator() as server:``), which runs it in a
subprocess and stops it.

These fidelity fixes are applied to the server (and, by the tests, to moto in-process;
see ``behave_like_aws``). The DynamoDB ones are :mod:`lambda_dedup.testing.moto`'s, which
the test kit's fixtures apply as well:

* DynamoDB guarantees that a conditional write is atomic, and moto does not (two threads
  can both pass ``attribute_not_exists``; see ``make_dynamodb_atomic``). Everything this
  project tests rests on that guarantee.
* Kinesis ``CreateStream`` accepts ``Tags``, which moto ignores; the AWS provider sends
  them there, so a tagged stream would show a change in every later plan
  (``tag_streams_on_create``).
* SQS returns a queue's ``RedrivePolicy`` as compact JSON; moto adds spaces, which the
  provider reports as a change in every later plan (``compact_redrive_policies``).
* A cancelled transaction leaves no record in a table's stream; moto's rollback left one
  for open shard iterators (``keep_stream_shards_on_rollback``).
* DynamoDB cancels a transaction that meets another one in progress on the same item
  (``TransactionConflict``); moto serialises every request, so no conflict ever happens
  (``make_concurrent_transactions_conflict``).
* DynamoDB refuses an item nested deeper than 32 levels (the top-level attribute is
  level 1), a number of more than 38 significant digits or outside 1E-130..9.99E+125,
  and an item over 400 KB measured its way (binary values count their bytes); moto
  stores all three
  (``enforce_dynamodb_item_limits``).
* S3 sends a bucket's events to EventBridge (with ``eventbridge = true``) in its own
  shape: ``etag``, a ``sequencer`` that grows for each key, ``version-id`` only in a
  versioned bucket, the API as ``reason`` (``PutObject``), a new ``id`` per event, to
  the default bus only. moto sent ``eTag``, one constant sequencer and event id and
  ``"reason": "ObjectCreated"``, to every bus
  (``send_s3_events_to_eventbridge_as_s3_does``).
* The TLS-only bucket policy statement does not deny the emulator's plain HTTP, which
  stands in for S3's HTTPS endpoint; moto ignores conditions and denied every object
  request (``serve_bucket_policies_as_over_tls``).

* ``GetFunction``'s ``Code.Location`` serves the zip the function was deployed with, as
  Lambda's presigned URL does; moto kept the zip but answered with a URL nothing served
  (``serve_function_code``, applied once the server's address is known).

And one change of role: moto keeps event source mappings, bucket notifications and
topic subscriptions as configuration only, never tries to run a function in Docker, and
serves a rule's other targets when one is a function
(``leave_lambda_delivery_to_the_runner``); the local runner plays the Lambda service.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any

# The DynamoDB fixes live in the package, where the test kit's fixtures apply them too.
from lambda_dedup.testing import moto as dynamodb_fixes
from lambda_dedup.testing.moto import (
    enforce_dynamodb_item_limits,
    keep_stream_shards_on_rollback,
    make_concurrent_transactions_conflict,
    make_dynamodb_atomic,
)

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
START_TIMEOUT_S = 60.0

_atomic_lock = dynamodb_fixes._atomic_lock
"""The lock that serialises moto's DynamoDB requests (``make_dynamodb_atomic``)."""
_in_flight = dynamodb_fixes._in_flight
"""Items of the transactions in progress (``make_concurrent_transactions_conflict``)."""


def tag_streams_on_create() -> None:
    """Make moto's Kinesis ``CreateStream`` apply its ``Tags``, as Kinesis does; idempotent."""
    from moto.kinesis.responses import KinesisResponse

    original = KinesisResponse.create_stream
    if getattr(original, "_tags", False):
        return

    @functools.wraps(original)
    def create_stream(self: Any) -> Any:
        result = original(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(None, self._get_param("StreamName"), tags)
        return result

    create_stream._tags = True  # type: ignore[attr-defined]
    KinesisResponse.create_stream = create_stream  # type: ignore[method-assign]


def compact_redrive_policies() -> None:
    """Make moto return ``RedrivePolicy`` as compact JSON, as SQS does; idempotent."""
    from moto.sqs.models import Queue

    original = vars(Queue)["attributes"].fget
    if getattr(original, "_compact", False):
        return

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original(self)
        if isinstance(result.get("RedrivePolicy"), str):
            policy = json.loads(result["RedrivePolicy"])
            result["RedrivePolicy"] = json.dumps(policy, separators=(",", ":"))
        return result

    attributes._compact = True  # type: ignore[attr-defined]
    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]


def serve_bucket_policies_as_over_tls() -> None:
    """Leave a bucket policy's conditional statements out of moto's checks; idempotent.

    moto evaluates a bucket policy's Deny statements but not their ``Condition``, so the
    stack's TLS-only statement (Deny when ``aws:SecureTransport`` is false) denies every
    object request. The emulator stands in for S3's HTTPS endpoint, where that statement
    never applies; statements without a condition are still enforced.
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket.get_permission, "_unconditional", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy.get("Statement") or []
        statements = [statements] if isinstance(statements, dict) else statements
        policy["Statement"] = [s for s in statements if "Condition" not in s]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    get_permission._unconditional = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


class _NoDelivery(dict[str, Any]):
    """A source's mappings, as moto sees them: always none, so that moto never invokes."""

    def __setitem__(self, key: str, value: Any) -> None:
        pass


def leave_lambda_delivery_to_the_runner() -> None:
    """Stop moto from invoking functions itself; idempotent.

    moto tries to run a mapped or subscribed function in Docker whenever a queue, stream,
    table stream, bucket or topic gets an event (and fails PutEvents outright when a rule
    targets a function). Without Docker every attempt fails,
    slowly and noisily, and for SQS it is worse: moto *receives* the queue's messages to
    invoke, which counts a receive against each message and can move it to the DLQ before
    any consumer saw it. The local runner (``lambda_dedup.local``) plays the Lambda service
    instead, so moto keeps event source mappings, notifications and subscriptions as
    configuration only.
    """
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models.table import Table
    from moto.events.models import Rule
    from moto.kinesis.models import Stream
    from moto.s3 import notifications
    from moto.sqs.models import Queue

    if getattr(LambdaBackend.send_sns_message, "_inert", False):
        return

    def inert(*_: Any, **__: Any) -> None:
        return None

    inert._inert = True  # type: ignore[attr-defined]
    for source in (Queue, Stream, Table):
        original_init = source.__init__

        @functools.wraps(original_init)
        def init(self: Any, *args: Any, __init: Any = original_init, **kwargs: Any) -> None:
            __init(self, *args, **kwargs)
            self.lambda_event_source_mappings = _NoDelivery()

        source.__init__ = init  # type: ignore[method-assign]
    notifications._invoke_awslambda = inert
    LambdaBackend.send_sns_message = inert  # type: ignore[method-assign]
    _skip_function_targets(Rule)


def _skip_function_targets(rule_class: Any) -> None:
    """moto raises NotImplementedError on PutEvents when a matching rule has a function
    target; it now delivers to the rule's other targets (the runner's tap among them)."""
    original = rule_class.send_to_targets
    lock = threading.Lock()  # the server's threads must not see each other's swap

    @functools.wraps(original)
    def send_to_targets(self: Any, *args: Any, **kwargs: Any) -> None:
        with lock:
            targets = self.targets
            self.targets = [t for t in targets if t["Arn"].split(":")[2] != "lambda"]
            try:
                original(self, *args, **kwargs)
            finally:
                self.targets = targets

    rule_class.send_to_targets = send_to_targets


FUNCTION_CODE_PATH = "/_emulator/lambda-code/"
"""Where the emulator serves each function's deployed zip (``serve_function_code``)."""
_code_base_url: list[str] = []


def serve_function_code(base_url: str) -> None:
    """Answer ``GetFunction`` with a ``Code.Location`` that serves the deployed zip;
    idempotent (a later call changes the URL's base).

    Lambda's ``Code.Location`` is a presigned URL from which the zip that
    ``CreateFunction`` or ``UpdateFunctionCode`` was given can be downloaded. moto keeps
    that zip and its ``CodeSha256`` but answers with an S3 URL that nothing serves. The
    emulator now serves ``<base_url>/_emulator/lambda-code/<account>/<region>/<name>/<the
    code's SHA-256 in hex>`` (a 404 once the code changed, as an expired URL fails), and
    answers with it. The local runner downloads each function's code from there.
    """
    from moto.awslambda.models import LambdaFunction
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    _code_base_url[:] = [base_url.rstrip("/")]
    if getattr(LambdaFunction.get_code, "_served", False):
        return
    original_get_code = LambdaFunction.get_code
    original_call = DomainDispatcherApplication.__call__

    @functools.wraps(original_get_code)
    def get_code(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = original_get_code(self)
        if _code_base_url and self.code_bytes and "ImageUri" not in self.code:
            path = f"{self.account_id}/{self.region}/{self.function_name}/{self.code_digest}"
            location = f"{_code_base_url[0]}{FUNCTION_CODE_PATH}{path}"
            answer["Code"] = {"RepositoryType": "S3", "Location": location}
        return answer

    @functools.wraps(original_call)
    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(FUNCTION_CODE_PATH):
            return original_call(self, environ, start_response)
        code = _function_code(path[len(FUNCTION_CODE_PATH) :])
        if code is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such function code\n"]
        start_response(
            "200 OK", [("Content-Type", "application/zip"), ("Content-Length", str(len(code)))]
        )
        return [code]

    get_code._served = True  # type: ignore[attr-defined]
    LambdaFunction.get_code = get_code  # type: ignore[method-assign]
    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


def _function_code(path: str) -> bytes | None:
    """The zip named by ``<account>/<region>/<name>/<sha256>``, if it is still the code."""
    from moto.awslambda.models import lambda_backends

    parts = path.split("/")
    if len(parts) != 4:
        return None
    account, region, name, digest = parts
    try:
        function = lambda_backends[account][region].get_function(name)
    except Exception:  # unknown account, region or function
        return None
    if function.code_digest != digest or not function.code_bytes:
        return None
    code: bytes = function.code_bytes
    return code


S3_EVENTBRIDGE_REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Post": "POST Object",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved:Delete": "DeleteObject",
    "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
}
"""S3's ``reason`` for an event type (Amazon S3 User Guide, "EventBridge message structure")."""


def send_s3_events_to_eventbridge_as_s3_does() -> None:
    """Give the events that S3 sends to EventBridge S3's shape; idempotent.

    A handler that orders an object's events by ``sequencer`` (as S3 documents) saw every
    event of moto's as the same one, and read the eTag under the wrong name.
    """
    import copy
    import uuid

    from moto.s3 import notifications

    from lambda_dedup.local.s3 import next_sequencer

    if getattr(notifications._send_event_bridge_message, "_as_s3", False):
        return

    def send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        from moto.events.models import events_backends

        detail_type = notifications._detail_type(event_name)
        obj: dict[str, Any] = {"key": key.name}
        if detail_type == "Object Created":
            obj.update(size=key.size, etag=key.etag.replace('"', ""))
        if bucket.is_versioned and key.version_id not in (None, "null"):
            obj["version-id"] = key.version_id
        obj["sequencer"] = next_sequencer()  # the runner's, for notifications, too
        detail: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
        }
        name = event_name.removeprefix("s3:")  # moto's names: s3:ObjectCreated:Put
        if name in S3_EVENTBRIDGE_REASONS:
            detail["reason"] = S3_EVENTBRIDGE_REASONS[name]
        if name == "ObjectRemoved:DeleteMarkerCreated":
            detail["deletion-type"] = "Delete Marker Created"
        elif name == "ObjectRemoved:Delete":
            detail["deletion-type"] = "Permanently Deleted"
        event: Any = {  # moto.events.utils.EventMessageType
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": "aws.s3",
            "account": account_id,
            "time": time.time(),  # moto's own form; its targets deliver it as ISO 8601
            "region": bucket.region_name,
            "resources": [bucket.arn],
            "detail": detail,
        }
        bus = events_backends[account_id][bucket.region_name].event_buses.get("default")
        for rule in list(bus.rules.values()) if bus is not None else []:
            rule.send_to_targets(copy.deepcopy(event), transform_input=False)

    send._as_s3 = True  # type: ignore[attr-defined]
    notifications._send_event_bridge_message = send


def behave_like_aws() -> None:
    """Apply every fix and change of role of this module to moto in this process;
    idempotent. The server applies them before it starts, the tests to moto in-process."""
    make_dynamodb_atomic()
    make_concurrent_transactions_conflict()
    enforce_dynamodb_item_limits()
    keep_stream_shards_on_rollback()
    tag_streams_on_create()
    compact_redrive_policies()
    leave_lambda_delivery_to_the_runner()
    serve_bucket_policies_as_over_tls()
    send_s3_events_to_eventbridge_as_s3_does()


def client_environment(endpoint: str) -> dict[str, str]:
    """Environment variables that point AWS SDKs and Terraform at the emulator."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _watch_parent(stop: threading.Event) -> None:
    """Stop when the process that started us is gone, so that no server is left behind."""
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


def serve(host: str, port: int, announce: IO[str], *, exit_with_parent: bool = False) -> None:
    """Serve moto on ``host:port`` (0 = any free port) until SIGINT or SIGTERM."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    behave_like_aws()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    serve_function_code(f"http://{bound_host}:{bound_port}")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if exit_with_parent:
        threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    announce.write(
        json.dumps({"endpoint": f"http://{bound_host}:{bound_port}", "pid": os.getpid()})
    )
    announce.write("\n")
    announce.flush()
    stop.wait()
    server.stop()


class Emulator:
    """moto server in a subprocess, on a free port of 127.0.0.1.

    Use as a context manager; ``endpoint`` is its URL and ``environment()`` the variables
    for SDKs and Terraform.
    """

    def __init__(self, log: IO[str] | None = None, *, detached: bool = False) -> None:
        """``detached`` servers outlive this process (``make demo KEEP=1``); others stop
        with it even if it is killed."""
        self._log = log
        self._detached = detached
        self._process: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self.pid = 0

    def start(self) -> Emulator:
        command = [sys.executable, os.path.abspath(__file__)]
        if not self._detached:
            command.append("--exit-with-parent")
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
            text=True,
            start_new_session=self._detached,
        )
        line = _read_line(self._process, START_TIMEOUT_S)
        self.endpoint = json.loads(line)["endpoint"]
        self.pid = self._process.pid
        return self

    def detach(self) -> None:
        """Leave the server running; this object no longer stops it."""
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def environment(self) -> dict[str, str]:
        return client_environment(self.endpoint)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of ``boto3.client`` for this emulator."""
        return {
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The emulator's announcement line, or an error naming why it did not come."""
    assert process.stdout is not None
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        process.kill()
        raise RuntimeError(
            f"moto server did not start within {timeout:.0f} s (exit code {process.poll()})"
        )
    return result[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the parent process exits"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, sys.stdout, exit_with_parent=args.exit_with_parent)
    print(f"moto server stopped after {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
