"""What every handler shares: Powertools logging and metrics, and the deduplicator."""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics

from lambda_dedup.config import Settings
from lambda_dedup.deduplicator import Deduplicator
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG, DynamoDBStore

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "lambda-dedup")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LambdaDedup")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


@functools.cache
def store() -> DynamoDBStore:
    """The deduplication table, from ``DEDUP_TABLE_NAME``; created once per container."""
    return DynamoDBStore(Settings.from_env().table_name)


@functools.cache
def deduplicator(namespace: str) -> Deduplicator:
    """The deduplicator of one handler; its namespace keeps its keys apart from others'."""
    settings = Settings.from_env()
    return Deduplicator(
        store(),
        namespace,
        ttl_seconds=settings.ttl_seconds,
        lease_seconds=settings.lease_seconds,
    )


@functools.cache
def client(service: str) -> Any:
    """A boto3 client for ``service`` (``"s3"``...), with the store's retry settings."""
    return boto3.client(service, config=DEFAULT_BOTO_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget cached clients and settings (tests change the environment between cases)."""
    store.cache_clear()
    deduplicator.cache_clear()
    client.cache_clear()
