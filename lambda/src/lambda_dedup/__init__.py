"""Deduplication for at-least-once AWS Lambda triggers, on DynamoDB conditional writes.

Two modes over one table schema (partition key ``id``, TTL attribute ``expires_at``):

* effect mode -- :meth:`Deduplicator.put_once` and :meth:`Deduplicator.transact_once` --
  when the effect is itself DynamoDB data: the effect's write deduplicates it;
* claim mode -- :meth:`Deduplicator.run_once`, or the :meth:`Deduplicator.once`
  decorator -- for effects outside DynamoDB: a fenced, leased claim, and the result
  stored for duplicates.

A handler of one's own is built on one entry point per kind of source, each a function
and a decorator, with the log lines and metrics of the reference handlers:

* batches (SQS, Kinesis, DynamoDB Streams): :func:`process_batch`, :func:`batch_handler`
  (:mod:`lambda_dedup.batch`);
* asynchronous events (S3, SNS, EventBridge, direct invocation): :func:`process_event`,
  :func:`event_handler` (:mod:`lambda_dedup.asynchronous`);
* HTTP (API Gateway, function URLs): the ``Idempotency-Key`` middleware
  :class:`lambda_dedup.http.IdempotencyKey` for Powertools' resolvers.

Example::

    from lambda_dedup import batch_handler, effects
    from lambda_dedup.runtime import deduplicator

    @batch_handler
    def handler(record):  # an SQS message
        order = json.loads(record.body)
        # built on first use from DEDUP_TABLE_NAME (set by modules/function), then cached
        return deduplicator("orders").transact_once(
            order["order_id"],
            [effects.increment("counters", {"customer": order["customer"]}, "orders")],
            payload=order,
        )
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambda_dedup.exceptions import (
    REJECTED,
    AlreadyInProgressError,
    ConfigurationError,
    DedupError,
    EffectConditionFailedError,
    InvalidEventError,
    InvalidKeyError,
    LeaseLostError,
    PayloadMismatchError,
    PrecedingRecordFailedError,
    ResultNotStorableError,
    UnstorableValueError,
    UnsupportedOperationError,
    parse_or_reject,
)

if TYPE_CHECKING:
    from lambda_dedup import effects, storable
    from lambda_dedup.asynchronous import event_handler, handle_event, process_event
    from lambda_dedup.batch import KeyedBatchProcessor, batch_handler, process_batch
    from lambda_dedup.config import Settings
    from lambda_dedup.deduplicator import (
        DEFAULT_LEASE_SECONDS,
        DEFAULT_TTL_SECONDS,
        Claim,
        Clock,
        Deduplicator,
        Once,
        Outcome,
    )
    from lambda_dedup.keys import canonical_json, fingerprint, record_id
    from lambda_dedup.records import DedupRecord, Status
    from lambda_dedup.store.base import DedupStore
    from lambda_dedup.store.dynamodb import DynamoDBStore
    from lambda_dedup.store.memory import InMemoryStore

# Imported on first use (PEP 562), so that a handler's cold start pays only for what it
# uses: Powertools' batch utility, say, is not imported by an HTTP handler.
_LAZY = {
    "effects": "lambda_dedup.effects",
    "storable": "lambda_dedup.storable",
    **dict.fromkeys(
        ("event_handler", "handle_event", "process_event"), "lambda_dedup.asynchronous"
    ),
    **dict.fromkeys(
        ("KeyedBatchProcessor", "batch_handler", "process_batch"), "lambda_dedup.batch"
    ),
    "Settings": "lambda_dedup.config",
    **dict.fromkeys(
        (
            "DEFAULT_LEASE_SECONDS",
            "DEFAULT_TTL_SECONDS",
            "Claim",
            "Clock",
            "Deduplicator",
            "Once",
            "Outcome",
        ),
        "lambda_dedup.deduplicator",
    ),
    **dict.fromkeys(("canonical_json", "fingerprint", "record_id"), "lambda_dedup.keys"),
    **dict.fromkeys(("DedupRecord", "Status"), "lambda_dedup.records"),
    "DedupStore": "lambda_dedup.store.base",
    "DynamoDBStore": "lambda_dedup.store.dynamodb",
    "InMemoryStore": "lambda_dedup.store.memory",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_dedup' has no attribute {name!r}")
    import importlib

    imported = importlib.import_module(module)
    value = imported if module.endswith(f".{name}") else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "REJECTED",
    "AlreadyInProgressError",
    "Claim",
    "Clock",
    "ConfigurationError",
    "DedupError",
    "DedupRecord",
    "DedupStore",
    "Deduplicator",
    "DynamoDBStore",
    "EffectConditionFailedError",
    "InMemoryStore",
    "InvalidEventError",
    "InvalidKeyError",
    "KeyedBatchProcessor",
    "LeaseLostError",
    "Once",
    "Outcome",
    "PayloadMismatchError",
    "PrecedingRecordFailedError",
    "ResultNotStorableError",
    "Settings",
    "Status",
    "UnstorableValueError",
    "UnsupportedOperationError",
    "__version__",
    "batch_handler",
    "canonical_json",
    "effects",
    "event_handler",
    "fingerprint",
    "handle_event",
    "parse_or_reject",
    "process_batch",
    "process_event",
    "record_id",
    "storable",
]
