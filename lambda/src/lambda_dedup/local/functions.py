"""A deployed function, read from the emulator, invoked in this process.

The handler path, the environment and the timeout come from the emulator's
``GetFunctionConfiguration``, not from the Terraform files, so what runs is what was
deployed. Each invocation gets a fresh request id and a context whose remaining time
counts down from the function's timeout, and runs with exactly the function's
environment (plus the variables that point the SDK at the emulator). Invocations are
serialised: the environment is process-wide, as in one Lambda execution environment,
which also runs one invocation at a time.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from lambda_dedup.handlers import _runtime

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
        )

    def entry_point(self) -> Handler:
        """Import the handler named by the configuration."""
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


@dataclass(frozen=True, slots=True)
class FunctionError:
    """What Lambda reports when a handler raises: the error type, its message, the trace."""

    error_type: str
    error_message: str
    stack_trace: tuple[str, ...]

    def payload(self) -> dict[str, Any]:
        """The error as Lambda returns it to a synchronous caller or a destination."""
        return {
            "errorType": self.error_type,
            "errorMessage": self.error_message,
            "stackTrace": list(self.stack_trace),
        }


@dataclass(frozen=True, slots=True)
class Invocation:
    """The outcome of one invocation: the handler's response, or its error."""

    function: str
    request_id: str
    response: Any = None
    error: FunctionError | None = None
    logs: tuple[str, ...] = ()
    """What the handler wrote: its log lines and its metrics, one JSON object per line."""
    started_at: float = 0.0
    """When it started, in seconds since the epoch."""
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


class Invoker:
    """Invokes deployed functions in this process, one at a time.

    What a handler writes (Powertools' log lines and metrics) is captured into its
    :class:`Invocation`, still written where it went before, and given to ``log_sink``
    (for example :class:`~lambda_dedup.local.logs.CloudWatchLogs`, which stores it in the
    emulator as Lambda stores it in CloudWatch Logs).

    Args:
        lambda_client: a boto3 Lambda client on the emulator.
        base_environment: variables every invocation also gets, e.g. the emulator's
            endpoint and fake credentials (``AWS_ENDPOINT_URL``...).
        log_sink: called with the function and each finished invocation.
    """

    def __init__(
        self,
        lambda_client: Any,
        base_environment: Mapping[str, str],
        *,
        log_sink: Callable[[LocalFunction, Invocation], None] | None = None,
    ) -> None:
        self._client = lambda_client
        self._base = dict(base_environment)
        self._sink = log_sink
        self._lock = threading.Lock()
        self._functions: dict[str, LocalFunction] = {}
        self._last_environment: dict[str, str] | None = None

    def function(self, name: str) -> LocalFunction:
        """The emulator's configuration of ``name``, read once."""
        if name not in self._functions:
            self._functions[name] = LocalFunction.describe(self._client, name)
        return self._functions[name]

    def invoke(self, name: str, event: Any) -> Invocation:
        """Run ``name``'s handler on ``event``; an exception becomes the invocation's error."""
        function = self.function(name)
        handler = function.entry_point()
        context = LocalContext(function)
        environment = {**self._base, **function.environment}
        with self._lock, _environment(environment):
            if environment != self._last_environment:
                _runtime.reset()  # clients and settings belong to the previous function
                self._last_environment = environment
            started = time.time()
            with _captured() as output:
                try:
                    response, failure = handler(event, context), None
                except Exception as error:  # the handler's failure is the invocation's result
                    response, failure = (
                        None,
                        FunctionError(
                            type(error).__name__,
                            str(error),
                            tuple(traceback.format_exception(error)),
                        ),
                    )
            invocation = Invocation(
                name,
                context.aws_request_id,
                response=response,
                error=failure,
                logs=tuple(line for line in output.getvalue().splitlines() if line),
                started_at=started,
                duration_s=time.time() - started,
            )
            if self._sink is not None:
                self._sink(function, invocation)
        return invocation


def write_function_output_to(stream: IO[str]) -> IO[str]:
    """Where the functions' log lines and metrics are written through (standard output
    by default); returns the previous stream."""
    previous: IO[str] = _runtime.logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    return previous


@contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Capture what the handler writes: Powertools' log handler (bound to the stream it
    was created with) and standard output (metrics). It is written through afterwards."""
    handler = _runtime.logger.registered_handler
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
