"""The Lambda context object handlers get: the test kit's, under the name the tests use."""

from __future__ import annotations

from typing import Any

from lambda_dedup.testing.context import LambdaContext as FakeLambdaContext

__all__ = ["FakeLambdaContext", "lambda_context"]


def lambda_context() -> Any:
    """A context for a toolkit entry point, which types it as Powertools' LambdaContext."""
    return FakeLambdaContext()
