"""DynamoDB helpers for tests: the test kit's (:mod:`lambda_dedup.testing.aws`)."""

from __future__ import annotations

from lambda_dedup.testing.aws import (
    WRITE_OPERATIONS,
    FaultInjector,
    ItemReader,
    RequestCounter,
    WriteLog,
    create_dedup_table,
    create_keyed_table,
)

__all__ = [
    "WRITE_OPERATIONS",
    "FaultInjector",
    "ItemReader",
    "RequestCounter",
    "WriteLog",
    "create_dedup_table",
    "create_keyed_table",
]
