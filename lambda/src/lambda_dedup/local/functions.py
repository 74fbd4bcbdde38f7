"""A deployed function, read from the emulator, invoked as Lambda invokes it.

The handler path, the environment and the timeout come from the emulator's
``GetFunctionConfiguration``, not from the Terraform files, and the code from the zip
the emulator was given (``GetFunction``), so what runs is what was deployed. Each
function runs in an execution environment of its own (:mod:`.sandbox`): a process with
exactly the function's environment (plus the variables that point the SDK at the
emulator), its code first on the path, the handler imported once after the environment
is set, then one invocation at a time. Each invocation gets a fresh request id and a
context whose remaining time counts down from the function's timeout; one that outlives
it is stopped and reported as Lambda reports it. A re-deployment (a new ``CodeSha256``)
or a new configuration gets a new environment.

Import errors, init errors, exceptions and timeouts are errors of the invocation, in
Lambda's shape; each is logged (the function's log, stored by ``log_sink``) and printed
with the function's name where the functions' output goes.

``Invoker(..., in_process=True)`` runs handlers in this process instead, imported from
this process's path: for tests that patch what a handler uses (fault injection through
boto3's default session). Its invocations are serialised, since the environment is then
process-wide.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lambda_dedup import runtime
from lambda_dedup.local.sandbox import INIT_TIMEOUT_S, Outcome, Sandbox, fetch_code

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True, slots=True)
class LocalFunction:
    """What the emulator says about one deployed function."""

    name: str
    arn: str
    handler: str
    """The entry point, ``module.function``."""
    environment: Mapping[str, str]
    timeout_s: int
    memory_mb: int
    role: str = ""
    code_sha256: str = ""
    """The deployed zip's ``CodeSha256``: a new one is a re-deployment."""

    @classmethod
    def describe(cls, lambda_client: Any, name: str) -> LocalFunction:
        """Read ``name``'s configuration from the emulator's Lambda API."""
        config = lambda_client.get_function_configuration(FunctionName=name)
        return cls(
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            handler=config["Handler"],
            environment=dict((config.get("Environment") or {}).get("Variables") or {}),
            timeout_s=int(config.get("Timeout", 3)),
            memory_mb=int(config.get("MemorySize", 128)),
            role=config.get("Role", ""),
            code_sha256=config.get("CodeSha256", ""),
        )

    def entry_point(self) -> Handler:
        """Import the handler named by the configuration, in this process."""
        module, _, attribute = self.handler.rpartition(".")
        handler: Handler = getattr(importlib.import_module(module), attribute)
        return handler


@dataclass
class LocalContext:
    """The context object Lambda passes to a handler, with the attributes Powertools reads."""

    function: LocalFunction
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.function.timeout_s

    @property
    def function_name(self) -> str:
        return self.function.name

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return self.function.arn

    @property
    def memory_limit_in_mb(self) -> int:
        return self.function.memory_mb

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function.name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


TIMED_OUT = "Sandbox.Timedout"
EXITED = "Runtime.ExitError"


@dataclass(frozen=True, slots=True)
class FunctionError:
    """What Lambda reports when an invocation fails: the error type (the exception's
    class, or ``Runtime.ImportModuleError``, ``Sandbox.Timedout``...), its message, the
    trace, and the request id (empty for an error at init, as the runtime reports it)."""

    error_type: str
    error_message: str
    stack_trace: tuple[str, ...]
    request_id: str = ""

    def payload(self) -> dict[str, Any]:
        """The error as Lambda returns it to a synchronous caller or a destination."""
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": list(self.stack_trace),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> FunctionError:
        return cls(
            str(payload.get("errorType", "")),
            str(payload.get("errorMessage", "")),
            tuple(str(line) for line in payload.get("stackTrace") or ()),
            str(payload.get("requestId", "")),
        )

    def log_line(self) -> str:
        """The error as the Python runtime logs it (its JSON log format)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return json.dumps({"timestamp": stamp, "log_level": "ERROR", **self.payload()})


@dataclass(frozen=True, slots=True)
class Invocation:
    """The outcome of one invocation: the handler's response, or its error."""

    function: str
    request_id: str
    response: Any = None
    error: FunctionError | None = None
    logs: tuple[str, ...] = ()
    """What the handler wrote: its log lines and its metrics, one JSON object per line,
    and the error lines of a failed invocation."""
    init_logs: tuple[str, ...] = ()
    """What the function wrote while its environment started (a cold start), if it did."""
    init_failed: bool = False
    """The error is the init's: the handler's module could not be imported."""
    started_at: float = 0.0
    """When it started, in seconds since the epoch."""
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


