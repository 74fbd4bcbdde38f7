"""Stores for deduplication records: the abstract base and its implementations.

:class:`DedupStore` declares the operations and the capabilities (``supports_transactions``);
:class:`DynamoDBStore` is the production store, :class:`InMemoryStore` the one for unit
tests, with the same semantics, transactions included.
"""

from __future__ import annotations

from lambda_dedup.store.base import DedupStore
from lambda_dedup.store.dynamodb import DynamoDBStore
from lambda_dedup.store.memory import InMemoryStore

__all__ = ["DedupStore", "DynamoDBStore", "InMemoryStore"]
