"""What every handler shares: Powertools logging and metrics, clients and deduplicators.

The toolkit's log lines (``record applied``, ``rejected event``...) go through
:data:`logger`, and its metrics through :data:`metrics`. Powertools' ``Metrics`` instances
share one metric set, so a handler that flushes its own ``Metrics`` (``@metrics.log_metrics``)
flushes the toolkit's metrics too; the decorators of :mod:`lambda_dedup.batch`,
:mod:`lambda_dedup.asynchronous` and :mod:`lambda_dedup.http` flush them themselves.

The service name and the namespace come from Powertools' own variables,
``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE``, which
``modules/function`` sets.

Examples:
    A record function that logs through the toolkit's logger::

        from lambda_dedup.runtime import deduplicator, logger

        dedup = deduplicator("orders")  # one per namespace, cached for the container

        def record_handler(record):
            logger.info("order received", extra={"message_id": record.message_id})
            ...
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from aws_lambda_powertools import Logger, Metrics

from lambda_dedup.config import Settings
from lambda_dedup.deduplicator import Deduplicator, Once
from lambda_dedup.store.dynamodb import DEFAULT_BOTO_CONFIG, DynamoDBStore

__all__ = [
    "METRICS_NAMESPACE",
    "SERVICE",
    "client",
    "deduplicator",
    "escape_lone_surrogates",
    "log_json",
    "logger",
    "metrics",
    "once",
    "reset",
    "store",
]

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "lambda-dedup")
"""The service name of log lines and metrics (``POWERTOOLS_SERVICE_NAME``)."""
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LambdaDedup")
"""The CloudWatch namespace of the metrics (``POWERTOOLS_METRICS_NAMESPACE``)."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_lone_surrogates(json_text: str) -> str:
    """JSON text with each lone surrogate written as its ``\\uXXXX`` escape.

    It is the same JSON value, but text that has a UTF-8 form. Lambda writes standard
    output and sends a function's response as strict UTF-8, where a lone surrogate (from
    an attacker's key, say) makes the whole log line, or the whole response, fail.

    Examples:
        >>> text = '{"key":"' + chr(0xD800) + '"}'
        >>> print(escape_lone_surrogates(text))
        {"key":"\\ud800"}
    """
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", json_text)


def log_json(line: dict[str, Any]) -> str:
    """One log line as JSON: compact, non-ASCII text as it is, lone surrogates escaped.

    It is Powertools' own serialisation, plus :func:`escape_lone_surrogates`, so that no
    line is lost. Pass it as ``Logger(json_serializer=log_json)`` to a logger of your own.

    Examples:
        >>> log_json({"message": "ok", "n": 1})
        '{"message":"ok","n":1}'
    """
    text = json.dumps(line, default=str, separators=(",", ":"), ensure_ascii=False)
    return escape_lone_surrogates(text)


logger = Logger(service=SERVICE, json_serializer=log_json)
"""The toolkit's Powertools logger."""
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
"""The toolkit's Powertools metrics (flush them with ``@metrics.log_metrics``)."""


_building = threading.RLock()
"""Batches run records on threads: the first of them builds a client, the others wait
for it rather than each building its own."""


@functools.cache
def _store() -> DynamoDBStore:
    return DynamoDBStore(Settings.from_env().table_name)


def store() -> DynamoDBStore:
    """The deduplication table from ``DEDUP_TABLE_NAME``, created once per container.

    Examples:
        >>> store().table_name  # doctest: +SKIP
        'my-idempotency-table'
    """
    with _building:
        return _store()


@functools.cache
def _deduplicator(namespace: str) -> Deduplicator:
    return Deduplicator.from_env(namespace, store=store())


def deduplicator(namespace: str) -> Deduplicator:
    """The deduplicator of one namespace, from the environment, once per container.

    It is :meth:`Deduplicator.from_env` on the shared :func:`store`: keys of two
    namespaces never collide. It is built on the first call, not at import time, so that
    a unit test's moto and credentials are in place by then.

    Examples:
        >>> dedup = deduplicator("orders")  # doctest: +SKIP
    """
    with _building:
        return _deduplicator(namespace)


R = TypeVar("R")


def once(
    namespace: str,
    *,
    key: Callable[..., str],
    payload: Callable[..., Any] | None = None,
    lease_ms: Callable[..., int | None] | None = None,
) -> Callable[[Callable[..., R]], Once[R]]:
    """:meth:`Deduplicator.once` on :func:`deduplicator` of ``namespace``, which is built
    on the first call rather than when the module is imported.

    Examples:
        At module level in a handler's module::

            from lambda_dedup.runtime import once

            @once("shipments", key=lambda shipment: shipment["id"])
            def book_carrier(shipment, claim):
                return carrier.book(shipment, idempotency_key=claim.token)
    """

    def decorate(function: Callable[..., R]) -> Once[R]:
        return Once(lambda: deduplicator(namespace), function, key, payload, lease_ms)

    return decorate


@functools.cache
def _client(service: str) -> Any:
    return boto3.client(service, config=DEFAULT_BOTO_CONFIG)  # type: ignore[call-overload]


def client(service: str) -> Any:
    """A boto3 client for ``service`` (``"s3"``...), with the store's retry settings,
    created once per container.

    Examples:
        >>> s3 = client("s3")  # doctest: +SKIP
    """
    with _building:
        return _client(service)


def reset() -> None:
    """Forget the cached store, deduplicators and clients (for tests that change the
    environment between cases).

    Examples:
        >>> reset()
    """
    with _building:
        _store.cache_clear()
        _deduplicator.cache_clear()
        _client.cache_clear()
