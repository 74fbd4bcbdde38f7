"""A Lambda context object, as the runtime passes it to a handler.

Examples:
    >>> from lambda_dedup.testing.context import LambdaContext
    >>> context = LambdaContext(function_name="orders", timeout_ms=3_000)
    >>> context.invoked_function_arn
    'arn:aws:lambda:us-east-1:123456789012:function:orders'
    >>> 0 < context.get_remaining_time_in_millis() <= 3_000
    True
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

__all__ = ["ACCOUNT_ID", "REGION", "LambdaContext"]

ACCOUNT_ID = "123456789012"
"""The account of every ARN the test kit makes (AWS's documentation account)."""

REGION = "us-east-1"
"""The region of every ARN the test kit makes, and of the ``aws`` fixture."""


@dataclass
class LambdaContext:
    """The attributes and method of the Python runtime's context object.

    ``get_remaining_time_in_millis()`` counts down from ``timeout_ms`` in real time from
    the object's creation, as Lambda's does from the invocation's start. Every attribute
    can be set: ``LambdaContext(memory_limit_in_mb=1024)``. It works with Powertools'
    ``inject_lambda_context`` and anything else that reads a context.

    Examples:
        >>> context = LambdaContext(function_name="billing", function_version="7")
        >>> context.memory_limit_in_mb, context.log_group_name
        (128, '/aws/lambda/billing')
        >>> LambdaContext().aws_request_id != LambdaContext().aws_request_id
        True
    """

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    timeout_ms: int = 30_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
    region: str = REGION
    account_id: str = ACCOUNT_ID
    alias: str | None = None
    """An alias the function was invoked through: it ends the ARN (``:live``)."""
    identity: object | None = None
    client_context: object | None = None
    tenant_id: str | None = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        """The ARN the function was invoked by, with the alias if there is one."""
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"
        return f"{arn}:{self.alias}" if self.alias else arn

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the invocation times out (never below 0)."""
        elapsed_ms = int((time.monotonic() - self._started) * 1000)
        return max(0, self.timeout_ms - elapsed_ms)
