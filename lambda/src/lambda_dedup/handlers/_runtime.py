"""What every handler shares: Powertools logging and metrics, and the deduplicator."""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics

from lambda_dedup.config import Settings
from lambda_dedup.deduplicator import Deduplicator
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG, DynamoDBStore

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "lambda-dedup")
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LambdaDedup")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_lone_surrogates(json_text: str) -> str:
    """JSON text with each lone surrogate written as its ``\\uXXXX`` escape: the same JSON
    value, but text that has a UTF-8 form. Lambda writes standard output and sends a
    function's response as strict UTF-8, where a lone surrogate (from an attacker's key,
    say) makes the whole log line, or the whole response, fail."""
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", json_text)


def log_json(line: dict[str, Any]) -> str:
    """One log line as JSON: Powertools' own serialisation (compact, non-ASCII text as it
    is), with lone surrogates escaped (see :func:`escape_lone_surrogates`), so that no line
    is lost."""
    text = json.dumps(line, default=str, separators=(",", ":"), ensure_ascii=False)
    return escape_lone_surrogates(text)


logger = Logger(service=SERVICE, json_serializer=log_json)
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
