"""Deduplication for at-least-once AWS Lambda triggers, on DynamoDB conditional writes.

Two modes over one table schema (partition key ``id``, TTL attribute ``expires_at``):

* effect mode -- :meth:`Deduplicator.put_once` and :meth:`Deduplicator.transact_once` --
  when the effect is itself DynamoDB data: the effect's write deduplicates it;
* claim mode -- :meth:`Deduplicator.run_once` -- for effects outside DynamoDB: a fenced,
  leased claim, and the result stored for duplicates.

Example::

    from lambda_dedup import Deduplicator, DynamoDBStore, effects

    dedup = Deduplicator(DynamoDBStore("my-idempotency-table"), namespace="orders")
    outcome = dedup.transact_once(
        event_id, [effects.increment("counters", {"pk": user_id}, "orders")]
    )
"""

from __future__ import annotations

from lambda_dedup import domain, effects, senders, storable
from lambda_dedup.batch import KeyedBatchProcessor
from lambda_dedup.config import Settings
from lambda_dedup.deduplicator import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_TTL_SECONDS,
    Claim,
    Clock,
    Deduplicator,
    Outcome,
)
from lambda_dedup.exceptions import (
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
)
from lambda_dedup.keys import canonical_json, fingerprint, record_id
from lambda_dedup.records import DedupRecord, Status
from lambda_dedup.store.base import DedupStore
from lambda_dedup.store.dynamodb import DynamoDBStore
from lambda_dedup.store.memory import InMemoryStore

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_TTL_SECONDS",
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
    "Outcome",
    "PayloadMismatchError",
    "PrecedingRecordFailedError",
    "ResultNotStorableError",
    "Settings",
    "Status",
    "UnstorableValueError",
    "UnsupportedOperationError",
    "__version__",
    "canonical_json",
    "domain",
    "effects",
    "fingerprint",
    "record_id",
    "senders",
    "storable",
]
