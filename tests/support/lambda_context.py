"""The Lambda context object handlers get: the test kit's, under the name the tests use."""

from __future__ import annotations

from lambda_dedup.testing.context import LambdaContext as FakeLambdaContext

__all__ = ["FakeLambdaContext"]
