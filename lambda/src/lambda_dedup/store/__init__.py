"""Stores for deduplication records: the abstract base and its implementations."""

from __future__ import annotations

from lambda_dedup.store.base import DedupStore
from lambda_dedup.store.dynamodb import DynamoDBStore
from lambda_dedup.store.memory import InMemoryStore

__all__ = ["DedupStore", "DynamoDBStore", "InMemoryStore"]
