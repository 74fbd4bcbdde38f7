"""Function logs, stored in the emulator's CloudWatch Logs as Lambda stores them.

Each function writes to its log group ``/aws/lambda/<name>``, one stream per execution
environment (here: per runner process), named ``YYYY/MM/DD/[$LATEST]<id>``. Every
invocation adds what the function wrote at init if its environment was just started,
Lambda's ``START`` line, what the handler wrote (and the error of a failed invocation),
and the ``END`` and ``REPORT`` lines (with ``Status: timeout`` or ``Status: error`` when
the runtime, not the handler, failed). The group is created if the stack did not create
it, as Lambda does.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from lambda_dedup.local.functions import TIMED_OUT, Invocation, LocalFunction


def log_group(function: str) -> str:
    return f"/aws/lambda/{function}"


class CloudWatchLogs:
    """A ``log_sink`` for :class:`~lambda_dedup.local.Invoker`: stores each invocation's
    lines in the emulator's CloudWatch Logs."""

    def __init__(self, logs_client: Any) -> None:
        self._logs = logs_client
        self._streams: dict[str, str] = {}
        self._lock = threading.Lock()
        self._environment = uuid.uuid4().hex

    def _stream(self, function: str) -> str:
        if function not in self._streams:
            group = log_group(function)
            day = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
            stream = f"{day}/[$LATEST]{self._environment}"
            try:
                self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
            except self._logs.exceptions.ResourceNotFoundException:
                self._logs.create_log_group(logGroupName=group)
                self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._streams[function] = stream
        return self._streams[function]

    def __call__(self, function: LocalFunction, invocation: Invocation) -> None:
        request = invocation.request_id
        duration_ms = invocation.duration_s * 1000
        report = (
            f"REPORT RequestId: {request}\tDuration: {duration_ms:.2f} ms\t"
            f"Memory Size: {function.memory_mb} MB"
        )
        error = invocation.error
        if error is not None and error.error_type == TIMED_OUT:
            report += "\tStatus: timeout"
        elif error is not None and error.error_type.startswith("Runtime."):
            report += f"\tStatus: error\tError Type: {error.error_type}"
        elif error is not None and invocation.init_failed:  # an exception at import
            report += "\tStatus: error\tError Type: Runtime.Unknown"
        lines = [
            f"START RequestId: {request} Version: $LATEST",
            *invocation.logs,
            f"END RequestId: {request}",
            report,
        ]
        started_ms = int(invocation.started_at * 1000)
        ended_ms = started_ms + int(duration_ms)
        events = [{"timestamp": started_ms, "message": line} for line in invocation.init_logs]
        events += [
            {"timestamp": started_ms if n == 0 else ended_ms, "message": line}
            for n, line in enumerate(lines)
        ]
        with self._lock:
            self._logs.put_log_events(
                logGroupName=log_group(function.name),
                logStreamName=self._stream(function.name),
                logEvents=events,
            )