class Invoker:
    """Invokes deployed functions, each in its own execution environment.

    What a function writes (log lines, metrics, the error of a failed invocation) is
    captured into its :class:`Invocation`, written through where the functions' output
    goes (standard output unless :func:`write_function_output_to` says otherwise), and
    given to ``log_sink`` (for example :class:`~lambda_dedup.local.logs.CloudWatchLogs`,
    which stores it in the emulator as Lambda stores it in CloudWatch Logs). A failed
    invocation also prints one line there, naming the function.

    Args:
        lambda_client: a boto3 Lambda client on the emulator.
        base_environment: variables every invocation also gets, e.g. the emulator's
            endpoint and fake credentials (``AWS_ENDPOINT_URL``...).
        log_sink: called with the function and each finished invocation.
        in_process: run the handlers in this process, from this process's path (see
            the module's documentation); the deployed code is then not used.

    Call :meth:`close` (or use it as a context manager) to stop the environments.
    """

    def __init__(
        self,
        lambda_client: Any,
        base_environment: Mapping[str, str],
        *,
        log_sink: Callable[[LocalFunction, Invocation], None] | None = None,
        in_process: bool = False,
    ) -> None:
        self._client = lambda_client
        self._base = dict(base_environment)
        self._sink = log_sink
        self._in_process = in_process
        self._lock = threading.Lock()
        self._functions: dict[str, LocalFunction] = {}
        self._last_environment: dict[str, str] | None = None
        self._function_locks: dict[str, threading.Lock] = {}
        self._sandboxes: dict[str, Sandbox] = {}
        self._code_root = Path(tempfile.mkdtemp(prefix="lambda-dedup-local-"))
        self._finalizer = weakref.finalize(self, _stop_all, self._sandboxes, self._code_root)

    def function(self, name: str) -> LocalFunction:
        """The emulator's configuration of ``name``, read once (and again by every
        invocation that runs deployed code)."""
        with self._lock:
            if name not in self._functions:
                self._functions[name] = LocalFunction.describe(self._client, name)
            return self._functions[name]

    def invoke(self, name: str, event: Any) -> Invocation:
        """Run ``name``'s handler on ``event``; a failure becomes the invocation's error."""
        if self._in_process:
            return self._invoke_in_process(name, event)
        with self._lock:
            lock = self._function_locks.setdefault(name, threading.Lock())
        with lock:
            function = LocalFunction.describe(self._client, name)
            with self._lock:
                self._functions[name] = function
            invocation = self._invoke_deployed(function, event)
        _echo(invocation)
        if self._sink is not None:
            self._sink(function, invocation)
        return invocation

    def _sandbox(self, function: LocalFunction) -> tuple[Sandbox | None, Outcome | None]:
        """The function's environment, started if it has none or an outdated one; with
        the outcome of its init when it was started now."""
        environment = {**self._base, **function.environment}
        key = (function.code_sha256, function.handler, sorted(environment.items()))
        current = self._sandboxes.get(function.name)
        if current is not None and current.key == key and current.alive:
            return current, None
        if current is not None:
            current.kill()
            del self._sandboxes[function.name]
        code = fetch_code(self._client, function.name, self._code_root)
        sandbox = Sandbox(code, function.handler, environment)
        sandbox.key = key
        outcome = sandbox.init()
        if not sandbox.ready:
            return None, outcome
        self._sandboxes[function.name] = sandbox
        return sandbox, outcome

    def _invoke_deployed(self, function: LocalFunction, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        sandbox, init = self._sandbox(function)
        init_logs = tuple(init.lines()) if init is not None else ()
        started = time.time()
        if sandbox is None:  # the init failed: the invocation fails with its error
            assert init is not None
            error = _failure(init, function, request_id, INIT_TIMEOUT_S)
            logs: tuple[str, ...] = ()
            if init.timed_out or init.exit_code is not None:
                logs = (error.log_line(),)
            return Invocation(
                function.name,
                request_id,
                error=error,
                logs=logs,
                init_logs=init_logs,
                init_failed=True,
                started_at=started,
            )
        context = LocalContext(function, aws_request_id=request_id)
        request = {
            "requestId": request_id,
            "event": json.dumps(event),
            "functionName": function.name,
            "functionVersion": context.function_version,
            "invokedFunctionArn": function.arn,
            "memoryLimitInMb": function.memory_mb,
            "logGroupName": context.log_group_name,
            "logStreamName": context.log_stream_name,
            "deadlineMs": int((started + function.timeout_s) * 1000),
        }
        outcome = sandbox.invoke(request, function.timeout_s)
        duration = time.time() - started
        lines = outcome.lines()
        if outcome.error is None and outcome.response is not None:
            return Invocation(
                function.name,
                request_id,
                response=json.loads(outcome.response),
                logs=tuple(lines),
                init_logs=init_logs,
                started_at=started,
                duration_s=duration,
            )
        error = _failure(outcome, function, request_id, function.timeout_s)
        if outcome.timed_out:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            lines.append(
                f"{stamp}.{int(time.time() * 1000) % 1000:03d}Z {request_id}"
                f" Task timed out after {function.timeout_s:.2f} seconds"
            )
        if outcome.timed_out or outcome.exit_code is not None:
            lines.append(error.log_line())  # the runtime logged nothing: Lambda's report
        return Invocation(
            function.name,
            request_id,
            error=error,
            logs=tuple(lines),
            init_logs=init_logs,
            started_at=started,
            duration_s=duration,
        )

    def _invoke_in_process(self, name: str, event: Any) -> Invocation:
        function = self.function(name)
        context = LocalContext(function)
        environment = {**self._base, **function.environment}
        with self._lock, _environment(environment):
            if environment != self._last_environment:
                runtime.reset()  # clients and settings belong to the previous function
                self._last_environment = environment
            handler = function.entry_point()  # imported with the function's environment
            started = time.time()
            with _captured() as output:
                try:
                    response, failure = handler(event, context), None
                except Exception as error:  # the handler's failure is the invocation's result
                    response = None
                    frames = traceback.extract_tb(error.__traceback__)[1:]
                    failure = FunctionError(
                        type(error).__name__,
                        str(error),
                        tuple(traceback.format_list(frames)),
                        context.aws_request_id,
                    )
                    print(failure.log_line())
            invocation = Invocation(
                name,
                context.aws_request_id,
                response=response,
                error=failure,
                logs=tuple(line for line in output.getvalue().splitlines() if line),
                started_at=started,
                duration_s=time.time() - started,
            )
            if failure is not None:
                _echo(invocation, logs=False)
            if self._sink is not None:
                self._sink(function, invocation)
        return invocation

    def close(self) -> None:
        """Stop every execution environment and remove the unpacked code."""
        self._finalizer()

    def __enter__(self) -> Invoker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _failure(
    outcome: Outcome, function: LocalFunction, request_id: str, timeout_s: float
) -> FunctionError:
    """The error of a failed init or invocation, as Lambda reports it."""
    if outcome.timed_out:
        message = f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
        return FunctionError(TIMED_OUT, message, (), request_id)
    if outcome.error is not None:
        return FunctionError.from_payload(outcome.error)
    message = (
        f"RequestId: {request_id} Error: Runtime exited with error: exit status {outcome.exit_code}"
    )
    return FunctionError(EXITED, message, (), request_id)


def _stop_all(sandboxes: dict[str, Sandbox], code_root: Path) -> None:
    for sandbox in list(sandboxes.values()):
        sandbox.kill()
    sandboxes.clear()
    shutil.rmtree(code_root, ignore_errors=True)


_output: IO[str] | None = None
"""Where the functions' output is written through (``None``: standard output)."""


def _echo(invocation: Invocation, *, logs: bool = True) -> None:
    """Write ``invocation``'s output through, and a line naming the function if it failed."""
    stream = _output if _output is not None else sys.stdout
    lines = [*invocation.init_logs, *invocation.logs] if logs else []
    if invocation.error is not None:
        error = invocation.error
        lines.append(
            f"[{invocation.function}] {invocation.request_id} failed:"
            f" {error.error_type}: {error.error_message}"
        )
    if lines:
        stream.write("".join(f"{line}\n" for line in lines))
        stream.flush()


def write_function_output_to(stream: IO[str]) -> IO[str]:
    """Where the functions' log lines and metrics are written through (standard output
    by default); returns the previous stream."""
    global _output
    _output = stream
    previous: IO[str] = runtime.logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    return previous


@contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Capture what the handler writes: Powertools' log handler (bound to the stream it
    was created with) and standard output (metrics). It is written through afterwards."""
    handler = runtime.logger.registered_handler
    output = io.StringIO()
    previous = handler.setStream(output)  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(output):
            yield output
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
        if previous is not None:
            previous.write(output.getvalue())
            previous.flush()


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set ``variables`` in ``os.environ`` for the block, then restore it exactly."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
