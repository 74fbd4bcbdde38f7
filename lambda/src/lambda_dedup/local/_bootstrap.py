"""One local execution environment: ``python -I _bootstrap.py CODE_DIR HANDLER``.

:mod:`lambda_dedup.local.sandbox` starts it as a subprocess with exactly the function's
environment, in the directory its deployed zip was unpacked to. It plays Lambda's Python
runtime (``awslambdaric``): the code directory first on ``sys.path`` (then this
interpreter's standard library and site-packages, where Lambda has its runtime's
boto3), the handler imported once (init), then one invocation at a time. What the
function writes to standard output or error (``print``, Powertools' log lines and
metrics, the root logger) is its log. An error at init or in an invocation is logged
and reported in the runtime's shape: ``{"errorMessage", "errorType", "requestId",
"stackTrace"}``, with ``Runtime.ImportModuleError`` and the other ``Runtime.*`` types
where the runtime uses them.

It uses the standard library only and imports nothing of ``lambda_dedup``: the copy in
the function's zip, if any, must be the one the function imports.

Protocol: requests on standard input, one JSON object per line (``requestId``,
``event`` as JSON text, the context's fields); messages on the original standard output
(fd 1 is then pointed at standard error), one JSON object per line: ``{"log": text}``
as the function writes, ``{"ready": true}`` or ``{"error": ...}`` after init, and
``{"response": json_text}`` or ``{"error": ...}`` after each invocation.
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import logging
import os
import site
import sys
import sysconfig
import threading
import time
import traceback
from typing import Any, BinaryIO

_channel: BinaryIO | None = None
_channel_lock = threading.Lock()
_request_id = ""


def _send(message: dict[str, Any]) -> None:
    assert _channel is not None
    line = json.dumps(message).encode("ascii") + b"\n"  # ASCII: lone surrogates escaped
    with _channel_lock:
        _channel.write(line)
        _channel.flush()


class _LogStream(io.TextIOBase):
    """``sys.stdout`` and ``sys.stderr``: each write goes to the runner as log text.

    Like Lambda's, the output is strict UTF-8: text that has no UTF-8 form (a lone
    surrogate) raises ``UnicodeEncodeError`` in the function.
    """

    encoding = "utf-8"
    errors = "strict"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        text.encode("utf-8")
        if text:
            _send({"log": text})
        return len(text)


class _Fault(Exception):
    """An error the runtime reports with its own type (``Runtime.ImportModuleError``...)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def _error(error_type: str, message: str, trace: list[str], request_id: str) -> dict[str, Any]:
    """The runtime's error shape (``make_error`` in awslambdaric)."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def _error_of(error: BaseException, request_id: str) -> dict[str, Any]:
    if isinstance(error, _Fault):
        return _error(error.error_type, error.message, error.trace, request_id)
    frames = traceback.extract_tb(error.__traceback__)
    while frames and (frames[0].filename == __file__ or "importlib" in frames[0].filename):
        frames = traceback.StackSummary.from_list(frames[1:])
    return _error(type(error).__name__, str(error), traceback.format_list(frames), request_id)


def _log_error(error: dict[str, Any]) -> None:
    """Log ``error`` as the runtime does in its JSON log format: one line."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _send({"log": json.dumps({"timestamp": stamp, "log_level": "ERROR", **error}) + "\n"})


def _runtime_path() -> list[str]:
    """This interpreter's standard library and site-packages entries of ``sys.path``,
    without the runner's own (its directory, ``PYTHONPATH``, editable installs)."""
    roots = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    roots.update(site.getsitepackages())
    real = {os.path.realpath(root) for root in roots if root}
    zipped = f"python{sys.version_info.major}{sys.version_info.minor}.zip"

    def belongs(entry: str) -> bool:
        path = os.path.realpath(entry)
        return entry.endswith(zipped) or any(
            path == root or path.startswith(root + os.sep) for root in real
        )

    return [entry for entry in sys.path if entry and belongs(entry)]


def _load(handler: str) -> Any:
    """Import the handler as awslambdaric's ``_get_handler`` does, with its error types."""
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise _Fault(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
        )
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise _Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from None
    except SyntaxError as error:
        raise _Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}'],
        ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise _Fault(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        ) from None


class _Context:
    """The context object of Lambda's Python runtime."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["requestId"]
        self.function_name: str = request["functionName"]
        self.function_version: str = request["functionVersion"]
        self.invoked_function_arn: str = request["invokedFunctionArn"]
        self.memory_limit_in_mb: int = request["memoryLimitInMb"]
        self.log_group_name: str = request["logGroupName"]
        self.log_stream_name: str = request["logStreamName"]
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline_ms: int = request["deadlineMs"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    global _request_id
    _request_id = request["requestId"]
    try:
        result = handler(json.loads(request["event"]), _Context(request))
        try:
            response = json.dumps(result, default=_json_default)
        except (TypeError, ValueError) as error:
            raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {error}") from None
    except Exception as error:  # the function's failure is the invocation's result
        failure = _error_of(error, _request_id)
        _log_error(failure)
        return {"error": failure}
    return {"response": response}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


def _set_up_logging() -> None:
    """The root logger's handler, as Lambda's runtime sets it (text format)."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.terminator = ""
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def main() -> int:
    global _channel
    code_dir, handler_name = sys.argv[1], sys.argv[2]
    _channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what is written to fd 1 directly goes to standard error
    sys.stdout = sys.stderr = _LogStream()
    sys.path[:] = [code_dir, *_runtime_path()]
    _set_up_logging()
    try:
        handler = _load(handler_name)
    except Exception as error:  # an init error: reported, then this environment ends
        failure = _error_of(error, "")
        _log_error(failure)
        _send({"error": failure})
        return 1
    _send({"ready": True})
    for line in sys.stdin.buffer:
        _send(_invoke(handler, json.loads(line)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
