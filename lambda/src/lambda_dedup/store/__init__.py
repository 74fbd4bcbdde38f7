"""Stores for deduplication records: the abstract base and its implementations.

:class:`DedupStore` declares the operations and the capabilities (``supports_transactions``);
:class:`DynamoDBStore` is the production store, :class:`InMemoryStore` the one for unit
tests, with the same semantics, transactions included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_dedup.store.base import DedupStore
    from lambda_dedup.store.dynamodb import DynamoDBStore
    from lambda_dedup.store.memory import InMemoryStore

__all__ = ["DedupStore", "DynamoDBStore", "InMemoryStore"]

# Imported on first use (PEP 562): a function in production never loads the in-memory
# store and its expression evaluator.
_MODULES = {
    "DedupStore": "lambda_dedup.store.base",
    "DynamoDBStore": "lambda_dedup.store.dynamodb",
    "InMemoryStore": "lambda_dedup.store.memory",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'lambda_dedup.store' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value
    return value
