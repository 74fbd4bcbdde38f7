"""The handlers' shared runtime, now public as :mod:`lambda_dedup.runtime` (kept for
existing imports)."""

from __future__ import annotations

from lambda_dedup.runtime import (
    client,
    deduplicator,
    escape_lone_surrogates,
    log_json,
    logger,
    metrics,
    reset,
    store,
)

__all__ = [
    "client",
    "deduplicator",
    "escape_lone_surrogates",
    "log_json",
    "logger",
    "metrics",
    "reset",
    "store",
]
